"""dtypes and PyTorch's type-promotion rules.

dtypes are numpy dtype objects, so `ag.float32 == np.float32` holds. Promotion follows
PyTorch, not numpy: the result's category (bool < integer < floating) is the highest among
the operands, and within it the dtype comes from the highest-priority group that has that
category: tensors with dimensions, then 0-d tensors, then Python scalars. So a float32 tensor
times a float64 0-d tensor or a Python float stays float32, and an int64 tensor times 2.5
gives the default float dtype.
"""
import builtins

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

half, float, double = float16, float32, float64   # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64              # noqa: A001

_default_float = float32

__all__ = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
           "half", "double", "short", "long", "get_default_dtype", "set_default_dtype",
           "is_floating_point", "result_type"]


def get_default_dtype():
    return _default_float


def set_default_dtype(dtype):
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default_float = dtype


def to_dtype(dtype):
    """Normalise a user dtype (ag.float32, np.float32, 'float32', Python float/int/bool)."""
    if dtype is None:
        return None
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    return np.dtype(dtype)


def is_floating_point(dtype):
    return np.dtype(dtype).kind == "f"


def _category(dtype):
    """0 bool, 1 integer, 2 floating."""
    kind = dtype.kind
    return 2 if kind in "fc" else (0 if kind == "b" else 1)


def scalar_dtype(value):
    """The dtype a Python scalar takes on its own (as torch.tensor(value) would)."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (np.integer, builtins.int)):
        return int64
    return _default_float


def result_type(*operands):
    """PyTorch's promotion over Tensors (anything with .data) and Python scalars."""
    best = [None, None, None]   # per priority group: highest category seen and its dtype
    for x in operands:
        data = getattr(x, "data", None)
        if isinstance(data, np.ndarray):
            group, dtype = (0 if data.ndim else 1), data.dtype
        else:
            group, dtype = 2, scalar_dtype(x)
        cur = best[group]
        if cur is None:
            best[group] = dtype
        elif _category(dtype) > _category(cur):
            best[group] = dtype
        elif _category(dtype) == _category(cur):
            best[group] = np.promote_types(cur, dtype)
    top = max(_category(d) for d in best if d is not None)
    for dtype in best:
        if dtype is not None and _category(dtype) == top:
            return dtype
    raise AssertionError("unreachable")
