"""Elementwise activation kernels, and the float32 math they share with the softmax kernels
(numba, ndarrays only; 1-D contiguous arrays, the callers flatten).

numba has no vectorised exp here (no SVML): np.exp in a numba loop is a libm call per element,
6x slower than numpy's SIMD exp. The float32 functions below are call-free and branch-free, so
LLVM vectorises the loops around them (no fastmath: NaN and Inf propagate):

    exp32(t)     exp(t) = 2^n exp(r),  n = round(t / ln 2),  r = t - n ln 2 in [-ln2/2, ln2/2]
                 (ln 2 in two parts, Cody-Waite), exp(r) = 1 + r + r^2 P(r) (Cephes' expf
                 polynomial, Horner in fused multiply-adds: fma32, one rounding each, a third
                 fewer instructions), 2^n = 2^(n >> 1) 2^(n - (n >> 1)) from exponent bits, so
                 the last product rounds once into the denormal range or to inf. t is clamped
                 to [-104, 89] first (exp rounds to 0 and to inf beyond). Within 1 ulp of the
                 correctly rounded exp (tested over every float32).
    erf32(x)     x P(x^2) / Q(x^2) on [-4, 4] (+-1 beyond): the rational approximation of
                 Eigen and XLA (ops/unary.py's float32 erf), Horner in fma32; max abs error
                 4e-7
    float_key    the float32's bits as an int32 that orders like the float (-0 < +0), so a
                 row max is an integer max, which LLVM vectorises (a float max it may not
                 reorder)

    relu          y = max(x, 0),  dead = [x <= 0]     (nan: y = nan, not dead)
    relu_backward dx = 0 where dead, else g            (a select: inf * 0 never happens)
    gelu          exact   y = x Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2
                  tanh    y = x / (1 + exp(-2u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
                          (= x (1 + tanh u) / 2, without the cancellation of 1 + tanh u)
    gelu_backward exact   dx = g (Phi(x) + x phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
                  tanh    dx = g (s + 2 x s (1 - s) u'),  s = 1 / (1 + exp(-2u)),
                          u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)

The helpers are plain Python (what `kernel.py_func` runs) until `_bind()` swaps in their
numba versions, just before the first kernel compiles.
"""
import contextlib
import functools

import numpy as np

from ._jit import _numba, jit

__all__ = ["helper", "kernel", "plain_helpers", "fma32", "exp32", "erf32", "float_key",
           "key_to_float", "exp_float32", "relu", "relu_mask", "relu_backward", "gelu",
           "gelu_backward"]

_F = np.float32
_I = np.int32
_ZERO, _HALF, _ONE, _TWO = _F(0.0), _F(0.5), _F(1.0), _F(2.0)

_EXP_HI, _EXP_LO = _F(89.0), _F(-104.0)
_LOG2E = _F(1.4426950408889634)
_LN2_HI, _LN2_LO = _F(0.693359375), _F(-2.12194440e-4)
_EXP_P0, _EXP_P1, _EXP_P2 = _F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3)
_EXP_P3, _EXP_P4, _EXP_P5 = _F(4.1665795894e-2), _F(1.6666665459e-1), _F(5.0000001201e-1)
_BIAS = _I(127)
_SHIFT = _I(23)
_SIGN = _I(31)
_MAGNITUDE = _I(0x7FFFFFFF)

_ERF_CLAMP = _F(4.0)
_ERF_P = [_F(c) for c in (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                          -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                          -1.60960333262415e-02)]
_ERF_Q = [_F(c) for c in (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                          -7.37332916720468e-03, -1.42647390514189e-02)]
_EP0, _EP1, _EP2, _EP3, _EP4, _EP5, _EP6 = _ERF_P
_EQ0, _EQ1, _EQ2, _EQ3, _EQ4 = _ERF_Q

_SQRT1_2 = _F(0.7071067811865476)                     # 1 / sqrt(2)
_INV_SQRT_2PI = _F(0.3989422804014327)                # 1 / sqrt(2 pi)
_SQRT_2_OVER_PI = _F(0.7978845608028654)              # sqrt(2 / pi)
_KAPPA = _F(0.044715)
_KAPPA3 = _F(3.0 * 0.044715)


# -- float32 math: plain Python until the first kernel compiles, numba (inlined) after ------

_HELPERS = []


def helper(py_func):
    """Register a scalar or row helper that kernels call by its module-global name: plain
    Python (what `kernel.py_func` runs) until `_bind()` rebinds that name to numba's version."""
    _HELPERS.append(py_func)
    return py_func


def as_float32(bits):
    """The float32 whose bit pattern is the int32 bits."""
    return np.int32(bits).view(np.float32)


def as_int32(value):
    """The bit pattern of the float32 value as an int32."""
    return np.float32(value).view(np.int32)


def fma32(a, b, c):
    """a b + c rounded once to float32 (IEEE fusedMultiplyAdd; numba: llvm.fma). Here: the
    product is exact in float64, the sum is rounded to odd in float64 (its error from
    TwoSum), so the final rounding to float32 is the only one that counts."""
    p = np.float64(a) * np.float64(b)
    c = np.float64(c)
    total = p + c
    if np.isfinite(total):
        back = total - p
        error = (p - (total - back)) + (c - back)
        if error != 0 and not total.view(np.int64) & 1:
            total = np.nextafter(total, np.inf if error > 0 else -np.inf)
    with np.errstate(over="ignore"):
        return np.float32(total)


@helper
def exp32(t):
    c = t
    if c > _EXP_HI:
        c = _EXP_HI
    if c < _EXP_LO:
        c = _EXP_LO
    if not c == c:
        c = _ZERO                                     # nan: any finite n; the result is t
    n = np.floor(fma32(c, _LOG2E, _HALF))
    r = fma32(n, -_LN2_LO, fma32(n, -_LN2_HI, c))
    p = fma32(fma32(fma32(fma32(fma32(_EXP_P0, r, _EXP_P1), r, _EXP_P2), r, _EXP_P3), r,
                    _EXP_P4), r, _EXP_P5)
    p = fma32(p, r * r, r) + _ONE                     # exp(r)
    k = _I(n)
    half = k >> _I(1)
    y = p * as_float32((half + _BIAS) << _SHIFT) * as_float32((k - half + _BIAS) << _SHIFT)
    return y if t == t else t


@helper
def erf32(x):
    c = x
    if c > _ERF_CLAMP:
        c = _ERF_CLAMP
    if c < -_ERF_CLAMP:
        c = -_ERF_CLAMP
    x2 = c * c
    p = fma32(fma32(fma32(fma32(fma32(fma32(_EP0, x2, _EP1), x2, _EP2), x2, _EP3), x2, _EP4),
                    x2, _EP5), x2, _EP6)
    q = fma32(fma32(fma32(fma32(_EQ0, x2, _EQ1), x2, _EQ2), x2, _EQ3), x2, _EQ4)
    return p * c / q


@helper
def float_key(v):
    b = as_int32(v)
    return b ^ ((b >> _SIGN) & _MAGNITUDE)


@helper
def key_to_float(key):
    return as_float32(key ^ ((key >> _SIGN) & _MAGNITUDE))


def _fma_intrinsic():
    """A numba intrinsic: llvm.fma.f32, the fused multiply-add (one rounding; an IEEE
    operation, not a fastmath flag)."""
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    def fma32(typingctx, a, b, c):
        def codegen(context, builder, signature, args):
            f = ir.FloatType()
            fn = builder.module.declare_intrinsic("llvm.fma", [f], ir.FunctionType(f, [f] * 3))
            return builder.call(fn, args)
        return types.float32(types.float32, types.float32, types.float32), codegen
    return intrinsic(fma32)


def _bitcast(source, target):
    """A numba intrinsic reinterpreting a scalar's bits (int32 <-> float32)."""
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    llvm_target = ir.FloatType() if target == "float32" else ir.IntType(32)

    def typer(typingctx, value):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], llvm_target)
        return getattr(types, target)(getattr(types, source)), codegen
    typer.__name__ = f"as_{target}"
    return intrinsic(typer)


_bound = False
_PLAIN = {"as_float32": as_float32, "as_int32": as_int32, "fma32": fma32}


@contextlib.contextmanager
def plain_helpers():
    """Within: the helpers are plain Python again, so a kernel's py_func is a float32-faithful
    reference (a compiled helper returns a Python float, which would turn the caller's float32
    arithmetic into float64)."""
    bindings = [(globals(), name, f) for name, f in _PLAIN.items()]
    bindings += [(f.__globals__, f.__name__, f) for f in _HELPERS]
    saved = [namespace[name] for namespace, name, _ in bindings]
    for namespace, name, plain in bindings:
        namespace[name] = plain
    try:
        yield
    finally:
        for (namespace, name, _), value in zip(bindings, saved):
            namespace[name] = value


def _bind():
    """Rebind the helpers to their numba versions (once, before the first kernel compiles)."""
    global as_float32, as_int32, fma32, _bound
    if _bound:
        return
    numba = _numba()
    as_float32 = _bitcast("int32", "float32")
    as_int32 = _bitcast("float32", "int32")
    fma32 = _fma_intrinsic()
    for f in _HELPERS:
        f.__globals__[f.__name__] = numba.njit(error_model="numpy", inline="always")(f)
    _bound = True


def kernel(py_func):
    """jit() whose first compile binds the numba helpers first (for this module and
    kernels/softmax.py)."""
    compiled = jit()(py_func)
    compiled_dispatcher = compiled.dispatcher
    ready = None

    def dispatcher():
        nonlocal ready
        if ready is None:
            _bind()
            ready = compiled_dispatcher()
        return ready

    @functools.wraps(py_func)
    def call(*args):
        return (ready or dispatcher())(*args)

    call.py_func = py_func
    call.dispatcher = dispatcher
    return call


# -- kernels ---------------------------------------------------------------------------------

@kernel
def exp_float32(x, y):
    """y = exp32(x); x, y: (n,) float32."""
    for i in range(x.shape[0]):
        y[i] = exp32(x[i])


@kernel
def relu(x, y):
    """y = max(x, 0) (nan stays nan); x, y: (n,)."""
    zero = x.dtype.type(0)
    for i in range(x.shape[0]):
        v = x[i]
        y[i] = zero if v <= zero else v


@kernel
def relu_mask(x, y, dead):
    """y = max(x, 0) and dead = [x <= 0]; x, y: (n,); dead: (n,) bool."""
    zero = x.dtype.type(0)
    for i in range(x.shape[0]):
        v = x[i]
        d = v <= zero
        dead[i] = d
        y[i] = zero if d else v


@kernel
def relu_backward(g, dead, dx):
    """dx = 0 where dead, else g; g, dx: (n,); dead: (n,) bool."""
    zero = g.dtype.type(0)
    for i in range(g.shape[0]):
        dx[i] = zero if dead[i] else g[i]


@kernel
def gelu(x, y, tanh):
    """y = gelu(x), the tanh approximation when tanh; x, y: (n,) float32."""
    if tanh:
        for i in range(x.shape[0]):
            v = x[i]
            u = _SQRT_2_OVER_PI * (v + _KAPPA * (v * v * v))
            y[i] = v / (_ONE + exp32(-_TWO * u))
    else:
        for i in range(x.shape[0]):
            v = x[i]
            y[i] = v * _HALF * (erf32(v * _SQRT1_2) + _ONE)


@kernel
def gelu_backward(x, g, dx, tanh):
    """dx = g gelu'(x), the tanh approximation when tanh; x, g, dx: (n,) float32."""
    if tanh:
        for i in range(x.shape[0]):
            v = x[i]
            v2 = v * v
            u = _SQRT_2_OVER_PI * (v + _KAPPA * (v2 * v))
            du = _SQRT_2_OVER_PI * (_ONE + _KAPPA3 * v2)
            e = exp32(-_TWO * u)
            s = _ONE / (_ONE + e)
            rest = _ONE - s if s < _HALF else e * s    # 1 - s (e * s would be inf * 0)
            dx[i] = g[i] * (s + _TWO * v * s * rest * du)
    else:
        for i in range(x.shape[0]):
            v = x[i]
            cdf = _HALF * (_ONE + erf32(v * _SQRT1_2))
            pdf = _INV_SQRT_2PI * exp32(v * v * -_HALF)
            dx[i] = g[i] * (cdf + v * pdf)
