"""Tensor: a numpy array on the tape.

A Tensor holds its array (`data`), its gradient (`grad`), whether it requires grad, and the
node that produced it (`grad_fn`, None for a leaf). The methods and operators that call the
primitives (`x.exp()`, `x @ w`, `x[1:]`) are attached by `autograd._tensor_methods`, so this
file holds only the Tensor itself: its state, conversions, backward, hooks and in-place writes.
"""
import weakref

import numpy as np

from . import dtypes
from .grad_mode import _State

__all__ = ["Tensor"]


class Tensor:
    """x.data: the ndarray; x.grad: a Tensor or None; x.grad_fn: the producing Node or None."""

    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "_output_nr", "_vc", "_base",
                 "_hooks", "__weakref__", "__dict__")
    __array_ufunc__ = None      # numpy operators defer to Tensor's reflected operators
    __hash__ = object.__hash__  # == is elementwise; tensors hash by identity, as in PyTorch

    def __init__(self, data, requires_grad=False, dtype=None):
        data = data.data if isinstance(data, Tensor) else data
        arr = np.array(data, dtype=dtypes.to_dtype(dtype))
        if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.ndarray):
            arr = arr.astype(dtypes.get_default_dtype())
        self.data = arr
        self._grad = None
        self._requires_grad = False
        self.grad_fn = None
        self._output_nr = 0
        self._vc = [0]
        self._base = None
        self._hooks = None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data, requires_grad, grad_fn, output_nr):
        """Fast constructor used by the engine: no checks, no copy."""
        t = object.__new__(cls)
        t.data = data
        t._grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._vc = [0]
        t._base = None
        t._hooks = None
        return t

    @classmethod
    def _wrap(cls, value):
        """A forward result (ndarray, numpy scalar or Tensor) as a new Tensor."""
        if type(value) is not np.ndarray:
            value = value.data if isinstance(value, Tensor) else np.asarray(value)
        return cls._make(value, False, None, 0)

    # -- autograd state ----------------------------------------------------------------------
    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        """A gradient assigned by hand must be a Tensor of this tensor's shape and dtype (or
        None), as in PyTorch."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value.data.dtype != self.data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value.data.dtype}, expected {self.data.dtype}")
            if value.data.shape != self.data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{tuple(value.data.shape)}, expected "
                                   f"{tuple(self.data.shape)}")
        self._grad = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; use detach() to get a "
                "tensor that does not require grad")
        if value and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients; this tensor "
                f"has dtype {self.data.dtype} and shape {tuple(self.data.shape)}")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._vc[0]

    def detach(self):
        """A new leaf sharing this tensor's memory and version counter."""
        t = Tensor._make(self.data, False, None, 0)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("detach_: cannot detach a view in place; use detach()")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep .grad on a non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has "
                               "requires_grad=False")
        if self.grad_fn is not None:
            node = self.grad_fn
            if node._retained is None:
                node._retained = {}
            node._retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        node = self.grad_fn
        return bool(node is not None and node._retained
                    and self._output_nr in node._retained
                    and node._retained[self._output_nr]() is self)

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, run on the summed gradient of this tensor."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._tensor_hooks is None:
                node._tensor_hooks = {}
            hooks = node._tensor_hooks.setdefault(self._output_nr, [])
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into each leaf's .grad (see autograd.backward)."""
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    # -- metadata ----------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        return "cpu"

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        if dim is None:
            return self.data.shape
        if self.data.ndim == 0:
            raise IndexError(f"size: dimension specified as {dim} but tensor has no "
                             "dimensions")
        return self.data.shape[_wrap_dim(dim, self.data.ndim, "size")]

    def numel(self):
        return self.data.size

    def element_size(self):
        return self.data.itemsize

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # -- conversions -------------------------------------------------------------------------
    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self.data.size} elements cannot be "
                               f"converted to a Python scalar (shape {tuple(self.shape)})")
        return self.data.item()

    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a Tensor that requires grad; "
                               "use tensor.detach().numpy() instead")
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of a Tensor with {self.data.size} elements "
                               "is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.data.item())

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        return _format(self)

    # -- in-place writes ---------------------------------------------------------------------
    def _inplace(self, op_name, out_of_place, *args, **kwargs):
        """Run `out_of_place(self, *args)`, write the result into self's memory, bump the
        version counter, and (when recording) make the op's node self's grad_fn."""
        recording = _State.enabled and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in (*args, *kwargs.values())))
        if recording:
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    f"{op_name}: a leaf Tensor that requires grad (shape {tuple(self.shape)})"
                    " is being used in an in-place operation; wrap it in no_grad() or use an "
                    "out-of-place op")
            if self._base is not None:
                return self._inplace_through_base(op_name, out_of_place, args, kwargs)
        result = out_of_place(self, *args, **kwargs)
        self._check_inplace_result(op_name, result)
        np.copyto(self.data, result.data, casting="unsafe")
        self._vc[0] += 1
        if recording:
            # a non-differentiable result (e.g. eq_) leaves self detached, never a new leaf
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
            self._requires_grad = result.grad_fn is not None
            views = self.__dict__.get("_views")
            if views:
                _replay_views(views)
        return self

    def _inplace_through_base(self, op_name, out_of_place, args, kwargs):
        """_inplace on a view while recording: the op's result written into the base as one
        recorded op (ops/view_write.py), which then re-derives this view's grad_fn."""
        base = self._base
        if base.grad_fn is None and base._requires_grad:
            raise RuntimeError(
                f"{op_name}: a view (shape {tuple(self.shape)}) of a leaf Tensor that requires "
                "grad is being used in an in-place operation; wrap it in no_grad() or use an "
                "out-of-place op")
        from .ops.view_write import view_chain, write_view
        try:
            chain = view_chain(self)
        except RuntimeError as error:
            raise RuntimeError(f"{op_name}: {error}") from None
        result = out_of_place(self, *args, **kwargs)
        self._check_inplace_result(op_name, result)
        base._inplace(op_name, write_view, chain, result)
        return self

    def _check_inplace_result(self, op_name, result):
        if result.shape != self.shape:
            raise RuntimeError(
                f"{op_name}: output with shape {tuple(self.shape)} doesn't match the "
                f"broadcast shape {tuple(result.shape)}")
        if result.dtype != self.dtype and not np.can_cast(result.dtype, self.dtype,
                                                           "same_kind"):
            raise RuntimeError(f"{op_name}: result type {result.dtype} can't be cast to "
                               f"the desired output type {self.dtype}")
        if not self.data.flags.writeable:
            raise RuntimeError(
                f"{op_name}: tensor of shape {tuple(self.shape)} is a read-only (expanded or "
                "broadcast) view; clone() it before writing in place")


def _replay_views(views):
    """After an in-place op recorded on a base: each live view of it gets a new grad_fn, its
    view op replayed on the base (in the order they were made: a view of a view after the
    view it comes from), so that its gradient flows through the in-place op, as in PyTorch
    (x = h[0:2]; h.mul_(3): dx/dh is 3 there; h[0] = 10: 0). views: weak references, kept
    by function._share_version when a view is made in grad mode."""
    for ref in list(views):
        view = ref()
        if view is None:
            continue
        cls, args, nr = view._replay
        fresh = cls.apply(*args)
        if type(fresh) is tuple:
            fresh = fresh[nr]
        view.grad_fn, view._output_nr = fresh.grad_fn, fresh._output_nr
        view._requires_grad = fresh._requires_grad


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook
        hooks.append(hook)

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _wrap_dim(dim, ndim, op_name):
    """A possibly negative dim as an index in range(ndim) (0-d tensors accept 0 and -1)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op_name}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


def _float_formatter(data):
    """PyTorch's float format for the values of `data`: integers as '1.', else 4 decimals
    ('1.5000'), in scientific notation ('1.0000e-05') when the finite nonzero magnitudes
    span over 1000x, exceed 1e8 or (not all integers) go below 1e-4; right-aligned to the
    widest value."""
    finite = data[np.isfinite(data)]
    magnitudes = np.abs(finite[finite != 0]).astype(np.float64)
    integral = bool(np.all(finite == np.ceil(finite)))
    sci = False
    if magnitudes.size:
        top, bottom = magnitudes.max(), magnitudes.min()
        sci = top / bottom > 1000.0 or top > 1.0e8 or (not integral and bottom < 1.0e-4)

    def text(v):
        if not np.isfinite(v):
            return str(v).replace("np.float", "").replace("(", "").replace(")", "")
        if sci:
            return f"{v:.4e}"
        return f"{v:.0f}." if integral else f"{v:.4f}"
    width = max((len(text(v)) for v in data.reshape(-1)), default=0)
    return lambda v: text(v).rjust(width)


def _format(t):
    data = t.data
    kw = {"separator": ", ", "prefix": "tensor(", "max_line_width": 80}
    if data.dtype.kind == "f" and data.size:
        kw["formatter"] = {"float_kind": _float_formatter(data)}
    body = np.array2string(data, **kw) if data.size else "[]"
    extras = []
    if data.size == 0 and data.ndim != 1:
        extras.append(f"size={tuple(data.shape)}")
    if data.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
        extras.append(f"dtype={data.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"


from . import engine as _engine  # noqa: E402 - engine imports Tensor
