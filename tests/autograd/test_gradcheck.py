"""gradcheck and gradgradcheck catch wrong first and second derivatives."""
import numpy as np
import pytest

import autograd as ag
from autograd.autograd.gradcheck import GradcheckError


class WrongSquare(ag.Function):
    """y = x**2 with a deliberately wrong gradient (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 2

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3.0 * x


class WrongSecondOrder(ag.Function):
    """y = x**3 with a right first derivative written so its own derivative is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        frozen = x.detach()          # 3 x^2 with one factor cut from the graph
        return g * 3.0 * x * frozen


def x64(*shape):
    return ag.randn(*shape, dtype=ag.float64, requires_grad=True)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_passes_correct_and_catches_wrong(fast_mode):
    x = x64(3, 2)
    assert ag.autograd.gradcheck(lambda t: (t * t).sum(dim=1), [x], fast_mode=fast_mode)
    with pytest.raises(GradcheckError):
        ag.autograd.gradcheck(WrongSquare.apply, [x], fast_mode=fast_mode)
    assert not ag.autograd.gradcheck(WrongSquare.apply, [x], fast_mode=fast_mode,
                                     raise_exception=False)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradgradcheck_passes_correct_and_catches_wrong(fast_mode):
    x = x64(4)
    assert ag.autograd.gradgradcheck(lambda t: t ** 3, [x], fast_mode=fast_mode)
    assert ag.autograd.gradcheck(WrongSecondOrder.apply, [x])     # first order is right
    with pytest.raises(GradcheckError):
        ag.autograd.gradgradcheck(WrongSecondOrder.apply, [x], fast_mode=fast_mode)


def test_gradcheck_requires_float64():
    with pytest.raises(GradcheckError, match="float64"):
        ag.autograd.gradcheck(lambda t: t * 2, [ag.randn(3, requires_grad=True)])


def test_fast_mode_on_a_large_input():
    x = x64(200, 50)
    w = x64(50, 30)
    assert ag.autograd.gradcheck(lambda a, b: (a @ b).tanh(), [x, w], fast_mode=True)
    np.testing.assert_equal(x.grad, None)
