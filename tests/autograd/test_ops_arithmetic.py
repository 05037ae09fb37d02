"""Arithmetic primitives against PyTorch: one line per case."""
import numpy as np
import pytest
import torch

import autograd as ag
from tests.helpers import check_op

BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("add_alpha", lambda a, b: ag.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5)),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("sub_alpha", lambda a, b: ag.sub(a, b, alpha=-3), lambda a, b: torch.sub(a, b, alpha=-3)),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (b.abs() + 0.5), lambda a, b: a / (b.abs() + 0.5)),
    ("remainder", lambda a, b: a % (b.abs() + 0.5), lambda a, b: a % (b.abs() + 0.5)),
    ("fmod", lambda a, b: ag.fmod(a, b.abs() + 0.5), lambda a, b: torch.fmod(a, b.abs() + 0.5)),
]
SHAPES = [
    [(3, 4), (3, 4)],
    [(3, 1), (4,)],          # broadcast both ways
    [(), (2, 3)],            # 0-d
    [(2, 3), ()],
    [(0, 3), (3,)],          # size 0
    [(2, 1, 4), (3, 1)],
]


@pytest.mark.parametrize("name,ours,ref", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary(name, ours, ref, shapes):
    check_op(ours, ref, shapes)


def test_floor_divide():
    check_op(lambda a, b: a // (b.abs() + 0.5), lambda a, b: a // (b.abs() + 0.5),
             [(3, 4), (4,)], grad=False)


FLOOR_DIVIDE = [   # (id, ours, PyTorch's): PyTorch has no derivative for floor_divide
    ("function", lambda a, b: ag.floor_divide(a, b.abs() + 0.5),
     lambda a, b: torch.floor_divide(a, b.abs() + 0.5)),
    ("method", lambda a, b: a.floor_divide(b.abs() + 0.5),
     lambda a, b: a.floor_divide(b.abs() + 0.5)),
    ("function_scalar", lambda a, b: ag.floor_divide(a * b, 0.75),
     lambda a, b: torch.floor_divide(a * b, 0.75)),
    ("method_scalar", lambda a, b: (a * b).floor_divide(-1.5),
     lambda a, b: (a * b).floor_divide(-1.5)),
]


@pytest.mark.parametrize("name,ours,ref", FLOOR_DIVIDE, ids=[c[0] for c in FLOOR_DIVIDE])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_floor_divide_function_and_method(name, ours, ref, shapes):
    check_op(ours, ref, shapes, grad=False)


@pytest.mark.parametrize("shape", [(3, 4), (), (0,)], ids=str)
def test_neg(shape):
    check_op(lambda a: -a, lambda a: -a, [shape])


@pytest.mark.parametrize("e", [2, 3, 0.5, -1.5, 0, 1])
def test_pow_scalar(e):
    check_op(lambda a: a ** e, lambda a: a ** e, [(3, 4)], low=0.2, high=2)


@pytest.mark.parametrize("e", [2, 0.5, -1.5])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0)], ids=str)
def test_pow_scalar_0d_and_size_0(shape, e):
    check_op(lambda a: a ** e, lambda a: a ** e, [shape], low=0.2, high=2)


def test_pow_tensor():
    check_op(lambda a, b: a ** b, lambda a, b: a ** b, [(3, 4), (4,)], low=0.2, high=2)


@pytest.mark.parametrize("shapes", [
    [(), ()],
    [(), (3,)],
    [(3,), ()],
    [(0,), (0,)],
    [(0, 3), (3,)],
    [(2, 0), ()],
    [(), (0,)],
], ids=str)
def test_pow_tensor_0d_and_size_0(shapes):
    check_op(lambda a, b: a ** b, lambda a, b: a ** b, shapes, low=0.2, high=2)
    check_op(ag.pow, torch.pow, shapes, low=0.2, high=2)
    check_op(lambda a, b: a.pow(b), lambda a, b: a.pow(b), shapes, low=0.2, high=2)


def test_rpow():
    check_op(lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(3,)])


def test_pow_zero_base_gradients():
    # d/dx x**e at 0 and d/de at base 0 (e >= 0) follow PyTorch: finite
    check_op(lambda a, b: (a * 0) ** b, lambda a, b: (a * 0) ** b, [(4,), (4,)], low=0.5,
             high=2, gradcheck=False)


@pytest.mark.parametrize("scalar", [2, 2.5, -1, True])
def test_scalar_operands(scalar):
    check_op(lambda a: a * scalar + scalar - a / 3, lambda a: a * scalar + scalar - a / 3,
             [(2, 3)])
    if not isinstance(scalar, bool):          # PyTorch rejects `True - tensor`
        check_op(lambda a: scalar - a, lambda a: scalar - a, [(2, 3)])
    check_op(lambda a: scalar / (a.abs() + 1), lambda a: scalar / (a.abs() + 1), [(2, 3)])


@pytest.mark.parametrize("dt_a,dt_b", [("float32", "float64"), ("int64", "float32"),
                                       ("int32", "int64"), ("bool", "int64"),
                                       ("float32", "int64")])
def test_promotion_matches_torch(dt_a, dt_b):
    a = np.arange(6).reshape(2, 3)
    b = np.arange(3) + 1
    for x, y in [(a, b), (a, b[0])]:            # dimensioned and 0-d second operand
        ours = ag.tensor(x.astype(dt_a)) * ag.tensor(np.asarray(y).astype(dt_b))
        ref = torch.tensor(x.astype(dt_a)) * torch.tensor(np.asarray(y).astype(dt_b))
        assert ours.dtype == ref.numpy().dtype
    for scalar in (2, 2.5, True):
        assert (ag.tensor(a.astype(dt_a)) + scalar).dtype == \
            (torch.tensor(a.astype(dt_a)) + scalar).numpy().dtype


def test_int_true_division_gives_float32():
    assert (ag.tensor([1, 2]) / 2).dtype == ag.float32
    assert (ag.tensor([1, 2]) / ag.tensor([2, 4])).dtype == ag.float32


def test_cast_gradient():
    check_op(lambda a: a.double() * 2, lambda a: a.double() * 2, [(3,)], dtypes=(np.float32,))
    check_op(lambda a: a.float() * 2, lambda a: a.float() * 2, [(3,)], dtypes=(np.float64,),
             gradcheck=False)


@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2)], ids=str)
def test_long_truncates_toward_zero_without_grad(shape):
    check_op(lambda a: a.long(), lambda a: a.long(), [shape], low=-3, high=3)
    check_op(lambda a: a.long() * a, lambda a: a.long() * a, [shape], low=-3, high=3)


def test_clone():
    check_op(lambda a: a.clone() * a, lambda a: a.clone() * a, [(2, 3)])


def test_broadcast_mismatch_error_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        ag.ones(2, 3) + ag.ones(4)
    with pytest.raises(RuntimeError, match=r"mul.*\(2, 3\).*\(2,\)"):
        ag.ones(2, 3, requires_grad=True) * ag.ones(2)
