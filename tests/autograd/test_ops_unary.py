"""Elementwise unary primitives (and clamp, maximum, where, ...) against PyTorch: one line per
case."""
import numpy as np
import pytest
import torch

import autograd as ag
from tests.helpers import check_op

# name, ours, reference, value domain (low, high) keeping the function defined and smooth
UNARY = [
    ("abs", ag.abs, torch.abs, -2, 2),
    ("absolute", ag.absolute, torch.absolute, -2, 2),
    ("sign", ag.sign, torch.sign, -2, 2),
    ("exp", ag.exp, torch.exp, -2, 2),
    ("expm1", ag.expm1, torch.expm1, -2, 2),
    ("log", ag.log, torch.log, 0.1, 3),
    ("log1p", ag.log1p, torch.log1p, -0.5, 3),
    ("log2", ag.log2, torch.log2, 0.1, 3),
    ("log10", ag.log10, torch.log10, 0.1, 3),
    ("sqrt", ag.sqrt, torch.sqrt, 0.1, 3),
    ("rsqrt", ag.rsqrt, torch.rsqrt, 0.2, 3),
    ("square", ag.square, torch.square, -2, 2),
    ("reciprocal", ag.reciprocal, torch.reciprocal, 0.3, 3),
    ("sin", ag.sin, torch.sin, -3, 3),
    ("cos", ag.cos, torch.cos, -3, 3),
    ("tan", ag.tan, torch.tan, -1.2, 1.2),
    ("asin", ag.asin, torch.asin, -0.9, 0.9),
    ("arcsin", ag.arcsin, torch.arcsin, -0.9, 0.9),
    ("acos", ag.acos, torch.acos, -0.9, 0.9),
    ("arccos", ag.arccos, torch.arccos, -0.9, 0.9),
    ("atan", ag.atan, torch.atan, -3, 3),
    ("arctan", ag.arctan, torch.arctan, -3, 3),
    ("sinh", ag.sinh, torch.sinh, -2, 2),
    ("cosh", ag.cosh, torch.cosh, -2, 2),
    ("tanh", ag.tanh, torch.tanh, -2, 2),
    ("sigmoid", ag.sigmoid, torch.sigmoid, -4, 4),
    ("relu", ag.relu, torch.relu, -2, 2),
    ("erf", ag.erf, torch.erf, -2, 2),
    ("floor", ag.floor, torch.floor, -3, 3),
    ("ceil", ag.ceil, torch.ceil, -3, 3),
    ("round", ag.round, torch.round, -3, 3),
    ("trunc", ag.trunc, torch.trunc, -3, 3),
    ("fix", ag.fix, torch.fix, -3, 3),
    ("nan_to_num", ag.nan_to_num, torch.nan_to_num, -2, 2),
]
SHAPES = [(3, 4), (), (0, 3), (2, 3, 4)]
IDS = [u[0] for u in UNARY]


@pytest.mark.parametrize("name,ours,ref,low,high", UNARY, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary(name, ours, ref, low, high, shape):
    check_op(ours, ref, [shape], low=low, high=high)


@pytest.mark.parametrize("name,ours,ref,low,high", UNARY, ids=IDS)
def test_unary_method(name, ours, ref, low, high):
    check_op(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [(2, 3)], low=low,
             high=high)


@pytest.mark.parametrize("name,ours,ref,low,high", UNARY, ids=IDS)
def test_unary_inplace(name, ours, ref, low, high):
    # x = leaf.clone(); x.name_(); gradients through the in-place write match PyTorch's
    check_op(lambda a: getattr(a.clone(), name + "_")(),
             lambda a: getattr(a.clone(), name + "_")(), [(2, 3)], low=low, high=high)


def test_inplace_returns_self_and_bumps_version():
    x = ag.tensor([1.0, 2.0])
    v = x._version
    assert x.exp_() is x and x._version == v + 1
    np.testing.assert_allclose(x.data, np.exp([1.0, 2.0]).astype(np.float32), rtol=1e-6)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ag.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="sin_.*leaf"):
        x.sin_()


def test_inplace_after_use_raises_version_error():
    x = ag.ones(3, requires_grad=True).clone()
    y = x.sin()
    x.exp_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(ag.ones(3))


@pytest.mark.parametrize("d", [1, 2, -1])
def test_round_decimals(d):
    check_op(lambda a: ag.round(a, decimals=d), lambda a: torch.round(a, decimals=d),
             [(3, 4)], low=-30, high=30)
    check_op(lambda a: a.round(decimals=1), lambda a: a.round(decimals=1), [(3,)])


BINARY = [
    ("atan2", ag.atan2, torch.atan2),
    ("arctan2", ag.arctan2, torch.arctan2),
    ("atan2_method", lambda a, b: a.atan2(b), lambda a, b: a.atan2(b)),
    ("maximum", ag.maximum, torch.maximum),
    ("minimum", ag.minimum, torch.minimum),
    ("maximum_method", lambda a, b: a.maximum(b), lambda a, b: a.maximum(b)),
    ("clamp_tensor_min", lambda a, b: ag.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b)),
    ("clamp_tensor_max", lambda a, b: ag.clamp(a, max=b), lambda a, b: torch.clamp(a, max=b)),
    ("lerp_scalar", lambda a, b: ag.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3)),
    ("lerp_scalar_hi", lambda a, b: ag.lerp(a, b, 0.8), lambda a, b: torch.lerp(a, b, 0.8)),
]
BINARY_SHAPES = [
    [(3, 4), (3, 4)],
    [(3, 1), (4,)],          # broadcast both ways
    [(), (2, 3)],            # 0-d
    [(2, 3), ()],
    [(0, 3), (3,)],          # size 0
]


@pytest.mark.parametrize("name,ours,ref", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary(name, ours, ref, shapes):
    check_op(ours, ref, shapes)


TERNARY_SHAPES = [
    [(3, 4), (3, 4), (3, 4)],
    [(3, 1), (4,), (1, 4)],
    [(2, 3), (), (3,)],
    [(0, 3), (3,), (1,)],
]


def _ordered_bounds(x, lo, hi):
    return x, lo - 1.0, hi + 1.0          # lo < hi almost everywhere, crossing sometimes


@pytest.mark.parametrize("shapes", TERNARY_SHAPES, ids=str)
def test_clamp_tensor_bounds(shapes):
    check_op(lambda x, lo, hi: ag.clamp(*_ordered_bounds(x, lo, hi)),
             lambda x, lo, hi: torch.clamp(*_ordered_bounds(x, lo, hi)), shapes)
    check_op(lambda x, lo, hi: ag.clamp(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi),
             shapes)                      # lo > hi in places: the gradient goes to hi


@pytest.mark.parametrize("shapes", TERNARY_SHAPES, ids=str)
def test_lerp_tensor_weight(shapes):
    check_op(ag.lerp, torch.lerp, shapes, low=-1, high=1.5)


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None), (1.0, -1.0),
                                   (-1, 1)])
def test_clamp_scalar(lo, hi):
    check_op(lambda a: ag.clamp(a, lo, hi), lambda a: torch.clamp(a, lo, hi), [(3, 4)])
    check_op(lambda a: a.clip(lo, hi), lambda a: a.clip(lo, hi), [(5,)])
    check_op(lambda a: a.clone().clamp_(lo, hi), lambda a: a.clone().clamp_(lo, hi), [(5,)])


def test_clamp_min_max_methods():
    check_op(lambda a: a.clamp_min(0.2), lambda a: a.clamp_min(0.2), [(3, 4)])
    check_op(lambda a: a.clamp_max(0.2), lambda a: a.clamp_max(0.2), [(3, 4)])
    check_op(lambda a, b: a.clamp_min(b), lambda a, b: a.clamp_min(b), [(3, 4), (4,)])


def test_clamp_at_bounds_matches_torch():
    # the bound itself belongs to the input: x == min or x == max gets the gradient
    def inputs(rng, dtype):
        return [np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), np.array([-0.5, -0.5, 1.0, 0.5, 2.0]),
                np.array([0.5, 0.5, 0.0, 0.5, 1.0])]
    check_op(ag.clamp, torch.clamp, make_inputs=inputs, gradcheck=False)
    check_op(lambda a, b, c: ag.clamp(a, -0.5, 0.5), lambda a, b, c: torch.clamp(a, -0.5, 0.5),
             make_inputs=inputs, gradcheck=False)


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="clamp"):
        ag.clamp(ag.ones(2))


def _ties(rng, dtype):
    a = rng.integers(-2, 3, size=(4, 5)).astype(dtype)
    b = rng.integers(-2, 3, size=(5,)).astype(dtype)
    return [a, b]


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_gradient(op):
    check_op(getattr(ag, op), getattr(torch, op), make_inputs=_ties, gradcheck=False)
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ag.tensor([1.0, 1.0, 4.0], requires_grad=True)
    getattr(ag, op)(x, y).backward(ag.ones(3))
    want_x = [0.5, 1.0, 0.0] if op == "maximum" else [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(x.grad.data, want_x)
    np.testing.assert_array_equal(y.grad.data, 1.0 - np.array(want_x))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy warns, torch does not
def test_maximum_nan_propagates():
    def inputs(rng, dtype):
        return [np.array([np.nan, 1.0, 2.0]), np.array([1.0, np.nan, 3.0])]
    check_op(ag.maximum, torch.maximum, make_inputs=inputs, gradcheck=False)
    check_op(ag.minimum, torch.minimum, make_inputs=inputs, gradcheck=False)


def _condition(shape_c, shape_a, shape_b):
    def make(rng, dtype):
        return [rng.uniform(-1, 1, shape_c) > 0, rng.uniform(-2, 2, shape_a).astype(dtype),
                rng.uniform(-2, 2, shape_b).astype(dtype)]
    return make


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4), (3, 4)], [(3, 1), (4,), (3, 4)],
                                    [(2, 3), (), (1, 3)], [(), (2, 3), (2, 3)],
                                    [(0, 3), (3,), (1,)]], ids=str)
def test_where(shapes):
    check_op(ag.where, torch.where, make_inputs=_condition(*shapes))
    check_op(lambda c, a, b: a.where(c, b), lambda c, a, b: a.where(c, b),
             make_inputs=_condition(*shapes))


def test_where_scalars():
    make = _condition((3, 4), (3, 4), (4,))
    check_op(lambda c, a, b: ag.where(c, a, 0.5), lambda c, a, b: torch.where(c, a, 0.5),
             make_inputs=make)
    check_op(lambda c, a, b: ag.where(c, -1.0, b), lambda c, a, b: torch.where(c, -1.0, b),
             make_inputs=make)
    check_op(lambda c, a, b: ag.where(c, 1.0, 0), lambda c, a, b: torch.where(c, 1.0, 0),
             make_inputs=make)


def test_where_condition_only_is_nonzero():
    c = np.array([[True, False], [False, True]])
    got = ag.where(ag.tensor(c))
    want = torch.where(torch.tensor(c))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.data, w.numpy())
        assert g.dtype == w.numpy().dtype


def test_where_condition_must_be_bool():
    with pytest.raises(RuntimeError, match="where.*bool"):
        ag.where(ag.tensor([1, 0]), ag.ones(2), ag.zeros(2))


def _mask(shape_x, shape_m):
    def make(rng, dtype):
        return [rng.uniform(-2, 2, shape_x).astype(dtype), rng.uniform(-1, 1, shape_m) > 0,
                rng.uniform(-2, 2, ()).astype(dtype)]
    return make


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(3, 4), (4,)], [(3, 1), (3, 4)],
                                    [(), ()], [(0, 3), (3,)]], ids=str)
def test_masked_fill(shapes):
    make = _mask(*shapes)
    check_op(lambda x, m, v: ag.masked_fill(x, m, 2.5),
             lambda x, m, v: torch.masked_fill(x, m, 2.5), make_inputs=make)
    # a 0-d tensor value gets the masked sum of the gradient
    check_op(lambda x, m, v: x.masked_fill(m, v), lambda x, m, v: x.masked_fill(m, v),
             make_inputs=make)


def test_masked_fill_inplace():
    make = _mask((3, 4), (4,))
    check_op(lambda x, m, v: x.clone().masked_fill_(m, v),
             lambda x, m, v: x.clone().masked_fill_(m, v), make_inputs=make)


def test_masked_fill_errors():
    with pytest.raises(RuntimeError, match="masked_fill.*bool"):
        ag.ones(2, 3).masked_fill(ag.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match=r"masked_fill.*\(2, 3\).*\(2,\)"):
        ag.ones(2, 3).masked_fill(ag.tensor([True, False]), 0.0)
    with pytest.raises(RuntimeError, match="masked_fill.*0-dimensional"):
        ag.ones(2, 3).masked_fill(ag.tensor([True, False, True]), ag.ones(3))


def test_lerp_method_and_inplace():
    check_op(lambda a, b: a.lerp(b, 0.25), lambda a, b: a.lerp(b, 0.25), [(3, 4), (4,)])
    check_op(lambda a, b, w: a.clone().lerp_(b, w), lambda a, b, w: a.clone().lerp_(b, w),
             [(3, 4), (4,), (3, 1)])


def test_lerp_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="lerp.*end"):
        ag.lerp(ag.ones(2), ag.ones(2, dtype=ag.float64), 0.5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy warns, torch does not
def test_nan_to_num_special_values():
    def inputs(rng, dtype):
        return [np.array([np.nan, np.inf, -np.inf, 1.5, -0.5])]
    check_op(ag.nan_to_num, torch.nan_to_num, make_inputs=inputs, gradcheck=False)
    check_op(lambda a: ag.nan_to_num(a, nan=1.0, posinf=9.0, neginf=-9.0),
             lambda a: torch.nan_to_num(a, nan=1.0, posinf=9.0, neginf=-9.0),
             make_inputs=inputs, gradcheck=False)
    check_op(lambda a: a.clone().nan_to_num_(2.0), lambda a: a.clone().nan_to_num_(2.0),
             make_inputs=inputs, gradcheck=False)


# -- conventions at special points ---------------------------------------------------------

def _at(values):
    def make(rng, dtype):
        return [np.array(values)]
    return make


def _clamp01(module):
    def fn(a):
        return module.clamp(a, 0.0, 1.0)
    return fn


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy warns, torch does not
@pytest.mark.parametrize("name", ["abs", "sign", "relu", "floor", "ceil", "round", "trunc",
                                  "sqrt", "clamp"])
def test_gradient_at_zero_matches_torch(name):
    ours = _clamp01(ag) if name == "clamp" else getattr(ag, name)
    ref = _clamp01(torch) if name == "clamp" else getattr(torch, name)
    check_op(ours, ref, make_inputs=_at([0.0, -0.0, 0.0, 1.0, -1.0, 2.5]), gradcheck=False)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy warns, torch does not
def test_special_point_conventions():
    x = ag.zeros(3, requires_grad=True)
    for fn, want in [(ag.abs, 0.0), (ag.sign, 0.0), (ag.relu, 0.0), (ag.floor, 0.0),
                     (ag.sqrt, np.inf)]:
        (g,) = ag.grad(fn(x), x, ag.ones(3))
        np.testing.assert_array_equal(g.data, np.full(3, want, np.float32))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy warns, torch does not
@pytest.mark.parametrize("name", ["sign", "abs", "relu", "clamp"])
def test_values_and_gradients_at_nan_match_torch(name):
    ours = _clamp01(ag) if name == "clamp" else getattr(ag, name)
    ref = _clamp01(torch) if name == "clamp" else getattr(torch, name)
    check_op(ours, ref, make_inputs=_at([np.nan, -1.0, 0.0, 0.5]), gradcheck=False)


def test_sigmoid_extremes_no_overflow():
    check_op(ag.sigmoid, torch.sigmoid, make_inputs=_at([-200.0, -50.0, 0.0, 50.0, 200.0]),
             gradcheck=False)


# -- higher order ------------------------------------------------------------------------------

def _nth_grads(x, y, n, grad):
    out = []
    for _ in range(n):
        (y,) = grad(y, x, [torch.ones_like(y) if isinstance(y, torch.Tensor) else
                           ag.ones(*y.shape, dtype=y.dtype)], create_graph=True)
        out.append(y)
    return out


@pytest.mark.parametrize("name,low,high", [("tanh", -2, 2), ("sigmoid", -3, 3),
                                           ("exp", -1, 1), ("log", 0.5, 2), ("sqrt", 0.5, 2),
                                           ("sin", -2, 2), ("atan", -2, 2), ("erf", -2, 2),
                                           ("rsqrt", 0.5, 2), ("reciprocal", 0.5, 2),
                                           ("asin", -0.8, 0.8), ("expm1", -1, 1)])
def test_third_derivative_matches_torch(name, low, high):
    rng = np.random.default_rng(0)
    data = rng.uniform(low, high, (5,))
    x = ag.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    ours = _nth_grads(x, getattr(ag, name)(x), 3, ag.grad)
    want = _nth_grads(tx, getattr(torch, name)(tx), 3, torch.autograd.grad)
    for o, w in zip(ours, want):
        np.testing.assert_allclose(o.data, w.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda a, b: ag.atan2(a, b), lambda a, b: ag.maximum(a, b) * a,
    lambda a, b: ag.lerp(a, b, b), lambda a, b: ag.where(a > 0, a * b, b * b),
    lambda a, b: ag.clamp(a, -0.5, 0.5) * b, lambda a, b: a.masked_fill(b > 0, 1.0) * b,
])
def test_gradgradcheck_binary(fn):
    rng = np.random.default_rng(1)
    a = ag.tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True)
    b = ag.tensor(rng.uniform(0.5, 1.5, (4,)), requires_grad=True)
    go = ag.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def first_order(a, b, go):
        # (recording is re-enabled: gradcheck evaluates under no_grad)
        with ag.enable_grad():
            return ag.grad(fn(a, b), (a, b), go, create_graph=True)
    assert ag.autograd.gradcheck(first_order, (a, b, go))


# -- dtypes ------------------------------------------------------------------------------------

FLOAT_FNS = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal",
             "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid",
             "erf"]
KEEP_FNS = ["abs", "sign", "square", "relu", "floor", "ceil", "round", "trunc", "nan_to_num"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy warns, torch does not
@pytest.mark.parametrize("name", FLOAT_FNS + KEEP_FNS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_inputs_dtype_matches_torch(name, dtype):
    if dtype == "bool" and name in ("abs", "square", "relu", "floor", "ceil", "round",
                                    "trunc", "nan_to_num"):
        pytest.skip("PyTorch does not implement this op for bool")
    data = np.array([0, 1, 1, 0]).astype(dtype) if dtype == "bool" else \
        np.array([1, 2, 0, -3]).astype(dtype)
    ours = getattr(ag, name)(ag.tensor(data))
    want = getattr(torch, name)(torch.tensor(data))
    assert ours.dtype == want.numpy().dtype
    np.testing.assert_allclose(ours.data, want.numpy(), rtol=1e-6, atol=1e-6)


def test_atan2_integer_inputs_give_float32():
    assert ag.atan2(ag.tensor([1, 2]), ag.tensor([1, 1])).dtype == ag.float32


@pytest.mark.parametrize("fn", [
    lambda x: ag.clamp(x, 0.1, 0.9), lambda x: ag.clamp(x, min=0.5),
    lambda x: ag.clamp(x, ag.tensor(0.1, dtype=ag.float64), None),
    lambda x: ag.where(x > 0, x, 0.5), lambda x: ag.where(x > 0, 1.5, x),
    lambda x: ag.lerp(x, x * 2, 0.3), lambda x: ag.masked_fill(x, x > 0, 2.5),
    lambda x: ag.maximum(x, ag.tensor(0.1, dtype=ag.float64)), lambda x: ag.minimum(x, 0.5),
    lambda x: ag.nan_to_num(x, 1.5, 2.5, -2.5), lambda x: ag.round(x, decimals=2),
    lambda x: ag.log2(x), lambda x: ag.log10(x), lambda x: ag.erf(x),
    lambda x: ag.sqrt(x), lambda x: ag.sigmoid(x), lambda x: ag.atan2(x, 2.0),
    lambda x: x.clone().fill_(0.5), lambda x: x.clone().copy_(ag.ones(3, dtype=ag.float64)),
])
def test_float32_stays_float32(fn):
    x = ag.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = fn(x)
    assert y.dtype == ag.float32
    if y.requires_grad:
        (g,) = ag.grad(y, x, ag.ones(3), allow_unused=True)
        assert g is None or g.dtype == ag.float32


def test_float64_stays_float64():
    x = ag.tensor([0.5, 1.0], dtype=ag.float64)
    for name in FLOAT_FNS + KEEP_FNS:
        assert getattr(ag, name)(x).dtype == ag.float64, name


def test_clamp_promotes_like_torch():
    for bound in (ag.tensor([0.5, 1.5], dtype=ag.float64), 0.5, 1):
        ours = ag.clamp(ag.tensor([1, 2]), min=bound)
        tb = torch.tensor(bound.data) if isinstance(bound, ag.Tensor) else bound
        want = torch.clamp(torch.tensor([1, 2]), min=tb)
        assert ours.dtype == want.numpy().dtype
        np.testing.assert_allclose(ours.data, want.numpy())


# -- fill_, zero_, copy_ -----------------------------------------------------------------------

def test_fill_zero_copy_inplace():
    check_op(lambda a: a.clone().fill_(1.5) * a, lambda a: a.clone().fill_(1.5) * a, [(2, 3)])
    check_op(lambda a, v: a.clone().fill_(v) * a, lambda a, v: a.clone().fill_(v) * a,
             [(2, 3), ()])
    check_op(lambda a: a.clone().zero_() + a, lambda a: a.clone().zero_() + a, [(2, 3)])
    check_op(lambda a, s: a.clone().copy_(s) * a, lambda a, s: a.clone().copy_(s) * a,
             [(2, 3), (3,)])
    check_op(lambda a, s: a.clone().copy_(s), lambda a, s: a.clone().copy_(s), [(2, 3), (2, 3)])


def test_copy_casts_to_self_and_grad_to_src_dtype():
    for dst, src in [("float32", "float64"), ("float64", "float32"), ("float32", "int64")]:
        x = ag.zeros(2, 3, dtype=dst)
        s = ag.tensor(np.arange(3).astype(src), requires_grad=src != "int64")
        x.copy_(s)
        assert x.dtype == np.dtype(dst)
        np.testing.assert_array_equal(x.data, np.broadcast_to(np.arange(3), (2, 3)))
        if s.requires_grad:
            x.backward(ag.ones(2, 3, dtype=dst))
            assert s.grad.dtype == np.dtype(src)
            np.testing.assert_array_equal(s.grad.data, [2, 2, 2])


def test_copy_into_buffer_that_does_not_require_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    buf = ag.zeros(2)
    buf.copy_(w)
    assert buf.requires_grad and buf.grad_fn is not None
    (buf * 3).backward(ag.ones(2))
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


def test_fill_and_zero_under_no_grad_on_leaf():
    w = ag.ones(2, 2, requires_grad=True)
    with ag.no_grad():
        w.fill_(0.25)
        assert w.is_leaf and w.requires_grad
        np.testing.assert_array_equal(w.data, np.full((2, 2), 0.25, np.float32))
        w.zero_()
    np.testing.assert_array_equal(w.data, np.zeros((2, 2)))
    assert ag.fill_(ag.ones(2), 3.0).data.tolist() == [3.0, 3.0]
    assert ag.zero_(ag.ones(2)).data.tolist() == [0.0, 0.0]


def test_fill_copy_errors():
    with pytest.raises(RuntimeError, match=r"copy_.*\(4,\).*\(2, 3\)"):
        ag.zeros(2, 3).copy_(ag.ones(4))
    with pytest.raises(RuntimeError, match="fill.*0-dimensional"):
        ag.zeros(2, 3).fill_(ag.ones(3))
    with pytest.raises(RuntimeError, match="exp_"):
        ag.tensor([1, 2]).exp_()        # float result cannot be written into int64


# -- shape errors name the op and the shapes ---------------------------------------------------

@pytest.mark.parametrize("name,call", [
    ("atan2", lambda a, b: ag.atan2(a, b)),
    ("maximum", lambda a, b: ag.maximum(a, b)),
    ("minimum", lambda a, b: ag.minimum(a, b)),
    ("clamp", lambda a, b: ag.clamp(a, min=b)),
    ("lerp", lambda a, b: ag.lerp(a, b, 0.5)),
    ("where", lambda a, b: ag.where(a > 0, a, b)),
])
def test_shape_mismatch_error_names_op_and_shapes(name, call):
    with pytest.raises(RuntimeError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        call(ag.ones(2, 3, requires_grad=True), ag.ones(4))


def test_abs_operator_and_inplace_keywords():
    check_op(lambda a: abs(a), lambda a: abs(a), [(3, 4)])
    check_op(lambda a: a.clone().round_(decimals=1), lambda a: a.clone().round_(decimals=1),
             [(3, 4)])
    check_op(lambda a, lo: a.clone().clamp_(min=lo), lambda a, lo: a.clone().clamp_(min=lo),
             [(3, 4), (4,)])
    check_op(lambda a, b: a.clone().atan2_(b), lambda a, b: a.clone().atan2_(b),
             [(3, 4), (4,)])


# where and masked_fill on >= 4096 elements take the bit-blend select (ops/_util.select)
@pytest.mark.parametrize("shapes", [[(64, 96), (64, 96), (64, 96)], [(64, 1), (96,), (64, 96)],
                                    [(64, 96), (), (96,)]], ids=str)
def test_where_large(shapes):
    check_op(ag.where, torch.where, make_inputs=_condition(*shapes), gradcheck=False)


@pytest.mark.parametrize("shapes", [[(64, 96), (64, 96)], [(64, 96), (96,)]], ids=str)
def test_masked_fill_large(shapes):
    check_op(lambda x, m, v: x.masked_fill(m, v), lambda x, m, v: x.masked_fill(m, v),
             make_inputs=_mask(*shapes), gradcheck=False)


@pytest.mark.parametrize("dtype", ["f4", "f8", "f2", "i8", "i4", "u1", "bool"])
def test_select_is_bit_exact_np_where(dtype):
    from autograd.ops._util import select
    rng = np.random.default_rng(0)
    for sc, sa, sb in [((80, 64), (80, 64), ()), ((80, 1), (1, 64), (80, 64)),
                       ((0, 5000), (0, 5000), ())]:
        c = rng.random(sc) < 0.5
        a = (rng.standard_normal(sa) * 10).astype(dtype)
        b = (rng.standard_normal(sb) * 10).astype(dtype)
        if a.dtype.kind == "f" and a.size >= 3:
            a.flat[:3] = [np.nan, np.inf, -0.0]
        got, want = select(c, a, b), np.where(c, a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
