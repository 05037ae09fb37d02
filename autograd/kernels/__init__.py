"""numba kernels: functions on ndarrays only (they never import Tensor).

Each kernel module defines its kernels with `@jit(...)` from `_jit.py`: numba is imported and
the kernel compiled on the first call, never at import, and the compiled code is cached on
disk (`cache=True`), so a second process runs its first call without recompiling.
Named by what they compute: conv_forward, conv_backward_input, spmm_csr, ...
"""
