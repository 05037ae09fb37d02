"""Triangles and diagonals: tril, triu, diagonal, diag. Re-exported by `indexing`.

    tril(x, k)                  dx = tril(g, k)           (keeps x[i, j] with j - i <= k)
    triu(x, k)                  dx = triu(g, k)           (keeps x[i, j] with j - i >= k)
    diagonal(x, k, d1, d2)      dx = zeros(x.shape) with g on that diagonal (DiagonalScatter)
    DiagonalScatter(g, ...)    dg = diagonal(gg, k, d1, d2)
    diag(v, k)   (1-d v)        = DiagonalScatter(v) into an (n + |k|)-square matrix
    diag_embed(v, k, d1, d2)    = DiagonalScatter(v) into a batch of such matrices
    diag(x, k)   (2-d x)        = diagonal(x, k), copied
"""
import numpy as np

from ..function import Function
from ._util import wrap_dim

__all__ = ["tril", "triu", "diagonal", "diag", "diag_embed"]


class Tril(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return np.tril(x.data, k)

    @staticmethod
    def backward(ctx, g):
        return Tril.apply(g, ctx.k), None


class Triu(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return np.triu(x.data, k)

    @staticmethod
    def backward(ctx, g):
        return Triu.apply(g, ctx.k), None


def _matrix_check(op_name, input):
    if input.ndim < 2:
        raise RuntimeError(f"{op_name}: input tensor must have at least 2 dimensions, got "
                           f"shape {tuple(input.shape)}")


def tril(input, diagonal=0):
    """x: (..., m, n) -> x with the elements above diagonal `diagonal` zeroed."""
    _matrix_check("tril", input)
    return Tril.apply(input, int(diagonal))


def triu(input, diagonal=0):
    """x: (..., m, n) -> x with the elements below diagonal `diagonal` zeroed."""
    _matrix_check("triu", input)
    return Triu.apply(input, int(diagonal))


def _diagonal_view(a, offset, dim1, dim2):
    """The (writeable) strided view of a's diagonal: dims dim1 and dim2 removed, the diagonal
    appended last; element i is a[..., i, i + offset] (offset >= 0) or a[..., i - offset, i]."""
    m = np.moveaxis(a, (dim1, dim2), (-2, -1))
    m = m[..., :, offset:] if offset >= 0 else m[..., -offset:, :]
    n = max(0, min(m.shape[-2], m.shape[-1]))
    return np.lib.stride_tricks.as_strided(
        m, m.shape[:-2] + (n,), m.strides[:-2] + (m.strides[-2] + m.strides[-1],))


class Diagonal(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.args = x.data.shape, (offset, dim1, dim2)
        return _diagonal_view(x.data, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        return DiagonalScatter.apply(g, ctx.shape, *ctx.args), None, None, None


class _DiagonalCopy(Diagonal):
    is_view = False

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        return Diagonal.forward(ctx, x, offset, dim1, dim2).copy()


class DiagonalScatter(Function):
    """g: the diagonal's shape -> zeros(shape) with g on the diagonal."""

    @staticmethod
    def forward(ctx, g, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = np.zeros(shape, g.data.dtype)
        _diagonal_view(out, offset, dim1, dim2)[...] = g.data
        return out

    @staticmethod
    def backward(ctx, gg):
        return Diagonal.apply(gg, *ctx.args), None, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """x: (..., d1, ..., d2, ...) -> (..., L): the offset diagonal of the (dim1, dim2) planes,
    a view; L = max(0, min(d1, d2 - offset)) for offset >= 0."""
    _matrix_check("diagonal", input)
    d1 = wrap_dim(dim1, input.ndim, "diagonal")
    d2 = wrap_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2} "
                           f"(input shape {tuple(input.shape)})")
    return Diagonal.apply(input, int(offset), d1, d2)


def diag(input, diagonal=0):
    """v: (n,) -> (n + |k|, n + |k|) matrix with v on diagonal k; x: (m, n) -> its diagonal
    k as a new 1-d tensor."""
    k = int(diagonal)
    if input.ndim == 1:
        m = input.shape[0] + abs(k)
        return DiagonalScatter.apply(input, (m, m), k, 0, 1)
    if input.ndim == 2:
        return _DiagonalCopy.apply(input, k, 0, 1)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """v: (..., n) -> (..., m, ..., m, ...) with m = n + |offset|: zeros with v on the offset
    diagonal of the (dim1, dim2) planes (dims of the output; defaults: the last two)."""
    if input.ndim == 0:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension, got a "
                           "0-d tensor")
    ndim = input.ndim + 1
    d1 = wrap_dim(dim1, ndim, "diag_embed")
    d2 = wrap_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2} "
                           f"(input shape {tuple(input.shape)})")
    m = input.shape[-1] + abs(int(offset))
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, m)
    return DiagonalScatter.apply(input, tuple(shape), int(offset), d1, d2)


TENSOR_METHODS = {"tril": tril, "triu": triu, "diagonal": diagonal, "diag": diag,
                  "diag_embed": diag_embed}
INPLACE = ["tril", "triu"]
