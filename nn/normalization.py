"""Normalisation layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm,
LocalResponseNorm, with PyTorch's parameters, buffers, defaults and extra_repr.

With mu and s2 the mean and biased variance over the normalised axes:

    y = (x - mu) / sqrt(s2 + eps) * weight + bias

    BatchNorm    x: (N, C, *)  stats over N and * per channel; weight, bias: (C,)
    InstanceNorm x: (N, C, *) or (C, *)  stats over * per sample and channel; weight, bias: (C,)
    LayerNorm    x: (*, S)     stats over S = normalized_shape; weight, bias: S
    GroupNorm    x: (N, C, *)  stats over each group of C / G channels and *; weight, bias: (C,)

Running statistics (BatchNorm, and InstanceNorm with track_running_stats=True), updated in
training mode with the unbiased batch variance:

    running <- (1 - m) running + m stat,   m = momentum, or 1 / num_batches_tracked when
                                           momentum is None (the cumulative moving average)

In eval mode the running statistics replace the batch statistics. Every forward is one
nn.functional call; the functional updates the running buffers in place.
"""
import numbers
import warnings

import autograd as ag
from autograd import dtypes

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "LayerNorm", "GroupNorm", "LocalResponseNorm"]


def _factory_dtype(device, dtype):
    """The dtype of a layer's parameters (device: the CPU only, as everywhere in tapegrad)."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"tapegrad runs on the CPU only, got device {device!r}")
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def _check_ndim(name, input, allowed):
    """A ValueError like PyTorch's when input.ndim is not one of `allowed`."""
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{name}: expected a Tensor as input, got {type(input).__name__}")
    if input.ndim not in allowed:
        wanted = " or ".join(f"{d}D" for d in allowed)
        raise ValueError(f"{name}: expected {wanted} input (got {input.ndim}D input of shape "
                         f"{tuple(input.shape)})")


def _register_affine(module, shape, affine, bias, dtype):
    """weight (ones) and bias (zeros) of `shape` when affine; registered as None otherwise."""
    module.register_parameter("weight", Parameter(ag.empty(shape, dtype=dtype)) if affine
                              else None)
    module.register_parameter("bias", Parameter(ag.empty(shape, dtype=dtype))
                              if affine and bias else None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """The parameters and buffers shared by BatchNorm and InstanceNorm.

    weight, bias: (C,) when affine (ones, zeros); running_mean, running_var: (C,) (zeros,
    ones) and num_batches_tracked: () int64 when track_running_stats, else None.
    """

    _version = 2       # version 2 added num_batches_tracked (checkpoint compatibility)
    _allowed_ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, num_features, affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", ag.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ag.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", ag.tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with ag.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        _check_ndim(type(self).__name__, input, self._allowed_ndims)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints older than version 2 have no num_batches_tracked: it starts at 0
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = self.num_batches_tracked if self.num_batches_tracked \
                    is not None else ag.tensor(0, dtype=dtypes.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        """input: (N, C, *) -> (N, C, *). Training: batch statistics (and the running ones
        updated when tracked); eval: the running statistics, or the batch's when untracked."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with ag.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:           # cumulative average: m = 1 / batches seen
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        pass_buffers = not self.training or self.track_running_stats
        return F.batch_norm(input,
                            self.running_mean if pass_buffers else None,
                            self.running_var if pass_buffers else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of x: (N, C) or (N, C, L) per channel C."""
    _allowed_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of x: (N, C, H, W) per channel C."""
    _allowed_ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of x: (N, C, D, H, W) per channel C."""
    _allowed_ndims = (5,)


class _InstanceNorm(_NormBase):
    """Defaults differ from BatchNorm's: affine=False, track_running_stats=False."""

    _no_batch_dim = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _apply_instance_norm(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input):
        """input: (N, C, *) or, unbatched, (C, *) -> the same shape."""
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{type(self).__name__}: expected input's size at "
                                 f"dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]} (input of shape "
                                 f"{tuple(input.shape)}).")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. "
                          "You can silence this warning by not passing in num_features, "
                          "which is not used because affine=False", stacklevel=2)
        if input.ndim == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if version is None and not self.track_running_stats:
            # pre-0.4 checkpoints stored running stats that an untracked layer does not have
            keys = [prefix + name for name in ("running_mean", "running_var")
                    if prefix + name in state_dict]
            if keys:
                klass = type(self).__name__
                error_msgs.append(
                    "Unexpected running stats buffer(s) {} for {} with track_running_stats="
                    "False. If state_dict is a checkpoint saved before 0.4.0, this may be "
                    "expected because {} does not track running stats by default since 0.4.0."
                    " Please remove these keys from state_dict. If the running stats are "
                    "actually needed, instead set track_running_stats=True in {} to enable "
                    "them. See the documentation of {} for details.".format(
                        " and ".join(f'"{k}"' for k in keys), klass, klass, klass, klass))
                for key in keys:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of x: (N, C, L) or (C, L) over L per sample and channel."""
    _allowed_ndims = (2, 3)
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of x: (N, C, H, W) or (C, H, W) over H, W."""
    _allowed_ndims = (3, 4)
    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of x: (N, C, D, H, W) or (C, D, H, W) over D, H, W."""
    _allowed_ndims = (4, 5)
    _no_batch_dim = 4


class LayerNorm(Module):
    """x: (*, *normalized_shape), normalised over the trailing normalized_shape dims;
    weight (ones), bias (zeros): normalized_shape, when elementwise_affine."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """x: (N, C, *) with C = num_channels split into num_groups groups of C / G channels;
    weight (ones), bias (zeros): (C,), when affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        dtype = _factory_dtype(device, dtype)
        if num_groups <= 0 or num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, num_channels, affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """x: (N, C, *) -> x / (k + alpha / size * sum of x^2 over `size` neighbouring
    channels)^beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
