"""Benchmark: evaluate the decode model on 10**6 configurations and report configurations per second.

Not a test: run it with `make bench` (or `python benchmarks/decode_sweep.py [N] [repeats]`).  It
times the lambdified sympy formulas on random inputs, single-threaded, best of several repeats.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from inference_arithmetic import catalog, decode, step  # noqa: E402


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up: lambdify and caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n: int = 1_000_000, repeats: int = 5) -> None:
    rng = np.random.default_rng(0)
    ctx = rng.integers(1_000, 128_000, n).astype(float)
    batch = rng.integers(1, 512, n).astype(float)
    bw = rng.choice([3.35e12, 4.8e12, 8e12], n)
    W = rng.uniform(5e9, 50e9, n)

    def bound():
        return decode.gpu_rate(accept=1.0, batch=batch, BW=bw, ctx=ctx, S_kv=70272.0, W=W)

    m, g = catalog.model("deepseek-v3"), catalog.gpu("H800")
    values = step.step_inputs(m, g, step.Layout(n_ep=144, redundant=32), batch=batch, ctx=ctx)

    def step_model():
        return step.breakdown(values)

    print(f"configurations: {n:,}; numpy {np.__version__}; single thread; best of {repeats}")
    for name, fn in (("bandwidth bound (gpu_rate)", bound), ("full step-time model (breakdown)", step_model)):
        t = best_time(fn, repeats)
        print(f"{name:34s} {t * 1e3:8.1f} ms  {n / t:14,.0f} configurations/s")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
