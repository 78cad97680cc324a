"""Benchmark of the capacity planner: the full search, timed as a user waits for it.

Not a test (never in CI): ``make bench`` or ``python benchmarks/plan_search.py [repeats]``.
Reports the median over repeated runs, single-threaded, of ``plan.search`` for the planning
chapter's example workload with every GPU its price source covers (unit construction, the
vectorised step model, prefill tables and costing all inside the timer), and the number of
candidate deployments evaluated.

Side by side, where NVIDIA's ``aiconfigurator`` is installed (an optional extra: ``pip install
aiconfigurator`` in another environment and put its ``aiconfigurator`` command on PATH), the
same question, DeepSeek-V3 on H200 at 2,000 input and 500 output tokens with a 5 s first-token
limit and 20 tokens/s per user (a 50 ms time per output token), is timed through its command
line in the same run.  Its answer is printed as it comes; the two tools answer different scopes
(aiconfigurator: its own measured GPUs, no costs).
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from inference_arithmetic.model import config  # noqa: E402
from inference_arithmetic.serving import search, workload  # noqa: E402
from inference_arithmetic.serving import plan  # noqa: E402
from inference_arithmetic import step  # noqa: E402


def main(repeats: int = 7) -> None:
    m = config.model("deepseek-v3")
    w = workload.Workload.from_tokens_per_day(100e9, 2000, 500, per_user=20, ttft_s=5, cache_hit=0.5,
                                          profile=workload.Profile.cosine(1.3))
    times, n = [], 0
    for _ in range(repeats):
        step.unit.cache_clear()
        t0 = time.perf_counter()
        r = plan.search(m, w)
        times.append(time.perf_counter() - t0)
        n = r["candidates"]
    best = r["deployments"][0]
    print(f"plan.search: {n:,} candidate deployments, median {statistics.median(times):.3f} s over {repeats} runs "
          f"(price source {r['source']}); cheapest: {best['gpu']} {best['mode']} USD {best['usd_per_day']:,.0f}/day")
    # the fleet as a market: two GPU types, every provider's price list, mixed pools
    times = []
    for _ in range(repeats):
        step.unit.cache_clear()
        t0 = time.perf_counter()
        rm = plan.search(m, w, ["H200", "B200"], "all", mixed=True)
        times.append(time.perf_counter() - t0)
    bm = rm["deployments"][0]
    print(f"plan.search --gpus H200,B200 --prices all --mixed: median {statistics.median(times):.3f} s; cheapest: "
          f"{bm['gpu']} {bm['mode']} USD {bm['usd_per_day']:,.0f}/day")
    # the question aiconfigurator answers below: H200, 2,000/500 tokens, no prefix cache, units of 32 GPUs at most
    w2 = workload.Workload(requests_per_s=30, isl=2000, osl=500, per_user=20, ttft_s=5)
    small = tuple(e for e in search.EP_SIZES if e <= 32)
    t0 = time.perf_counter()
    rows = plan.search(m, w2, ["H200"], top=50, space=search.Space(decode_ep=small, prefill_ep=small))["deployments"]
    took = time.perf_counter() - t0
    for mode in ("agg", "disagg"):
        d = next(x for x in rows if x["mode"] == mode)
        print(f"  H200 {mode}, units of at most 32 GPUs ({took:.2f} s): {d['tokens_per_s_per_gpu']:,.0f} output tok/s "
              f"per GPU (all GPUs counted) at {d['tokens_per_s_per_user']:.1f} tok/s per user, TTFT {d['ttft_s']:.2f} s, "
              f"EP{d['layout']['ep']}")
    exe = shutil.which("aiconfigurator")
    if exe is None:
        print("aiconfigurator: not installed here; skipped (optional extra, see the module docstring)")
        return
    cmd = [exe, "cli", "default", "--model-path", "deepseek-ai/DeepSeek-V3", "--total-gpus", "32",
           "--system", "h200_sxm", "--isl", "2000", "--osl", "500", "--ttft", "5000", "--tpot", "50"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - t0
    print(f"aiconfigurator ({' '.join(cmd[1:])}): exit {proc.returncode} in {took:.1f} s")
    print("\n".join((proc.stdout or proc.stderr).strip().splitlines()[-25:]))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
