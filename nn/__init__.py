"""nn: Module, Parameter, layers, losses, init and nn.functional, with PyTorch's semantics.

Layers only compose `nn.functional` calls; there is no `backward` anywhere in nn/.
Each module of layers defines `__all__` and is exported below in one line.
"""
from . import functional, init, utils  # noqa: F401
from .hooks import RemovableHandle  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .containers import *  # noqa: F401,F403
# layers: one line per module, e.g.  from .linear import *  # noqa: F401,F403
