"""nn: Module, Parameter, layers, losses, init and nn.functional, with PyTorch's semantics.

Layers only compose `nn.functional` calls; there is no `backward` anywhere in nn/.
Each module of layers defines `__all__` and is exported below in one line.
"""
from . import functional, init, utils  # noqa: F401
from .hooks import RemovableHandle  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .module import Module  # noqa: F401
from . import parallel  # noqa: F401
from .containers import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .rnn_variants import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from . import graph, models  # noqa: F401,E402
