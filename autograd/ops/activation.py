"""Fused activation primitives: relu and gelu (exact and tanh), elementwise, x: (*) -> y: (*).

    relu(x)            y = max(x, 0)                        dx = g * [not x <= 0]
                                                            (0 at x == 0, g at nan)
    gelu(x)            y = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2
                       dx = g (Phi(x) + x phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    gelu(x, 'tanh')    y = x (1 + tanh u) / 2 = x s,  u = sqrt(2/pi) (x + 0.044715 x^3),
                       s = sigmoid(2u) = 1 / (1 + exp(-2u))
                       dx = g (s + 2 x s (1 - s) u'),  u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)

float32 runs the numba kernels of autograd/kernels/activation.py (one pass, a vectorised
float32 exp and erf); other dtypes run numpy. Relu saves a bool mask of the dead units
(`dead = [x <= 0]`, read by autograd.health) and its backward is a select, so an inf or nan
upstream gradient gives 0 where the unit is dead. Gelu's backward is a primitive too
(GeluBackward, the kernels again), whose own backward is composed of Tensor ops, so gradients
of any order work:

    GeluBackward(x, g)   dx = g f'(x)
                         d/dg = h f'(x)                         (GeluBackward(x, h))
                         d/dx = h g f''(x)
                         exact  f'' = phi(x) (2 - x^2)
                         tanh   f'' = (1 - T^2) (u' - x T u'^2 + x u'' / 2),  T = tanh u,
                                u'' = sqrt(2/pi) 6 * 0.044715 x

nn.functional.activation keeps the composed gelu (erf or tanh of Tensor ops) as the oracle
these are tested against.
"""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..kernels import activation_threads as threaded
from ..tensor import Tensor
from .unary_select import _floating, _out

__all__ = ["relu", "gelu"]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_SQRT1_2 = 0.7071067811865476               # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327          # 1 / sqrt(2 pi)
_SQRT_2_OVER_PI = 0.7978845608028654        # sqrt(2 / pi)
_KAPPA = 0.044715


def _flat(a):
    """a as a contiguous 1-D array (a view when a is C-contiguous)."""
    return np.ascontiguousarray(a).reshape(-1)


def _const(a):
    return Tensor._make(a, False, None, 0)


# -- relu ------------------------------------------------------------------------------------

class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        a = x.data
        if a.dtype not in _KERNEL_DTYPES:
            # a full zeros operand runs numpy's SIMD maximum loop, a broadcast 0-d one does not
            y = _out(np.maximum(a, np.zeros_like(a)))
            if ctx.needs_input_grad[0]:
                ctx.save_for_backward(np.less_equal(y, 0))
            return y
        y = np.empty(a.shape, a.dtype)
        if ctx.needs_input_grad[0]:
            dead = np.empty(a.shape, np.bool_)
            threaded.relu_mask(_flat(a), y.reshape(-1), dead.reshape(-1))
            ctx.save_for_backward(dead)
        else:
            threaded.relu(_flat(a), y.reshape(-1))
        return y

    @staticmethod
    def backward(ctx, g):
        dead, = ctx.saved_tensors
        if _State.enabled:                      # recorded (create_graph): differentiable
            return g.masked_fill(dead, 0.0)
        a, mask = g.data, dead.data
        if a.dtype in _KERNEL_DTYPES and a.shape == mask.shape:
            dx = np.empty(a.shape, a.dtype)
            threaded.relu_backward(_flat(a), mask.reshape(-1), dx.reshape(-1))
        else:
            dx = np.where(mask, np.zeros((), a.dtype), a)
        return _const(dx)                       # d relu = [not dead], a select


def relu(input):
    return Relu.apply(input)


# -- gelu ------------------------------------------------------------------------------------

def _erf(a):
    from scipy.special import erf
    return erf(a).astype(a.dtype, copy=False)


def _tanh_parts(a):
    """u' and s = sigmoid(2u), e = exp(-2u) for the tanh form (numpy, a's dtype)."""
    a2 = a * a
    u = (a + a2 * a * _KAPPA) * _SQRT_2_OVER_PI
    with np.errstate(over="ignore"):
        e = np.exp(u * -2.0)
    s = 1.0 / (e + 1.0)
    du = (a2 * (3.0 * _KAPPA) + 1.0) * _SQRT_2_OVER_PI
    return du, s, e


def _gelu_forward(a, tanh):
    if a.dtype == np.float32:
        y = np.empty(a.shape, np.float32)
        threaded.gelu(_flat(a), y.reshape(-1), tanh)
        return y
    if tanh:
        return a * _tanh_parts(a)[1]                            # y = x s
    return a * 0.5 * (_erf(a * _SQRT1_2) + 1.0)                 # y = x Phi(x)


def _gelu_backward(a, g, tanh):
    if a.dtype == np.float32 and g.dtype == np.float32:
        dx = np.empty(a.shape, np.float32)
        threaded.gelu_backward(_flat(a), _flat(np.broadcast_to(g, a.shape)),
                                   dx.reshape(-1), tanh)
        return dx
    if tanh:
        du, s, e = _tanh_parts(a)
        rest = np.where(s < 0.5, 1.0 - s, e * s)                # 1 - s (e * s: inf * 0)
        return g * (s + 2.0 * a * s * rest * du)                # dx = g (s + 2 x s (1-s) u')
    cdf = (_erf(a * _SQRT1_2) + 1.0) * 0.5
    pdf = np.exp(a * a * -0.5) * _INV_SQRT_2PI
    return g * (cdf + a * pdf)                                  # dx = g (Phi + x phi)


class Gelu(Function):
    @staticmethod
    def forward(ctx, x, tanh):
        ctx.tanh = tanh
        ctx.save_for_backward(x)
        return _gelu_forward(x.data, tanh)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return GeluBackward.apply(x, g, ctx.tanh), None


class GeluBackward(Function):
    @staticmethod
    def forward(ctx, x, g, tanh):
        """x, g: (*) -> dx = g gelu'(x)."""
        ctx.tanh = tanh
        ctx.save_for_backward(x, g)
        return _gelu_backward(x.data, g.data, tanh)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        dx = dg = None
        if ctx.needs_input_grad[0]:
            dx = h * g * _gelu_second(x, ctx.tanh)
        if ctx.needs_input_grad[1]:
            dg = GeluBackward.apply(x, h, ctx.tanh)             # d/dg = h gelu'(x)
        return dx, dg, None


def _gelu_second(x, tanh):
    """gelu''(x) as Tensor ops (recorded under create_graph, for third derivatives)."""
    x2 = x * x
    if not tanh:
        return (x2 * -0.5).exp() * _INV_SQRT_2PI * (2.0 - x2)  # phi(x) (2 - x^2)
    t = ((x + x2 * x * _KAPPA) * _SQRT_2_OVER_PI).tanh()
    du = (x2 * (3.0 * _KAPPA) + 1.0) * _SQRT_2_OVER_PI
    d2u = x * (6.0 * _KAPPA * _SQRT_2_OVER_PI)
    return (1.0 - t * t) * (du - x * t * du * du + x * d2u * 0.5)


def gelu(input, approximate="none"):
    """x: (*) -> x Phi(x), or its tanh approximation when approximate='tanh'."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', got "
                           f"{approximate!r}")
    return Gelu.apply(_floating(input), approximate == "tanh")
