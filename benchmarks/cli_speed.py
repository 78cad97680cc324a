"""How long the person at the terminal waits: every speed target of issue 25, with its median and ratio.

Not a test: ``make bench`` runs it (``python benchmarks/cli_speed.py [repeats]``).  Medians of repeated
runs on this machine, in one run, each next to its reference; the table at the end lists every
target, the median, the ratio to the reference and whether it is met:

* a whole ``decode`` / ``prefill`` / ``serve`` process against ``python -c "import numpy"`` [<= 2x];
* ``cli.main`` for one ``decode`` configuration, in process [<= 200 us];
* one configuration through the library: the step terms of a built unit at one batch and context
  [<= 10 us], and (reported beside it) with the layout and the unit built inside the timer;
* ``plan`` over every catalog GPU and every provider's price list (>= 10^6 candidates), in process
  [<= 1 s];
* ``import inference_arithmetic`` in a fresh process [<= 0.3 s].
"""
from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from inference_arithmetic import cli, step  # noqa: E402
from inference_arithmetic.hardware import gpus  # noqa: E402
from inference_arithmetic.model import config  # noqa: E402
from inference_arithmetic.serving import plan, workload  # noqa: E402

DECODE = "decode --model deepseek-v3 --gpu H800 --ep 144 --isl 4000 --osl 1978 --per-user 21 --json"
PREFILL = "prefill --model deepseek-v3 --gpu H800 --ep 32 --redundant 32 --isl 4096 --cached-fraction 0.563 --json"
SERVE = "serve --model deepseek-v3 --gpu H200 --mode disagg --isl 2000 --osl 500 --per-user 20 --json"


def median_process(args: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_call(fn, repeats: int) -> float:
    fn()                                                # warm: catalogs, parser, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(repeats: int = 7) -> None:
    py = sys.executable
    rows = []   # (what, median s, reference s, reference name, target ratio)
    ref = median_process([py, "-c", "import numpy"], repeats)
    print(f"python -c 'import numpy': {ref * 1e3:,.0f} ms (the reference of the whole processes)")
    for name, line in (("decode", DECODE), ("prefill", PREFILL), ("serve", SERVE)):
        t = median_process([py, "-m", "inference_arithmetic", *line.split()], repeats)
        rows.append((f"whole {name} process", t, ref, "import numpy", 2.0))
    t = median_process([py, "-c", "import inference_arithmetic"], repeats)
    rows.append(("import inference_arithmetic", t, 0.3, "0.3 s", 1.0))
    argv = DECODE.split()
    with contextlib.redirect_stdout(io.StringIO()):
        t = median_call(lambda: cli.main(argv), 200 * repeats // 7 or 50)
    rows.append(("cli.main, one decode, in process", t, 200e-6, "200 us", 1.0))
    m, g = config.model("deepseek-v3"), gpus.gpu("H800")
    u = step.unit(m, g, step.layout_for(m, g, 144, precision=step.Precision(moe="fp8", kv="bf16")))
    t = median_call(lambda: step.terms(u, 64.0, 4000.0), 2000)
    rows.append(("one configuration, library (step.terms of a unit)", t, 10e-6, "10 us", 1.0))

    def built():
        step.unit.cache_clear()
        v = step.unit(m, g, step.layout_for(m, g, 144, precision=step.Precision(moe="fp8", kv="bf16")))
        return step.terms(v, 64.0, 4000.0)
    t = median_call(built, 300)
    rows.append(("  the same with layout and unit built", t, 10e-6, "10 us", None))
    w = workload.Workload.from_tokens_per_day(100e9, 2000, 500, per_user=20, ttft_s=5, cache_hit=0.5,
                                              profile=workload.Profile.cosine(1.3))
    every = list(gpus.gpus())
    times, n = [], 0
    for _ in range(max(3, repeats // 2)):
        step.unit.cache_clear()
        t0 = time.perf_counter()
        r = plan.search(m, w, every, "all")
        times.append(time.perf_counter() - t0)
        n = r["candidates"]
    rows.append((f"plan, every catalog GPU ({len(every)}), every price list: {n:,} candidates",
                 statistics.median(times), 1.0, "1 s", 1.0))
    print()
    print(f"{'target':58s} {'median':>10s} {'reference':>13s} {'ratio':>7s}  met")
    for what, t, r, rname, most in rows:
        ratio = t / r
        shown = f"{t * 1e3:,.1f} ms" if t >= 1e-3 else f"{t * 1e6:,.1f} us"
        verdict = "" if most is None else ("yes" if ratio <= most else "NO") + f" (<= {most:g}x)"
        print(f"{what:58s} {shown:>10s} {rname:>13s} {ratio:6.2f}x  {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
