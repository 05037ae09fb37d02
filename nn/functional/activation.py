"""Activations with PyTorch's names, signatures and gradients, composed from the primitives.

Every function maps x: (*) to y: (*) elementwise, except prelu (a weight per channel on
dim 1), glu (halves dim) and the softmax family (normalises along dim). Nothing here is a
primitive: relu, gelu, sigmoid, tanh, erf, the softmax family and log_sigmoid are the
engine's; the rest is composed, so gradients of gradients work. gelu is a fused primitive
(autograd.ops.activation); `_gelu_composed` is its composed form, kept as the test oracle.

At a kink the gradient is PyTorch's (its backward kernels' conditions are copied): the masks
that select a branch are constants, so each formula's one-sided derivative is taken.

    relu(x)            max(x, 0)                            d = [x > 0]
    relu6(x)           hardtanh(x, 0, 6)                    d = [0 < x < 6]
    hardtanh(x, a, b)  clamp(x, a, b)                       d = [a < x < b]
    leaky_relu(x, s)   x if x > 0 else s x                  d = 1 if x > 0 else s
    prelu(x, w)        x if x > 0 else w_c x                dw_c = sum x [x <= 0]
    threshold(x, t, v) x if x > t else v                    d = [x > t]
    elu(x, a)          x if x > 0 else a (e^x - 1)          d(0) = a
    selu(x)            scale elu(x, alpha)                  (alpha, scale: PyTorch's constants)
    celu(x, a)         x if x > 0 else a (e^(x/a) - 1)      d(0) = 1
    gelu(x)            x Phi(x) = x/2 (1 + erf(x / sqrt 2))
    gelu(x, 'tanh')    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    silu(x)            x sigmoid(x)
    mish(x)            x tanh(softplus(x))
    softplus(x, b, t)  log(1 + e^(b x)) / b, x where b x > t    (= -log_sigmoid(-b x) / b)
    logsigmoid(x)      log sigmoid(x) = -softplus(-x)       (the fused, stable primitive)
    softsign(x)        x / (1 + |x|)
    hardsigmoid(x)     relu6(x + 3) / 6                     d = [-3 < x < 3] / 6
    hardswish(x)       x relu6(x + 3) / 6                   d = 0 at -3, 1 at 3 (PyTorch's)
    hardshrink(x, l)   x where |x| > l else 0
    softshrink(x, l)   x - l sign(x) where |x| > l else 0
    tanhshrink(x)      x - tanh(x)
    rrelu(x, lo, hi)   leaky_relu with slope ~ U(lo, hi) per element (training), (lo+hi)/2
    glu(x, dim)        a sigmoid(b) with a, b the two halves of x along dim
    softmax softmin log_softmax (x, dim)    along dim (dim=None: PyTorch's legacy choice)

inplace=True runs the out-of-place function (on a clone when recorded, so no saved input is
overwritten) and writes the result into the input with the engine's in-place machinery
(Tensor._inplace: version bump, grad_fn rebinding, the leaf check): it returns the input.
"""
import warnings

import numpy as np

import autograd as ag
from autograd.creation import get_rng
from autograd.ops.activation import gelu as _gelu
from autograd.ops.loss import log_sigmoid
from autograd.ops._util import on_copy

__all__ = ["relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_",
           "prelu", "rrelu", "rrelu_", "threshold", "threshold_", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "logsigmoid",
           "softsign", "sigmoid", "tanh", "hardsigmoid", "hardswish", "hardshrink",
           "softshrink", "tanhshrink", "glu", "softmax", "softmin", "log_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 0.7071067811865476               # 1 / sqrt(2)
_SQRT_2_OVER_PI = 0.7978845608028654        # sqrt(2 / pi)


# -- helpers ---------------------------------------------------------------------------------

def _const(arr):
    """A constant Tensor (a mask-derived factor or a detached branch value)."""
    return ag.Tensor._make(np.asarray(arr), False, None, 0)


def _check(op, input, floating=True):
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if floating and input.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype} "
                           f"(input of shape {tuple(input.shape)})")


def _run(op, input, inplace, fn, *args):
    """fn(input, *args), or, with inplace, the same written into input (returns input)."""
    if inplace:
        return input._inplace(op + "_", on_copy, fn, *args)
    return fn(input, *args)


# -- piecewise linear ------------------------------------------------------------------------

def relu(input, inplace=False):
    _check("relu", input, floating=False)
    return input.relu_() if inplace else ag.relu(input)


def relu_(input):
    return relu(input, inplace=True)


def _hardtanh(x, min_val, max_val):
    a = x.data
    lo = np.asarray(min_val, a.dtype)
    hi = np.asarray(max_val, a.dtype)
    outside = np.less_equal(a, lo) | np.greater_equal(a, hi)
    # outside [lo, hi] (bounds included) y is the clipped constant: d = [lo < x < hi]
    return ag.where(outside, _const(np.clip(a, lo, hi)), x)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _check("hardtanh", input, floating=False)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got min_val="
                         f"{min_val}, max_val={max_val})")
    return _run("hardtanh", input, inplace, _hardtanh, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    _check("relu6", input, floating=False)
    return _run("relu6", input, inplace, _hardtanh, 0.0, 6.0)


def _leaky_relu(x, slope):
    a = x.data
    # y = x * factor with factor = 1 where x > 0, else slope (a constant): d = factor
    factor = np.where(np.greater(a, 0), np.ones((), a.dtype), np.asarray(slope, a.dtype))
    return x * _const(factor)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check("leaky_relu", input)
    return _run("leaky_relu", input, inplace, _leaky_relu, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """input: (N, C, *) or (C,) or (); weight: (C,) or (1,), one slope per channel (dim 1;
    an input of fewer than 2 dims has one channel)."""
    _check("prelu", input)
    _check("prelu", weight)
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"prelu: mismatch of parameter numbers and input channel size: "
                           f"weight of shape {tuple(weight.shape)} has {weight.numel()} "
                           f"parameters, input of shape {tuple(input.shape)} has {channels} "
                           "channels")
    if weight.numel() == 1:
        w = weight.reshape(())
    else:
        w = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    # y = x where x > 0, else w_c x:   dx = [x > 0] + w_c [x <= 0],   dw_c = sum x [x <= 0]
    return ag.where(np.greater(input.data, 0), input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: in training each x <= 0 gets a slope drawn from U(lower, upper)
    (ag's generator); in eval the slope is (lower + upper) / 2."""
    _check("rrelu", input)
    if not training:
        return _run("rrelu", input, inplace, _leaky_relu, (lower + upper) / 2)
    return _run("rrelu", input, inplace, _rrelu_train, lower, upper)


def _rrelu_train(x, lower, upper):
    a = x.data
    slopes = get_rng().uniform(lower, upper, a.shape).astype(a.dtype)
    # PyTorch's noise: 1 where x > 0, the random slope where x <= 0
    return x * _const(np.where(np.greater(a, 0), np.ones((), a.dtype), slopes))


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def _threshold(x, threshold, value):
    # y = value where x <= threshold (d = 0), else x (d = 1)
    return ag.where(np.less_equal(x.data, threshold), value, x)


def threshold(input, threshold, value, inplace=False):
    _check("threshold", input, floating=False)
    return _run("threshold", input, inplace, _threshold, threshold, value)


def threshold_(input, threshold, value):
    _check("threshold_", input, floating=False)
    return _run("threshold", input, True, _threshold, threshold, value)


def _hardshrink(x, lambd):
    a = x.data
    # y = x * [|x| > l] (PyTorch: 0 where -l <= x <= l): d = the same mask
    keep = ~(np.greater_equal(a, -lambd) & np.less_equal(a, lambd))
    return x * _const(keep.astype(a.dtype))


def hardshrink(input, lambd=0.5):
    _check("hardshrink", input)
    return _hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0."""
    _check("softshrink", input)
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to "
                           f"be {lambd}")
    a = input.data
    keep = ~(np.greater_equal(a, -lambd) & np.less_equal(a, lambd))
    shift = np.clip(a, np.asarray(-lambd, a.dtype), np.asarray(lambd, a.dtype))
    # y = (x - clip(x, -l, l)) [|x| > l] with the clip a constant: d = [|x| > l]
    return (input - _const(shift)) * _const(keep.astype(a.dtype))


def hardsigmoid(input, inplace=False):
    _check("hardsigmoid", input)
    return _run("hardsigmoid", input, inplace, _hardsigmoid)


def _hardsigmoid(x):
    a = x.data
    inside = np.greater(a, -3.0) & np.less(a, 3.0)
    outside_value = np.clip((a + 3.0) / 6.0, 0.0, 1.0).astype(a.dtype)
    # y = (x + 3) / 6 on (-3, 3) (d = 1/6), else the constant 0 or 1 (d = 0)
    return ag.where(inside, (x + 3.0) / 6.0, _const(outside_value))


def hardswish(input, inplace=False):
    _check("hardswish", input)
    return _run("hardswish", input, inplace, _hardswish)


def _hardswish(x):
    a = x.data
    inside = np.greater(a, -3.0) & np.less(a, 3.0)
    # outside (-3, 3): y = x * [x > -3] (0 below -3, x above 3; NaN keeps its gradient)
    keep = _const((~np.less_equal(a, -3.0)).astype(a.dtype))
    # inside: y = x (x + 3) / 6,  d = x / 3 + 1/2 (PyTorch: 0 at -3, 1 at 3)
    return ag.where(inside, x * (x + 3.0) / 6.0, x * keep)


# -- exponential linear units ----------------------------------------------------------------

def _elu(x, alpha, scale, input_scale):
    """PyTorch's elu kernel: x <= 0: alpha scale (exp(input_scale x) - 1), else scale x."""
    # the exponential sees min(x, 0) only: an unselected exp(large x) = inf would turn the
    # zero gradient of its branch into 0 * inf = nan
    neg = x.clamp(max=0.0)
    if input_scale != 1.0:
        neg = neg * input_scale
    neg = neg.expm1() * (alpha * scale)
    pos = x if scale == 1.0 else x * scale
    return ag.where(np.less_equal(x.data, 0), neg, pos)      # d(0) = alpha scale input_scale


def elu(input, alpha=1.0, inplace=False):
    _check("elu", input)
    return _run("elu", input, inplace, _elu, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    _check("selu", input)
    return _run("selu", input, inplace, _elu, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    _check("celu", input)
    if alpha == 0:
        raise ZeroDivisionError("celu: ZeroDivisionError (alpha must not be 0)")
    return _run("celu", input, inplace, _elu, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


# -- smooth ----------------------------------------------------------------------------------

def gelu(input, approximate="none"):
    """x Phi(x), or its tanh approximation: the fused primitive (autograd.ops.activation)."""
    _check("gelu", input)
    return _gelu(input, approximate)


def _gelu_composed(input, approximate="none"):
    """gelu composed of Tensor ops: the oracle the fused primitive is tested against."""
    _check("gelu", input)
    if approximate == "none":
        # y = x/2 (1 + erf(x / sqrt 2))
        return input * 0.5 * ((input * _SQRT1_2).erf() + 1.0)
    if approximate == "tanh":
        # y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
        return input * 0.5 * (inner.tanh() + 1.0)
    raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', got "
                       f"{approximate!r}")


def _silu(x):
    return x * x.sigmoid()                       # y = x sigmoid(x)


def silu(input, inplace=False):
    _check("silu", input)
    return _run("silu", input, inplace, _silu)


def _mish(x):
    return x * (-log_sigmoid(-x)).tanh()         # y = x tanh(softplus(x)), stable softplus


def mish(input, inplace=False):
    _check("mish", input)
    return _run("mish", input, inplace, _mish)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (d = 1 there)."""
    _check("softplus", input)
    bx = input if beta == 1 else input * beta
    soft = -log_sigmoid(-bx)                     # log(1 + e^z) = -log sigmoid(-z), no overflow
    if beta != 1:
        soft = soft / beta
    linear = np.greater(bx.data, threshold)
    if not linear.any():
        return soft
    return ag.where(linear, input, soft)


def logsigmoid(input):
    _check("logsigmoid", input)
    return log_sigmoid(input)


def softsign(input):
    _check("softsign", input)
    return input / (input.abs() + 1.0)           # y = x / (1 + |x|)


def sigmoid(input):
    return ag.sigmoid(input)


def tanh(input):
    return ag.tanh(input)


def tanhshrink(input):
    _check("tanhshrink", input)
    return input - input.tanh()


def glu(input, dim=-1):
    """x: (..., 2n, ...) -> (..., n, ...): a * sigmoid(b), (a, b) the halves along dim."""
    _check("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars because halving size must be even")
    axis = dim + input.ndim if dim < 0 else dim
    if not 0 <= axis < input.ndim:
        raise IndexError(f"glu: dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    n = input.shape[axis]
    if n % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} is size "
                           f"{n} (input of shape {tuple(input.shape)})")
    a, b = input.narrow(axis, 0, n // 2), input.narrow(axis, n // 2, n // 2)
    return a * b.sigmoid()


# -- the softmax family ----------------------------------------------------------------------

def _softmax_dim(op, input, dim):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x: (..., n, ...) -> exp(x) / sum exp(x) along dim."""
    return ag.softmax(input, _softmax_dim("softmax", input, dim), dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim."""
    return ag.softmax(-input, _softmax_dim("softmin", input, dim), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x: (..., n, ...) -> x - logsumexp(x) along dim."""
    return ag.log_softmax(input, _softmax_dim("log_softmax", input, dim), dtype=dtype)
