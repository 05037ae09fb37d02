import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# One BLAS thread in the tests: on a busy 2-core machine OpenBLAS's spinning worker threads
# made small products 10-25x slower (set before numpy loads; an explicit setting wins).
# Speed is measured in benchmarks/, which sets its own thread counts.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
