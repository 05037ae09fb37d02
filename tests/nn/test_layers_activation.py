"""Activation modules against torch.nn: outputs, input (and PReLU weight) gradients in float32
and float64, train and eval, inplace=True, repr, and gradcheck of the modules."""
import warnings

import numpy as np
import pytest
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import TOL, _compare, check_module

F32, F64 = np.float32, np.float64
TRAIN_EVAL = ("train", "eval")

# (name, args, kwargs, input shape); inputs are uniform in [-4, 4): every branch is hit
# (hardtanh's +-1, relu6's 6 is reached with the scale below, softplus' threshold with beta 5)
ACTIVATIONS = [
    ("ReLU", (), {}, (3, 4)),
    ("ReLU6", (), {}, (3, 4)),
    ("LeakyReLU", (), {}, (3, 4)),
    ("LeakyReLU", (0.2,), {}, (2, 3, 2)),
    ("PReLU", (), {}, (3, 4)),
    ("PReLU", (4,), {"init": 0.1}, (3, 4, 2)),
    ("PReLU", (3,), {}, (2, 3, 2, 2)),
    ("ELU", (), {}, (3, 4)),
    ("ELU", (0.5,), {}, (3, 4)),
    ("SELU", (), {}, (3, 4)),
    ("CELU", (), {}, (3, 4)),
    ("CELU", (2.0,), {}, (3, 4)),
    ("GELU", (), {}, (3, 4)),
    ("GELU", (), {"approximate": "tanh"}, (3, 4)),
    ("SiLU", (), {}, (3, 4)),
    ("Mish", (), {}, (3, 4)),
    ("Softplus", (), {}, (3, 4)),
    ("Softplus", (), {"beta": 5.0, "threshold": 4.0}, (3, 5)),
    ("Softsign", (), {}, (3, 4)),
    ("Sigmoid", (), {}, (3, 4)),
    ("Tanh", (), {}, (3, 4)),
    ("Hardtanh", (), {}, (3, 4)),
    ("Hardtanh", (-2.0, 3.0), {}, (3, 4)),
    ("Hardsigmoid", (), {}, (4, 5)),
    ("Hardswish", (), {}, (4, 5)),
    ("LogSigmoid", (), {}, (3, 4)),
    ("Softmax", (1,), {}, (3, 4)),
    ("Softmax", (-1,), {}, (2, 3, 4)),
    ("Softmax", (0,), {}, (3, 4)),
    ("LogSoftmax", (1,), {}, (3, 4)),
    ("LogSoftmax", (-2,), {}, (2, 3, 4)),
    ("Softmin", (1,), {}, (3, 4)),
    ("Softmax2d", (), {}, (2, 3, 2, 2)),
    ("Softmax2d", (), {}, (3, 2, 2)),
    ("Threshold", (0.5, -2.0), {}, (3, 4)),
    ("GLU", (), {}, (3, 4)),
    ("GLU", (1,), {}, (2, 6, 3)),
    ("Hardshrink", (), {}, (3, 4)),
    ("Hardshrink", (1.5,), {}, (3, 4)),
    ("Softshrink", (), {}, (3, 4)),
    ("Softshrink", (1.5,), {}, (3, 4)),
    ("Tanhshrink", (), {}, (3, 4)),
    ("RReLU", (), {}, (3, 4)),                # eval only: the mean slope (train is random)
]


def _pair(name, *args, **kwargs):
    return (lambda: getattr(nn, name)(*args, **kwargs),
            lambda: getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name,args,kwargs,shape", ACTIVATIONS, ids=str)
def test_activation_check_module(name, args, kwargs, shape):
    ours, theirs = _pair(name, *args, **kwargs)
    modes = ("eval",) if name == "RReLU" else TRAIN_EVAL
    high = 7.0 if name == "ReLU6" else 4.0
    # Hardsigmoid in float64: see test_hardsigmoid_float64 (PyTorch's 1/6 is a float32)
    dtypes = (F32,) if name == "Hardsigmoid" else (F32, F64)
    check_module(ours, theirs, [shape], modes=modes, low=-4.0, high=high, dtypes=dtypes)


@pytest.mark.parametrize("inplace", [False, True])
def test_hardsigmoid_float64(inplace):
    """PyTorch's hardsigmoid backward kernel multiplies by `1.0f / 6.0f`, a float32 constant,
    also in float64: its gradient is float32(1/6) / (1/6) = 1 + 3e-8 times the exact one.
    Ours is the exact 1/6 [-3 < x < 3]; compared with PyTorch's after removing that factor."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (4, 5))
    g = rng.standard_normal((4, 5))
    xo = ag.tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x.copy(), requires_grad=True)
    yo = nn.Hardsigmoid(inplace)(xo * 1.0)
    yt = torch.nn.Hardsigmoid(inplace)(xt * 1.0)
    _compare("hardsigmoid f64 output", yo, yt, TOL[F64])
    yo.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    exact = g * ((x > -3) & (x < 3)) / 6.0
    _compare("hardsigmoid f64 grad", xo.grad, exact, TOL[F64])
    torch_factor = float(np.float32(1.0 / 6.0)) * 6.0
    _compare("hardsigmoid f64 grad vs torch", xo.grad, xt.grad.numpy() / torch_factor,
             TOL[F64])


@pytest.mark.parametrize("name", ["ReLU", "ReLU6", "Hardtanh", "ELU", "SELU", "CELU", "SiLU",
                                  "Mish", "Hardsigmoid", "Hardswish", "LeakyReLU",
                                  "Threshold"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_inplace_matches_torch(name, dtype):
    """inplace=True writes into a non-leaf input and returns it; the gradient reaching the
    leaf before it equals PyTorch's (Hardsigmoid float64: test_hardsigmoid_float64)."""
    if name == "Hardsigmoid" and dtype == F64:
        pytest.skip("PyTorch's float64 hardsigmoid gradient: see test_hardsigmoid_float64")
    args = (0.5, -2.0) if name == "Threshold" else ()
    ours = getattr(nn, name)(*args, inplace=True)
    theirs = getattr(torch.nn, name)(*args, inplace=True)
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (3, 5)).astype(dtype)
    g = rng.standard_normal((3, 5)).astype(dtype)
    xo = ag.tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x.copy(), requires_grad=True)
    ho, ht = xo * 2.0, xt * 2.0
    yo, yt = ours(ho), theirs(ht)
    assert yo is ho
    _compare(f"{name} inplace output", yo, yt, TOL[dtype])
    yo.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    _compare(f"{name} inplace grad", xo.grad, xt.grad, TOL[dtype])


def test_prelu_parameter_layout_and_errors():
    layer = nn.PReLU(3, init=0.1)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(layer.weight.data, np.full(3, 0.1, F32))
    assert nn.PReLU(dtype=ag.float64).weight.dtype == ag.float64
    with pytest.raises(RuntimeError, match=r"\(2, 4\)"):
        layer(ag.randn(2, 4))


def test_rrelu_train_draws_slopes_in_range():
    ag.manual_seed(0)
    x = ag.tensor(np.linspace(-3, 3, 40).astype(F32).reshape(4, 10))
    y = nn.RReLU(0.1, 0.3).train()(x).data
    neg = x.data < 0
    np.testing.assert_array_equal(y[~neg], x.data[~neg])
    slopes = y[neg] / x.data[neg]
    assert np.all((slopes >= 0.1 - 1e-6) & (slopes <= 0.3 + 1e-6))
    assert np.unique(slopes).size > 1


def test_softmax_without_dim_warns_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(F32)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(ag.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.Softmax()(torch.tensor(x))
    _compare("softmax dim=None", y, expected, TOL[F32])


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"max_val \(1\.0\) must be greater than min_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D"):
        nn.Softmax2d()(ag.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="approximate"):
        nn.GELU("fast")(ag.zeros(3))
    with pytest.raises(RuntimeError, match=r"halving dimension must be even.*\(3, 5\)"):
        nn.GLU()(ag.zeros((3, 5)))
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.SiLU()(np.zeros(3))


def test_float32_stays_float32():
    for name, args, kwargs, shape in ACTIVATIONS:
        x = ag.randn(*shape)
        assert getattr(nn, name)(*args, **kwargs)(x).dtype == ag.float32, name


REPRS = [
    ("Threshold", (0.1, 2.0), {}), ("Threshold", (0.1, 2.0), {"inplace": True}),
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("RReLU", (), {}),
    ("RReLU", (0.2, 0.4, True), {}), ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}),
    ("ReLU6", (), {}), ("ReLU6", (True,), {}), ("Sigmoid", (), {}), ("Hardsigmoid", (True,), {}),
    ("Tanh", (), {}), ("SiLU", (True,), {}), ("Mish", (), {}), ("Hardswish", (True,), {}),
    ("ELU", (0.5, True), {}), ("CELU", (), {}), ("SELU", (True,), {}), ("GLU", (), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("Hardshrink", (), {}), ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2, True), {}), ("LogSigmoid", (), {}), ("Softplus", (2, 10), {}),
    ("Softshrink", (0.3,), {}), ("PReLU", (3, 0.1), {}), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("Softmin", (1,), {}), ("Softmax", (-1,), {}),
    ("Softmax2d", (), {}), ("LogSoftmax", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=str)
def test_repr_matches_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == \
        repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("PReLU", (3,), {}, (2, 3, 2)), ("GELU", (), {"approximate": "tanh"}, (2, 3)),
    ("Mish", (), {}, (2, 3)), ("Softplus", (), {"beta": 2.0}, (2, 3)),
    ("LogSoftmax", (1,), {}, (2, 3)), ("GLU", (0,), {}, (4, 2)), ("CELU", (0.7,), {}, (2, 3)),
], ids=str)
def test_gradcheck_and_gradgradcheck(name, args, kwargs, shape):
    layer = getattr(nn, name)(*args, **kwargs).double()
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.uniform(-2, 2, shape), requires_grad=True)
    assert ag.autograd.gradcheck(layer, [x])
    assert ag.autograd.gradgradcheck(layer, [x])
