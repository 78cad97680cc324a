"""The step model at the load an MLPerf run held: a conditional check beside the validation.

MLPerf's Server and Interactive scenarios score the load a submitter chose to offer (its ``target_qps``)
once the run meets the 99th-percentile TTFT and TPOT limits.  The validation (:mod:`.validation_search`)
predicts the most the hardware serves under those limits read as means; where the TPOT limit sits near
the latency floor, a small error in the step time moves that answer a lot.  This module asks the
better-conditioned question: at the decode concurrency the run actually held, how fast does the model
say it goes?

The concurrency comes from the run's own log by Little's law, requests decoding at once
``N_dec = lambda_run (W_run - T1_run)``: completed requests per second times the mean time a request
spends past its first token (``data/mlperf_load.yaml``, written by ``scripts/mlperf_load.py``).  It is
pinned as the batch (per attention instance: ``N_dec / GPUs x`` the GPUs it spans, the nearest batch of the
search's grid; an instance whose share exceeds the grid is not asked)
with everything else the entry's stated setup, exactly as the validation asks it, and the search's answer
at that batch is compared with the measured tokens/s per GPU.  A disaggregated run's decode concurrency sits on
its decode GPUs, whose number its configuration states (``gpus_decode``, the submitter's split): there the
concurrency and the measured rate are per decode GPU, compared with the model's decode rate per GPU at that
batch (its prefill pool is not asked).  The input is a system-level measurement, so these are **conditional
predictions**: never in the validation's summary, never a calibration input.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.formula import formula
from inference_arithmetic.core.symbols import register
from inference_arithmetic.evidence import validation_search
from inference_arithmetic.evidence.validation_setup import Skip, entries, family
from inference_arithmetic.evidence.validation_stats import error_stats
from inference_arithmetic.serving import search

__all__ = ["decode_concurrency", "AtLoad", "runs", "at_load", "all_at_load", "on_grid", "compared", "group_rows",
           "report"]

lam_run = register("evidence", "lam_run", r"\lambda_{\mathrm{run}}", "request/s", "requests a run completed per second")
W_run = register("evidence", "W_run", r"\bar W_{\mathrm{run}}", "s",
                 "mean latency of a run's requests, from issue to last token")
T1_run = register("evidence", "T1_run", r"\bar T_{\mathrm{run}}", "s", "mean time to first token of a run's requests")
N_dec = register("evidence", "N_dec", r"N_{\mathrm{dec}}", "request", "requests of a run decoding at once")

decode_concurrency = formula(
    "decode_concurrency", lam_run * (W_run - T1_run), "request",
    "Little's law: requests decoding at once = completion rate x mean time past the first token")


@dataclass(frozen=True)
class AtLoad:
    """One run at its measured load: ``concurrency_per_gpu`` (requests decoding per GPU, Little's law),
    ``batch`` (per attention instance, as pinned), tokens/s per GPU ``measured`` and ``predicted`` at that
    batch, mean TPOT s ``tpot_measured`` (the log's, per request) and ``tpot_predicted`` (1 / the per-user
    rate), mean TTFT s measured and predicted (the model's without queueing), the notes, and ``per``: the GPUs
    the concurrency and both rates are per (``"GPU"``: every GPU of an aggregated run; ``"decode GPU"``: a
    disaggregated run's decode GPUs)."""

    id: str
    round: str
    concurrency_per_gpu: float
    batch: float
    measured: float
    predicted: float
    tpot_measured: float
    tpot_predicted: float
    ttft_measured: float
    ttft_predicted: float
    notes: tuple
    per: str = "GPU"

    @property
    def error(self) -> float:
        """Relative error of the throughput at the measured load (model / measured - 1)."""
        return self.predicted / self.measured - 1


@lru_cache(maxsize=None)
def runs() -> dict:
    """The measured load of each MLPerf Server and Interactive entry: id -> the log's numbers (s, 1/s)."""
    return read_yaml("mlperf_load.yaml")


def on_grid(batch: float) -> float:
    """The batch of the search's grid (:data:`.search.BATCHES`) nearest ``batch`` requests, at least one."""
    return float(search.BATCHES[int(np.argmin(np.abs(search.BATCHES - max(batch, 1.0))))])


def at_load(key: str, framework: str | None = None) -> AtLoad:
    """Entry ``key``'s prediction at its run's measured decode concurrency (``framework``: whose kernels, as in
    :func:`.validation.predict`; ``None``: the publication's); :class:`Skip` where it cannot be asked (no MLPerf
    log, a disaggregated run whose decode GPUs are unstated, or the search builds no layout at that batch)."""
    run, e = runs().get(key), entries()[key]
    if run is None:
        raise Skip("no MLPerf Server or Interactive log for this entry")
    agg = e.get("mode") == "agg"
    if not agg and not e.get("gpus_decode"):
        raise Skip("disaggregated, and the entry does not state how many decode GPUs held the decode concurrency")
    n = float(e["gpus_total"] if agg else e["gpus_decode"])
    rate = "tokens_per_s_per_gpu" if agg else "decode_tokens_per_s_per_gpu"
    per_gpu = float(decode_concurrency.fast(lam_run=run["samples_per_s"], W_run=run["mean_latency_s"],
                                            T1_run=run["mean_ttft_s"])) / n
    s = validation_search.setup(key, framework)
    svc = replace(s.service, per_user=None, ttft_s=None)      # the load is given: no limits to meet
    spaces = [replace(sp, batch=int(on_grid(per_gpu * t)))     # as a stated concurrency, on the search's grid
              for t, sp in replace(s, batch_per_gpu=per_gpu).spaces() if per_gpu * t <= search.BATCHES[-1]]
    found, why = [], [f"{per_gpu:.0f} requests per GPU exceed every attention instance's largest batch"]
    for mode in s.modes:
        for space in spaces:
            try:
                found.append(search.best(s.model, s.gpu, svc, mode, space))
            except InputError as err:
                why.append(str(err))
    if not found:
        raise Skip(f"the search builds no layout at the measured load: {why[-1]}")
    b = max(found, key=lambda x: x[rate])
    per = "GPU" if agg else "decode GPU"
    stated = tuple(x for x in s.notes if not x.startswith("service level"))     # the load is given: no limits
    split = () if agg else (f"compared per decode GPU: the run's tokens/s over its {n:.0f} decode GPUs (the "
                            f"configuration's {e['gpus_prefill']} prefill + {e['gpus_decode']} decode) against the "
                            "model's decode rate per GPU at that batch; the prefill pool not asked",)
    notes = stated + ("the scenario's latency limits not applied: the load is the run's",
                      f"decode concurrency {per_gpu:.1f} requests per {per} (Little's law on the log: "
                      f"{run['samples_per_s']:g} requests/s x ({run['mean_latency_s']:.2f} - "
                      f"{run['mean_ttft_s']:.2f}) s over {n:.0f} {per}s), pinned as "
                      f"{b['batch_per_instance']:.0f} per attention instance", *split,
                      f"layout: {search.label(b['layout'])}")
    return AtLoad(key, str(run["round"]), per_gpu, float(b["batch_per_instance"]), float(run["tokens_per_s"]) / n,
                  float(b[rate]), float(run["mean_tpot_s"]), 1.0 / float(b["tokens_per_s_per_user"]),
                  float(run["mean_ttft_s"]), float(b["ttft_s"]), notes, per)


def all_at_load(framework: str | None = None) -> tuple[tuple[AtLoad, ...], dict]:
    """(every entry of :func:`runs` that can be asked, in id order; id -> the reason for the rest)."""
    done, left = [], {}
    for key in sorted(runs()):
        try:
            done.append(at_load(key, framework))
        except Skip as why:
            left[key] = str(why)
    return tuple(done), left


def compared(preds, done=None) -> list[dict]:
    """One record per run asked at its load: ``id``, ``round`` (MLPerf's, ``v5.1``), ``family`` (the model's),
    ``group`` (the two together), ``error_limits`` (the validation's prediction ``preds`` at the limits, model /
    measured - 1) and ``error_load`` (at the measured load); ``done``: :func:`all_at_load`'s runs (default:
    computed)."""
    by_id = {p.id: p for p in preds}
    rows = []
    for a in (all_at_load()[0] if done is None else done):
        p = by_id[a.id]
        rnd, fam = f"v{a.round}", family(p)
        rows.append({"id": a.id, "round": rnd, "family": fam, "group": f"MLPerf {rnd} {fam}",
                     "error_limits": p.error, "error_load": a.error})
    return rows


def group_rows(rows: list[dict]) -> list[dict]:
    """:func:`compared`'s records summarised per group and over all (last): ``group``, ``n``, and the
    :func:`.error_stats` ``mape`` and ``mean_error`` at the limits (``limits_``) and at the load (``load_``)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    out = []
    for name, rs in [*sorted(groups.items()), ("all", rows)]:
        lim, load = error_stats(r["error_limits"] for r in rs), error_stats(r["error_load"] for r in rs)
        out.append({"group": name, "n": lim["n"], "limits_mape": lim["mape"], "limits_mean_error": lim["mean_error"],
                    "load_mape": load["mape"], "load_mean_error": load["mean_error"]})
    return out


def report(preds, framework: str | None = None) -> dict:
    """``validate --at-load``'s object: ``kind``, ``summary`` (:func:`.error_stats` at the measured load),
    ``at_the_limits`` (the same statistics of ``preds`` on the same runs), ``by_group`` (:func:`group_rows`),
    ``rows`` (id, round, requests decoding per GPU, batch per attention instance, ``per`` (the GPUs the rates are
    per: ``GPU`` or ``decode GPU``), tokens/s per GPU measured and predicted, error, mean TPOT s measured and
    predicted) and ``left_out`` (id -> why)."""
    done, left = all_at_load(framework)
    rows = compared(preds, done)
    by_id = {r["id"]: r for r in rows}
    return {"kind": "conditional model predictions at each MLPerf run's measured decode concurrency (Little's law "
                    "on its log): the input is a system-level measurement, so these are reported apart from the "
                    "validation's summary and never fitted to",
            "summary": error_stats(a.error for a in done),
            "at_the_limits": error_stats(r["error_limits"] for r in rows),
            "by_group": group_rows(rows) if rows else [],
            "rows": [{"id": a.id, "round": a.round, "concurrency_per_gpu": a.concurrency_per_gpu, "batch": a.batch,
                      "per": a.per, "measured": a.measured, "predicted": a.predicted, "error": a.error,
                      "error_at_the_limits": by_id[a.id]["error_limits"], "tpot_measured_s": a.tpot_measured,
                      "tpot_predicted_s": a.tpot_predicted} for a in done],
            "left_out": left}
