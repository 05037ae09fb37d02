"""Writing through a view while recording: `v = h[0:2]; v.mul_(3)` (or `h[0:2] += 1`). The
view's new values go into its base as one recorded op on the base, as PyTorch's CopySlices:

    base' = base with the view's region replaced by values
    d base = g with the region zeroed          d values = g's region

Tensor._inplace then gives every live view of the base (the written one included) a new
grad_fn from base' (tensor._replay_views). A view's region in any array shaped as its base
is found by replaying the view ops that made it (their forwards return numpy views).
"""
import numpy as np

from ..function import Function, _OffTapeContext
from ..tensor import Tensor

__all__ = ["WriteView", "write_view", "view_region"]


def view_region(view, array):
    """The part of `array` (shaped as view's base) that `view` covers, as a numpy view: the
    view ops recorded in view._replay (function._share_version), replayed on array."""
    cls, args, nr = view._replay
    source = args[0]
    parent = array if source._base is None else view_region(source, array)
    ctx = object.__new__(_OffTapeContext)
    ctx.needs_input_grad = (False,) * len(args)
    out = cls.forward(ctx, Tensor._make(parent, False, None, 0), *args[1:])
    return out[nr] if type(out) is tuple else out


def _region_tensor(view, t):
    """view's region of the Tensor t (shaped as view's base), recorded when grad mode is on."""
    cls, args, nr = view._replay
    source = args[0]
    parent = t if source._base is None else _region_tensor(source, t)
    out = cls.apply(parent, *args[1:])
    return out[nr] if type(out) is tuple else out


class WriteView(Function):
    """(base, values, (view,)) -> base with view's region set to values: a new array (the
    caller writes it into base's memory). The view rides in a tuple: it is not an input."""

    @staticmethod
    def forward(ctx, base, values, holder):
        view = ctx.view = holder[0]
        out = base.data.copy()
        view_region(view, out)[...] = values.data
        return out

    @staticmethod
    def backward(ctx, g):
        g_values = _region_tensor(ctx.view, g)
        zeros = Tensor._make(np.zeros(g_values.shape, g.data.dtype), False, None, 0)
        return WriteView.apply(g, zeros, (ctx.view,)), g_values, None


def write_view(base, view, values):
    """base with view's region replaced by values (for base._inplace)."""
    return WriteView.apply(base, values, (view,))
