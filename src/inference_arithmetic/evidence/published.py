"""The registry of reproduced figures: each computed by the library and compared with its source.

A :class:`Figure` knows how to compute itself, the published value it reproduces
(a key of ``measurements.yaml``) and its tolerance.  Two kinds of tolerance:

* ``rtol``: relative tolerance against the published value;
* ``rounded``: the published inputs were rounded (608 B tokens, 73.7k tok/s ...),
  so the figure is recomputed at every corner of the inputs' rounding intervals
  and the published value must lie inside the resulting range.

``check(key)`` raises ``AssertionError`` on a drift; notebooks call it, so nbval
fails when a number moves.  The CLI's ``figures`` command lists them all.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Mapping

from inference_arithmetic.step import bounds
from inference_arithmetic.serving import fleet
from inference_arithmetic.model import kv
from inference_arithmetic.evidence.measurements import measurement
from inference_arithmetic.serving.prices import api_price, gpu_hour_price
from inference_arithmetic.hardware.gpus import gpu
from inference_arithmetic.model.config import model
from inference_arithmetic.core.units import convert
from inference_arithmetic.model import params
from inference_arithmetic.step import comm

__all__ = ["Figure", "FIGURES", "check", "compute", "rounding_halfwidth", "corners_range",
           "day6_inputs", "seed_h200_share", "training_days"]


def rounding_halfwidth(x: float) -> float:
    """Half a unit of the last non-zero digit: 608 -> 0.5, 73700 -> 50, 226.75 -> 0.005."""
    d = Decimal(repr(float(x))).normalize()
    sign, digits, exp = d.as_tuple()
    return 0.5 * 10.0 ** exp


def corners_range(f: Callable[..., float], values: Mapping[str, float],
                  halfwidths: Mapping[str, float]) -> tuple[float, float]:
    """Min and max of ``f(**values)`` over every corner of ``values +/- halfwidths``."""
    keys = list(halfwidths)
    results = []
    for signs in itertools.product((-1, 1), repeat=len(keys)):
        v = dict(values)
        for k, s in zip(keys, signs):
            v[k] = values[k] + s * halfwidths[k]
        results.append(f(**v))
    return min(results), max(results)


# ----------------------------------------------------------------- shared inputs
def _m(key: str, group: str = "deepseek_day6"):
    """A published figure as a cited :class:`.Value` (its published unit kept for rounding)."""
    return measurement(group, key)


def day6_inputs() -> dict[str, float]:
    """DeepSeek's day-6 figures and R1 prices as SI numbers keyed by formula symbols."""
    p = api_price("deepseek-r1")
    return {
        "N_node": _m("average_nodes").si, "G": _m("gpus_per_node").si,
        "price": gpu_hour_price("H800").si, "T": _m("period").si,
        "tok_in": _m("input_tokens").si, "tok_hit": _m("cache_hit_tokens").si,
        "tok_out": _m("output_tokens").si,
        "pi_hit": p["input_cache_hit"].si, "pi_miss": p["input_cache_miss"].si,
        "pi_out": p["output"].si,
        "rate_in": _m("prefill_per_node").si, "rate_out": _m("decode_per_node").si,
    }


def _halfwidths(keys: Mapping[str, tuple[str, str]]) -> dict[str, float]:
    """SI half-widths of published inputs from the digits they were published with."""
    out = {}
    for sym_key, (group, mkey) in keys.items():
        v = measurement(group, mkey)
        out[sym_key] = rounding_halfwidth(v.value) * v.si / v.value
    return out


_TOKENS = {"tok_in": ("deepseek_day6", "input_tokens"),
           "tok_hit": ("deepseek_day6", "cache_hit_tokens"),
           "tok_out": ("deepseek_day6", "output_tokens")}
_RATES = {"rate_in": ("deepseek_day6", "prefill_per_node"),
          "rate_out": ("deepseek_day6", "decode_per_node")}


def _revenue(**v) -> float:
    return float(fleet.revenue(**{k: v[k] for k in ("tok_in", "tok_hit", "tok_out",
                                                       "pi_hit", "pi_miss", "pi_out")}))


def _cost(**v) -> float:
    return float(fleet.fleet_cost(**{k: v[k] for k in ("N_node", "G", "price", "T")}))


def _margin(**v) -> float:
    return float(fleet.margin(revenue=_revenue(**v), cost=_cost(**v)))


def _nodes(**v) -> float:
    return float(fleet.nodes_needed(**{k: v[k] for k in ("tok_in", "tok_out", "T",
                                                           "rate_in", "rate_out")}))


def _dsv3_kv(dtype: str = "bf16") -> float:
    return kv.kv_bytes_per_token(model("deepseek-v3"), dtype)


def _kv_user(ctx: float) -> float:
    return float(kv.kv_per_user(ctx=ctx, S_kv=_dsv3_kv()))


def _h800_sol(ctx: float, S_kv: float | None = None, bw: float | None = None) -> float:
    return float(bounds.sol_rate(accept=1, BW=bw or gpu("H800").hbm_bandwidth, ctx=ctx,
                                 S_kv=S_kv or _dsv3_kv()))


def _seed_sol() -> float:
    # the seed's own arithmetic: 3.35 TB/s over its "334MB" taken as 334e6 bytes
    return float(gpu("H800").hbm_bandwidth / measurement("seed_zhang", "kv_per_user").si)


def _seed_h200() -> dict[str, float]:
    """The seed's H200 EP8 example evaluated with the library's formulas and the seed's own inputs
    (its HBM is the datasheet's 141 GB, ``hbm_datasheet``, not the capacity the device exposes)."""
    h200 = gpu("H200")
    W = measurement("seed_zhang", "ep8_experts_per_gpu").si
    kv_user = measurement("seed_zhang", "kv_per_user").si
    users = float(bounds.max_batch(HBM=h200.hbm_datasheet, W_res=W, reserve=0, ctx=1, S_kv=kv_user))
    users_exact = float(bounds.kv_capacity(HBM=h200.hbm_datasheet, W_res=W, reserve=0)) / kv_user
    rate = float(bounds.gpu_rate(accept=1, batch=users_exact, BW=h200.hbm_bandwidth, ctx=1, S_kv=kv_user, W=W))
    return {"users": users, "users_exact": users_exact, "passes": rate / users_exact, "rate": rate}


def _experts_per_gpu_ep8_GiB() -> float:
    fp8_bytes = 1  # one byte per FP8 weight
    return convert(params.expert_param_count(model("deepseek-v3")) * fp8_bytes / 8, "B", "GiB")


def _tp_ep_participants() -> float:
    n = measurement("deepseek_day6", "prefill_ep").si  # 32, the source's TP32 / EP32
    k = model("deepseek-v3").top_k
    return n / float(comm.ep_participants(top_k=k, N_ep=n))


def _dsv3_params(which: str) -> float:
    return convert(getattr(params.count_params(model("deepseek-v3")), which), "param", "Gparam")


def seed_h200_share() -> float:
    """The estimate's "60 %" recomputed from its own printed figures: its H200 EP8 rate (6,562
    tokens/s) over its H800 speed of light (10,030).  A ratio of the source's figures, neither a
    bound nor a measurement; the errata and the parallelism chapter both quote this value."""
    return measurement("seed_zhang", "h200_rate").si / measurement("seed_zhang", "sol_h800").si


def _v3_gpu_hours(part: str = "total") -> float:
    t = "deepseek_v3_training"
    if part == "sum":
        return sum(measurement(t, k).si for k in ("pretrain_gpu_hours", "context_gpu_hours", "post_gpu_hours"))
    return measurement(t, f"{part}_gpu_hours").si


def _v3_cost() -> float:
    return float(fleet.compute_cost(gpu_hours=_v3_gpu_hours("sum"), price=measurement("deepseek_v3_training", "price").si))


def training_days(part: str = "total") -> float:
    """Days DeepSeek-V3's training ran on its 2,048-GPU cluster: ``"total"`` (the report's 2.788M
    GPU-hours) or ``"pretrain"`` (the 2.664M of pre-training alone)."""
    return convert(float(fleet.run_time(gpu_hours=_v3_gpu_hours(part),
                                        n_gpus=measurement("deepseek_v3_training", "cluster_gpus").si)), "s", "day")


_R1 = {"hours": ("deepseek_r1_training", "r1_zero_hours"), "hours2": ("deepseek_r1_training", "r1_hours"),
       "sft": ("deepseek_r1_training", "sft_gpu_hours")}


def _r1_inputs() -> dict[str, float]:
    return {k: measurement(*v).si for k, v in _R1.items()}


def _r1_cost(hours: float, hours2: float, sft: float) -> float:
    t = "deepseek_r1_training"
    gh = measurement(t, "cluster_gpus").si * (hours + hours2) + sft      # GPU-seconds
    return float(fleet.compute_cost(gpu_hours=gh, price=measurement(t, "price").si))


def _r1_range() -> tuple[float, float]:
    return corners_range(_r1_cost, _r1_inputs(), _halfwidths(_R1))


def _layout_day6(phase: str) -> tuple[float, float]:
    """(GPUs, redundant experts) of DeepSeek's prefill or decode unit."""
    if phase == "prefill":
        return measurement("deepseek_day6", "prefill_ep").si, measurement("deepseek_day6_prefill", "redundant_experts").si
    return measurement("deepseek_day6", "decode_ep").si, measurement("deepseek_day6", "decode_redundant_experts").si


def _routed_per_gpu(phase: str) -> float:
    n, red = _layout_day6(phase)
    return float(params.routed_per_gpu(n_experts=model("deepseek-v3").n_experts, E_red=red, N_ep=n))


def _unit_nodes(phase: str) -> float:
    return _layout_day6(phase)[0] / measurement("deepseek_day6", "gpus_per_node").si


# ----------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Figure:
    """A reproduced figure. ``compute`` returns the value in ``unit``."""

    key: str
    title: str
    unit: str
    compute: Callable[[], float]
    published: tuple[str, str] | None = None   # (group, key) in measurements.yaml
    published_unit: str | None = None          # read the published number in this unit instead
    rtol: float | None = None
    rounded: Callable[[], tuple[float, float]] | None = None
    note: str = ""

    def published_value(self) -> float | None:
        if self.published is None:
            return None
        v = measurement(*self.published)
        if self.published_unit:
            return v.value * convert(1.0, self.published_unit, self.unit)
        return v.to(self.unit)

    def source(self) -> str:
        return measurement(*self.published).src if self.published else "derived"


def _day6_range(f) -> tuple[float, float]:
    return corners_range(f, day6_inputs(), _halfwidths({**_TOKENS, **_RATES}))


FIGURES: dict[str, Figure] = {f.key: f for f in [
    Figure("daily_cost", "fleet cost per day", "USD",
           lambda: _cost(**day6_inputs()), ("deepseek_day6", "daily_cost"), rtol=1e-9,
           note="226.75 nodes x 8 GPUs x $2 per GPU-hour x 24 h"),
    Figure("revenue", "theoretical revenue per day at R1 prices", "USD",
           lambda: _revenue(**day6_inputs()), ("deepseek_day6", "revenue"),
           rounded=lambda: _day6_range(_revenue),
           note="token counts published to 3 significant figures"),
    Figure("margin", "cost-profit margin", "1",
           lambda: _margin(**day6_inputs()), ("deepseek_day6", "margin"),
           rounded=lambda: _day6_range(_margin),
           note="from the recomputed revenue; published as 545 %"),
    Figure("nodes_from_volume", "average nodes from token volumes", "node",
           lambda: _nodes(**day6_inputs()), ("deepseek_day6", "average_nodes"),
           rounded=lambda: _day6_range(_nodes),
           note="168B / 14.8k + 608B / 73.7k per node-second"),
    Figure("decode_per_gpu", "decode throughput per GPU", "token/s",
           lambda: measurement("deepseek_day6", "decode_per_node").si / measurement("deepseek_day6", "gpus_per_node").si,
           ("seed_zhang", "decode_per_gpu"), rtol=1e-9, note="14.8k per node over 8 GPUs"),
    Figure("kv_per_token", "DeepSeek-V3 KV bytes per token, BF16", "B/token",
           lambda: _dsv3_kv(), None, note="61 layers x (512 + 64) x 2 B"),
    Figure("kv_user_seed", "KV per user at 4,989 tokens, read in MiB", "MiB",
           lambda: convert(_kv_user(measurement("deepseek_day6", "kv_length").si), "B", "MiB"),
           ("seed_zhang", "kv_per_user"), published_unit="MiB", rtol=0.0015,
           note="the seed's '334MB' is 334 MiB at DeepSeek's average 4,989 tokens"),
    Figure("sol_seed_arithmetic", "seed's speed of light on H800", "token/s",
           _seed_sol, ("seed_zhang", "sol_h800"), rtol=1e-3,
           note="3.35e12 B/s / 334e6 B: decimal bandwidth over a MiB-sized cache"),
    Figure("tp_ep_participants", "GPUs taking part per token, TP32 over EP32", "1",
           _tp_ep_participants, ("seed_zhang", "tp_ep_saving"), rtol=1e-9,
           note="32 GPUs all-reduce against at most k = 8 expert GPUs"),
    Figure("ep8_experts_per_gpu", "DeepSeek-V3 FP8 routed+shared experts per GPU under EP8", "GiB",
           _experts_per_gpu_ep8_GiB, ("seed_zhang", "ep8_experts_per_gpu"), published_unit="GiB", rtol=0.002,
           note="the seed's '76.5GB' is GiB"),
    Figure("h200_ep8_passes", "seed's HBM passes per second on H200", "1/s",
           lambda: _seed_h200()["passes"], ("seed_zhang", "h200_passes"), rtol=0.005,
           note="4.8 TB/s over 141 GB"),
    Figure("h200_ep8_users", "seed's users per H200 under EP8", "user",
           lambda: _seed_h200()["users"], ("seed_zhang", "h200_users"), rtol=1e-9,
           note="(141 GB - 76.5 GB) / 334 MB, rounded down"),
    Figure("h200_ep8_rate", "seed's tokens/s per H200 under EP8", "token/s",
           lambda: _seed_h200()["rate"], ("seed_zhang", "h200_rate"), rtol=0.0025,
           note="the seed multiplies the rounded 34 and 193"),
    Figure("dsv3_total_params", "DeepSeek-V3 total parameters (main model)", "Gparam",
           lambda: _dsv3_params("total"), ("deepseek_v3_report", "total_params"), rtol=0.5 / 671,
           note="published as 671B: half a unit of the last digit"),
    Figure("dsv3_active_params", "DeepSeek-V3 parameters activated per token", "Gparam",
           lambda: _dsv3_params("active"), ("deepseek_v3_report", "active_params"), rtol=0.5 / 37,
           note="published as 37B: half a unit of the last digit; head counted, embedding lookup not"),
    # hardware the sources quote, against the catalog (gpus.yaml)
    Figure("b200_hbm", "B200 HBM capacity, usable (catalog datasheet)", "GB",
           lambda: convert(gpu("B200").hbm_datasheet, "B", "GB"), ("seed_zhang_extra", "hbm_capacity"), rtol=1e-9,
           note="the DGX B200's 1,440 GB over 8 GPUs; the package holds 192 GB"),
    Figure("b200_bandwidth", "B200 HBM bandwidth (catalog)", "TB/s",
           lambda: convert(gpu("B200").hbm_bandwidth, "B/s", "TB/s"), ("seed_zhang_extra", "hbm_bandwidth"), rtol=1e-9),
    Figure("b300_hbm", "B300 (Blackwell Ultra) HBM capacity (catalog datasheet)", "GB",
           lambda: convert(gpu("B300").hbm_datasheet, "B", "GB"), ("seed_reddy", "b300_hbm"), rtol=1e-9),
    Figure("b300_bandwidth", "B300 HBM bandwidth (catalog)", "TB/s",
           lambda: convert(gpu("B300").hbm_bandwidth, "B/s", "TB/s"), ("seed_reddy", "b300_bandwidth"), rtol=1e-9),
    # DeepSeek's deployment units
    Figure("prefill_routed_per_gpu", "routed experts per GPU, prefill unit (EP32, 32 redundant)", "expert",
           lambda: _routed_per_gpu("prefill"), ("deepseek_day6_layout", "prefill_routed_per_gpu"), rtol=1e-9,
           note="(256 + 32) / 32"),
    Figure("decode_routed_per_gpu", "routed experts per GPU, decode unit (EP144, 32 redundant)", "expert",
           lambda: _routed_per_gpu("decode"), ("deepseek_day6_layout", "decode_routed_per_gpu"), rtol=1e-9,
           note="(256 + 32) / 144"),
    Figure("shared_per_gpu", "shared experts per GPU (replicated by data parallelism)", "expert",
           lambda: float(model("deepseek-v3").n_shared), ("deepseek_day6_layout", "decode_shared_per_gpu"), rtol=1e-9,
           note="n_shared_experts of the config, on every GPU"),
    Figure("prefill_unit_nodes", "nodes per prefill unit", "node",
           lambda: _unit_nodes("prefill"), ("deepseek_day6_layout", "prefill_nodes"), rtol=1e-9, note="32 GPUs / 8"),
    Figure("decode_unit_nodes", "nodes per decode unit", "node",
           lambda: _unit_nodes("decode"), ("deepseek_day6_layout", "decode_nodes"), rtol=1e-9, note="144 GPUs / 8"),
    # the fleet in GPUs and the day's profit, as the summary states them
    Figure("peak_gpus", "H800s at the peak", "GPU",
           lambda: measurement("deepseek_day6", "peak_nodes").si * measurement("deepseek_day6", "gpus_per_node").si,
           ("seed_day6_claims", "peak_gpus"), rtol=1e-9, note="278 nodes x 8"),
    Figure("average_gpus", "H800s on average", "GPU",
           lambda: measurement("deepseek_day6", "average_nodes").si * measurement("deepseek_day6", "gpus_per_node").si,
           ("seed_day6_claims", "average_gpus"), rtol=1e-9, note="226.75 nodes x 8"),
    Figure("gross_profit", "gross profit per day (DeepSeek's revenue less its cost)", "USD",
           lambda: measurement("deepseek_day6", "revenue").si - _cost(**day6_inputs()),
           ("seed_day6_claims", "gross_profit"), rtol=1e-9, note="$562,027 - $87,072"),
    # training runs priced at $2 per H800-hour
    Figure("v3_gpu_hours", "DeepSeek-V3 training GPU-hours, sum of the stages", "GPU*h",
           lambda: convert(_v3_gpu_hours("sum"), "s", "h"), ("deepseek_v3_training", "total_gpu_hours"), rtol=1e-9,
           note="2,664K + 119K + 5K"),
    Figure("v3_training_cost", "DeepSeek-V3 training cost at $2 per H800-hour", "USD",
           _v3_cost, ("deepseek_v3_training", "total_cost"), rtol=1e-9, note="2.788M GPU-hours x $2"),
    Figure("v3_training_cost_seed", "DeepSeek-V3 training cost, as the seed rounds it", "USD",
           _v3_cost, ("seed_reddy", "v3_training_cost"), rtol=0.05 / 5.6,
           note="published as $5.6 million: half a unit of the last digit"),
    Figure("r1_training_cost", "DeepSeek-R1 reinforcement-learning cost at $2 per H800-hour", "USD",
           lambda: _r1_cost(**_r1_inputs()), ("deepseek_r1_training", "total_cost"), rounded=_r1_range,
           note="512 GPUs x (198 h + 80 h) + 5K GPU-hours, at $2; hours published rounded"),
    Figure("r1_training_cost_seed", "DeepSeek-R1 cost, as the seed states it", "USD",
           lambda: _r1_cost(**_r1_inputs()), ("seed_reddy", "r1_rl_cost"), rounded=_r1_range,
           note="the seed's $294K is DeepSeek's"),
    Figure("you_tps_per_gpu", "Professor You's tokens/s per GPU on 32 GPUs", "token/s",
           lambda: measurement("seed_zhang_extra", "tps_per_system").si / measurement("seed_zhang_extra", "system_gpus_low").si,
           ("seed_zhang_extra", "tps_per_gpu"), rtol=5 / 30,
           note="1,000 tokens/s over 32 GPUs; published as 30 (one significant digit); over 64 GPUs it is half"),
]}


def compute(key: str) -> float:
    """The library's value of figure ``key`` in its unit."""
    try:
        fig = FIGURES[key]
    except KeyError:
        raise KeyError(f"unknown figure {key!r}") from None
    return float(fig.compute())


@dataclass(frozen=True)
class Check:
    key: str
    value: float
    published: float | None
    low: float | None
    high: float | None
    ok: bool

    def __str__(self) -> str:
        fig = FIGURES[self.key]
        if self.published is None:
            return f"{fig.title}: {self.value:,.6g} {fig.unit} (derived)"
        how = (f"published value inside [{self.low:,.6g}, {self.high:,.6g}] from input rounding"
               if fig.rounded else f"rtol {fig.rtol:g}")
        return (f"{fig.title}: computed {self.value:,.6g} {fig.unit}, published "
                f"{self.published:,.6g} ({fig.source()}); {how}: {'OK' if self.ok else 'DRIFT'}")


def check(key: str) -> Check:
    """Compute figure ``key`` and compare with its published value; ``AssertionError`` on drift."""
    fig = FIGURES[key]
    value = compute(key)
    pub = fig.published_value()
    if pub is None:
        return Check(key, value, None, None, None, True)
    if fig.rounded is not None:
        lo, hi = fig.rounded()
        ok = lo <= pub <= hi
    else:
        lo, hi = pub * (1 - fig.rtol), pub * (1 + fig.rtol)
        ok = abs(value - pub) <= fig.rtol * abs(pub)
    result = Check(key, value, pub, lo, hi, ok)
    if not ok:
        raise AssertionError(str(result))
    return result
