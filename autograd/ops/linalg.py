"""Linear algebra: matmul and its special cases, outer.

Dense products go to numpy's `@` (BLAS). Every backward is written with matmul/einsum on
Tensors, so gradients of gradients work. Broadcast batch gradients are returned in the
broadcast shape and summed back by the engine.

    matmul(a, b)    a: (..., n, k), b: (..., k, m) -> (..., n, m)
                    da = g b^T                   db = a^T g
                    (a 1-d: a row (1, k) whose dim is dropped; b 1-d: a column (k, 1))
    dot(a, b)       a, b: (k,) -> ()             da = g b       db = g a
    outer(a, b)     a: (n,), b: (m,) -> (n, m)   composed: a[:, None] * b

einsum and tensordot (einsum.py) are re-exported from here.
"""
import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._linalg_util import _tensor_pair
from .einsum import _einsum_explicit, _letters, einsum, tensordot

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "einsum",
           "tensordot", "addmm", "addmv", "baddbmm", "matrix_power"]


# -- helpers ---------------------------------------------------------------------------------
class _SwapLast(Function):
    """x: (..., n, m) -> (..., m, n), a view (the shape family's mT, kept local)."""
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return np.swapaxes(x.data, -1, -2)

    @staticmethod
    def backward(ctx, g):
        return _SwapLast.apply(g)          # d x^T = (g)^T


def _mT(x):
    return _SwapLast.apply(x)


# -- matmul ----------------------------------------------------------------------------------
class MatMul(Function):
    """a: (..., n, k) or (k,), b: (..., k, m) or (k,), not both 1-d -> numpy's matmul."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        x, w = a.data, b.data
        if w.ndim == 2 and x.ndim > 2 and x.flags.c_contiguous:
            # fold the batch into the rows: one GEMM instead of a loop of small ones
            return (x.reshape(-1, x.shape[-1]) @ w).reshape(x.shape[:-1] + w.shape[-1:])
        return np.matmul(x, w)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a1, b1 = a.ndim == 1, b.ndim == 1
        # back to the 2-d view of each operand: a row (1, k), b a column (k, 1)
        if a1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
            a = a.reshape(1, a.shape[0])
        if b1:
            g = g.reshape(g.shape + (1,))
            b = b.reshape(b.shape[0], 1)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = matmul(g, _mT(b))                       # da = g b^T  (batch summed by engine)
            if a1:
                da = da.reshape(da.shape[:-2] + da.shape[-1:])
        if ctx.needs_input_grad[1]:
            if b.ndim == 2 and a.ndim > 2:
                # db = sum over the batch of a_i^T g_i = A^T G with the batch folded into rows
                rows = int(np.prod(a.shape[:-1]))
                db = matmul(_mT(a.reshape(rows, a.shape[-1])), g.reshape(rows, g.shape[-1]))
            else:
                db = matmul(_mT(a), g)                   # db = a^T g
            if b1:
                db = db.reshape(db.shape[:-1])
        return da, db


class Dot(Function):
    """a, b: (k,) -> ()."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.asarray(np.dot(a.data, b.data))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = g * b if ctx.needs_input_grad[0] else None     # d(a.b)/da = b
        db = g * a if ctx.needs_input_grad[1] else None     # d(a.b)/db = a
        return da, db


def _check_matmul(op_name, sa, sb):
    if not sa or not sb:
        raise RuntimeError(f"{op_name}: both arguments need to be at least 1-D, but got "
                           f"shapes {sa} and {sb}")
    ka = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        raise RuntimeError(f"{op_name}: shapes {sa} and {sb} cannot be multiplied "
                           f"({ka} != {kb})")
    if len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"{op_name}: batch dimensions {sa[:-2]} and {sb[:-2]} of "
                               f"shapes {sa} and {sb} cannot be broadcast together") from None


def matmul(input, other):
    """Matrix product with numpy/PyTorch semantics.

    (k,) @ (k,) -> ();  (k,) @ (..., k, m) -> (..., m);  (..., n, k) @ (k,) -> (..., n);
    (..., n, k) @ (..., k, m) -> (broadcast(...), n, m).
    """
    a, b = _tensor_pair("matmul", input, other)
    sa, sb = a.data.shape, b.data.shape
    _check_matmul("matmul", sa, sb)
    if len(sa) == 1 and len(sb) == 1:
        return Dot.apply(a, b)
    return MatMul.apply(a, b)


def mm(input, mat2):
    """input: (n, k), mat2: (k, m) -> (n, m)."""
    a, b = _tensor_pair("mm", input, mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    _check_matmul("mm", a.shape, b.shape)
    return MatMul.apply(a, b)


def bmm(input, mat2):
    """input: (B, n, k), mat2: (B, k, m) -> (B, n, m); no broadcasting."""
    a, b = _tensor_pair("bmm", input, mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)} ({a.shape[0]} != {b.shape[0]})")
    _check_matmul("bmm", a.shape, b.shape)
    return MatMul.apply(a, b)


def mv(input, vec):
    """input: (n, k), vec: (k,) -> (n,)."""
    a, b = _tensor_pair("mv", input, vec)
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-D matrix and a 1-D vector, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    _check_matmul("mv", a.shape, b.shape)
    return MatMul.apply(a, b)


def dot(input, other):
    """input, other: (k,) -> ()."""
    a, b = _tensor_pair("dot", input, other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    if a.shape != b.shape:
        raise RuntimeError(f"dot: inconsistent tensor size: shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    return Dot.apply(a, b)


def vdot(input, other):
    """dot with the first operand conjugated; the same as dot for real tensors."""
    if isinstance(input, Tensor) and input.data.dtype.kind == "c":
        raise NotImplementedError("vdot: complex tensors are not supported")
    return dot(input, other)


def inner(input, other):
    """Sum over the last dims: (..., k), (..., k) -> (*input[:-1], *other[:-1])."""
    a, b = _tensor_pair("inner", input, other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner: last dimensions differ: shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)} ({a.shape[-1]} != {b.shape[-1]})")
    if a.ndim == 1 and b.ndim == 1:
        return Dot.apply(a, b)
    la, lb = _letters(a.ndim - 1), _letters(b.ndim - 1, start=a.ndim - 1)
    return _einsum_explicit((la + "z", lb + "z"), la + lb, (a, b))


def outer(input, vec2):
    """input: (n,), vec2: (m,) -> (n, m) = input[:, None] * vec2 (dtypes promote)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(vec2.shape)}")
    return input.reshape(input.shape[0], 1) * vec2


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); mat1: (n, k), mat2: (k, m), input broadcasts."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec); mat: (n, k), vec: (k,)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2); batch1: (B, n, k), batch2: (B, k, m)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def _scaled_sum(input, prod, beta, alpha):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:          # as PyTorch: input is ignored (its NaNs do not propagate)
        return prod
    return prod + (input if beta == 1 else input * beta)


class _PowerZero(Function):
    """a: (..., k, k) -> I (..., k, k): matrix_power(a, 0); d/da = 0."""

    @staticmethod
    def forward(ctx, a):
        eye = np.eye(a.shape[-1], dtype=a.data.dtype)
        return np.broadcast_to(eye, a.shape).copy()

    @staticmethod
    def backward(ctx, g):
        return g * 0.0


def matrix_power(input, n):
    """input: (..., k, k) -> input @ ... @ input (n times; n = 0 gives the identity)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"matrix_power: expected a batch of square matrices, got shape "
                           f"{tuple(input.shape)}")
    if n < 0:
        raise NotImplementedError("matrix_power: negative powers need a matrix inverse, "
                                  "which is not implemented")
    if n == 0:                         # the identity, on the tape (gradient 0), as PyTorch
        return _PowerZero.apply(input)
    if n == 1:
        return input.clone()               # a new tensor, as PyTorch
    result, base = None, input
    while True:            # square-and-multiply
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result
        base = matmul(base, base)


TENSOR_METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot,
    "inner": inner, "outer": outer, "ger": ger, "addmm": addmm, "addmv": addmv,
    "baddbmm": baddbmm, "matrix_power": matrix_power,
}
INPLACE = []
