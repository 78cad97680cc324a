"""Transcribe AITER's published MI300X attention-forward benchmark table into ``data/kernels.yaml`` rows.

AITER (github.com/ROCm/aiter, MIT licence, Copyright Advanced Micro Devices, Inc.) publishes, in
``op_tests/cpp/mha/README.md`` ("the asm kernel performance of the attention forwards and attention
backwards ... tested under the conditions of BF16 and BSHD in batch mode"), a table of its assembly
(fmha_v3) attention kernels' TFLOP/s per shape (batch, q_nheads, kv_nheads, seqlen_q, seqlen_kv, hdim,
causal) on the MI300X and the MI355X, measured with ``op_tests/cpp/mha/benchmark_mha_fwd.cpp`` (FLOP:
4 b h s_q s_k d, halved when causal: the unmasked area).  Run against a git mirror (nothing imported)::

    python scripts/extract_aiter_fmha.py /work/.mirror/ROCm+aiter/repo ce08b7571911bd0566d4d154f922077d8678b972

Prints one YAML flow row per causal row of the table, the MI300X forward column only (the step model's
prefill attention is causal; the MI355X column and the backward columns are not used), in the table's order.
"""
from __future__ import annotations

import subprocess
import sys

README = "op_tests/cpp/mha/README.md"


def rows(mirror: str, commit: str) -> list[dict]:
    text = subprocess.run(["git", "-C", mirror, "show", f"{commit}:{README}"], check=True,
                          capture_output=True, text=True).stdout
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 9 or not cells[0].isdigit():
            continue
        b, hq, hkv, sq, sk, d, causal = (int(c) for c in cells[:7])
        if causal != 1:
            continue
        out.append({"gpu": "MI300X", "batch": b, "q_heads": hq, "kv_heads": hkv, "seqlen_q": sq, "seqlen_kv": sk,
                    "hdim": d, "tflops": float(cells[7])})
    return out


def main(argv: list[str]) -> int:
    mirror, commit = argv
    for r in rows(mirror, commit):
        print("    - {" + ", ".join(f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}" for k, v in r.items()) + "}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
