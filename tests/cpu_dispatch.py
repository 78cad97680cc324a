"""Print the numpy CPU features to disable so that numpy runs its baseline (non-dispatched) paths.

``make test`` runs nbval a second time with ``NPY_DISABLE_CPU_FEATURES`` set to this list:
on x86-64, numpy 2 builds for an X86_V2 baseline and dispatches hot loops at run time to
X86_V3 (AVX2/FMA3), X86_V4 (AVX-512 Skylake), AVX512_ICL and AVX512_SPR kernels, whose
results may differ in the last bit.  Disabling every dispatched target this CPU has makes
the second run take other code paths than the first, so an output that depends on the
SIMD path (a float stored with too many digits) fails one of the two runs.  Prints
nothing where no dispatched target is available or on other architectures (the Makefile
then skips the second run with a message).
"""
import platform

from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

if platform.machine().lower() in ("x86_64", "amd64"):
    print(" ".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f)))
