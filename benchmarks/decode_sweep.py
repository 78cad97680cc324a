"""Benchmark of the decode step model: one configuration, and a vectorised sweep.

Not a test: run it with ``make bench`` (or ``python benchmarks/decode_sweep.py [repeats]``).
Reports medians of repeated runs, single-threaded, and times what a user waits for: the
inputs are built inside the timer.

1. **One configuration**: a new layout, its unit (the step formulas' constants) and the
   step terms at one batch and context, with the unit cache cleared each time.
2. **Sweep**: every GPU of the catalog x 8 expert-parallel sizes x 3 MoE dtypes x 2 KV dtypes
   (units built inside the timer) x 256 batch sizes x 64 contexts, in one vectorised call,
   with the memory check; reported per configuration.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from inference_arithmetic.hardware import gpus  # noqa: E402
from inference_arithmetic.model import config  # noqa: E402
from inference_arithmetic import step  # noqa: E402
from inference_arithmetic.core.errors import Error  # noqa: E402

EP_SIZES = (8, 16, 32, 64, 72, 128, 144, 256)


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up: lambdify and the catalogs
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_configuration(m, g) -> float:
    step.unit.cache_clear()
    u = step.unit(m, g, step.layout_for(m, g, 144, precision=step.Precision(moe="fp8", kv="bf16")))
    return float(step.terms(u, 64.0, 4000.0)["tokens_per_s_per_gpu"])


def sweep(m, batch, ctx) -> int:
    step.unit.cache_clear()
    units = []
    for g in gpus.gpus().values():
        for ep in EP_SIZES:
            for moe in step.MOE_DTYPES:
                for kv in step.KV_DTYPES:
                    try:
                        units.append(step.unit(m, g, step.layout_for(m, g, ep, precision=step.Precision(moe=moe, kv=kv))))
                    except Error:  # NVFP4 on a GPU without FP4 tensor cores
                        continue
    v = step.stack(units)
    v["batch"], v["ctx"] = batch, ctx
    out = step.evaluate(v)
    ok = step.free_bytes(v, batch, ctx) >= 0
    best = np.where(ok, out["tokens_per_s_per_gpu"], 0.0).max()
    assert best > 0
    return out["t_step"].size


def main(repeats: int = 15) -> None:
    m = config.model("deepseek-v3")
    g = gpus.gpu("H800")
    t1 = median_time(lambda: one_configuration(m, g), repeats * 20)
    batch = np.arange(1, 257, dtype=float).reshape(1, -1, 1)
    ctx = np.geomspace(512, 131072, 64).reshape(1, 1, -1)
    n = sweep(m, batch, ctx)
    ts = median_time(lambda: sweep(m, batch, ctx), repeats)
    print(f"one configuration (layout, unit and terms built): median {t1 * 1e6:.1f} us over {repeats * 20} runs")
    print(f"sweep of {n:,} configurations (GPU x EP x MoE dtype x KV dtype x batch x context, units built "
          f"inside the timer): median {ts * 1e3:.1f} ms = {ts / n * 1e9:.1f} ns per configuration "
          f"over {repeats} runs")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
