"""Indexing: x[index], x[index] = v (index_put), take, masked_select, nonzero; and, from
sibling modules, gather/scatter (scatter.py), sort/topk (sorting.py), tril/triu/diagonal/diag
/diag_embed (triangular.py), all re-exported here.

An index is normalized once into a `_Key`. Basic indexing (ints, slices, None, Ellipsis) is
a view of the input; advanced indexing (int arrays, bool masks) copies. `pos` below is the
flat position in x of each element of x[index]; repeated positions accumulate.

    getitem(x, k)              dx = zeros(x.shape) with g added at k     (_IndexGrad)
    _IndexGrad(g, k)           dg = getitem(gg, k)
    index_put(x, k, v)         dx = index_put(g, k, 0)
                               dv = getitem(g, k) where v's write won, else 0
    index_put(x, k, v, acc)    dx = g                  dv = getitem(g, k)
    take(x, i)                 = getitem(x.flatten(), i)
    masked_select(x, m)        = getitem(x.expand(shape), m.expand(shape))

Index semantics are PyTorch's: integers select before advanced indices are applied (so
x[0, :, [0, 1]] has shape (3, 2) for x of shape (2, 3, 4), where numpy gives (2, 3)), and
otherwise numpy's rules, including negative slice steps (which PyTorch itself forbids). A
list is an index array, as in numpy (x[[0, 1]]); use a tuple to index several dims.
"""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..tensor import Tensor
from . import scatter as _scatter_mod
from . import sorting as _sorting_mod
from . import triangular as _triangular_mod
from .scatter import (add_at, check_range, gather, index_add, index_array, index_select, put,
                      scatter, scatter_add, take_along_dim)
from .sorting import argsort, sort, topk
from .triangular import diag, diag_embed, diagonal, tril, triu

__all__ = ["getitem", "index_put", "take", "masked_select", "nonzero", "argwhere"]


class _Key:
    """A normalized index. `steps`: tuples applied one after the other (x[s0][s1]);
    `basic`: no advanced part, so x[steps[0]] is a view.

    positions(shape) -> int array of x[index]'s shape: the flat C position in an array of
    `shape` of each selected element (cached per shape)."""
    __slots__ = ("steps", "basic", "_pos")

    def __init__(self, steps, basic):
        self.steps, self.basic, self._pos = steps, basic, None

    def apply(self, a):
        for step in self.steps:
            a = a[step]
        return a

    def positions(self, shape):
        if self._pos is not None and self._pos[0] == shape:
            return self._pos[1]
        size = int(np.prod(shape))
        if size <= 1 << 16:
            pos = self.apply(np.arange(size).reshape(shape))
        else:   # coordinates from stride-0 views: memory of the result's size, not x's
            pos = 0
            for d, n in enumerate(shape):
                coord = np.arange(n).reshape((n,) + (1,) * (len(shape) - 1 - d))
                pos = pos * n + self.apply(np.broadcast_to(coord, shape))
        pos = np.asarray(pos, np.intp)
        self._pos = (shape, pos)
        return pos

    def __repr__(self):
        return f"_Key({self.steps!r})"


def _component(op_name, item):
    """One index component in numpy form, and whether it is advanced."""
    if item is None or item is Ellipsis or isinstance(item, slice):
        return item, False
    if isinstance(item, (bool, np.bool_)):
        return bool(item), True
    if isinstance(item, (int, np.integer)):
        return int(item), False
    if isinstance(item, Tensor):      # copied: the key outlives later in-place writes
        arr = item.data.astype(np.intp if item.data.dtype.kind in "iu" else item.data.dtype)
    else:
        arr = np.asarray(item)
    if arr.dtype.kind == "b":
        return arr, True
    if arr.dtype.kind in "iu":
        if arr.ndim == 0:
            return int(arr), False
        return arr.astype(np.intp, copy=False), True
    if arr.size == 0 and arr.dtype.kind == "f" and not isinstance(item, Tensor):
        return arr.astype(np.intp), True           # x[[]]: an empty list of indices
    raise IndexError(f"{op_name}: tensors used as indices must be long, int or bool tensors; "
                     f"got an index of dtype {arr.dtype} and shape {tuple(arr.shape)}")


_BASIC = frozenset((int, slice, type(None), type(Ellipsis)))


def _normalize(op_name, index):
    """index (int, slice, None, Ellipsis, array, Tensor, list or a tuple of them) -> _Key."""
    if type(index) in _BASIC:                    # fast paths: x[i], x[a:b], x[i, :, None]
        return _Key(((index,),), True)
    if type(index) is tuple and all(type(i) in _BASIC for i in index):
        return _Key((index,), True)
    items = index if isinstance(index, tuple) else (index,)
    comps = [_component(op_name, it) for it in items]
    advanced = any(adv for _, adv in comps)
    if not advanced:
        return _Key((tuple(c for c, _ in comps),), True)
    if not any(isinstance(c, int) and not isinstance(c, bool) for c, _ in comps):
        return _Key((tuple(c for c, _ in comps),), False)
    # PyTorch: integers select first (a view), then the advanced indices apply to the rest
    first, second = [], []
    for c, adv in comps:
        if isinstance(c, int) and not adv:
            first.append(c)
        elif adv:      # a mask spans its ndim dims (a 0-d one none), an int array one
            mask = isinstance(c, bool) or c.dtype.kind == "b"
            first.extend([slice(None)] * (np.ndim(c) if mask else 1))
            second.append(c)
        else:
            first.append(c)
            second.append(Ellipsis if c is Ellipsis else slice(None))
    return _Key((tuple(first), tuple(second)), False)


def _apply_key(op_name, a, key):
    try:
        out = key.apply(a)
    except IndexError as e:
        raise IndexError(f"{op_name}: {e} (tensor of shape {tuple(a.shape)})") from None
    if not isinstance(out, np.ndarray):      # a numpy scalar from all-int indexing
        out = a[key.steps[0] + (Ellipsis,)]
    return out


class GetItem(Function):
    """x[index] with an advanced part: a copy."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.key = x.data.shape, key
        return _apply_key("getitem", x.data, key)

    @staticmethod
    def backward(ctx, g):
        return _IndexGrad.apply(g, ctx.shape, ctx.key), None


class GetItemView(GetItem):
    """x[index] with ints, slices, None and Ellipsis only: a view of x."""
    is_view = True


class _IndexGrad(Function):
    """g: x[index]'s shape -> zeros(shape) with g added at index (adjoint of getitem)."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        out = np.zeros(shape, g.data.dtype)
        if key.basic:
            out[key.steps[0]] = g.data
        else:
            add_at(out, key.positions(shape), g.data)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _getitem_key(gg, ctx.key), None, None


def _getitem_key(x, key):
    return (GetItemView if key.basic else GetItem).apply(x, key)


def getitem(input, index):
    """x[index]: ints (negative count from the end), slices (any step), None, Ellipsis,
    bool masks and integer index arrays/tensors, or a tuple of them."""
    return _getitem_key(input, _normalize("getitem", index))


def _write(out, key, v, accumulate):
    """out[key] = v (or += v) in place; returns the mask of the writes that won (None when
    no advanced index repeats can overwrite one another)."""
    if key.basic and not accumulate:
        target = _apply_key("index_put", out, key)
        _check_value_shape(v.shape, target.shape, out.shape)
        target[...] = v
        return None
    try:
        pos = key.positions(out.shape)
    except IndexError as e:
        raise IndexError(f"index_put: {e} (tensor of shape {tuple(out.shape)})") from None
    _check_value_shape(v.shape, pos.shape, out.shape)
    vals = np.broadcast_to(v.reshape(v.shape[v.ndim - pos.ndim:]) if v.ndim > pos.ndim else v,
                           pos.shape)
    if accumulate:
        add_at(out, pos, vals)
        return None
    return put(out, pos, vals)


class IndexPut(Function):
    @staticmethod
    def forward(ctx, x, key, v, accumulate):
        ctx.key, ctx.accumulate, ctx.v_shape = key, accumulate, v.data.shape
        out = x.data.copy()
        ctx.win = _write(out, key, v.data, accumulate)
        return out

    @staticmethod
    def backward(ctx, g):
        key = ctx.key
        dx = dv = None
        if ctx.needs_input_grad[0]:
            dx = g if ctx.accumulate else IndexPut.apply(
                g, key, Tensor._make(np.zeros((), g.dtype), False, None, 0), False)
        if ctx.needs_input_grad[2]:
            dv = _getitem_key(g, key)
            if ctx.win is not None:      # an overwritten write gets no gradient
                dv = dv * Tensor._make(ctx.win.astype(g.dtype), False, None, 0)
            extra = len(ctx.v_shape) - dv.ndim
            if extra > 0:                # v had extra leading 1-dims: the engine sums the rest
                dv = dv.reshape((1,) * extra + tuple(dv.shape))
        return dx, None, dv, None


def _check_value_shape(v_shape, target_shape, x_shape):
    """numpy/PyTorch assignment: v broadcasts to the target (extra leading 1-dims allowed)."""
    lead = len(v_shape) - len(target_shape)
    core = v_shape[lead:] if lead > 0 else v_shape
    try:
        ok = (lead <= 0 or all(n == 1 for n in v_shape[:lead])) and \
            np.broadcast_shapes(core, target_shape) == tuple(target_shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"index_put: shape mismatch: value tensor of shape {tuple(v_shape)} "
                           f"cannot be broadcast to indexing result of shape "
                           f"{tuple(target_shape)} (tensor of shape {tuple(x_shape)})")


def index_put(input, indices, values, accumulate=False):
    """A new tensor equal to input with input[indices] = values (values broadcast; for
    repeated advanced indices the last write wins), or += values when accumulate (repeats
    add up). indices: any getitem index; a list of index tensors is a tuple of them, as in
    torch.index_put. The out-of-place form of x[indices] = values."""
    if isinstance(indices, list) and indices and all(
            isinstance(i, (Tensor, np.ndarray)) for i in indices):
        indices = tuple(indices)
    key = _normalize("index_put", indices)
    if isinstance(values, Tensor):
        if values.dtype != input.dtype:
            values = values.to(input.dtype)
    else:
        values = Tensor._make(np.asarray(values, input.dtype), False, None, 0)
    return IndexPut.apply(input, key, values, bool(accumulate))


def setitem(input, index, value):
    """x[index] = value. Written straight into x's memory when nothing is recorded (a loop
    of `out[t] = h` stays linear); otherwise index_put on the tape via Tensor._inplace."""
    recording = _State.enabled and (input._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))
    if recording:
        input._inplace("__setitem__", index_put, index, value)
        return
    if not input.data.flags.writeable:
        raise RuntimeError(f"__setitem__: tensor of shape {tuple(input.shape)} is a read-only "
                           "(expanded or broadcast) view; clone() it before writing")
    v = value.data if isinstance(value, Tensor) else np.asarray(value)
    if v.dtype != input.data.dtype:
        if v.dtype.kind == "f" and input.data.dtype.kind in "iub" and v.ndim:
            raise RuntimeError(f"__setitem__: cannot write values of dtype {v.dtype} into a "
                               f"tensor of dtype {input.data.dtype}")
        v = v.astype(input.data.dtype)
    if isinstance(index, list) and index and all(
            isinstance(i, (Tensor, np.ndarray)) for i in index):
        index = tuple(index)
    _write(input.data, _normalize("__setitem__", index), v, False)
    input._vc[0] += 1


def take(input, index):
    """x: any shape, index: ints (negative count from the end) -> index's shape;
    out[i] = x.flatten()[index[i]]."""
    idx = index_array("take", index)
    check_range("take", idx, input.data.size, 0, input.shape, allow_negative=True)
    return getitem(input.reshape(-1), idx if idx.ndim else int(idx))


def masked_select(input, mask):
    """x and mask (bool) broadcast together -> 1-d tensor of the x values where mask."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a bool mask, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: the shapes {tuple(input.shape)} and "
                           f"{tuple(m.shape)} cannot be broadcast together") from None
    if shape != input.shape:
        input = input.expand(shape)
    return getitem(input, np.broadcast_to(m, shape))


def nonzero(input, *, as_tuple=False):
    """x: (d0, ..., dn-1) -> (count, n) int64 coordinates of the nonzero elements, or a tuple
    of n (count,) tensors when as_tuple. No gradient."""
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    if as_tuple:
        return tuple(Tensor._make(c.astype(np.int64), False, None, 0)
                     for c in np.nonzero(np.atleast_1d(data)))
    return Tensor._make(np.argwhere(data).astype(np.int64), False, None, 0)


def argwhere(input):
    return nonzero(input)


TENSOR_METHODS = {"getitem": getitem, "index_put": index_put, "take": take,
                  "masked_select": masked_select, "nonzero": nonzero, "argwhere": argwhere}
INPLACE = ["index_put"]

# the sibling modules' functions, methods and in-place variants, re-exported
__all__ += ["index_select", "index_add", "gather", "scatter", "scatter_add", "take_along_dim",
            "sort", "argsort", "topk", "tril", "triu", "diagonal", "diag", "diag_embed"]
for _mod in (_scatter_mod, _sorting_mod, _triangular_mod):
    assert set(_mod.__all__) <= set(__all__), _mod.__name__
    TENSOR_METHODS.update(_mod.TENSOR_METHODS)
    INPLACE += _mod.INPLACE
del _mod
