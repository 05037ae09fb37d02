"""Sorting: sort, argsort, topk. Re-exported by `indexing`.

The permutation is found on the array (no gradient); the values are then gathered with it,
so the gradient is gather's:

    values = gather(x, dim, indices)    dx = scatter_add(zeros, dim, indices, g)

Sorts are stable (equal elements keep their order, descending too); NaN sorts as the
largest value, as in PyTorch.
"""
from collections import namedtuple

import numpy as np

from ..tensor import Tensor
from ._util import wrap_dim

__all__ = ["sort", "argsort", "topk"]

#: the result types, as torch.return_types.sort / topk: tuples with .values and .indices
SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _argsort(a, axis, descending):
    """Stable argsort along axis; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # ascending on the reversed array puts equal elements last-first; reversing the result
    # gives a descending order with them first-first (and NaN first, as the largest)
    n = a.shape[axis]
    rev = np.flip(a, axis)
    return np.flip(n - 1 - np.argsort(rev, axis=axis, kind="stable"), axis)


def _indices(idx):
    return Tensor._make(np.array(idx, np.int64, order="C"), False, None, 0)


def sort(input, dim=-1, descending=False, stable=False):
    """x: (..., n, ...) -> (values, indices), both x's shape, sorted along dim."""
    dim = wrap_dim(dim, input.ndim, "sort")
    if input.ndim == 0:
        return SortResult(input.clone(), _indices(np.zeros((), np.int64)))
    idx = _argsort(input.data, dim, descending)
    return SortResult(input.gather(dim, idx), _indices(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """x: (..., n, ...) -> int64 indices of x's shape that sort x along dim."""
    dim = wrap_dim(dim, input.ndim, "argsort")
    if input.ndim == 0:
        return _indices(np.zeros((), np.int64))
    return _indices(_argsort(input.data, dim, descending))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """x: (..., n, ...) -> (values, indices) of shape (..., k, ...): the k largest (or
    smallest) along dim, in sorted order (also when sorted=False)."""
    dim = wrap_dim(dim, input.ndim, "topk")
    n = input.shape[dim] if input.ndim else 1
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size {n} "
                           f"(input shape {tuple(input.shape)})")
    if input.ndim == 0:
        if k != 1:
            raise RuntimeError(f"topk: k ({k}) must be 1 for a 0-d input")
        return TopkResult(input.clone(), _indices(np.zeros((), np.int64)))
    idx = _argsort(input.data, dim, largest)
    idx = idx[(slice(None),) * dim + (slice(0, k),)]
    return TopkResult(input.gather(dim, idx), _indices(idx))


TENSOR_METHODS = {"sort": sort, "argsort": argsort, "topk": topk}
INPLACE = []
