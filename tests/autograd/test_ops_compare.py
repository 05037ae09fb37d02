"""Comparison, logical, bitwise and value-test ops against PyTorch: one line per case."""
import numpy as np
import pytest
import torch

import autograd as ag
from tests.helpers import check_op


def _rounded(*shapes):
    """Values on a coarse grid, so that equal elements (ties) occur."""
    def make(rng, dtype):
        return [np.round(rng.uniform(-2, 2, s) * 2).astype(dtype) / 2 for s in shapes]
    return make


def _ints(*shapes, dtype="int64"):
    def make(rng, _):
        return [rng.integers(-4, 5, s).astype(dtype) for s in shapes]
    return make


def _bools(*shapes):
    def make(rng, _):
        return [rng.uniform(-1, 1, s) > 0 for s in shapes]
    return make


COMPARE = ["eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge",
           "greater_equal"]
OPERATORS = [
    ("==", lambda a, b: a == b), ("!=", lambda a, b: a != b), ("<", lambda a, b: a < b),
    ("<=", lambda a, b: a <= b), (">", lambda a, b: a > b), (">=", lambda a, b: a >= b),
]
SHAPES = [[(3, 4), (3, 4)], [(3, 1), (4,)], [(), (2, 3)], [(2, 3), ()], [(0, 3), (3,)]]


@pytest.mark.parametrize("name", COMPARE)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_compare(name, shapes):
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=_rounded(*shapes))
    check_op(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b),
             make_inputs=_rounded(*shapes))


@pytest.mark.parametrize("op,fn", OPERATORS, ids=[o[0] for o in OPERATORS])
def test_operators_with_scalars_on_either_side(op, fn):
    make = _rounded((3, 4), (4,))
    check_op(fn, fn, make_inputs=make)
    check_op(lambda a, b: fn(a, 0.5), lambda a, b: fn(a, 0.5), make_inputs=make)
    check_op(lambda a, b: fn(0.5, a), lambda a, b: fn(0.5, a), make_inputs=make)
    check_op(lambda a, b: fn(a, 1), lambda a, b: fn(a, 1), make_inputs=make)


@pytest.mark.parametrize("dt_a,dt_b", [("int64", "float32"), ("float32", "float64"),
                                       ("int32", "int64"), ("bool", "int64"),
                                       ("float32", "int64")])
def test_compare_promotes_mixed_dtypes(dt_a, dt_b):
    a = np.array([[0, 1, 2], [3, 4, 5]])
    b = np.array([0, 2, 2])
    for x, y in [(a, b), (a, b[1])]:
        for name in ("eq", "lt", "ge"):
            ours = getattr(ag, name)(ag.tensor(x.astype(dt_a)), ag.tensor(y.astype(dt_b)))
            want = getattr(torch, name)(torch.tensor(x.astype(dt_a)),
                                        torch.tensor(y.astype(dt_b)))
            assert ours.dtype == np.bool_
            np.testing.assert_array_equal(ours.data, want.numpy())


def test_float32_against_python_float_compares_in_float32():
    x = ag.tensor([0.1, 0.2])
    assert (x == 0.1).tolist() == (torch.tensor([0.1, 0.2]) == 0.1).tolist() == [True, False]
    assert (ag.tensor([1, 2]) == 2.5).tolist() == [False, False]
    assert (ag.tensor([1, 2]) < 1.5).tolist() == [True, False]


def test_results_need_no_grad():
    x = ag.ones(2, 3, requires_grad=True)
    for out in (x > 0, x == x, ag.isnan(x), ag.logical_not(x), ag.isclose(x, x), ag.any(x)):
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None


def test_eq_with_non_numbers():
    x = ag.tensor([1.0, 2.0])
    assert (x == None) is False    # noqa: E711 - PyTorch gives False, as for any object
    assert (x != None) is True     # noqa: E711
    assert (x == "a") is False
    with pytest.raises(TypeError):
        x < None                   # noqa: B015


LOGICAL = ["logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("name", LOGICAL)
@pytest.mark.parametrize("make", [_bools((3, 4), (4,)), _rounded((3, 4), (3, 1)),
                                  _ints((2, 3), (2, 3)), _bools((), (0, 2))],
                         ids=["bool", "float", "int", "empty"])
def test_logical(name, make):
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=make)
    check_op(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b),
             make_inputs=make)


@pytest.mark.parametrize("make", [_bools((3, 4)), _rounded((3, 4)), _ints(()),
                                  _ints((0, 3))], ids=["bool", "float", "int", "empty"])
def test_logical_not(make):
    check_op(ag.logical_not, torch.logical_not, make_inputs=make)
    check_op(lambda a: a.logical_not(), lambda a: a.logical_not(), make_inputs=make)


BITWISE = [("&", "bitwise_and", lambda a, b: a & b), ("|", "bitwise_or", lambda a, b: a | b),
           ("^", "bitwise_xor", lambda a, b: a ^ b)]


@pytest.mark.parametrize("op,name,fn", BITWISE, ids=[b[0] for b in BITWISE])
@pytest.mark.parametrize("make", [_bools((3, 4), (4,)), _ints((3, 4), (3, 1)),
                                  _ints((2, 3), (), dtype="int32"), _bools((0, 2), ())],
                         ids=["bool", "int64", "int32", "empty"])
def test_bitwise(op, name, fn, make):
    check_op(fn, fn, make_inputs=make)
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=make)
    check_op(lambda a, b: fn(a, 3), lambda a, b: fn(a, 3), make_inputs=make)
    check_op(lambda a, b: fn(True, a), lambda a, b: fn(True, a), make_inputs=make)


def test_bitwise_mixed_bool_int_promotes():
    check_op(lambda a, b: a & b, lambda a, b: a & b,
             make_inputs=lambda rng, _: [_bools((3,))(rng, _)[0], _ints((3,))(rng, _)[0]])


@pytest.mark.parametrize("make", [_bools((3, 4)), _ints((3, 4)), _ints((), dtype="int32")],
                         ids=["bool", "int64", "int32"])
def test_bitwise_not(make):
    check_op(lambda a: ~a, lambda a: ~a, make_inputs=make)
    check_op(ag.bitwise_not, torch.bitwise_not, make_inputs=make)


def test_bitwise_rejects_floats():
    with pytest.raises(RuntimeError, match="bitwise_and.*float32"):
        ag.ones(2) & ag.ones(2)
    with pytest.raises(RuntimeError, match="bitwise_not.*float32"):
        ~ag.ones(2)
    with pytest.raises(RuntimeError, match="bitwise_or"):
        ag.tensor([1, 2]) | 1.5


def _special(rng, dtype):
    return [np.array([[np.nan, np.inf, -np.inf], [0.0, -1.5, 2.0]])]


@pytest.mark.parametrize("name", ["isnan", "isinf", "isposinf", "isneginf", "isfinite"])
def test_value_tests(name):
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=_special)
    check_op(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), make_inputs=_special)
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=_ints((2, 3)))
    check_op(getattr(ag, name), getattr(torch, name), [(0, 3)])


def _near(rng, dtype):
    a = rng.uniform(-2, 2, (4, 5))
    scale = rng.choice([0.0, 1e-9, 1e-6, 1e-4, 1e-2], size=(4, 5))
    b = a * (1 + scale) + rng.choice([0.0, 1e-9, 1e-7], size=(4, 5))
    a[0, :3] = [np.nan, np.inf, -np.inf]
    b[0, :3] = [np.nan, np.inf, np.inf]
    return [a.astype(dtype), b.astype(dtype)]


@pytest.mark.parametrize("kwargs", [{}, {"rtol": 1e-3}, {"atol": 1e-6, "rtol": 0.0},
                                    {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}],
                         ids=str)
def test_isclose(kwargs):
    check_op(lambda a, b: ag.isclose(a, b, **kwargs),
             lambda a, b: torch.isclose(a, b, **kwargs), make_inputs=_near)
    check_op(lambda a, b: a.isclose(b, **kwargs), lambda a, b: a.isclose(b, **kwargs),
             make_inputs=_near)


def test_isclose_broadcast_and_ints():
    check_op(ag.isclose, torch.isclose, make_inputs=_rounded((3, 4), (4,)))
    check_op(ag.isclose, torch.isclose, make_inputs=_ints((3, 4), (3, 4)))


def test_allclose_and_equal():
    a = np.array([1.0, 2.0, 3.0])
    for b in (a, a + 1e-7, a + 1e-3, np.array([1.0, 2.0, np.nan])):
        for kwargs in ({}, {"atol": 1e-2}, {"equal_nan": True}):
            want = torch.allclose(torch.tensor(a), torch.tensor(b), **kwargs)
            assert ag.allclose(ag.tensor(a), ag.tensor(b), **kwargs) is want
        want = torch.equal(torch.tensor(a), torch.tensor(b))
        assert ag.equal(ag.tensor(a), ag.tensor(b)) is want
        assert ag.tensor(a).equal(ag.tensor(b)) is want
    assert ag.equal(ag.ones(2), ag.ones(3)) is False
    assert ag.equal(ag.ones(2), ag.ones(2, dtype=ag.float64)) is True
    assert ag.allclose(ag.ones(2, 3), ag.ones(3)) is True


def test_isclose_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="isclose.*float32.*float64"):
        ag.isclose(ag.ones(2), ag.ones(2, dtype=ag.float64))


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                         ((0, 2), False), ((0, 1, 2), True)], ids=str)
def test_any_all(name, dim, keepdim):
    def make(rng, _):
        return [rng.uniform(-1, 1, (2, 3, 4)) > 0.6]
    if dim is None:
        ours, ref = getattr(ag, name), getattr(torch, name)
    else:
        def ours(a):
            return getattr(ag, name)(a, dim, keepdim)

        def ref(a):
            return getattr(torch, name)(a, dim, keepdim)
    check_op(ours, ref, make_inputs=make)
    check_op(ours, ref, make_inputs=_rounded((2, 3, 4)))           # nonzero floats are True
    check_op(ours, ref, make_inputs=_ints((2, 3, 4), dtype="uint8"))   # uint8 stays uint8
    check_op(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), make_inputs=make)


@pytest.mark.parametrize("name", ["any", "all"])
def test_any_all_empty_and_0d(name):
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=_bools((0, 3)))
    check_op(lambda a: getattr(ag, name)(a, 0), lambda a: getattr(torch, name)(a, 0),
             make_inputs=_bools((0, 3)))
    check_op(getattr(ag, name), getattr(torch, name), make_inputs=_bools(()))


def test_any_dim_out_of_range_names_op():
    with pytest.raises(IndexError, match="any"):
        ag.any(ag.ones(2, 3), 2)


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_inplace_comparisons(name):
    make = _rounded((3, 4), (4,))
    # (no gradcheck: a comparison jumps at the ties the inputs are made to have)
    check_op(lambda a, b: getattr(a.clone(), name + "_")(b) * a,
             lambda a, b: getattr(a.clone(), name + "_")(b) * a, make_inputs=make,
             gradcheck=False)
    check_op(lambda a, b: getattr(a.clone(), name + "_")(b) * a,
             lambda a, b: getattr(a.clone(), name + "_")(b) * a, make_inputs=_ints((3, 4), (4,)))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_inplace_logical(name):
    make = _rounded((3, 4), (4,))
    check_op(lambda a, b: getattr(a.clone(), name + "_")(b),
             lambda a, b: getattr(a.clone(), name + "_")(b), make_inputs=make, grad=False)
    # PyTorch leaves the clone's grad_fn in place (the gradient passes as if unchanged);
    # the result is piecewise constant, so ours gives the true gradient: zero
    a = ag.tensor([1.0, 0.0, 3.0], requires_grad=True)
    b = ag.tensor([1.0, 0.0, 0.0], requires_grad=True)
    y = getattr(a.clone(), name + "_")(b)
    ga, gb = ag.grad(y, (a, b), ag.ones(3))
    assert not ga.data.any() and not gb.data.any()


def test_inplace_logical_not_and_bitwise():
    check_op(lambda a: a.clone().logical_not_(), lambda a: a.clone().logical_not_(),
             make_inputs=_rounded((3, 4)), grad=False)
    check_op(lambda a, b: a.clone().bitwise_xor_(b), lambda a, b: a.clone().bitwise_xor_(b),
             make_inputs=_ints((3, 4), (4,)))


@pytest.mark.parametrize("name,call", [
    ("eq", lambda a, b: a == b), ("lt", lambda a, b: ag.lt(a, b)),
    ("logical_and", lambda a, b: ag.logical_and(a, b)),
    ("bitwise_and", lambda a, b: (a > 0) & (b > 0)),
    ("isclose", lambda a, b: ag.isclose(a, b)),
])
def test_shape_mismatch_error_names_op_and_shapes(name, call):
    with pytest.raises(RuntimeError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        call(ag.ones(2, 3, requires_grad=True), ag.ones(4))
