"""Fleet economics: cost of GPU-hours, revenue from token volumes, margin, nodes needed, and the
elastic fleet (reserve the floor, rent the burst)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from inference_arithmetic.core.formula import InputError, formula
from inference_arithmetic.core.symbols import S, register

__all__ = ["fleet_cost", "revenue", "margin", "nodes_needed", "nodes_prefill", "nodes_decode",
           "load_diurnal", "exceed_fraction", "excess_nodes", "mix_cost", "mix_cost_lending",
           "optimal_reserve", "optimal_reserve_lending", "exceed_target", "unit_cost",
           "optimal_reserve_quantile", "excess_of", "excess_cosine", "best_reserve", "token_cost",
           "compute_cost", "run_time"]

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

# --------------------------------------------------------------------------- a run's GPU-hours
gpu_hours = register("fleet", "gpu_hours", r"H_{\mathrm{GPU}}", "GPU*h", "GPU-hours a run uses (a training run, a day of serving)")
n_gpus = register("fleet", "n_gpus", r"n_{\mathrm{GPU}}", "GPU", "GPUs a run uses at once")

compute_cost = formula("compute_cost", gpu_hours * S.price, "USD",
                       "GPU-hours at a rental price per GPU-hour (how DeepSeek prices its training runs)")

run_time = formula("run_time", gpu_hours / n_gpus, "s",
                   "wall-clock time of a run: its GPU-hours over the GPUs it uses at once")


# --------------------------------------------------------------------------- elastic fleet
# Reserve r nodes (paid all the time) and rent the rest on demand (paid when used).
r_res = register("elastic", "r_res", r"r", "node", "reserved nodes, paid around the clock")
n_bar = register("elastic", "n_bar", r"\bar n", "node", "average nodes the load needs")
amp = register("elastic", "amp", r"a", "1", "relative amplitude of the daily swing: peak = (1 + a) average")
p_res = register("elastic", "p_res", r"p_r", "USD/GPU/h", "price of a reserved GPU-hour")
p_od = register("elastic", "p_od", r"p_o", "USD/GPU/h", "price of an on-demand GPU-hour")
X_over = register("elastic", "X_over", r"X", "node", "time-averaged nodes needed above the reserve")
lend = register("elastic", "lend", r"\lambda", "1", "share of a reserved node-hour recovered by lending it when idle")
t = register("elastic", "t", r"t", "s", "time of day")
period = register("elastic", "period", r"P", "s", "period of the load cycle (one day)")
t_peak = register("elastic", "t_peak", r"t_{\mathrm{pk}}", "s", "time of the daily peak")

load_diurnal = formula("load_diurnal", n_bar * (1 + amp * sp.cos(2 * sp.pi * (t - t_peak) / period)), "node",
                       "nodes needed over the day: a cosine swing of relative amplitude a around the mean")

_theta = sp.acos((r_res / n_bar - 1) / amp)

exceed_fraction = formula("exceed_fraction", _theta / sp.pi, "1",
                          "fraction of the day the cosine load exceeds r (for r inside the swing)")

excess_nodes = formula("excess_nodes", n_bar / sp.pi * (_theta * (1 - r_res / n_bar) + amp * sp.sin(_theta)), "node",
                       "time-averaged on-demand nodes above r for the cosine load (r inside the swing)")

mix_cost = formula("mix_cost", S.G * S.T * (p_res * r_res + p_od * X_over), "USD",
                   "reserved nodes all the time plus on-demand nodes when the load exceeds them")

mix_cost_lending = formula(
    "mix_cost_lending", S.G * S.T * (p_res * r_res + p_od * X_over - lend * p_res * (r_res - n_bar + X_over)),
    "USD", "as mix_cost, less what idle reserved node-hours earn when lent (idle = r - n_bar + X)")

optimal_reserve = formula("optimal_reserve", n_bar * (1 + amp * sp.cos(sp.pi * p_res / p_od)), "node",
                          "cost-minimising reserve for the cosine load: exceeded a fraction p_r/p_o of the time")

optimal_reserve_lending = formula(
    "optimal_reserve_lending",
    n_bar * (1 + amp * sp.cos(sp.pi * p_res * (1 - lend) / (p_od - lend * p_res))), "node",
    "cost-minimising reserve when idle reserved nodes are lent: exceeded p_r(1-lambda)/(p_o - lambda p_r) of the time")

exceed_target = formula("exceed_target", p_res / p_od, "1",
                        "the optimum's condition for any load: P(load > r) = p_r / p_o")

cost_per_token = register("elastic", "cost_per_token", r"c", "USD/token", "cost per token served")
tok_all = register("elastic", "tok_all", r"Q_{\mathrm{all}}", "token", "tokens served in the period")
unit_cost = formula("unit_cost", S.cost / tok_all, "USD/token", "cost per token served")


def optimal_reserve_quantile(load, price_ratio: float) -> float:
    """Optimal reserve for any sampled load curve: its (1 - p_r/p_o) quantile (equal-time samples).

    This is the same condition as :data:`exceed_target`, solved on an empirical distribution.
    """
    if not price_ratio > 0:
        raise InputError("the reserved/on-demand price ratio must be positive")
    if price_ratio >= 1:  # renting is no dearer than reserving: reserve nothing
        return 0.0
    return float(np.quantile(np.asarray(load, dtype=float), 1 - price_ratio))


def best_reserve(n_bar: float, amp: float, p_res: float, p_od: float) -> float:
    """Optimal reserve for the cosine load, including the limits.

    ``p_res >= p_od``: renting is no dearer, reserve nothing (at equality any reserve up to the
    trough costs the same).  ``amp == 0`` (flat load): reserve the mean whenever reserving is cheaper.
    """
    if min(n_bar, p_res, p_od) <= 0 or amp < 0:
        raise InputError("n_bar and prices must be positive and amp non-negative")
    if p_res >= p_od:
        return 0.0
    if amp == 0:
        return float(n_bar)
    return float(optimal_reserve(n_bar=n_bar, amp=amp, p_res=p_res, p_od=p_od))


def excess_of(load, reserve):
    """Time-averaged load above ``reserve`` for a sampled load curve (equal-time samples)."""
    load = np.asarray(load, dtype=float)
    return np.maximum(load[None, :] - np.atleast_1d(reserve)[:, None], 0).mean(axis=1)


def excess_cosine(n_bar: float, amp: float, reserve: float) -> float:
    """Time-averaged nodes above ``reserve`` for the cosine load, at any reserve.

    :data:`excess_nodes` inside the swing; ``n_bar - reserve`` at or below the trough (the
    load is always above the reserve); 0 at or above the peak.
    """
    if min(n_bar, amp, reserve) < 0:
        raise InputError("n_bar, amp and the reserve must not be negative")
    if reserve >= n_bar * (1 + amp):
        return 0.0
    if reserve <= n_bar * (1 - amp):
        return float(n_bar - reserve)
    return float(excess_nodes(n_bar=n_bar, amp=amp, r_res=reserve))


util = register("elastic", "util", r"u", "1", "utilisation: share of paid GPU time spent producing tokens")
token_cost = formula("token_cost", S.price / (S.R_gpu * util), "USD/token",
                     "cost of one output token: the GPU-hour price over the tokens a GPU makes in it")
