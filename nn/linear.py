"""Linear and Bilinear layers (PyTorch's parameters, initialisation and repr).

    Linear(in, out)           x: (*, in) -> (*, out)          y = x W^T + b
        weight (out, in) ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
        bias (out,) ~ U(-1/sqrt(in), 1/sqrt(in))
    Bilinear(in1, in2, out)   x1: (*, in1), x2: (*, in2) -> (*, out)
                              y_k = x1^T W_k x2 + b_k
        weight (out, in1, in2) and bias (out,) ~ U(-1/sqrt(in1), 1/sqrt(in1))
"""
import math

import autograd as ag
from autograd import dtypes

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Bilinear"]


def factory_dtype(layer, device, dtype):
    """The dtype new parameters get (the default dtype when None); only the CPU exists."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{layer}: only device='cpu' is supported, got device={device!r}")
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def empty_parameter(shape, dtype, requires_grad=True):
    """An uninitialised Parameter of the given shape (filled by reset_parameters)."""
    return Parameter(ag.empty(*shape, dtype=dtype), requires_grad=requires_grad)


def layer_name(module):
    """'Linear(in_features=4, ...)': the layer and its settings, for error messages."""
    return f"{module._get_name()}({module.extra_repr()})"


def init_bias_uniform_(bias, fan_in):
    """bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default bias initialisation)."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


def _check_features(module, input, dim_name, expected):
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{layer_name(module)}: expected a Tensor {dim_name}, got "
                        f"{type(input).__name__}")
    if input.shape[-1:] != (expected,):
        raise RuntimeError(f"{layer_name(module)}: expected {dim_name} of shape (*, {expected})"
                           f", got shape {tuple(input.shape)}")


class Linear(Module):
    """y = x W^T + b.  x: (*, in_features) -> (*, out_features).

    weight: (out_features, in_features), bias: (out_features,) (None when bias=False)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype("Linear", device, dtype)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty_parameter((out_features, in_features), dtype)
        if bias:
            self.bias = empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)): bound = sqrt(6 / (1 + 5)) / sqrt(fan_in) = 1/sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            init_bias_uniform_(self.bias, self.in_features)

    def forward(self, input):
        if type(input) is not ag.Tensor or input.shape[-1:] != (self.in_features,):
            _check_features(self, input, "input", self.in_features)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y_k = x1^T W_k x2 + b_k.  x1: (*, in1_features), x2: (*, in2_features) -> (*, out).

    weight: (out_features, in1_features, in2_features), bias: (out_features,)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        dtype = factory_dtype("Bilinear", device, dtype)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = empty_parameter((out_features, in1_features, in2_features), dtype)
        if bias:
            self.bias = empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # weight and bias ~ U(-1/sqrt(in1), 1/sqrt(in1))
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        _check_features(self, input1, "input1", self.in1_features)
        _check_features(self, input2, "input2", self.in2_features)
        if input1.shape[:-1] != input2.shape[:-1]:
            raise RuntimeError(f"{layer_name(self)}: input1 of shape {tuple(input1.shape)} and "
                               f"input2 of shape {tuple(input2.shape)} must have the same batch "
                               "dims")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
