"""How long the person at the terminal waits: every speed target of issue 25, with its median and ratio.

Not a test: ``make bench`` runs it (``python benchmarks/cli_speed.py [repeats]``).  Medians of repeated
runs on this machine, in one run, each next to its reference; the table at the end lists every
target, the median, the ratio to the reference and whether it is met:

* a whole ``decode`` / ``prefill`` / ``serve`` process against ``python -c "import numpy"`` [<= 2x], and
  (reported beside them) ``serve``'s layout search alone, in process, its units built inside the timer;
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
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from inference_arithmetic import cli, step  # noqa: E402
from inference_arithmetic.hardware import gpus  # noqa: E402
from inference_arithmetic.model import config  # noqa: E402
from inference_arithmetic.serving import plan, search as layout_search, workload  # noqa: E402

DECODE = "decode --model deepseek-v3 --gpu H800 --ep 144 --isl 4000 --osl 1978 --per-user 21 --json"
PREFILL = "prefill --model deepseek-v3 --gpu H800 --ep 32 --redundant 32 --isl 4096 --cached-fraction 0.563 --json"
SERVE = "serve --model deepseek-v3 --gpu H200 --mode disagg --isl 2000 --osl 500 --per-user 20 --json"


#: CPU seconds (user + system) beside each wall-clock median: on a machine shared with other work the
#: wall clock waits for the other processes too, the CPU time does not
CPU: dict[str, float] = {}


def median_process(args: list[str], repeats: int, env: dict | None = None) -> float:
    times, cpu = [], []
    for _ in range(repeats):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    CPU[" ".join(args)] = statistics.median(cpu)
    return statistics.median(times)


def median_call(fn, repeats: int, key: str = "") -> float:
    fn()                                                # warm: catalogs, parser, caches
    times, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[key] = statistics.median(cpu)
    return statistics.median(times)


def main(repeats: int = 7) -> None:
    py = sys.executable
    rows = []   # (what, wall median s, CPU median s, reference wall s, reference CPU s, reference, most)
    numpy_cmd = [py, "-c", "import numpy"]
    ref = median_process(numpy_cmd, repeats)
    ref_cpu = CPU[" ".join(numpy_cmd)]
    print(f"python -c 'import numpy': {ref * 1e3:,.0f} ms wall, {ref_cpu * 1e3:,.0f} ms CPU (the reference of the "
          f"whole processes)")
    cached = os.environ.get("PYTHONDONTWRITEBYTECODE") and {k: v for k, v in os.environ.items()
                                                            if k != "PYTHONDONTWRITEBYTECODE"}
    for name, line in (("decode", DECODE), ("prefill", PREFILL), ("serve", SERVE)):
        cmd = [py, "-m", "inference_arithmetic", *line.split()]
        t = median_process(cmd, repeats)
        rows.append((f"whole {name} process", t, CPU[" ".join(cmd)], ref, ref_cpu, "import numpy", 2.0))
        if cached:   # this environment turns Python's bytecode cache off: every module compiles in every process
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=cached)     # writes the cache
            t = median_process(cmd, repeats, env=cached)
            rows.append((f"  the same with the bytecode cache on", t, CPU[" ".join(cmd)], ref, ref_cpu,
                         "import numpy", 2.0))
    m, g = config.model("deepseek-v3"), gpus.gpu("H800")
    svc, h200 = workload.Service(2000, 500, 20.0), gpus.gpu("H200")     # SERVE's question

    def serve_search():
        step.unit.cache_clear()                         # units built inside the timer, as in a process
        return layout_search.best(m, h200, svc, "disagg")
    t = median_call(serve_search, 10 * repeats, "serve search")
    rows.append(("  serve's layout search alone, in process (search.best)", t, CPU["serve search"], ref, ref_cpu,
                 "import numpy", None))
    cmd = [py, "-c", "import inference_arithmetic"]
    t = median_process(cmd, repeats)
    rows.append(("import inference_arithmetic", t, CPU[" ".join(cmd)], 0.3, 0.3, "0.3 s", 1.0))
    argv = DECODE.split()
    with contextlib.redirect_stdout(io.StringIO()):
        t = median_call(lambda: cli.main(argv), 30 * repeats, "cli")
    rows.append(("cli.main, one decode, in process", t, CPU["cli"], 200e-6, 200e-6, "200 us", 1.0))
    u = step.unit(m, g, step.layout_for(m, g, 144, precision=step.Precision(moe="fp8", kv="bf16")))
    t = median_call(lambda: step.terms(u, 64.0, 4000.0), 300 * repeats, "terms")
    rows.append(("one configuration, library (step.terms of a unit)", t, CPU["terms"], 10e-6, 10e-6, "10 us", 1.0))

    def built():
        step.unit.cache_clear()
        v = step.unit(m, g, step.layout_for(m, g, 144, precision=step.Precision(moe="fp8", kv="bf16")))
        return step.terms(v, 64.0, 4000.0)
    t = median_call(built, 40 * repeats, "built")
    rows.append(("  the same, layout and unit built too", t, CPU["built"], 10e-6, 10e-6, "10 us", None))
    w = workload.Workload.from_tokens_per_day(100e9, 2000, 500, per_user=20, ttft_s=5, cache_hit=0.5,
                                              profile=workload.Profile.cosine(1.3))
    for label, args in (("plan, every GPU of the default price source", ()),
                        ("plan, every GPU any provider list prices", (None, "all"))):
        n = []

        def search():
            step.unit.cache_clear()                     # units built inside the timer, as a user waits
            n.append(plan.search(m, w, *args))
        t = median_call(search, max(3, repeats // 2), label)
        r = n[-1]
        rows.append((f"{label} ({len(r['gpus'])}): {r['candidates']:,} candidates", t, CPU[label], 1.0, 1.0, "1 s",
                     1.0))
    print()
    print(f"{'target':62s} {'wall':>9s} {'CPU':>9s} {'reference':>12s} {'wall x':>7s} {'CPU x':>7s}  met (wall; CPU)")
    for what, t, c, r, rc, rname, most in rows:
        def shown(x):
            return f"{x * 1e3:,.1f} ms" if x >= 1e-3 else f"{x * 1e6:,.1f} us"
        verdict = "" if most is None else (f"<= {most:g}x: " + ("yes" if t / r <= most else "NO") + "; "
                                           + ("yes" if c / rc <= most else "NO"))
        print(f"{what:62s} {shown(t):>9s} {shown(c):>9s} {rname:>12s} {t / r:6.2f}x {c / rc:6.2f}x  {verdict}")
    load = os.getloadavg()[0]
    print(f"\n{os.cpu_count()} CPUs, load average {load:.1f} during the run (wall times include waiting for "
          f"other processes when it exceeds the CPUs)")
    if cached:
        print("PYTHONDONTWRITEBYTECODE is set here: Python writes no bytecode cache, so where none was ever written "
              "(a fresh clone) the package's modules compile in every process (the installed packages' were "
              "compiled when installed); the rows 'with the bytecode cache on' unset it, as a default Python does")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
