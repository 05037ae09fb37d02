"""nn.functional activations against torch.nn.functional: one line per case."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from tests.helpers import check_op

# (id, ours, PyTorch's, low, high): each maps one tensor to one tensor elementwise
ELEMENTWISE = [
    ("relu", F.relu, TF.relu, -2, 2),
    ("relu6", F.relu6, TF.relu6, -2, 8),
    ("hardtanh", F.hardtanh, TF.hardtanh, -2, 2),
    ("hardtanh_bounds", lambda x: F.hardtanh(x, -0.5, 1.5),
     lambda x: TF.hardtanh(x, -0.5, 1.5), -2, 2),
    ("leaky_relu", F.leaky_relu, TF.leaky_relu, -2, 2),
    ("leaky_relu_slope", lambda x: F.leaky_relu(x, 0.3), lambda x: TF.leaky_relu(x, 0.3), -2, 2),
    ("threshold", lambda x: F.threshold(x, 0.5, -3.0), lambda x: TF.threshold(x, 0.5, -3.0),
     -2, 2),
    ("elu", F.elu, TF.elu, -3, 2),
    ("elu_alpha", lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), -3, 2),
    ("selu", F.selu, TF.selu, -3, 2),
    # alpha exact in float32: PyTorch's celu backward rounds 1/alpha through a C float
    ("celu", lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5), -3, 2),
    ("gelu", F.gelu, TF.gelu, -3, 3),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: TF.gelu(x, approximate="tanh"), -3, 3),
    ("silu", F.silu, TF.silu, -4, 4),
    ("mish", F.mish, TF.mish, -4, 4),
    ("softplus", F.softplus, TF.softplus, -4, 4),
    ("softplus_beta_threshold", lambda x: F.softplus(x, 2.0, 3.0),
     lambda x: TF.softplus(x, 2.0, 3.0), -3, 3),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, -4, 4),
    ("softsign", F.softsign, TF.softsign, -3, 3),
    ("sigmoid", F.sigmoid, TF.sigmoid, -4, 4),
    ("tanh", F.tanh, TF.tanh, -3, 3),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, -4, 4),
    ("hardswish", F.hardswish, TF.hardswish, -4, 4),
    ("hardshrink", F.hardshrink, TF.hardshrink, -2, 2),
    ("softshrink", lambda x: F.softshrink(x, 0.7), lambda x: TF.softshrink(x, 0.7), -2, 2),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink, -2, 2),
    ("rrelu_eval", F.rrelu, TF.rrelu, -2, 2),
]
SHAPES = [(3, 4), (2, 3, 4), (), (0, 3)]
# PyTorch's hardsigmoid backward multiplies by a C float 1/6 (1.0f / 6.0f), also in float64:
# its float64 gradient is off by 3e-8 relative; ours uses the exact 1/6
F64_RTOL = {"hardsigmoid": 1e-7}


def _check(name, ours, ref, shapes=None, **kw):
    if name not in F64_RTOL:
        check_op(ours, ref, shapes, **kw)
        return
    check_op(ours, ref, shapes, dtypes=(np.float32,), **kw)
    check_op(ours, ref, shapes, dtypes=(np.float64,), rtol=F64_RTOL[name], **kw)


@pytest.mark.parametrize("name,ours,ref,low,high", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_elementwise(name, ours, ref, low, high, shape):
    _check(name, ours, ref, [shape], low=low, high=high)


def _points(*values):
    """make_inputs: exactly these values (the kinks), in the test's dtype."""
    return lambda rng, dtype: [np.array(values, dtype)]


# gradients at the kinks equal PyTorch's (finite differences do not apply there)
KINKS = [
    ("relu", F.relu, TF.relu, (-1.0, 0.0, 2.0)),
    ("relu6", F.relu6, TF.relu6, (-1.0, 0.0, 3.0, 6.0, 7.0)),
    ("hardtanh", lambda x: F.hardtanh(x, -1.0, 3.0), lambda x: TF.hardtanh(x, -1.0, 3.0),
     (-2.0, -1.0, 0.0, 3.0, 4.0)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2),
     (-1.0, 0.0, 1.0)),
    ("threshold", lambda x: F.threshold(x, 1.0, 5.0), lambda x: TF.threshold(x, 1.0, 5.0),
     (0.0, 1.0, 2.0)),
    ("elu", lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0), (-1.0, 0.0, 1.0, 100.0)),
    ("selu", F.selu, TF.selu, (-1.0, 0.0, 1.0, 100.0)),
    ("celu", lambda x: F.celu(x, 2.0), lambda x: TF.celu(x, 2.0), (-1.0, 0.0, 1.0, 300.0)),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, (-4.0, -3.0, 0.0, 3.0, 4.0)),
    ("hardswish", F.hardswish, TF.hardswish, (-4.0, -3.0, 0.0, 3.0, 4.0)),
    ("hardshrink", lambda x: F.hardshrink(x, 1.0), lambda x: TF.hardshrink(x, 1.0),
     (-1.0, 0.0, 1.0, 1.5)),
    ("softshrink", lambda x: F.softshrink(x, 1.0), lambda x: TF.softshrink(x, 1.0),
     (-1.5, -1.0, 0.0, 1.0, 1.5)),
    ("softplus_threshold", lambda x: F.softplus(x, 2.0, 6.0),
     lambda x: TF.softplus(x, 2.0, 6.0), (-3.0, 0.0, 3.0, 6.0, 40.0)),
    ("softplus_large", F.softplus, TF.softplus, (-100.0, 0.0, 19.0, 20.0, 21.0, 1e4)),
    ("logsigmoid_large", F.logsigmoid, TF.logsigmoid, (-1e4, -50.0, 0.0, 50.0, 1e4)),
    ("mish_large", F.mish, TF.mish, (-50.0, 0.0, 30.0, 200.0)),
    ("softsign_zero", F.softsign, TF.softsign, (-1.0, 0.0, 1.0)),
    ("silu_large", F.silu, TF.silu, (-200.0, 0.0, 200.0)),
]


@pytest.mark.parametrize("name,ours,ref,values", KINKS, ids=[k[0] for k in KINKS])
def test_kinks(name, ours, ref, values):
    _check(name, ours, ref, make_inputs=_points(*values), layouts=("contiguous",),
           gradcheck=False)


# -- prelu ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [[(4, 3), (3,)], [(2, 3, 4), (3,)], [(2, 3, 2, 2), (3,)],
                                    [(2, 3, 4), (1,)], [(5,), (1,)], [(), (1,)],
                                    [(0, 3), (3,)]], ids=str)
def test_prelu(shapes):
    check_op(F.prelu, TF.prelu, shapes)


def test_prelu_kink():
    check_op(F.prelu, TF.prelu, make_inputs=lambda rng, dt: [np.array([[-1.0, 0.0, 2.0]], dt),
                                                             np.array([0.25], dt)],
             layouts=("contiguous",), gradcheck=False)


def test_prelu_bad_weight():
    with pytest.raises(RuntimeError, match=r"prelu.*\(2,\).*\(4, 3\)"):
        F.prelu(ag.randn(4, 3), ag.randn(2))


# -- glu, softmax family -------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1)], ids=str)
def test_glu(shape, dim):
    check_op(lambda x: F.glu(x, dim), lambda x: TF.glu(x, dim), [shape])


def test_glu_odd():
    with pytest.raises(RuntimeError, match=r"glu.*even.*\(4, 5\)"):
        F.glu(ag.randn(4, 5))


SOFTMAXES = [("softmax", F.softmax, TF.softmax), ("softmin", F.softmin, TF.softmin),
             ("log_softmax", F.log_softmax, TF.log_softmax)]


@pytest.mark.parametrize("name,ours,ref", SOFTMAXES, ids=[s[0] for s in SOFTMAXES])
@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((), 0),
                                       ((0, 4), 1)], ids=str)
def test_softmax_family(name, ours, ref, shape, dim):
    check_op(lambda x: ours(x, dim), lambda x: ref(x, dim), [shape], low=-4, high=4)


@pytest.mark.parametrize("name,ours,ref", SOFTMAXES, ids=[s[0] for s in SOFTMAXES])
def test_softmax_family_dtype(name, ours, ref):
    check_op(lambda x: ours(x, 1, dtype=ag.float64), lambda x: ref(x, 1, dtype=torch.float64),
             [(3, 4)], dtypes=(np.float32,), layouts=("contiguous",))


@pytest.mark.parametrize("name,ours,ref", SOFTMAXES, ids=[s[0] for s in SOFTMAXES])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)], ids=str)
def test_softmax_family_implicit_dim(name, ours, ref, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        got = ours(ag.tensor(x))
    with pytest.warns(UserWarning):
        want = ref(torch.tensor(x))
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6, atol=1e-6)


# -- in place ------------------------------------------------------------------------------
INPLACE = [
    ("relu", lambda x: F.relu(x, inplace=True), lambda x: TF.relu(x, inplace=True)),
    ("relu_", F.relu_, TF.relu_),
    ("relu6", lambda x: F.relu6(x, inplace=True), lambda x: TF.relu6(x, inplace=True)),
    ("hardtanh_", F.hardtanh_, TF.hardtanh_),
    ("leaky_relu_", lambda x: F.leaky_relu_(x, 0.2), lambda x: TF.leaky_relu_(x, 0.2)),
    ("elu_", F.elu_, TF.elu_),
    ("selu", lambda x: F.selu(x, inplace=True), lambda x: TF.selu(x, inplace=True)),
    ("celu", lambda x: F.celu(x, 0.5, inplace=True), lambda x: TF.celu(x, 0.5, inplace=True)),
    ("silu", lambda x: F.silu(x, inplace=True), lambda x: TF.silu(x, inplace=True)),
    ("mish", lambda x: F.mish(x, inplace=True), lambda x: TF.mish(x, inplace=True)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x, inplace=True),
     lambda x: TF.hardsigmoid(x, inplace=True)),
    ("hardswish", lambda x: F.hardswish(x, inplace=True),
     lambda x: TF.hardswish(x, inplace=True)),
    ("threshold_", lambda x: F.threshold_(x, 0.1, 2.0), lambda x: TF.threshold_(x, 0.1, 2.0)),
]


@pytest.mark.parametrize("name,ours,ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_matches_torch(name, ours, ref):
    # on a non-leaf (x * 1): the in-place result, and the gradient through it
    _check(name, lambda x: ours(x * 1.0), lambda x: ref(x * 1.0), [(3, 4)], low=-4, high=4)


@pytest.mark.parametrize("name,ours,ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_writes_input(name, ours, ref):
    a = np.random.default_rng(0).uniform(-4, 4, (3, 4)).astype(np.float32)
    x = ag.tensor(a)
    version = x._version
    y = ours(x)
    assert y is x and x._version > version
    np.testing.assert_allclose(x.data, ref(torch.tensor(a)).numpy(), rtol=1e-6, atol=1e-6)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ag.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.elu(x, inplace=True)


# -- rrelu in training, errors -------------------------------------------------------------
def test_rrelu_training_slopes():
    ag.manual_seed(0)
    x = ag.tensor(np.linspace(-3, 3, 40), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    neg = x.data <= 0
    slope = y.data[neg] / x.data[neg]
    assert np.all((slope >= 0.1) & (slope <= 0.3)) and np.ptp(slope) > 0
    np.testing.assert_allclose(x.grad.data[neg], slope)        # d = the sampled slope
    np.testing.assert_array_equal(x.grad.data[~neg], 1.0)


def test_gelu_bad_approximate():
    with pytest.raises(RuntimeError, match="gelu.*approximate"):
        F.gelu(ag.randn(3), approximate="erf")


def test_hardtanh_bad_bounds():
    with pytest.raises(ValueError, match="hardtanh.*min_val"):
        F.hardtanh(ag.randn(3), 2.0, 1.0)


def test_integer_input_error():
    with pytest.raises(RuntimeError, match=r"gelu.*int64.*\(3,\)"):
        F.gelu(ag.tensor([1, 2, 3]))


# -- higher order --------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu,
                                F.mish, F.softplus, F.elu, F.selu, F.logsigmoid, F.softsign,
                                lambda x: F.log_softmax(x, 1)],
                         ids=["gelu", "gelu_tanh", "silu", "mish", "softplus", "elu", "selu",
                              "logsigmoid", "softsign", "log_softmax"])
def test_gradgradcheck(fn):
    x = ag.tensor(np.random.default_rng(0).uniform(-2, 2, (3, 4)), requires_grad=True)
    assert ag.autograd.gradgradcheck(fn, [x])
