"""Parameter and Buffer: the tensors a Module registers when they are assigned as attributes.

    self.weight = nn.Parameter(ag.randn(3, 4))       # a leaf requiring grad -> parameters()
    self.stats = nn.Buffer(ag.zeros(3))              # module state, not trained -> buffers()
    self.register_buffer("mask", ag.ones(3), persistent=False)   # the explicit form

A Parameter is a Tensor subclass: every op accepts it (its results are plain Tensors), and
it shares the array and version counter of the tensor it was built from, as PyTorch's does.
A Buffer, as in PyTorch, is a plain Tensor marked with `persistent`: `isinstance(t, Buffer)`
holds for the marked tensor, and assigning it to a Module attribute registers a buffer.
"""
import numpy as np

from autograd import dtypes
from autograd.tensor import Tensor

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """Parameter(data=None, requires_grad=True): a leaf tensor that a Module registers.

    data: a Tensor (shared, not copied: same array and version counter), an ndarray (shared)
    or array-like data (converted as `ag.tensor` would). `requires_grad` is True by default,
    also under `no_grad()`, as in PyTorch; integer parameters need `requires_grad=False`.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr, vc = np.empty(0, dtypes.get_default_dtype()), [0]
        elif isinstance(data, Tensor):
            arr, vc = data.data, data._vc
        elif isinstance(data, np.ndarray):
            arr, vc = data, [0]
        else:
            arr, vc = Tensor(data).data, [0]
        self.data = arr
        self.grad = None
        self._requires_grad = False
        self.grad_fn = None
        self._output_nr = 0
        self._vc = vc
        self._base = None
        self._hooks = None
        if requires_grad:
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.copy(), self.requires_grad)
        memo[id(self)] = result
        return result


class _BufferMeta(type):
    """isinstance(t, Buffer) holds for a Tensor built by Buffer(...) (PyTorch's marker)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Buffer(data=None, *, persistent=True): a tensor that a Module registers as a buffer.

    Returns a plain Tensor sharing data's array (detached, keeping its requires_grad) marked
    with `persistent`: non-persistent buffers are left out of `state_dict()`.
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor(np.empty(0, dtypes.get_default_dtype()))
        elif not isinstance(data, Tensor):
            data = Tensor(data)
        t = data.detach()
        t.requires_grad = data.requires_grad
        t.persistent = bool(persistent)
        t._is_buffer = True
        return t
