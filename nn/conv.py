"""Conv1d/2d/3d and ConvTranspose1d/2d/3d (PyTorch's parameters, initialisation and repr).

    Conv{n}d(C_in, C_out, k, stride, padding, dilation, groups, bias, padding_mode)
        x: (N, C_in, *S) or (C_in, *S) -> (N, C_out, *S_out),
        S_out = floor((S + 2p - d(k - 1) - 1) / stride) + 1
        weight (C_out, C_in/groups, *k), bias (C_out,)
        padding: int, tuple, 'valid' or 'same' (total d(k - 1), the odd extra on the high side);
        padding_mode 'zeros' pads inside the convolution, 'reflect' / 'replicate' / 'circular'
        pad with F.pad first, then convolve with padding 0.
    ConvTranspose{n}d(C_in, C_out, k, stride, padding, output_padding, groups, bias, dilation)
        x: (N, C_in, *S) -> (N, C_out, *S_out),
        S_out = (S - 1) stride - 2p + d(k - 1) + output_padding + 1;  forward(x, output_size)
        picks output_padding so that S_out = output_size.
        weight (C_in, C_out/groups, *k), bias (C_out,)
    Initialisation (both): weight ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), ...),
    bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight.shape[1] * prod(k).
"""
import math

import numpy as np

import autograd as ag

from . import functional as F
from . import init
from .linear import empty_parameter, factory_dtype, init_bias_uniform_, layer_name
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def ntuple(layer, name, value, n):
    """An int or a sequence of 1 or n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        items = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{layer}: {name} must be an int or a tuple of {n} ints, got "
                        f"{value!r}") from None
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {n} ints, got "
                         f"{value!r}")
    return items


def check_input_channels(module, input, nsp, channels):
    """input: (N, channels, *S) or (channels, *S) with nsp spatial dims."""
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{layer_name(module)}: expected a Tensor input, got "
                        f"{type(input).__name__}")
    if input.ndim not in (nsp + 1, nsp + 2) or input.shape[-nsp - 1] != channels:
        raise RuntimeError(f"{layer_name(module)}: expected input of shape (N, {channels}, "
                           f"{_SPATIAL[nsp]}) or ({channels}, {_SPATIAL[nsp]}), got shape "
                           f"{tuple(input.shape)}")


class _ConvNd(Module):
    """The shared state of convolutions and transposed convolutions."""

    _nsp = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        name, n = type(self).__name__, self._nsp
        dtype = factory_dtype(name, device, dtype)
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        kernel_size = ntuple(name, "kernel_size", kernel_size, n)
        stride = ntuple(name, "stride", stride, n)
        dilation = ntuple(name, "dilation", dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 "'same', 'valid'")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
        else:
            padding = ntuple(name, "padding", padding, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {', '.join(_PADDING_MODES)}, "
                             f"but got padding_mode={padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = ntuple(name, "output_padding", output_padding, n)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._pad_amounts()
        if transposed:
            shape = (in_channels, out_channels // groups) + kernel_size
        else:
            shape = (out_channels, in_channels // groups) + kernel_size
        self.weight = empty_parameter(shape, dtype)
        if bias:
            self.bias = empty_parameter((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _pad_amounts(self):
        """F.pad's (low, high) pairs, last dim first; 'same' puts the odd extra high."""
        if self.padding == "valid":
            return [0, 0] * self._nsp
        if self.padding == "same":
            amounts = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                amounts += [total // 2, total - total // 2]
            return amounts
        return [p for p in reversed(self.padding) for _ in range(2)]

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            init_bias_uniform_(self.bias, fan_in)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if isinstance(self.padding, str):
            s += f", padding={self.padding}"
        elif self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        check_input_channels(self, input, self._nsp, self.in_channels)
        conv = type(self)._conv
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)


class Conv1d(_Conv):
    """x: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out). weight (C_out, C_in/groups, k)."""
    _nsp = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """x: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out).
    weight (C_out, C_in/groups, kh, kw), bias (C_out,)."""
    _nsp = 2
    _conv = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """x: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out).
    weight (C_out, C_in/groups, kd, kh, kw), bias (C_out,)."""
    _nsp = 3
    _conv = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got '
                             f"padding_mode={padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got "
                             f"{padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """output_padding giving spatial size output_size (N and C may lead it): each dim
        must lie in [S_min, S_min + stride - 1], S_min = (S - 1) stride - 2p + d(k - 1) + 1."""
        if output_size is None:
            return self.output_padding
        nsp = self._nsp
        lead = input.ndim - nsp
        output_size = tuple(int(s) for s in output_size)
        if len(output_size) == lead + nsp:
            output_size = output_size[lead:]
        if len(output_size) != nsp:
            raise ValueError(f"{layer_name(self)}: for {input.ndim}-d input, output_size must "
                             f"have {nsp} or {lead + nsp} elements (got {len(output_size)})")
        sizes = input.shape[lead:]
        min_sizes = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                     zip(sizes, self.stride, self.padding, self.dilation, self.kernel_size)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if not lo <= size <= hi:
                raise ValueError(f"{layer_name(self)}: requested an output size of "
                                 f"{output_size}, but valid sizes range from {min_sizes} to "
                                 f"{max_sizes} (for an input of spatial size {sizes})")
        return tuple(o - m for o, m in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        check_input_channels(self, input, self._nsp, self.in_channels)
        output_padding = self._output_padding(input, output_size)
        return type(self)._conv(input, self.weight, self.bias, self.stride, self.padding,
                                output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """x: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out). weight (C_in, C_out/groups, k)."""
    _nsp = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """x: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out).
    weight (C_in, C_out/groups, kh, kw), bias (C_out,)."""
    _nsp = 2
    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """x: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out).
    weight (C_in, C_out/groups, kd, kh, kw), bias (C_out,)."""
    _nsp = 3
    _conv = staticmethod(F.conv_transpose3d)
