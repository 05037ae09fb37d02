"""Dropout layers (PyTorch's attributes and repr): in training mode each element (Dropout)
or each whole channel (Dropout1d/2d/3d) is zeroed with probability p and the rest scaled by
1 / (1 - p), so the expectation is unchanged; in eval mode they are the identity.

    Dropout(p)      x: (*) -> (*)
    Dropout1d(p)    x: (N, C, L) or (C, L), one Bernoulli draw per channel
    Dropout2d(p)    x: (N, C, H, W) or (C, H, W)
    Dropout3d(p)    x: (N, C, D, H, W) or (C, D, H, W)
"""
from . import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    _dropout = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return type(self)._dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """x: (*) -> (*); y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element (training)."""
    _dropout = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """x: (N, C, L) or (C, L); whole channels zeroed (training)."""
    _dropout = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """x: (N, C, H, W) or (C, H, W); whole feature maps zeroed (training)."""
    _dropout = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """x: (N, C, D, H, W) or (C, D, H, W); whole feature volumes zeroed (training)."""
    _dropout = staticmethod(F.dropout3d)
