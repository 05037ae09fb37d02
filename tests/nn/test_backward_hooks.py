"""Module full backward hooks against PyTorch: what pre-hooks and hooks see (grad_output,
grad_input with None for arguments that need no gradient), their replacements reaching the
parameters and inputs, the no-input-requires-grad case, removal and errors."""
import warnings

import numpy as np
import pytest
import torch

import autograd as ag
import nn


class Pair:
    """Two modules with the same weights (ours, PyTorch's): out = (x W^T + b, scale * x)."""

    def __init__(self, lib):
        self.lib = lib
        base = nn.Module if lib is ag else torch.nn.Module
        linear = nn.Linear if lib is ag else torch.nn.Linear
        rng = np.random.default_rng(0)
        weight, bias = rng.standard_normal((2, 3)), rng.standard_normal(2)

        class TwoOutputs(base):
            def __init__(self):
                super().__init__()
                self.lin = linear(3, 2).double()

            def forward(self, x, scale, y):
                return self.lin(x), x * scale + y

        self.module = TwoOutputs()
        with (ag.no_grad() if lib is ag else torch.no_grad()):
            self.module.lin.weight.copy_(self.tensor(weight))
            self.module.lin.bias.copy_(self.tensor(bias))

    def tensor(self, a, requires_grad=False):
        return (ag.tensor if self.lib is ag else torch.tensor)(a, requires_grad=requires_grad)

    def numpy(self, t):
        if t is None:
            return None
        return np.asarray(t.data) if self.lib is ag else t.detach().numpy()


def _run(lib, x_grad, y_grad, replace):
    pair = Pair(lib)
    seen = []

    def pre_hook(module, grad_output):
        seen.append(("pre", [pair.numpy(g) for g in grad_output]))
        return (grad_output[0] * 2.0, grad_output[1]) if replace else None

    def hook(module, grad_input, grad_output):
        seen.append(("hook", [pair.numpy(g) for g in grad_input],
                     [pair.numpy(g) for g in grad_output]))
        if replace and grad_input[0] is not None:
            return (grad_input[0] + 1.0,) + tuple(grad_input[1:])
        return None

    pair.module.register_full_backward_pre_hook(pre_hook)
    pair.module.register_full_backward_hook(hook)
    rng = np.random.default_rng(1)
    x = pair.tensor(rng.standard_normal((4, 3)), requires_grad=x_grad)
    y = pair.tensor(rng.standard_normal((4, 3)), requires_grad=y_grad)
    out, other = pair.module(x, 0.5, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # PyTorch warns when no input requires grad
        ((out * out).sum() + (other * other * other).sum()).backward()
    grads = [pair.numpy(t.grad) for t in (x, y, pair.module.lin.weight, pair.module.lin.bias)]
    return seen, grads


def _same(ours, theirs):
    if isinstance(ours, (list, tuple)):
        assert isinstance(theirs, (list, tuple)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    elif ours is None or isinstance(ours, str):
        assert ours == theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("x_grad,y_grad", [(True, True), (True, False), (False, True),
                                           (False, False)])
@pytest.mark.parametrize("replace", [False, True])
def test_backward_hooks_like_torch(x_grad, y_grad, replace):
    _same(_run(ag, x_grad, y_grad, replace), _run(torch, x_grad, y_grad, replace))


def test_backward_hook_removal_order_and_errors():
    lin = nn.Linear(3, 2)
    calls = []
    first = lin.register_full_backward_hook(lambda m, gi, go: calls.append("first"))
    lin.register_full_backward_hook(lambda m, gi, go: calls.append("prepended"), prepend=True)
    x = ag.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert calls == ["prepended", "first"]
    first.remove()
    calls.clear()
    lin(x).sum().backward()
    assert calls == ["prepended"]
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but "
                                           "expected 1"):
        lin(x).sum().backward()


def test_hooked_module_gradcheck():
    # the identity ops around a hooked call pass gradients of any order through unchanged
    lin = nn.Linear(3, 2).double()
    lin.register_full_backward_pre_hook(lambda m, go: None)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    x = ag.tensor(np.random.default_rng(2).normal(size=(4, 3)), requires_grad=True)
    f = lambda t: lin(t).tanh()                                           # noqa: E731
    assert ag.autograd.gradcheck(f, [x]) and ag.autograd.gradgradcheck(f, [x])
