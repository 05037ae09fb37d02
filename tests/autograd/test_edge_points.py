"""Edge points a differential fuzzer found, against PyTorch: atan2's gradient at (0, 0),
matrix_power with n = 0 and 1 on the tape, glu on an empty halving dim, subtraction of
bools refused."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F


def _power(lib):
    return ag.matrix_power if lib is ag else torch.linalg.matrix_power


def _grads(lib, fn, *arrays):
    make = ag.tensor if lib is ag else torch.tensor
    xs = [make(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    found = (ag.grad if lib is ag else torch.autograd.grad)(out.sum(), xs)
    return [np.asarray(g.data) if lib is ag else g.numpy() for g in found]


@pytest.mark.parametrize("name,fn,arrays", [
    ("atan2_at_origin", lambda lib, a, b: lib.atan2(a, b), ([0.0, 1.0, 0.0], [0.0, 0.0, 2.0])),
    ("matrix_power_0", lambda lib, a: _power(lib)(a, 0) * 3.0, (np.eye(2) * 2,)),
    ("matrix_power_1", lambda lib, a: _power(lib)(a, 1) * 3.0, (np.eye(2) * 2,)),
    ("glu_empty", lambda lib, a: (F if lib is ag else TF).glu(a, dim=-1), (np.zeros(0),)),
])
def test_gradient_like_torch(name, fn, arrays):
    for ours, want in zip(_grads(ag, fn, *arrays), _grads(torch, fn, *arrays)):
        np.testing.assert_array_equal(ours, want)


def test_matrix_power_returns_a_new_tensor():
    a = ag.eye(2, requires_grad=True)
    assert ag.matrix_power(a, 1) is not a


@pytest.mark.parametrize("call", [lambda a: a - True, lambda a: True - a,
                                  lambda a: a - ag.tensor([True, False]),
                                  lambda a: ag.tensor([True]) - ag.tensor([False])])
def test_bool_subtraction_is_refused(call):
    with pytest.raises(RuntimeError, match="sub: Subtraction, the `-` operator, with a bool"):
        call(ag.ones(2))


@pytest.mark.parametrize("fn", [lambda a: ag.matrix_power(a, 0) * a,
                                lambda a: ag.matrix_power(a, 1) * a,
                                lambda a: F.glu(a, dim=0)],
                         ids=["power_0", "power_1", "glu"])
def test_gradcheck(fn):
    a = ag.tensor(np.random.default_rng(0).normal(size=(2, 2)), requires_grad=True)
    assert ag.autograd.gradcheck(fn, [a]) and ag.autograd.gradgradcheck(fn, [a])
