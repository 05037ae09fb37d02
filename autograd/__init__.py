"""tapegrad's engine: Tensor on a tape, Function, the primitives and gradient utilities.

    import autograd as ag
    x = ag.randn(3, requires_grad=True)
    (x * x).sum().backward()          # x.grad == 2 * x
"""
import os as _os

from . import malloc
from . import dtypes
from .dtypes import (bool_, double, float16, float32, float64, get_default_dtype, half,
                     int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .tensor import Tensor
from .function import Function, once_differentiable
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .engine import backward, grad
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation_all
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from . import _tensor_methods
from . import autograd
from . import sparse
from . import data, datasets
from .serialization import CheckpointError, load, save

_tensor_methods.install()
if _os.environ.get("TAPEGRAD_KEEP_FREED_MEMORY", "1") != "0":
    malloc.keep_freed_memory()        # freed activations stay for the next step (malloc.py)
bool = bool_  # noqa: A001 - ag.bool, as torch.bool

__all__ = (["Tensor", "Function", "once_differentiable", "no_grad", "enable_grad",
            "set_grad_enabled", "is_grad_enabled", "backward", "grad", "autograd", "sparse",
            "data", "datasets", "save", "load", "CheckpointError", "dtypes",
            "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
            "bool", "half", "double", "short", "long", "get_default_dtype",
            "set_default_dtype"] + list(_creation_all) + list(_ops_all))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def __getattr__(name):
    # `from autograd import nn, optim` gives the top-level nn and optim packages
    import importlib
    if name in ("nn", "optim"):
        return importlib.import_module(name)
    if name in ("viz", "profiler", "health"):     # loaded on first use: graphviz is not cheap
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
