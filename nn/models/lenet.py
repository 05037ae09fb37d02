"""LeNet-5 (LeCun et al. 1998), built from nn layers.

    LeNet5(num_classes=10, in_channels=1, padding=2, activation="tanh", pool="avg")
        x: (N, in_channels, 28, 28) with padding=2 (MNIST), or (N, in_channels, 32, 32)
        with padding=0 (the paper's input) -> logits (N, num_classes)

    features    C1 conv 5x5 -> 6 (28x28), act, S2 pool 2x2 (14x14),
                C3 conv 5x5 -> 16 (10x10), act, S4 pool 2x2 (5x5)
    classifier  flatten (16*5*5 = 400), F5 linear 400 -> 120, act, F6 linear 120 -> 84, act,
                output linear 84 -> num_classes

The paper's C3 connects only some of S2's maps and its output layer is a set of RBF units;
this is the usual modern reading (full C3, linear output, softmax in the loss).
"""
from ..activation import ReLU, Sigmoid, Tanh
from ..containers import Flatten, Sequential
from ..conv import Conv2d
from ..linear import Linear
from ..module import Module
from ..pooling import AvgPool2d, MaxPool2d

__all__ = ["LeNet5"]

_ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid}
_POOLS = {"avg": AvgPool2d, "max": MaxPool2d}


class LeNet5(Module):
    """LeNet-5: x (N, in_channels, H, W) with H + 2 padding = W + 2 padding = 32
    -> logits (N, num_classes). activation: 'tanh', 'relu' or 'sigmoid'; pool: 'avg' or
    'max'."""

    def __init__(self, num_classes=10, in_channels=1, padding=2, activation="tanh",
                 pool="avg"):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        if pool not in _POOLS:
            raise ValueError(f"LeNet5: pool must be one of {sorted(_POOLS)}, got {pool!r}")
        act, pool_layer = _ACTIVATIONS[activation], _POOLS[pool]
        self.padding = padding
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=padding), act(), pool_layer(2, 2),
            Conv2d(6, 16, 5), act(), pool_layer(2, 2))
        self.classifier = Sequential(
            Flatten(), Linear(16 * 5 * 5, 120), act(), Linear(120, 84), act(),
            Linear(84, num_classes))

    def forward(self, x):
        size = 32 - 2 * self.padding
        if x.ndim != 4 or tuple(x.shape[2:]) != (size, size):
            raise ValueError(f"LeNet5: expected input of shape (N, C, {size}, {size}) with "
                             f"padding={self.padding}, got {tuple(x.shape)}")
        return self.classifier(self.features(x))
