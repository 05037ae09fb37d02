"""kernels/softmax.py against independent plain-numpy formulas (float64 arithmetic on the same
float32 inputs), not against the kernels' own py_func:

    softmax        y = exp(x - m) / sum exp(x - m),   m = max x
    log_softmax    y = (x - m) - log sum exp(x - m)
    logsumexp      out = m + log sum exp(x - m),      m = 0 where max x is +-inf
    softmax bwd    dx = y (g - sum(g y))
    log_sm bwd     dx = g - exp(y) sum(g)

The kernels take float32 rows only (autograd/ops/softmax.py runs numpy for float64), so they
are checked in float32 against a float64 reference, with a first-order error bound of
c eps32 times the magnitudes that enter each result (the _bound helpers), c = ceil(log2 K) + 3
(the pairwise row sum, the float32 exp within 1 ulp, the final product / difference). The
public ops are checked against the same formulas in float32 (kernel path) and float64 (numpy path).
"""
import math

import numpy as np
import pytest

import autograd as ag
from autograd.kernels import softmax as K

F32, F64 = np.float32, np.float64
INF, NAN = np.inf, np.nan
TINY = np.finfo(F32).tiny                   # below it float32 has no relative precision
WIDTHS = [1, 2, 3, 15, 16, 17, 33, 64, 100, 257]


def _c(k):
    return math.ceil(math.log2(max(k, 2))) + 3


def _rows(k, seed=0):
    """(R, k) float32 rows: moderate, +-1e4 wide, near +1e4, near -1e4, with -inf entries,
    all -inf, with a +inf, with a nan."""
    rng = np.random.default_rng(seed + k)
    rows = [rng.standard_normal(k) * 3,
            rng.uniform(-1e4, 1e4, k),
            1e4 + rng.uniform(-5, 5, k),
            -1e4 + rng.uniform(-5, 5, k),
            np.where(rng.random(k) < 0.4, -INF, rng.standard_normal(k)),
            np.full(k, -INF),
            np.where(np.arange(k) == k // 2, INF, rng.standard_normal(k)),
            np.where(np.arange(k) == k - 1, NAN, rng.standard_normal(k))]
    x = np.array(rows, F32)
    x[4, 0] = 0.5                             # a finite max in the row with -inf entries
    return x


# -- the plain-numpy references (float64) ------------------------------------------------------
def ref_softmax(x):
    x = x.astype(F64)
    with np.errstate(invalid="ignore"):
        e = np.exp(x - x.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def ref_log_softmax(x):
    x = x.astype(F64)
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = x - x.max(1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(1, keepdims=True))


def ref_logsumexp(x):
    x = x.astype(F64)
    m = x.max(1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.log(np.exp(x - m).sum(1, keepdims=True)) + m)[:, 0]


def ref_softmax_backward(y, g):
    y, g = y.astype(F64), g.astype(F64)
    return y * (g - (g * y).sum(1, keepdims=True))


def ref_log_softmax_backward(y, g):
    y, g = y.astype(F64), g.astype(F64)
    return g - np.exp(y) * g.sum(1, keepdims=True)


def _close(got, want, bound, what):
    """|got - want| <= bound elementwise; nan and +-inf at the same places."""
    assert got.shape == want.shape, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: nan")
    inf = np.isinf(want)
    np.testing.assert_array_equal(got[inf], want[inf], err_msg=f"{what}: inf")
    ok = np.isfinite(want)
    err = np.abs(got[ok].astype(F64) - want[ok])
    worst = int(np.argmax(err - bound[ok])) if err.size else 0
    assert np.all(err <= bound[ok]), (f"{what}: error {err[worst]:.3g} above the bound "
                                      f"{bound[ok][worst]:.3g}")


def _softmax_bound(x, want, eps, c, tiny):
    """c eps y (1 + |x - m|) + tiny: relative errors of the sum, exp and scaling, plus the
    rounding of x - m (absolute |x - m| eps / 2, relative in exp); tiny: y below the normal
    range has no relative precision."""
    x = x.astype(F64)
    with np.errstate(invalid="ignore"):
        shifted = np.abs(x - x.max(1, keepdims=True))
        rel = np.where(want > 0, want * (1.0 + shifted), 0.0)     # exp(-inf) = 0 exactly
    return c * eps * rel + tiny


def _log_softmax_bound(x, want, eps, c):
    """c eps (|x - m| + log S + 1), S = sum exp(x - m): the magnitudes of y = (x - m) - log S,
    plus log's conversion of S's relative error into an absolute one."""
    x = x.astype(F64)
    with np.errstate(invalid="ignore"):
        shifted = np.abs(x - x.max(1, keepdims=True))
        return c * eps * (shifted + np.abs(shifted + want) + 1.0)


def _logsumexp_bound(x, want, eps, c):
    """c eps (|m| + log S + 1): the magnitudes of out = m + log S (m = 0 where not finite)."""
    m = np.abs(np.nan_to_num(x.astype(F64).max(1), nan=0.0, posinf=0.0, neginf=0.0))
    with np.errstate(invalid="ignore"):
        return c * eps * (m + np.abs(want - m) + 1.0)


def _upstream(x, seed):
    """g (R, K) float32: standard normal, with row 1 scaled to +-1e4."""
    g = np.random.default_rng(seed).standard_normal(x.shape)
    g[1] *= 1e4
    return g.astype(F32)


# -- kernels (float32) against the references --------------------------------------------------
@pytest.mark.parametrize("k", WIDTHS)
def test_softmax_forward(k):
    x = _rows(k)
    y = np.empty_like(x)
    K.softmax_forward(x, y)
    want = ref_softmax(x)
    _close(y, want, _softmax_bound(x, want, np.finfo(F32).eps, _c(k), TINY),
           f"softmax_forward K={k}")
    if k == 1:
        np.testing.assert_array_equal(y[[0, 1, 2, 3, 4]], 1.0)


@pytest.mark.parametrize("k", WIDTHS)
def test_log_softmax_forward(k):
    x = _rows(k)
    y = np.empty_like(x)
    K.log_softmax_forward(x, y)
    want = ref_log_softmax(x)
    _close(y, want, _log_softmax_bound(x, want, np.finfo(F32).eps, _c(k)),
           f"log_softmax_forward K={k}")
    if k == 1:
        np.testing.assert_array_equal(y[[0, 1, 2, 3, 4]], 0.0)


@pytest.mark.parametrize("k", WIDTHS)
def test_logsumexp_forward(k):
    x = _rows(k)
    out = np.empty(x.shape[0], F32)
    K.logsumexp_forward(x, out)
    want = ref_logsumexp(x)
    _close(out, want, _logsumexp_bound(x, want, np.finfo(F32).eps, _c(k)),
           f"logsumexp_forward K={k}")
    assert out[5] == -INF and out[6] == INF and np.isnan(out[7])
    if k == 1:
        np.testing.assert_array_equal(out[:4], x[:4, 0])


@pytest.mark.parametrize("k", WIDTHS)
def test_softmax_backward(k):
    y = ref_softmax(_rows(k)).astype(F32)                 # a softmax output (zeros, nan rows)
    g = _upstream(y, k)
    dx = np.empty_like(y)
    K.softmax_backward(y, g, dx)
    want = ref_softmax_backward(y, g)
    y64, g64 = y.astype(F64), g.astype(F64)
    # y (|g| + sum |g y|): the magnitudes in y (g - sum(g y))
    mag = np.abs(y64) * (np.abs(g64) + np.abs(g64 * y64).sum(1, keepdims=True))
    _close(dx, want, _c(k) * np.finfo(F32).eps * mag + TINY, f"softmax_backward K={k}")
    if k == 1:
        np.testing.assert_array_equal(dx[:5], 0.0)        # y = 1: g - g = 0


@pytest.mark.parametrize("k", WIDTHS)
def test_log_softmax_backward(k):
    y = ref_log_softmax(_rows(k)).astype(F32)             # log-probabilities (-inf, nan rows)
    g = _upstream(y, k)
    dx = np.empty_like(y)
    K.log_softmax_backward(y, g, dx)
    want = ref_log_softmax_backward(y, g)
    g64 = g.astype(F64)
    # |g| + exp(y) sum |g|: the magnitudes in g - exp(y) sum(g)
    mag = np.abs(g64) + np.exp(y.astype(F64)) * np.abs(g64).sum(1, keepdims=True)
    _close(dx, want, _c(k) * np.finfo(F32).eps * mag + TINY, f"log_softmax_backward K={k}")
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(dx[4][y[4] == -INF], g[4][y[4] == -INF])  # exp(-inf) = 0
    if k == 1:
        np.testing.assert_array_equal(dx[:5], 0.0)        # y = 0: g - g = 0


# -- the public ops: float32 (the kernels) and float64 (numpy) against the same formulas --------
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("k", [1, 17, 100])
def test_ops_match_the_formulas(dtype, k):
    eps = np.finfo(dtype).eps
    tiny = np.finfo(dtype).tiny
    x = _rows(k)[:5].astype(dtype)                        # finite rows and the -inf one
    g = _upstream(x, k + 1).astype(dtype)
    c = _c(k)

    xt = ag.tensor(x, requires_grad=True)
    y = ag.softmax(xt, -1)
    y.backward(ag.tensor(g))
    want = ref_softmax(x)
    assert y.dtype == dtype and xt.grad.dtype == dtype
    _close(y.data, want, _softmax_bound(x, want, eps, c, tiny), f"softmax {dtype.__name__}")
    y64, g64 = y.data.astype(F64), g.astype(F64)
    mag = y64 * (np.abs(g64) + np.abs(g64 * y64).sum(1, keepdims=True))
    _close(xt.grad.data, ref_softmax_backward(y.data, g), c * eps * mag + tiny,
           f"softmax grad {dtype.__name__}")

    xt = ag.tensor(x, requires_grad=True)
    y = ag.log_softmax(xt, -1)
    y.backward(ag.tensor(g))
    want = ref_log_softmax(x)
    _close(y.data, want, _log_softmax_bound(x, want, eps, c), f"log_softmax {dtype.__name__}")
    mag = np.abs(g64) + np.exp(y.data.astype(F64)) * np.abs(g64).sum(1, keepdims=True)
    _close(xt.grad.data, ref_log_softmax_backward(y.data, g), c * eps * mag + tiny,
           f"log_softmax grad {dtype.__name__}")

    out = ag.logsumexp(ag.tensor(x), -1).data
    want = ref_logsumexp(x)
    _close(out, want, _logsumexp_bound(x, want, eps, c), f"logsumexp {dtype.__name__}")
