"""Which catalog GPUs read AMD AITER's kernel tables (dense GEMMs: :mod:`.kernel_aiter`; fused MoE:
:mod:`.kernel_aiter_moe`), and the AITER commit the tables were extracted at (``data/aiter_kernels.yaml``,
``data/aiter_moe_kernels.yaml``; ``scripts/extract_aiter_tables.py``)."""
from __future__ import annotations

__all__ = ["AITER_GPUS", "AITER_COMMIT", "is_aiter_gpu"]

#: catalog GPU -> (gfx, cu_num) whose rows it reads, and the GPU whose times it carries (itself, or the
#: MI300X for the MI325X)
AITER_GPUS = {"MI300X": ("gfx942", "304", "MI300X"), "MI325X": ("gfx942", "304", "MI300X"),
              "MI355X": ("gfx950", "256", "MI355X")}
#: the AITER commit the tables were extracted at
AITER_COMMIT = "e4048607a535"


def is_aiter_gpu(gpu_key: str) -> bool:
    """Whether ``gpu_key`` reads its dense GEMMs (and, where measured, its routed experts) from AITER's tables."""
    return gpu_key in AITER_GPUS
