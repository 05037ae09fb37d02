"""nn: Module, Parameter, layers, losses, init and nn.functional, with PyTorch's semantics.

Layers only compose `nn.functional` calls; there is no `backward` anywhere in nn/.
"""
from . import functional, init
