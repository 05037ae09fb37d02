"""gradcheck names the op that breaks a composed function's gradient."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.autograd.gradcheck import GradcheckError, find_culprit


class LeakySoftplus(ag.Function):
    """softplus with a backward that is 1% off: the deliberate bug."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.sigmoid() * 1.01


class TinyModel(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.w1 = nn.Parameter(ag.randn(3, 4, dtype=ag.float64))
        self.w2 = nn.Parameter(ag.randn(2, 4, dtype=ag.float64))
        self.act = act

    def forward(self, x):
        return F.linear(self.act(F.linear(x, self.w1.t())), self.w2).tanh().sum(dim=0)


def model_fn(act):
    """The model and its float64 input: gradcheck differentiates through every layer to x
    (and the op checks cover the weights too)."""
    ag.manual_seed(0)
    return TinyModel(act), [ag.randn(5, 3, dtype=ag.float64, requires_grad=True)]


@pytest.mark.parametrize("fast_mode", [False, True])
def test_wrong_custom_function_in_a_model_is_named(fast_mode):
    f, inputs = model_fn(LeakySoftplus.apply)
    with pytest.raises(GradcheckError) as info:
        ag.autograd.gradcheck(f, inputs, fast_mode=fast_mode)
    err = info.value
    assert err.culprit is LeakySoftplus
    assert "custom Function" in str(err) and "LeakySoftplus" in str(err)
    assert str(err).splitlines()[1].startswith("The first op whose backward is wrong")


def test_the_same_model_with_a_correct_activation_passes():
    f, inputs = model_fn(F.softplus)
    assert ag.autograd.gradcheck(f, inputs)


def test_wrong_primitive_is_named(monkeypatch):
    from autograd.ops.unary_trig import Tanh
    right = Tanh.backward

    def off_by_two_percent(ctx, g):
        return right(ctx, g) * 1.02
    monkeypatch.setattr(Tanh, "backward", staticmethod(off_by_two_percent))
    f, inputs = model_fn(F.softplus)
    with pytest.raises(GradcheckError, match="primitive Tanh") as info:
        ag.autograd.gradcheck(f, inputs)
    assert info.value.culprit is Tanh


def test_no_single_op_is_wrong():
    x = ag.randn(4, dtype=ag.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="passes its own check") as info:
        ag.autograd.gradcheck(lambda t: t * t.detach(), [x])
    assert info.value.culprit is None
    cls, report = find_culprit(lambda t: t * t.detach(), [x])
    assert cls is None and "3 ops" not in report


def test_opt_out_and_no_exception():
    f, inputs = model_fn(LeakySoftplus.apply)
    with pytest.raises(GradcheckError) as info:
        ag.autograd.gradcheck(f, inputs, name_culprit=False)
    assert info.value.culprit is None and "first op" not in str(info.value)
    assert ag.autograd.gradcheck(f, inputs, raise_exception=False) is False


class WrongSecondOrder(ag.Function):
    """x**3 with a right first derivative whose own derivative is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3.0 * x * x.detach()


def test_gradgradcheck_names_the_op_with_a_wrong_second_derivative():
    x = ag.randn(3, dtype=ag.float64, requires_grad=True)

    def f(t):
        return (WrongSecondOrder.apply(t.sin()) * 2.0).exp()
    assert ag.autograd.gradcheck(f, [x])
    with pytest.raises(GradcheckError, match="second derivative is wrong") as info:
        ag.autograd.gradgradcheck(f, [x])
    assert info.value.culprit is WrongSecondOrder
