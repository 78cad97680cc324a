"""Fleet economics: cost of GPU-hours, revenue from token volumes, margin, nodes needed."""
from __future__ import annotations

from .formula import formula
from .symbols import S

__all__ = ["fleet_cost", "revenue", "margin", "nodes_needed", "nodes_prefill", "nodes_decode"]

fleet_cost = formula("fleet_cost", S.N_node * S.G * S.price * S.T, "USD",
                     "nodes x GPUs per node x price per GPU-hour x hours")

revenue = formula(
    "revenue",
    S.tok_hit * S.pi_hit + (S.tok_in - S.tok_hit) * S.pi_miss + S.tok_out * S.pi_out,
    "USD", "cache-hit input, cache-miss input and output tokens at their prices")

margin = formula("margin", (S.revenue - S.cost) / S.cost, "1",
                 "cost-profit margin: profit over cost (5.45 reads as 545 %)")

nodes_prefill = formula("nodes_prefill", S.tok_in / (S.T * S.rate_in), "node",
                        "average prefill nodes: input tokens per second over per-node prefill rate")

nodes_decode = formula("nodes_decode", S.tok_out / (S.T * S.rate_out), "node",
                       "average decode nodes: output tokens per second over per-node decode rate")

nodes_needed = formula("nodes_needed", nodes_prefill.expr + nodes_decode.expr, "node",
                       "average nodes to serve the token volumes at the per-node rates")
