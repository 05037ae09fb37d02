"""The optimizers' constructors take PyTorch's arguments, in PyTorch's order and kinds
(PyTorch code with foreach= or fused= runs); the unsupported switches raise clearly."""
import inspect

import pytest
import torch

import autograd as ag
import optim

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam"]


def _arguments(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]    # self, params
    return [(p.name, p.kind) for p in params]


@pytest.mark.parametrize("name", NAMES)
def test_constructor_arguments_like_torch(name):
    assert _arguments(getattr(optim, name)) == _arguments(getattr(torch.optim, name))


@pytest.mark.parametrize("name", NAMES)
def test_implementation_switches(name):
    cls = getattr(optim, name)
    params = [ag.randn(3, requires_grad=True)]
    cls(params, lr=0.1, foreach=True)
    cls(params, lr=0.1, foreach=False, differentiable=False)
    with pytest.raises(NotImplementedError, match=f"{name}: differentiable=True"):
        cls(params, lr=0.1, differentiable=True)
    if "capturable" in dict(_arguments(cls)):
        with pytest.raises(NotImplementedError, match=f"{name}: capturable=True"):
            cls(params, lr=0.1, capturable=True)
