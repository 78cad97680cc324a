import gc
import sys

from inference_arithmetic.cli import main

# One answer per process: what the imports made (numpy's and the library's modules, tens of thousands of
# objects) lives until the process ends, so the cyclic collector is told to leave it (gc.freeze: some 10 ms
# of a process, most of it the full collection at exit); what the answer makes is collected as usual.
gc.freeze()
sys.exit(main())
