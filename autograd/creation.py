"""Creating tensors: from data, filled, ranges and random (seeded by manual_seed).

Floating results take the default dtype (float32) unless a dtype is given; random draws come
from one numpy Generator that `manual_seed` resets.
"""
from itertools import chain

import numpy as np

from . import dtypes
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "rand", "randn", "randint", "randperm", "normal", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
           "manual_seed", "seed", "get_rng"]

_rng = np.random.default_rng()


def manual_seed(seed):
    """Reset the generator behind rand, randn, randint, normal, dropout and initialisers."""
    global _rng
    _rng = np.random.default_rng(int(seed))
    return _rng


def seed():
    return manual_seed(np.random.SeedSequence().entropy % (2 ** 63))


def get_rng():
    return _rng


def _finish(arr, requires_grad):
    t = Tensor._make(arr, False, None, 0)
    if requires_grad:
        t.requires_grad = True
    return t


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


def _float(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor copying data; Python floats become the default dtype (float32), ints int64,
    bools bool; numpy scalars and arrays keep their dtype; a (nested) list or tuple takes the
    promotion of its elements' dtypes, as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    dtype = dtypes.to_dtype(dtype)
    if dtype is not None:
        return _finish(np.array(data, dtype=dtype), requires_grad)
    inferred = _sequence_dtype(data) if type(data) in (list, tuple) else None
    arr = np.array(data, dtype=inferred)
    if inferred is None and not isinstance(data, (np.ndarray, np.generic)):
        if arr.dtype == np.float64:
            arr = arr.astype(dtypes.get_default_dtype())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: could not infer a dtype for data of type {arr.dtype}")
    return _finish(arr, requires_grad)


_PY_SCALAR = {float: None, int: dtypes.int64, bool: dtypes.bool_}   # None: the default float


def _sequence_dtype(data):
    """torch.tensor's dtype of a nested list/tuple: each element's dtype (a Python float the
    default float, an int int64, a bool bool; a numpy scalar, array or Tensor its own),
    promoted by category, bool < integer < floating: within the highest category present the
    widest dtype (numpy's promotion, e.g. uint8 with int8 -> int16), so [np.int32, 2.5] ->
    float32 where numpy gives float64. None when an element is of another type (np.array then
    decides, or raises)."""
    found = set()
    level = data                      # all elements at one nesting depth, walked depth by depth
    while level:
        types = set(map(type, level))
        inner = []
        for tp in types:
            if tp in _PY_SCALAR:
                found.add(_PY_SCALAR[tp] or dtypes.get_default_dtype())
            elif issubclass(tp, np.generic):
                found.add(np.dtype(tp))
            elif tp is list or tp is tuple:
                inner.append(level if len(types) == 1 else [x for x in level if type(x) is tp])
            elif tp is np.ndarray:
                found.update(x.dtype for x in level if type(x) is tp)
            elif issubclass(tp, Tensor):
                found.update(x.data.dtype for x in level if type(x) is tp)
            else:
                return None
        level = list(chain.from_iterable(chain.from_iterable(inner)))
    if not found:
        return dtypes.get_default_dtype()
    top = max(dtypes._category(d) for d in found)
    return np.result_type(*[d for d in found if dtypes._category(d) == top])


def as_tensor(data, dtype=None):
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.to_dtype(dtype)):
        return data
    return tensor(data, dtype)


def from_numpy(array):
    """A tensor sharing the array's memory (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False, None, 0)


def zeros(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_size(size), _float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _finish(np.ones(_size(size), _float(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _finish(np.empty(_size(size), _float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value)
    return _finish(np.full(_size((size,)), fill_value, dtypes.to_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _finish(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _finish(np.linspace(start, end, int(steps), dtype=_float(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    dtype = _float(dtype)
    return _finish(_rng.random(_size(size), dtype=dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    dtype = _float(dtype)
    return _finish(_rng.standard_normal(_size(size), dtype=dtype), requires_grad)


def randint(low, high=None, size=None, dtype=None, requires_grad=False):
    """randint(high, size) or randint(low, high, size), as in PyTorch."""
    if size is None:
        low, high, size = 0, low, high
    dtype = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _finish(_rng.integers(low, high, size=_size((size,))).astype(dtype), requires_grad)


def randperm(n, dtype=None):
    dtype = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _finish(_rng.permutation(int(n)).astype(dtype), False)


def normal(mean=0.0, std=1.0, size=None, dtype=None, requires_grad=False):
    """normal(mean, std, size) with float mean/std, or tensor mean/std broadcast together."""
    m = mean.data if isinstance(mean, Tensor) else mean
    s = std.data if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    if dtype is None:
        dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)),
                     dtypes.get_default_dtype())
    out = (m + s * _rng.standard_normal(shape)).astype(dtypes.to_dtype(dtype))
    return _finish(out, requires_grad)


def _like(fill):
    def make(input, dtype=None, requires_grad=False):
        dtype = input.dtype if dtype is None else dtypes.to_dtype(dtype)
        return _finish(fill(input.shape, dtype), requires_grad)
    return make


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.empty)
rand_like = _like(lambda shape, dtype: _rng.random(shape, dtype=dtype))
randn_like = _like(lambda shape, dtype: _rng.standard_normal(shape, dtype=dtype))


def full_like(input, fill_value, dtype=None, requires_grad=False):
    dtype = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    return _finish(np.full(input.shape, fill_value, dtype), requires_grad)


def randint_like(input, low, high=None, dtype=None):
    if high is None:
        low, high = 0, low
    dtype = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    return _finish(_rng.integers(low, high, size=input.shape).astype(dtype), False)
