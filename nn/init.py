"""nn.init: fill a tensor in place from a distribution, with PyTorch's formulas.

All initialisers write under no_grad (so they work on Parameters), bump the tensor's version,
return the tensor, and draw from autograd's generator (`ag.manual_seed` makes them
reproducible) unless a numpy `generator` is passed. Draws are made in float64 and cast.

    fan_in  = size(1) * prod(size(2:))        fan_out = size(0) * prod(size(2:))
    xavier_uniform_:  U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_:   N(0, std), std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_: U(-b, b),  b = gain * sqrt(3 / fan),  gain = calculate_gain(nl, a)
    kaiming_normal_:  N(0, std), std = gain / sqrt(fan)
    trunc_normal_:    N(mean, std) restricted to [a, b] (inverse-CDF sampling)
    orthogonal_:      Q of the QR decomposition of a normal matrix (signs fixed by diag R)
"""
import math
import warnings

import numpy as np

from autograd import creation
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]


def _rng(generator):
    return creation.get_rng() if generator is None else generator


def _write(tensor, values, op_name):
    """tensor[...] = values (broadcast, cast to tensor's dtype), in place and off the tape."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{op_name}: expected a Tensor, got {type(tensor).__name__}")
    with no_grad():
        tensor.copy_(creation.from_numpy(np.asarray(values)))
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + negative_slope**2)), selu 3/4."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param,
                                                                                    float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """weight: (out, in, *kernel) -> (in * prod(kernel), out * prod(kernel))."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    fan_in = tensor.shape[1] * receptive_field_size
    fan_out = tensor.shape[0] * receptive_field_size
    return fan_in, fan_out


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    return _write(tensor, _rng(generator).uniform(a, b, tensor.shape), "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std**2)."""
    return _write(tensor, _rng(generator).normal(mean, std, tensor.shape), "normal_")


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std**2) truncated to [a, b]: u ~ U(2 cdf(alpha) - 1, 2 cdf(beta) - 1),
    x = mean + std * sqrt(2) * erfinv(u), clamped to [a, b] (alpha, beta: a, b standardised)."""
    from scipy.special import erfinv

    def norm_cdf(x):    # standard normal CDF
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    lo = norm_cdf((a - mean) / std)
    hi = norm_cdf((b - mean) / std)
    u = _rng(generator).uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
    x = erfinv(u) * (std * math.sqrt(2.0)) + mean
    return _write(tensor, np.clip(x, a, b), "trunc_normal_")


def constant_(tensor, val):
    return _write(tensor, val, "constant_")


def ones_(tensor):
    return _write(tensor, 1, "ones_")


def zeros_(tensor):
    return _write(tensor, 0, "zeros_")


def eye_(tensor):
    """The identity matrix (2-D tensors only; rectangular: ones on the main diagonal)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported "
                         f"(got shape {tuple(tensor.shape)})")
    return _write(tensor, np.eye(*tensor.shape), "eye_")


def dirac_(tensor, groups=1):
    """The Dirac delta for convolutions (3-5-D): each output channel passes on the input
    channel of the same index (per group) through the kernel's centre."""
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    values = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, values, "dirac_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015); a: the negative
    slope of leaky_relu; mode: fan_in (forward variance) or fan_out (backward)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std**2), std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix over (size(0), numel / size(0)) times gain (Saxe et al.):
    orthonormal rows when rows <= cols, orthonormal columns otherwise."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported "
                         f"(got shape {tuple(tensor.shape)})")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))      # make the decomposition unique: diag(R) > 0
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor.shape), "orthogonal_")


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std**2) with a fraction `sparsity` of each column set to zero (2-D only)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = _rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    return _write(tensor, values, "sparse_")
