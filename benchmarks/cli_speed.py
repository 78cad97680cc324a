"""How long the person at the terminal waits: whole processes, the command line in process, imports.

Not a test: ``make bench`` runs it.  Medians of repeated runs on this machine, in one run, each
next to its reference (issue targets in brackets):

* a whole ``decode`` / ``prefill`` / ``serve`` process against ``python -c "import numpy"`` [<= 2x];
* ``cli.main`` for one ``decode`` configuration, in process [<= 200 us];
* ``import inference_arithmetic`` in a fresh process [<= 0.3 s].
"""
from __future__ import annotations

import contextlib
import io
import statistics
import subprocess
import sys
import time

from inference_arithmetic import cli  # noqa: E402

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


def main(repeats: int = 7) -> None:
    py = sys.executable
    ref = median_process([py, "-c", "import numpy"], repeats)
    print(f"python -c 'import numpy': {ref * 1e3:,.0f} ms (the reference)")
    for name, line in (("decode", DECODE), ("prefill", PREFILL), ("serve", SERVE)):
        t = median_process([py, "-m", "inference_arithmetic", *line.split()], repeats)
        print(f"whole {name} process: {t * 1e3:,.0f} ms, {t / ref:.1f}x the reference [target <= 2x]")
    t = median_process([py, "-c", "import inference_arithmetic"], repeats)
    print(f"import inference_arithmetic: {t * 1e3:,.0f} ms [target <= 300 ms]")
    argv = DECODE.split()
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(argv)                                  # warm: catalogs, parser, compiled terms
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            cli.main(argv)
            times.append(time.perf_counter() - t0)
    print(f"cli.main, one decode configuration, in process: {statistics.median(times) * 1e6:,.0f} us [target <= 200 us]")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
