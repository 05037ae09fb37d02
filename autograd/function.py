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
(or leaves) that produced the inputs, and a sequence number that orders the tape. A fused
kernel whose backward runs on arrays may keep its private intermediates with
`ctx.save_arrays(...)` (read back as `ctx.saved_arrays`, freed with the saved tensors).
"""
import itertools
import traceback
import weakref

import numpy as np

from .grad_mode import _State
from .tensor import Tensor

__all__ = ["Function", "Node", "once_differentiable"]

_sequence = itertools.count()


class Node:
    """A recorded op: the `ctx` of forward and backward.

    edges: one per forward argument; None when that argument needs no gradient, else
    (node, output_nr) for an input produced by an op, or (leaf_tensor, -1) for a leaf.
    Ops may set further attributes on ctx (kept in __dict__).
    """
    __slots__ = ("fn", "seq", "edges", "needs_input_grad", "out_meta", "__dict__",
                 "__weakref__")
    # defaults read from the class until a node sets its own (recording stays cheap)
    _to_save = ()
    _saved = None
    _arrays = None
    _freed = False
    _tensor_hooks = None
    _retained = None
    _trace = None
    materialize_grads = True

    def __init__(self, fn):
        self.fn = fn

    # -- the ctx API -------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Save Tensors or arrays (inputs, outputs, or intermediates) for backward."""
        self._to_save = tensors

    def save_arrays(self, *arrays):
        """Save private intermediate arrays of a fused kernel for backward: arrays no one else
        holds (so not version-checked and not wrapped as Tensors; a backward that reads them
        runs on arrays). Read back with `saved_arrays`, freed with the saved tensors."""
        self._arrays = arrays

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saved_arrays(self):
        self._check_not_freed()
        return self._arrays

    def _check_not_freed(self):
        if self._freed:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "access saved tensors after they have been freed). Saved tensors are freed "
                "after backward; pass retain_graph=True to backward() or autograd.grad() the "
                "first time if you need to backward through the graph again.")

    @property
    def saved_tensors(self):
        self._check_not_freed()
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

    def _record_saved(self, outputs, raws):
        """Resolve what forward saved into (object, output_nr, version box, version).

        A saved output is kept as its array (output_nr >= 0) and rebuilt as a Tensor whose
        grad_fn is this node when unpacked: the node never holds its own output Tensor, so
        no reference cycle forms. Inputs are kept as Tensors (output_nr -1). `raws` are
        forward's results before wrapping (a numpy scalar from a 0-d ufunc is an output too)."""
        entries = []
        for s in self._to_save:
            if s is None:
                entries.append(None)
                continue
            is_tensor = isinstance(s, Tensor)
            data = s.data if is_tensor else s
            nr = 0
            for o in outputs:
                if o.data is data or raws[nr] is data:
                    entries.append((o.data, nr, o._vc, o._vc[0]))
                    break
                nr += 1
            else:
                if not is_tensor:
                    s = Tensor._make(np.asarray(s), False, None, 0)
                box = s._vc
                entries.append((s, -1, box, box[0]))
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
        """Run forward; record a node when grad mode is on and an input requires grad.
        This runs for every op: keep it lean."""
        if _State.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    return _apply_recorded(cls, args)
        ctx = _new(_OffTapeContext)
        ctx.needs_input_grad = _NO_GRAD.get(len(args)) or (False,) * len(args)
        raw = cls.forward(ctx, *args)
        if type(raw) is np.ndarray:
            out = _make(raw, False, None, 0)
            if cls.is_view:
                _share_version(out, args[0], cls, args)
            return out
        if type(raw) is tuple:
            outs = tuple([Tensor._wrap(r) for r in raw])
            if cls.is_view:
                for nr, o in enumerate(outs):
                    _share_version(o, args[0], cls, args, nr)
            return outs
        out = Tensor._wrap(raw)
        if cls.is_view:
            _share_version(out, args[0], cls, args)
        return out


def _apply_recorded(cls, args):
    """Run forward with recording off on a new node with an edge per input that requires
    grad, then record it (`_record`)."""
    ctx = _new(Node)
    ctx.fn = cls
    needs = []
    edges = []
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            needs.append(True)
            fn = a.grad_fn
            edges.append((a, -1) if fn is None else (fn, a._output_nr))
        else:
            needs.append(False)
            edges.append(None)
    ctx.needs_input_grad = tuple(needs)
    _State.enabled = False
    try:
        raw = cls.forward(ctx, *args)
    finally:
        _State.enabled = True
    ctx.edges = edges
    return _record(cls, ctx, args, raw)


def _record(cls, ctx, args, raw):
    """Wrap forward's results as outputs of the node `ctx` and link it into the tape (the
    step gradcheck's culprit search wraps)."""
    ctx.seq = next(_sequence)
    if type(raw) is not tuple:                      # one output: the common case
        out = _make(raw, False, None, 0) if type(raw) is np.ndarray else Tensor._wrap(raw)
        data = out.data
        if data.dtype.kind in "fc":
            out._requires_grad = True
            out.grad_fn = ctx
        if cls.is_view:
            _share_version(out, args[0], cls, args)
        ctx.out_meta = [(data.shape, data.dtype)]
        if ctx._to_save:
            ctx._record_saved((out,), (raw,))
        if _State.anomaly:
            ctx._trace = traceback.extract_stack()[:-3]
        return out
    outs = [Tensor._wrap(r) for r in raw]
    meta = []
    for nr, o in enumerate(outs):
        data = o.data
        if data.dtype.kind in "fc":
            o._requires_grad = True
            o.grad_fn = ctx
            o._output_nr = nr
        if cls.is_view:
            _share_version(o, args[0], cls, args, nr)
        meta.append((data.shape, data.dtype))
    ctx.out_meta = meta
    if ctx._to_save:
        ctx._record_saved(outs, raw)
    if _State.anomaly:
        ctx._trace = traceback.extract_stack()[:-3]
    return tuple(outs)


class _OffTapeContext:
    """The ctx of a forward that is not recorded: nothing needs a gradient, nothing is
    saved. Attributes forward sets land in this throwaway object's __dict__;
    needs_input_grad: one False per input (set by Function.apply)."""

    def save_for_backward(self, *tensors):
        pass

    def save_arrays(self, *arrays):
        pass

    def set_materialize_grads(self, value):
        pass


_new = object.__new__
_make = Tensor._make
_weakref = weakref.ref
_NO_GRAD = {n: (False,) * n for n in range(16)}      # an off-tape ctx's needs_input_grad


def _share_version(view, src, cls, args, nr=0):
    """A view (output nr of cls.apply(*args); the is_view ops return numpy views, ReshapeCopy
    is not one) shares its base's version counter, so in-place writes to either are seen.
    In grad mode it is also registered with its base (unless the base is a leaf that
    requires grad: no in-place op is recorded on one), whose recorded in-place ops then give
    it a new grad_fn (Tensor._inplace)."""
    view._vc = src._vc
    base = src._base if src._base is not None else src
    view._base = base
    if _State.enabled and (base.grad_fn is not None or not base._requires_grad):
        view._replay = (cls, args, nr)
        views = base.__dict__.get("_views")
        if views is None:
            base._views = views = []
        else:
            n = len(views)
            if n >= 64 and n & (n - 1) == 0:            # at 64, 128, ...: drop the dead
                views[:] = [ref for ref in views if ref() is not None]
        views.append(_weakref(view))


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
