"""Helpers shared by the linear-algebra modules (linalg, einsum)."""
from ..tensor import Tensor
from ._util import as_tensor


def _tensor_pair(op_name, a, b):
    """a, b as Tensors of one dtype (PyTorch does not promote in products)."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, b.data.dtype if isinstance(b, Tensor) else None)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a.data.dtype)
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"{op_name}: expected both operands to have the same dtype, but "
                           f"got {a.data.dtype} and {b.data.dtype} (shapes {tuple(a.shape)} "
                           f"and {tuple(b.shape)})")
    return a, b
