"""Writing through a view while recording: `v = h[0:2]; v.mul_(3)` (or `h[0:2] += 1`). The
view's new values go into its base as one recorded op on the base, as PyTorch's CopySlices:

    base' = base with the view's region replaced by values
    d base = g with the region zeroed          d values = g's region

Tensor._inplace then gives every live view of the base (the written one included) a new
grad_fn from base' (tensor._replay_views). A view's region in any array shaped as its base
is found by replaying the view ops that made it (view_chain; their forwards return numpy
views).
"""
import numpy as np

from ..function import Function, _OffTapeContext
from ..tensor import Tensor

__all__ = ["WriteView", "write_view", "view_chain", "view_region"]


def view_chain(view):
    """[(cls, rest, nr), ...]: the view ops from the base to `view` (view = cls.apply(source,
    *rest)[nr] at each step), as function._share_version recorded them, without the tensors
    (a node keeping it holds no memory)."""
    chain = []
    while view._base is not None:
        replay = view.__dict__.get("_replay")
        if replay is None:
            raise RuntimeError(
                f"this view (shape {tuple(view.shape)}), or one it was made from, was made in "
                "no_grad mode and is being modified in place with grad mode on; make it in "
                "grad mode or clone() it")
        cls, args, nr = replay
        chain.append((cls, args[1:], nr))
        view = args[0]
    return chain[::-1]


def view_region(chain, array):
    """The part of `array` (shaped as the base) that the view of `chain` covers, as a numpy
    view: the chain's view ops replayed on array (their forwards return numpy views)."""
    for cls, rest, nr in chain:
        ctx = object.__new__(_OffTapeContext)
        ctx.needs_input_grad = (False,) * (1 + len(rest))
        out = cls.forward(ctx, Tensor._make(array, False, None, 0), *rest)
        array = out[nr] if type(out) is tuple else out
    return array


def _region_tensor(chain, t):
    """The view of `chain` taken of the Tensor t (shaped as the base), recorded in grad mode."""
    for cls, rest, nr in chain:
        out = cls.apply(t, *rest)
        t = out[nr] if type(out) is tuple else out
    return t


class WriteView(Function):
    """(base, values, chain) -> base with the region of the view of `chain` (view_chain) set
    to values: a new array (the caller writes it into base's memory)."""

    @staticmethod
    def forward(ctx, base, values, chain):
        ctx.chain = chain
        out = base.data.copy()
        view_region(chain, out)[...] = values.data
        return out

    @staticmethod
    def backward(ctx, g):
        g_values = _region_tensor(ctx.chain, g)
        zeros = Tensor._make(np.zeros(g_values.shape, g.data.dtype), False, None, 0)
        return WriteView.apply(g, zeros, ctx.chain), g_values, None


def write_view(base, chain, values):
    """base with the region of the view of `chain` replaced by values (for base._inplace)."""
    return WriteView.apply(base, values, chain)
