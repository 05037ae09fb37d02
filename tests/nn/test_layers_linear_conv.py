"""Linear, Bilinear, Conv1d/2d/3d and ConvTranspose1d/2d/3d against PyTorch after copying
weights (outputs, input and parameter gradients, float32 and float64), their repr,
initialisation statistics, and the errors for bad inputs."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

import autograd as ag
import nn
from tests.nn.module_helpers import check_module

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


def pair(name, *args, **kwargs):
    """Constructors of our layer and torch's with the same arguments."""
    return (lambda: getattr(nn, name)(*args, **kwargs),
            lambda: getattr(torch.nn, name)(*args, **kwargs))


# -- Linear / Bilinear -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,), (0, 5)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    check_module(*pair("Linear", 5, 3, bias=bias), [shape])


@pytest.mark.parametrize("shapes", [[(4, 3), (4, 2)], [(2, 3, 3), (2, 3, 2)], [(3,), (2,)]],
                         ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(shapes, bias):
    check_module(*pair("Bilinear", 3, 2, 4, bias=bias), shapes)


# -- convolutions ------------------------------------------------------------------------------
CONV2D = [
    dict(args=(3, 4, 3), shape=(2, 3, 7, 9)),                            # odd sizes
    dict(args=(3, 4, (2, 3)), kw=dict(stride=(3, 4)), shape=(2, 3, 8, 11)),  # stride > kernel
    dict(args=(2, 4, 3), kw=dict(dilation=2, padding=1), shape=(1, 2, 9, 8)),
    dict(args=(4, 6, 3), kw=dict(groups=2, padding=(1, 0)), shape=(2, 4, 6, 5)),
    dict(args=(4, 8, 3), kw=dict(groups=4, bias=False), shape=(2, 4, 6, 6)),  # depthwise x2
    dict(args=(3, 2, 4), kw=dict(padding="same"), shape=(2, 3, 6, 7)),       # even kernel
    dict(args=(3, 2, (2, 4)), kw=dict(padding="same", dilation=(1, 2)), shape=(1, 3, 5, 9)),
    dict(args=(3, 2, 3), kw=dict(padding="valid", stride=2), shape=(1, 3, 7, 6)),
    dict(args=(3, 4, 3), kw=dict(padding=1), shape=(3, 6, 5)),             # unbatched
    dict(args=(1, 1, 1), shape=(1, 1, 1, 1)),
]


@pytest.mark.parametrize("case", CONV2D, ids=lambda c: f"{c['args']}{c.get('kw', {})}")
def test_conv2d(case):
    check_module(*pair("Conv2d", *case["args"], **case.get("kw", {})), [case["shape"]])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"], ids=str)
def test_conv2d_padding_modes(mode, padding):
    check_module(*pair("Conv2d", 2, 3, (3, 4), padding=padding, padding_mode=mode),
                 [(2, 2, 5, 6)])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kw,shape", [
    (dict(padding=2, stride=2), (2, 4, 9)),
    (dict(padding="same", dilation=2), (2, 4, 8)),
    (dict(padding=1, groups=2), (4, 7)),                                    # unbatched
], ids=str)
def test_conv1d(mode, kw, shape):
    check_module(*pair("Conv1d", 4, 6, 4, padding_mode=mode, **kw), [shape])


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kw,shape", [
    (dict(padding=1), (1, 2, 4, 5, 3)),
    (dict(padding="same", groups=2, bias=False), (2, 4, 3, 4)),             # unbatched
    (dict(stride=(3, 1, 2), dilation=(1, 2, 1), padding=(0, 1, 1)), (1, 2, 5, 6, 5)),
], ids=str)
def test_conv3d(mode, kw, shape):
    channels = shape[-4]
    check_module(*pair("Conv3d", channels, 4, (2, 3, 2), padding_mode=mode, **kw), [shape])


TRANSPOSED = [
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5)),
    ("ConvTranspose1d", (4, 6, 4), dict(groups=2, dilation=2, bias=False), (4, 3)),
    ("ConvTranspose2d", (3, 4, 3), {}, (2, 3, 5, 4)),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                             groups=2), (1, 4, 4, 3)),
    ("ConvTranspose2d", (4, 4, 3), dict(groups=4, dilation=2, stride=3), (1, 4, 3, 3)),
    ("ConvTranspose2d", (2, 3, 2), dict(stride=4), (2, 2, 3, 3)),           # stride > kernel
    ("ConvTranspose3d", (2, 4, 3), dict(stride=2, padding=1, output_padding=1), (1, 2, 3, 2, 3)),
    ("ConvTranspose3d", (4, 2, 2), dict(groups=2, bias=False), (4, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kw,shape", TRANSPOSED, ids=str)
def test_conv_transpose(name, args, kw, shape):
    check_module(*pair(name, *args, **kw), [shape])


@pytest.mark.parametrize("output_size", [[10, 9], [12, 10], [2, 2, 11, 10]], ids=str)
def test_conv_transpose2d_output_size(output_size):
    class Ours(nn.ConvTranspose2d):
        def forward(self, x):
            return super().forward(x, output_size=output_size)

    class Theirs(torch.nn.ConvTranspose2d):
        def forward(self, x):
            return super().forward(x, output_size=output_size)

    check_module(lambda: Ours(3, 2, 3, stride=(3, 2), padding=1),
                 lambda: Theirs(3, 2, 3, stride=(3, 2), padding=1), [(2, 3, 4, 5)])


def test_conv_transpose_output_size_out_of_range():
    layer = nn.ConvTranspose2d(3, 2, 3, stride=2)
    x = ag.zeros(1, 3, 4, 4)
    assert layer(x, output_size=[10, 10]).shape == (1, 2, 10, 10)
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        layer(x, output_size=[11, 10])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        layer(x, output_size=[10])


def test_depthwise_separable_block():
    """Depthwise (groups = C) then a 1x1 convolution, as a Sequential."""
    check_module(
        lambda: nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.Conv2d(4, 6, 1)),
        lambda: torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1, groups=4),
                                    torch.nn.Conv2d(4, 6, 1)),
        [(2, 4, 5, 6)])


def test_conv_double_backward_with_padding_mode():
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular", dtype=ag.float64)
    x = ag.tensor(rng.standard_normal((1, 2, 4, 3)), requires_grad=True)
    assert ag.autograd.gradcheck(lambda x, w: nn.functional.conv2d(
        nn.functional.pad(x, (1, 1, 1, 1), mode="circular"), w) ** 2, [x, conv.weight])
    assert ag.autograd.gradgradcheck(lambda x: conv(x) ** 2, [x])


# -- repr, names, dtypes -----------------------------------------------------------------------
REPRS = [
    ("Linear", (4, 3), {}), ("Linear", (4, 3), dict(bias=False)),
    ("Bilinear", (2, 3, 4), dict(bias=False)),
    ("Conv1d", (4, 6, 3), dict(padding="same", padding_mode="circular")),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, dilation=2, groups=2, bias=False,
                                    padding_mode="reflect")),
    ("Conv2d", (4, 6, 4), dict(padding="valid")),
    ("Conv3d", (2, 4, 3), dict(padding=(1, 0, 2), padding_mode="replicate")),
    ("ConvTranspose1d", (4, 6, 3), {}),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2)),
    ("ConvTranspose3d", (4, 6, 3), dict(dilation=2, padding=1, bias=False)),
]


@pytest.mark.parametrize("name,args,kw", REPRS, ids=str)
def test_repr_and_parameter_names_match_torch(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.named_parameters()] == \
        [(k, tuple(v.shape)) for k, v in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_repr_of_a_model_prints_like_torch():
    def model(lib):
        return lib.Sequential(lib.Conv2d(1, 8, 3, padding="same"), lib.Conv2d(8, 4, 3, 2),
                              lib.Flatten(), lib.Linear(16, 10))
    assert repr(model(nn)) == repr(model(torch.nn))


def test_dtype_argument_and_default_dtype():
    assert nn.Linear(3, 2).weight.dtype == np.float32
    conv = nn.Conv2d(2, 3, 3, dtype=ag.float64)
    assert conv.weight.dtype == np.float64 and conv.bias.dtype == np.float64
    y = nn.Conv2d(2, 3, 3)(ag.randn(1, 2, 5, 5))
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match="only device='cpu'"):
        nn.Linear(3, 2, device="cuda")


# -- initialisation ----------------------------------------------------------------------------
def _check_uniform(values, bound):
    """values ~ U(-bound, bound): inside the bounds, and a KS test that would reject another
    width or a normal distribution."""
    values = np.asarray(values, np.float64).ravel()
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() > 0.9 * bound
    assert stats.kstest(values, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3


@pytest.mark.parametrize("name,args,fan_in", [
    ("Linear", (200, 300), 200),
    ("Conv1d", (6, 500, 5), 30),
    ("Conv2d", (16, 40, 3), 144),
    ("Conv2d", (16, 40, (3, 2)), 96),
    ("Conv3d", (4, 8, 3, 1, 0, 1, 2), 54),                 # groups=2: fan_in = 2 * 27
    ("ConvTranspose2d", (40, 16, 3), 144),                 # fan_in from weight.shape[1]
    ("ConvTranspose1d", (30, 20, 4, 1, 0, 0, 2), 40),      # groups=2: weight (30, 10, 4)
], ids=str)
def test_weight_and_bias_init_distributions(name, args, fan_in):
    """weight: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), ...); bias: the same bound."""
    ag.manual_seed(0)
    layer = getattr(nn, name)(*args)
    bound = 1 / math.sqrt(fan_in)
    # gain sqrt(2 / (1 + a^2)) = sqrt(1/3) with a = sqrt(5): bound sqrt(3) * gain / sqrt(fan_in)
    _check_uniform(layer.weight.data, bound)
    biases = np.concatenate([getattr(nn, name)(*args).bias.data for _ in range(30)])
    _check_uniform(biases, bound)


def test_bilinear_init_and_reset_parameters():
    ag.manual_seed(0)
    layer = nn.Bilinear(25, 30, 40)
    _check_uniform(layer.weight.data, 1 / 5)
    before = layer.weight.data.copy()
    layer.reset_parameters()
    assert not np.array_equal(before, layer.weight.data)
    _check_uniform(layer.weight.data, 1 / 5)
    assert np.abs(layer.bias.data).max() <= 1 / 5


def test_init_is_seeded():
    ag.manual_seed(3)
    a = nn.Conv2d(2, 3, 3).weight.data.copy()
    ag.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Conv2d(2, 3, 3).weight.data)


# -- errors ------------------------------------------------------------------------------------
def test_linear_wrong_input_shape():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=5, out_features=3, bias=True\)"
                                           r": expected input of shape \(\*, 5\), got shape "
                                           r"\(4, 6\)"):
        nn.Linear(5, 3)(ag.zeros(4, 6))
    with pytest.raises(RuntimeError, match=r"Bilinear.*same batch dims"):
        nn.Bilinear(3, 2, 4)(ag.zeros(4, 3), ag.zeros(5, 2))
    with pytest.raises(RuntimeError, match=r"Bilinear.*input2 of shape \(\*, 2\), got shape"):
        nn.Bilinear(3, 2, 4)(ag.zeros(4, 3), ag.zeros(4, 3))


@pytest.mark.parametrize("layer,shape,match", [
    (lambda: nn.Conv2d(3, 4, 3), (2, 5, 8, 8),
     r"Conv2d\(3, 4, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input of shape "
     r"\(N, 3, H, W\) or \(3, H, W\), got shape \(2, 5, 8, 8\)"),
    (lambda: nn.Conv2d(3, 4, 3), (3, 8), r"Conv2d.*got shape \(3, 8\)"),
    (lambda: nn.Conv1d(3, 4, 3), (1, 1, 3, 8), r"Conv1d.*\(N, 3, L\).*got shape \(1, 1, 3, 8\)"),
    (lambda: nn.Conv3d(2, 4, 3), (2, 4, 4), r"Conv3d.*\(N, 2, D, H, W\)"),
    (lambda: nn.ConvTranspose2d(3, 4, 3), (1, 4, 5, 5), r"ConvTranspose2d\(3, 4.*\(1, 4, 5, 5\)"),
])
def test_conv_wrong_input_shape(layer, shape, match):
    with pytest.raises(RuntimeError, match=match):
        layer()(ag.zeros(*shape))


def test_conv_kernel_larger_than_input():
    with pytest.raises(RuntimeError, match=r"conv2d: kernel size .*input of shape \(1, 3, 2, 2\)"):
        nn.Conv2d(3, 4, 3)(ag.zeros(1, 3, 2, 2))


@pytest.mark.parametrize("kwargs,match", [
    (dict(groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
    (dict(groups=0), "groups must be a positive integer"),
    (dict(padding="same", stride=2), "not supported for strided convolutions"),
    (dict(padding="full"), "invalid padding string 'full'"),
    (dict(padding_mode="wrap"), "padding_mode must be one of"),
    (dict(kernel_size=(3, 3, 3)), r"kernel_size must be an int or a tuple of 2 ints"),
])
def test_conv_constructor_errors(kwargs, match):
    args = dict(in_channels=3, out_channels=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(**args)


def test_conv_transpose_constructor_errors():
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding must be an int or a tuple"):
        nn.ConvTranspose2d(3, 4, 3, padding="same")
