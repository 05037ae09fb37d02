"""Pooling, unpooling and upsampling layers (PyTorch's attributes and repr); each forward is
one nn.functional call.

    MaxPool{n}d(k, stride=k, padding, dilation, return_indices, ceil_mode)
        x: (N, C, *S) or (C, *S) -> (N, C, *S_out), the max over each window
        [, indices: flat per plane, for MaxUnpool]
    AvgPool{n}d(k, stride=k, padding, ceil_mode, count_include_pad[, divisor_override])
    AdaptiveAvgPool{n}d(O), AdaptiveMaxPool{n}d(O, return_indices)   -> (N, C, *O)
    MaxUnpool{n}d(k, stride=k, padding)   forward(x, indices, output_size=None): the
        partial inverse of MaxPool{n}d, zeros off the argmax positions
    Upsample(size | scale_factor, mode, align_corners), UpsamplingNearest2d,
    UpsamplingBilinear2d (bilinear with align_corners=True)
"""
import autograd as ag

from . import functional as F
from .conv import ntuple
from .linear import layer_name
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _check_input(module, input, nsp):
    """input: (N, C, *S) or (C, *S) with nsp spatial dims."""
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{layer_name(module)}: expected a Tensor input, got "
                        f"{type(input).__name__}")
    if input.ndim not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{layer_name(module)}: expected input of shape (N, C, "
                           f"{_SPATIAL[nsp]}) or (C, {_SPATIAL[nsp]}), got shape "
                           f"{tuple(input.shape)}")


# -- max pooling -------------------------------------------------------------------------------
class _MaxPoolNd(Module):
    _nsp = 0
    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        _check_input(self, input, self._nsp)
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, ceil_mode=self.ceil_mode,
                                return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """x: (N, C, L) or (C, L) -> (N, C, L_out) [, indices in [0, L)]."""
    _nsp = 1
    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """x: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) [, indices h*W + w]."""
    _nsp = 2
    _pool = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """x: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out) [, indices]."""
    _nsp = 3
    _pool = staticmethod(F.max_pool3d)


# -- average pooling ---------------------------------------------------------------------------
class _AvgPoolNd(Module):
    _nsp = 0

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """x: (N, C, L) or (C, L) -> (N, C, L_out), the mean over each window."""
    _nsp = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = ntuple("AvgPool1d", "kernel_size", kernel_size, 1)
        self.stride = ntuple("AvgPool1d", "stride",
                             stride if stride is not None else kernel_size, 1)
        self.padding = ntuple("AvgPool1d", "padding", padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        _check_input(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPool23d(_AvgPoolNd):
    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        _check_input(self, input, self._nsp)
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPool23d):
    """x: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), window sum / divisor."""
    _nsp = 2
    _pool = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool23d):
    """x: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    _nsp = 3
    _pool = staticmethod(F.avg_pool3d)


# -- adaptive pooling --------------------------------------------------------------------------
class _AdaptiveAvgPoolNd(Module):
    _nsp = 0
    _pool = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        _check_input(self, input, self._nsp)
        return type(self)._pool(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """x: (N, C, L) or (C, L) -> (N, C, output_size)."""
    _nsp = 1
    _pool = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """x: (N, C, H, W) or (C, H, W) -> (N, C, *output_size) (None keeps that size)."""
    _nsp = 2
    _pool = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """x: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size)."""
    _nsp = 3
    _pool = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    _nsp = 0
    _pool = None

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        _check_input(self, input, self._nsp)
        return type(self)._pool(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """x: (N, C, L) or (C, L) -> (N, C, output_size) [, indices]."""
    _nsp = 1
    _pool = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """x: (N, C, H, W) or (C, H, W) -> (N, C, *output_size) [, indices h*W + w]."""
    _nsp = 2
    _pool = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """x: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size) [, indices]."""
    _nsp = 3
    _pool = staticmethod(F.adaptive_max_pool3d)


# -- max unpooling -----------------------------------------------------------------------------
class _MaxUnpoolNd(Module):
    _nsp = 0
    _unpool = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, n = type(self).__name__, self._nsp
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, n)
        self.stride = ntuple(name, "stride", stride if stride is not None else kernel_size, n)
        self.padding = ntuple(name, "padding", padding, n)

    def forward(self, input, indices, output_size=None):
        """input, indices: the outputs of MaxPool{n}d(return_indices=True)."""
        _check_input(self, input, self._nsp)
        return type(self)._unpool(input, indices, self.kernel_size, self.stride, self.padding,
                                  output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """x, indices: (N, C, L) -> (N, C, (L - 1) stride - 2p + k) or output_size."""
    _nsp = 1
    _unpool = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """x, indices: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - 1) stride - 2p + k."""
    _nsp = 2
    _unpool = staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """x, indices: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    _nsp = 3
    _unpool = staticmethod(F.max_unpool3d)


# -- upsampling --------------------------------------------------------------------------------
class Upsample(Module):
    """x: (N, C, *S) with 1-3 spatial dims -> (N, C, *size) or floor(S * scale_factor);
    mode 'nearest', 'linear' (3-d), 'bilinear' (4-d) or 'trilinear' (5-d)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        if not isinstance(input, ag.Tensor) or input.ndim not in (3, 4, 5):
            shape = tuple(input.shape) if isinstance(input, ag.Tensor) else type(input).__name__
            raise RuntimeError(f"{layer_name(self)}: expected a 3-d (N, C, L), 4-d "
                               f"(N, C, H, W) or 5-d (N, C, D, H, W) input, got {shape}")
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """x: (N, C, H, W) -> (N, C, *size) or scaled, nearest neighbour."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """x: (N, C, H, W) -> (N, C, *size) or scaled, bilinear with align_corners=True."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
