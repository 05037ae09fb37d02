"""Function: the one way to define a differentiable primitive, and Node, its record on the tape.

A primitive is a subclass of `Function` with two static methods:

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):               # x: Tensor, recording off; compute on x.data
            y = np.exp(x.data)
            ctx.save_for_backward(y)       # an output may be saved (as its array or Tensor)
            return y                       # an ndarray or a Tensor (or a tuple of them)

        @staticmethod
        def backward(ctx, g):              # g: Tensor; return one gradient per forward input
            y, = ctx.saved_tensors         # Tensors, so backward can itself be recorded
            return g * y                   # d exp = exp

`Exp.apply(x)` runs forward and, when grad mode is on and an input requires grad, records a
Node on the tape. The node is the `ctx`: it holds the saved tensors, the edges to the nodes
(or leaves) that produced the inputs, and a sequence number that orders the tape.
"""
import itertools
import traceback

import numpy as np

from .grad_mode import _State
from .tensor import Tensor

__all__ = ["Function", "Node", "once_differentiable"]

_sequence = itertools.count()


class Node:
    """A recorded op: the `ctx` of forward and backward.

    edges: one per forward argument; None when that argument needs no gradient, else
    (node, output_nr) for an input produced by an op, or (leaf_tensor, -1) for a leaf.
    """
    __slots__ = ("fn", "seq", "edges", "needs_input_grad", "out_meta", "_to_save", "_saved",
                 "_out_refs", "_tensor_hooks", "_retained", "_trace", "_freed",
                 "materialize_grads", "__dict__", "__weakref__")

    def __init__(self, fn):
        self.fn = fn
        self._to_save = ()
        self._saved = None
        self._freed = False
        self._tensor_hooks = None
        self._retained = None
        self._trace = None
        self.materialize_grads = True

    # -- the ctx API -------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Save Tensors or arrays (inputs, outputs, or intermediates) for backward."""
        self._to_save = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "access saved tensors after they have been freed). Saved tensors are freed "
                "after backward; pass retain_graph=True to backward() or autograd.grad() the "
                "first time if you need to backward through the graph again.")
        out = []
        for entry in self._saved or ():
            if entry is None:
                out.append(None)
                continue
            obj, nr, box, version = entry
            if box[0] != version:
                shape = tuple(obj.shape)
                raise RuntimeError(
                    f"one of the tensors needed for gradient computation has been modified by "
                    f"an inplace operation: {self.name()} saved a tensor of shape {shape} at "
                    f"version {version}; it is now at version {box[0]}. Use an out-of-place "
                    "op, or clone() the tensor before modifying it.")
            if nr >= 0:   # a saved output: rebuilt as a Tensor produced by this node
                t = Tensor._make(obj, obj.dtype.kind in "fc", self, nr)
                t._vc = box
                obj = t
            out.append(obj)
        return tuple(out)

    # -- tape bookkeeping --------------------------------------------------------------------
    def name(self):
        return self.fn.__name__ + "Backward"

    def _record_saved(self, outputs):
        """Resolve what forward saved into (object, output_nr, version box, version).

        A saved output is kept as its array (output_nr >= 0) and rebuilt as a Tensor whose
        grad_fn is this node when unpacked: the node never holds its own output Tensor, so
        no reference cycle forms. Inputs are kept as Tensors (output_nr -1)."""
        entries = []
        for s in self._to_save:
            if s is None:
                entries.append(None)
                continue
            data = s.data if isinstance(s, Tensor) else s
            for nr, o in enumerate(outputs):
                if o.data is data:
                    entries.append((data, nr, o._vc, o._vc[0]))
                    break
            else:
                if not isinstance(s, Tensor):
                    s = Tensor._make(np.asarray(s), False, None, 0)
                entries.append((s, -1, s._vc, s._vc[0]))
        self._to_save = ()
        self._saved = entries

    def __repr__(self):
        return f"<{self.name()} #{self.seq}>"


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    #: a fused kernel whose backward is not itself differentiable sets this to False
    differentiable_backward = True
    #: view ops (output aliases input 0's memory) share input 0's version counter
    is_view = False

    @classmethod
    def apply(cls, *args):
        ctx = Node(cls)
        record = False
        if _State.enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    record = True
                    break
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad
                                         for a in args)
        else:
            ctx.needs_input_grad = (False,) * len(args)
        prev = _State.enabled
        _State.enabled = False
        try:
            raw = cls.forward(ctx, *args)
        finally:
            _State.enabled = prev

        single = not isinstance(raw, tuple)
        outs = [Tensor._wrap(r) for r in ((raw,) if single else raw)]
        if cls.is_view:
            src = args[0]
            for o in outs:
                o._vc = src._vc
                o._base = src._base if src._base is not None else src
        if record:
            ctx.seq = next(_sequence)
            ctx.edges = tuple(_edge(a) if need else None
                              for a, need in zip(args, ctx.needs_input_grad))
            meta = []
            for nr, o in enumerate(outs):
                if o.data.dtype.kind in "fc":
                    o.requires_grad = True
                    o.grad_fn = ctx
                    o._output_nr = nr
                meta.append((o.data.shape, o.data.dtype))
            ctx.out_meta = meta
            if ctx._to_save:
                ctx._record_saved(outs)
            if _State.anomaly:
                ctx._trace = traceback.extract_stack()[:-2]
        return outs[0] if single else tuple(outs)


def _edge(t):
    fn = t.grad_fn
    return (t, -1) if fn is None else (fn, t._output_nr)


def once_differentiable(backward):
    """Decorate a backward that is written on arrays: it runs under no_grad and raises a
    clear error under create_graph=True."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        if _State.enabled and any(g is not None and g.requires_grad for g in grads):
            raise RuntimeError(
                f"{ctx.name()} is once-differentiable: its backward cannot be recorded "
                "(create_graph=True). Use the composed (non-fused) path for higher-order "
                "gradients.")
        prev = _State.enabled
        _State.enabled = False
        try:
            return backward(ctx, *grads)
        finally:
            _State.enabled = prev
    return wrapper
