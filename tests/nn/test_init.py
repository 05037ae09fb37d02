"""nn.init against PyTorch's formulas: gains and fans exactly, distributions by their moments
and bounds on a large seeded tensor (200k draws: the sample mean is within ~0.002 sigma, the
sample std within ~0.2 %, so the 1 % tolerances below are > 4 standard errors)."""
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

import autograd as ag
import nn
from nn import init

BIG = (400, 500)
CONV = (64, 32, 5, 5)       # fan_in 800, fan_out 1600, 51200 elements x 4 below


def big(shape=BIG, dtype=ag.float32):
    ag.manual_seed(0)
    return ag.empty(*shape, dtype=dtype)


def assert_moments(x, mean, std, tol=0.01):
    x = np.asarray(x, np.float64)
    assert abs(x.mean() - mean) < tol * std, (x.mean(), mean)
    assert abs(x.std() / std - 1) < tol, (x.std(), std)


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 3), ("selu", None)], ids=str)
def test_calculate_gain_like_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (5, 3, 2), (8, 4, 3, 3), (2, 3, 1, 2, 2), (7, 1),
                                   (0, 3)], ids=str)
def test_fan_in_fan_out_like_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(ag.empty(*shape)) == expected
    for mode in ("fan_in", "fan_out", "FAN_IN"):
        assert (init._calculate_correct_fan(ag.empty(*shape), mode)
                == torch.nn.init._calculate_correct_fan(torch.empty(shape), mode))


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ag.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ag.empty(3, 3), mode="fan_avg")


def test_uniform_and_normal():
    x = init.uniform_(big(), -2.0, 3.0)
    assert -2.0 <= x.data.min() < -1.99 and 2.99 < x.data.max() < 3.0
    assert_moments(x.data, 0.5, 5 / math.sqrt(12))
    assert_moments(init.normal_(big(), 1.5, 0.3).data, 1.5, 0.3)
    assert_moments(init.uniform_(big()).data, 0.5, 1 / math.sqrt(12))     # defaults U(0, 1)
    assert_moments(init.normal_(big()).data, 0.0, 1.0)


@pytest.mark.parametrize("shape,gain", [(BIG, 1.0), (CONV, 2.5)], ids=str)
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ag.empty(*shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    x = init.xavier_uniform_(big(shape), gain=gain).data
    assert np.abs(x).max() <= bound and np.abs(x).max() > 0.999 * bound
    assert_moments(x, 0.0, std)
    assert_moments(init.xavier_normal_(big(shape), gain=gain).data, 0.0, std)
    ref = torch.nn.init.xavier_normal_(torch.empty(shape), gain=gain).numpy()
    assert_moments(ref, 0.0, std)      # the formula is PyTorch's


@pytest.mark.parametrize("a,mode,nonlinearity", [
    (0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
    (0, "fan_out", "relu"), (0.1, "fan_out", "leaky_relu"), (0, "fan_in", "tanh")], ids=str)
def test_kaiming(a, mode, nonlinearity):
    fan = init._calculate_correct_fan(ag.empty(*CONV), mode)
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    x = init.kaiming_uniform_(big(CONV), a=a, mode=mode, nonlinearity=nonlinearity).data
    assert np.abs(x).max() <= bound and np.abs(x).max() > 0.999 * bound
    assert_moments(x, 0.0, std)
    x = init.kaiming_normal_(big(CONV), a=a, mode=mode, nonlinearity=nonlinearity).data
    assert_moments(x, 0.0, std)
    ref = torch.nn.init.kaiming_uniform_(torch.empty(CONV), a=a, mode=mode,
                                         nonlinearity=nonlinearity).numpy()
    assert np.abs(ref).max() <= bound and np.abs(ref).max() > 0.999 * bound


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_uniform_(ag.empty(0, 3))
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_normal_(ag.empty(3, 0))


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.02, 0.46, 0.6),
                                          (1.0, 2.0, -1.0, 10.0)], ids=str)
def test_trunc_normal(mean, std, a, b):
    x = init.trunc_normal_(big(), mean, std, a, b).data
    assert a <= x.min() and x.max() <= b
    dist = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert_moments(x, dist.mean(), dist.std())
    ref = torch.nn.init.trunc_normal_(torch.empty(BIG), mean, std, a, b).numpy()
    assert_moments(ref, dist.mean(), dist.std())
    assert abs(np.quantile(x, 0.9) - dist.ppf(0.9)) < 0.01 * dist.std()


def test_trunc_normal_warns_when_mean_far_outside():
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(ag.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)


@pytest.mark.parametrize("shape,gain", [((6, 6), 1.0), ((3, 8), 2.0), ((8, 3), 1.0),
                                        ((4, 2, 3, 3), 0.5), ((20, 5, 2), 1.0)], ids=str)
def test_orthogonal(shape, gain):
    w = init.orthogonal_(big(shape), gain=gain)
    assert w.dtype == ag.float32 and w.shape == shape
    flat = w.data.reshape(shape[0], -1).astype(np.float64) / gain
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ag.empty(3))


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)], ids=str)
def test_eye(shape):
    w = init.eye_(ag.randn(*shape))
    np.testing.assert_array_equal(w.data, torch.nn.init.eye_(torch.empty(shape)).numpy())
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(ag.empty(2, 2, 2))


@pytest.mark.parametrize("shape,groups", [((4, 3, 3), 1), ((6, 2, 3, 3), 2), ((4, 4, 3, 2), 1),
                                          ((3, 2, 3, 3, 3), 1), ((4, 1, 5), 4)], ids=str)
def test_dirac_like_torch(shape, groups):
    w = init.dirac_(ag.randn(*shape), groups=groups)
    ref = torch.nn.init.dirac_(torch.empty(shape), groups=groups)
    np.testing.assert_array_equal(w.data, ref.numpy())


def test_constant_zeros_ones():
    w = ag.randn(3, 4, dtype=ag.float64)
    assert init.constant_(w, 0.25) is w and (w.data == 0.25).all() and w.dtype == ag.float64
    assert (init.zeros_(w).data == 0).all() and (init.ones_(w).data == 1).all()
    n = ag.empty(3, dtype=ag.int64)
    assert init.constant_(n, 7).data.tolist() == [7, 7, 7]


def test_sparse():
    w = init.sparse_(big((50, 40)), sparsity=0.3, std=0.5)
    zeros_per_col = (w.data == 0).sum(axis=0)
    assert (zeros_per_col == math.ceil(0.3 * 50)).all()
    assert abs(w.data[w.data != 0].std() / 0.5 - 1) < 0.05


INITIALISERS = [
    ("uniform_", lambda w: init.uniform_(w, -1, 1)), ("normal_", init.normal_),
    ("trunc_normal_", init.trunc_normal_), ("xavier_uniform_", init.xavier_uniform_),
    ("xavier_normal_", init.xavier_normal_), ("kaiming_uniform_", init.kaiming_uniform_),
    ("kaiming_normal_", init.kaiming_normal_), ("orthogonal_", init.orthogonal_),
    ("constant_", lambda w: init.constant_(w, 2.0)), ("eye_", init.eye_),
    ("sparse_", lambda w: init.sparse_(w, 0.5)),
]


@pytest.mark.parametrize("name,fn", INITIALISERS, ids=[i[0] for i in INITIALISERS])
def test_in_place_on_parameter_keeps_dtype_and_identity(name, fn):
    p = nn.Parameter(ag.zeros(6, 4))
    version, data = p._version, p.data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(p)
    assert out is p and p.data is data and p.dtype == ag.float32
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p._version > version
    w64 = fn(ag.zeros(6, 4, dtype=ag.float64))
    assert w64.dtype == ag.float64


@pytest.mark.parametrize("name,fn", INITIALISERS[:8], ids=[i[0] for i in INITIALISERS[:8]])
def test_seeded_reproducible(name, fn):
    ag.manual_seed(7)
    a = fn(ag.empty(5, 3)).data.copy()
    ag.manual_seed(7)
    b = fn(ag.empty(5, 3)).data
    np.testing.assert_array_equal(a, b)
    c = fn(ag.empty(5, 3)).data
    assert not np.array_equal(b, c)
    g1 = init.normal_(ag.empty(4), generator=np.random.default_rng(3)).data
    g2 = init.normal_(ag.empty(4), generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(g1, g2)
