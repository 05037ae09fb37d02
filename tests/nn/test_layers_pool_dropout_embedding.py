"""Pooling, unpooling, upsampling, dropout and embedding layers against PyTorch (outputs,
indices, input and parameter gradients, float32 and float64), their repr, dropout statistics
in training mode, Embedding's initialisation and from_pretrained, and bad-input errors."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import check_module


def pair(name, *args, **kwargs):
    """Constructors of our layer and torch's with the same arguments."""
    return (lambda: getattr(nn, name)(*args, **kwargs),
            lambda: getattr(torch.nn, name)(*args, **kwargs))


# -- max and average pooling -------------------------------------------------------------------
POOLS = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (2,), dict(stride=3, padding=1, dilation=2, ceil_mode=True), (3, 11)),
    ("MaxPool2d", (2,), {}, (2, 3, 7, 9)),                                   # odd sizes
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 4), padding=1), (2, 2, 7, 9)),  # stride > kernel
    ("MaxPool2d", (3,), dict(stride=2, dilation=2, ceil_mode=True), (1, 2, 9, 8)),
    ("MaxPool2d", (2,), dict(return_indices=True, ceil_mode=True), (2, 3, 5, 7)),
    ("MaxPool3d", (2,), dict(stride=(1, 2, 2), padding=(1, 0, 1)), (1, 2, 3, 5, 4)),
    ("MaxPool3d", (2,), dict(return_indices=True, dilation=(1, 2, 1)), (2, 5, 6, 4)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
    ("AvgPool1d", (2,), dict(ceil_mode=True, count_include_pad=False, padding=1), (3, 8)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 7, 8)),
    ("AvgPool2d", ((2, 3),), dict(stride=(3, 4), count_include_pad=False, padding=1),
     (1, 2, 9, 11)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (2, 5, 5)),
    ("AvgPool3d", (2,), dict(stride=(1, 2, 3), padding=1, ceil_mode=True), (1, 2, 4, 5, 7)),
    ("AvgPool3d", (3,), dict(padding=1, count_include_pad=False, divisor_override=5),
     (2, 3, 4, 5)),
]


@pytest.mark.parametrize("name,args,kw,shape", POOLS, ids=str)
def test_pooling(name, args, kw, shape):
    check_module(*pair(name, *args, **kw), [shape])


ADAPTIVE = [
    ("AdaptiveAvgPool1d", (4,), (2, 3, 10)),
    ("AdaptiveAvgPool1d", (3,), (3, 7)),
    ("AdaptiveAvgPool2d", ((3, 4),), (2, 3, 7, 9)),          # windows of uneven sizes
    ("AdaptiveAvgPool2d", ((None, 2),), (2, 5, 5)),
    ("AdaptiveAvgPool2d", (1,), (2, 3, 4, 4)),               # global average pooling
    ("AdaptiveAvgPool3d", ((2, 3, 2),), (1, 2, 5, 7, 3)),
    ("AdaptiveMaxPool1d", (3,), (2, 3, 8)),
    ("AdaptiveMaxPool2d", ((3, 2),), (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", ((4, None), True), (2, 6, 5)),     # return_indices
    ("AdaptiveMaxPool3d", (2, True), (1, 2, 5, 3, 4)),
]


@pytest.mark.parametrize("name,args,shape", ADAPTIVE, ids=str)
def test_adaptive_pooling(name, args, shape):
    check_module(*pair(name, *args), [shape])


class _PoolUnpool:
    """MaxPool{n}d(return_indices=True) then MaxUnpool{n}d, from either library."""

    @staticmethod
    def make(lib, n, kernel, stride, padding, output_size):
        class PoolUnpool(lib.Module):
            def __init__(self):
                super().__init__()
                self.pool = getattr(lib, f"MaxPool{n}d")(kernel, stride, padding,
                                                         return_indices=True)
                self.unpool = getattr(lib, f"MaxUnpool{n}d")(kernel, stride, padding)

            def forward(self, x):
                y, idx = self.pool(x)
                size = list(x.shape) if output_size else None
                return self.unpool(y, idx, output_size=size)
        return PoolUnpool()


@pytest.mark.parametrize("n,kernel,stride,padding,output_size,shape", [
    (1, 2, None, 0, False, (2, 3, 8)),
    (1, 3, 2, 1, True, (2, 3, 9)),
    (2, 2, None, 0, False, (2, 3, 6, 8)),
    (2, 2, None, 0, True, (2, 3, 7, 9)),            # odd sizes need output_size
    (2, (3, 2), (2, 3), 1, True, (1, 2, 8, 7)),
    (3, 2, None, 0, False, (1, 2, 4, 6, 2)),
], ids=str)
def test_max_unpool_round_trip(n, kernel, stride, padding, output_size, shape):
    args = (n, kernel, stride, padding, output_size)
    check_module(lambda: _PoolUnpool.make(nn, *args), lambda: _PoolUnpool.make(torch.nn, *args),
                 [shape])


def test_max_unpool_puts_the_maxima_back():
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.uniform(0.1, 1.0, (2, 3, 6, 6)).astype(np.float32))   # maxima > 0
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    back = nn.MaxUnpool2d(2)(y, idx)
    assert back.shape == x.shape
    kept = back.data != 0
    np.testing.assert_array_equal(back.data[kept], x.data[kept])
    assert kept.sum() == y.data.size
    np.testing.assert_array_equal(nn.MaxPool2d(2)(back).data, y.data)


# -- upsampling --------------------------------------------------------------------------------
UPSAMPLE = [
    ("Upsample", dict(scale_factor=2), (2, 3, 4)),
    ("Upsample", dict(size=7, mode="linear"), (2, 3, 4)),
    ("Upsample", dict(size=(5, 7)), (2, 3, 3, 4)),
    ("Upsample", dict(scale_factor=(1.5, 2.5), mode="bilinear"), (1, 2, 4, 3)),
    ("Upsample", dict(scale_factor=2, mode="bilinear", align_corners=True), (1, 2, 3, 5)),
    ("Upsample", dict(size=(3, 4, 5), mode="trilinear"), (1, 2, 2, 3, 2)),
    ("Upsample", dict(scale_factor=1.7, recompute_scale_factor=True), (1, 2, 5, 3)),
    ("UpsamplingNearest2d", dict(scale_factor=3), (2, 3, 3, 2)),
    ("UpsamplingNearest2d", dict(size=(5, 4)), (1, 2, 3, 3)),
    ("UpsamplingBilinear2d", dict(scale_factor=2), (2, 3, 3, 4)),
    ("UpsamplingBilinear2d", dict(size=(7, 5)), (1, 1, 4, 3)),
]


@pytest.mark.parametrize("name,kw,shape", UPSAMPLE, ids=str)
def test_upsample(name, kw, shape):
    check_module(*pair(name, **kw), [shape])


# -- dropout -----------------------------------------------------------------------------------
DROPOUTS = [("Dropout", (3, 40, 50)), ("Dropout1d", (20, 30, 8)), ("Dropout2d", (20, 30, 3, 4)),
            ("Dropout3d", (10, 40, 2, 3, 2))]


@pytest.mark.parametrize("name,shape", DROPOUTS, ids=str)
@pytest.mark.parametrize("p", [0.5, 0.2])
def test_dropout_eval_is_identity(name, shape, p):
    small = (2, 3) + shape[2:]
    check_module(*pair(name, p), [small], modes=("eval",))
    layer = getattr(nn, name)(p).eval()
    x = ag.randn(*shape)
    assert layer(x) is x


@pytest.mark.parametrize("name,shape", DROPOUTS, ids=str)
@pytest.mark.parametrize("p", [0.3, 0.75])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_train_statistics_and_gradient(name, shape, p, dtype):
    """Kept entries are x / (1 - p), about a fraction p is zeroed (per element or per whole
    channel), and the gradient is the same mask times the upstream gradient."""
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.uniform(0.5, 1.5, shape).astype(dtype), requires_grad=True)
    y = getattr(nn, name)(p)(x)
    assert y.dtype == dtype and y.shape == x.shape
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], x.data[kept] / (1 - p), rtol=1e-6)
    if name == "Dropout":
        units = kept.ravel()
    else:       # whole channels: the mask is constant over the spatial dims
        flat = kept.reshape(shape[0], shape[1], -1)
        assert (flat.all(-1) | ~flat.any(-1)).all()
        units = flat[..., 0].ravel()
    # binomial: the dropped fraction lies within 4.5 standard deviations of p
    sd = np.sqrt(p * (1 - p) / units.size)
    assert abs((1 - units.mean()) - p) < 4.5 * sd
    g = rng.standard_normal(shape).astype(dtype)
    y.backward(ag.tensor(g))
    np.testing.assert_allclose(x.grad.data, np.where(kept, g / (1 - p), 0), rtol=1e-6)


def test_dropout_matches_torch_distribution_of_kept_values():
    """The same layer in torch keeps the same scaled values (x / (1 - p)) in training."""
    x = np.linspace(1, 2, 1000).reshape(10, 100)
    ours = nn.Dropout(0.4)(ag.tensor(x)).data
    theirs = torch.nn.Dropout(0.4)(torch.tensor(x)).numpy()
    assert set(np.round(ours[ours != 0] * 0.6, 10)) <= set(np.round(x.ravel(), 10))
    assert set(np.round(theirs[theirs != 0] * 0.6, 10)) <= set(np.round(x.ravel(), 10))


def test_dropout_seeded_p0_p1_and_inplace():
    x = ag.randn(4, 5)
    ag.manual_seed(7)
    a = nn.Dropout(0.5)(x).data
    ag.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Dropout(0.5)(x).data)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)
    assert not nn.Dropout(1.0)(x).data.any()
    y = ag.ones(3, 4, 2, 2)
    out = nn.Dropout2d(0.5, inplace=True)(y)
    assert out.data is y.data or np.shares_memory(out.data, y.data)
    assert set(np.unique(y.data)) <= {0.0, 2.0}


def test_dropout_rejects_bad_p():
    with pytest.raises(ValueError, match=r"Dropout2d: dropout probability has to be between 0 "
                                         r"and 1, but got 1.5"):
        nn.Dropout2d(1.5)


# -- embedding ---------------------------------------------------------------------------------
def _indices(shape, high):
    def make(rng, dtype):
        return [rng.integers(0, high, shape)]
    return make


@pytest.mark.parametrize("kw,shape", [
    ({}, (3, 4)),
    (dict(padding_idx=2), (4, 5)),
    (dict(padding_idx=-1, scale_grad_by_freq=True), (6,)),
    ({}, ()),
], ids=str)
def test_embedding(kw, shape):
    check_module(*pair("Embedding", 7, 3, **kw), None, make_inputs=_indices(shape, 7))


def test_embedding_max_norm_renormalises_like_torch():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 4)) * 2
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    ours = nn.Embedding.from_pretrained(ag.tensor(table.copy()), freeze=False, max_norm=1.0)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table.copy()), freeze=False,
                                                max_norm=1.0)
    y, ty = ours(ag.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-12)
    assert np.allclose(ours.weight.data[3], table[3])          # a row not looked up
    g = rng.standard_normal(y.shape)
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-12)


def test_embedding_init_is_standard_normal_with_zero_padding_row():
    from scipy import stats
    ag.manual_seed(0)
    layer = nn.Embedding(400, 25, padding_idx=-2)
    assert layer.padding_idx == 398 and layer.weight.dtype == np.float32
    assert not layer.weight.data[398].any()
    rows = np.delete(layer.weight.data, 398, axis=0).astype(np.float64).ravel()
    assert stats.kstest(rows, "norm").pvalue > 1e-3
    layer.weight.data[398] = 1.0
    layer.reset_parameters()
    assert not layer.weight.data[398].any()


def test_embedding_padding_row_gets_no_gradient():
    layer = nn.Embedding(5, 2, padding_idx=0)
    layer(ag.tensor([[0, 1, 0], [3, 0, 1]])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.data[0], [0.0, 0.0])
    np.testing.assert_array_equal(layer.weight.grad.data[1], [2.0, 2.0])


def test_embedding_from_pretrained_shares_and_freezes():
    table = ag.tensor(np.arange(12.0).reshape(4, 3))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.dtype == np.float64
    assert np.shares_memory(frozen.weight.data, table.data)
    np.testing.assert_array_equal(frozen(ag.tensor([3, 1])).data, [[9, 10, 11], [3, 4, 5]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad
    trainable(ag.tensor([1, 2])).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.data[:, 0], [0, 0, 1, 0])
    assert repr(trainable) == repr(torch.nn.Embedding.from_pretrained(
        torch.tensor(table.data), freeze=False, padding_idx=1))
    with pytest.raises(ValueError, match=r"must be 2-dimensional .* got shape \(4,\)"):
        nn.Embedding.from_pretrained(ag.zeros(4))


def test_embedding_errors():
    with pytest.raises(RuntimeError, match=r"Embedding\(5, 2\): expected an integer \(int64\) "
                                           r"tensor of indices, got dtype float32 with shape "
                                           r"\(2, 3\)"):
        nn.Embedding(5, 2)(ag.zeros(2, 3))
    with pytest.raises(IndexError, match=r"index 5 is out of range .* shape \(5, 2\)"):
        nn.Embedding(5, 2)(ag.tensor([1, 5]))
    with pytest.raises(ValueError, match="padding_idx=5 must be within num_embeddings=5"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.Embedding(5, 2, sparse=True)
    with pytest.raises(ValueError, match=r"weight of shape \(3, 2\) does not match"):
        nn.Embedding(5, 2, _weight=ag.zeros(3, 2))


# -- repr and errors ---------------------------------------------------------------------------
REPRS = [
    ("MaxPool1d", (3,), {}), ("MaxPool2d", (2,), dict(stride=1, ceil_mode=True)),
    ("MaxPool3d", ((2, 1, 2),), dict(padding=1, dilation=2, return_indices=True)),
    ("AvgPool1d", (3,), dict(stride=2)), ("AvgPool2d", (2,), {}),
    ("AvgPool3d", (2,), dict(stride=1, padding=1, divisor_override=2)),
    ("AdaptiveAvgPool1d", (3,), {}), ("AdaptiveAvgPool2d", ((None, 4),), {}),
    ("AdaptiveAvgPool3d", (1,), {}), ("AdaptiveMaxPool1d", (2,), {}),
    ("AdaptiveMaxPool2d", ((3, 4),), dict(return_indices=True)), ("AdaptiveMaxPool3d", (2,), {}),
    ("MaxUnpool1d", (2,), {}), ("MaxUnpool2d", (3,), dict(stride=2, padding=1)),
    ("MaxUnpool3d", (2,), {}),
    ("Upsample", (), dict(scale_factor=2)), ("Upsample", (), dict(size=(3, 4), mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(2, 3))),
    ("UpsamplingNearest2d", (), dict(size=5)), ("UpsamplingBilinear2d", (), dict(scale_factor=2)),
    ("Dropout", (), {}), ("Dropout1d", (0.1,), {}), ("Dropout2d", (0.3, True), {}),
    ("Dropout3d", (), dict(p=0.25)),
    ("Embedding", (10, 3), {}),
    ("Embedding", (10, 3), dict(padding_idx=-1, max_norm=2.0, norm_type=1.0,
                                scale_grad_by_freq=True)),
]


@pytest.mark.parametrize("name,args,kw", REPRS, ids=str)
def test_repr_and_state_names_match_torch(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


@pytest.mark.parametrize("layer,shape,match", [
    (lambda: nn.MaxPool2d(2), (4, 4),
     r"MaxPool2d\(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False\): expected "
     r"input of shape \(N, C, H, W\) or \(C, H, W\), got shape \(4, 4\)"),
    (lambda: nn.AvgPool1d(2), (1, 2, 3, 4), r"AvgPool1d\(kernel_size=\(2,\).*got shape "
                                            r"\(1, 2, 3, 4\)"),
    (lambda: nn.AvgPool3d(2), (2, 4, 4), r"AvgPool3d.*\(N, C, D, H, W\).*\(2, 4, 4\)"),
    (lambda: nn.AdaptiveAvgPool2d(2), (8,), r"AdaptiveAvgPool2d\(output_size=2\).*\(8,\)"),
    (lambda: nn.AdaptiveMaxPool1d(2), (1, 2, 3, 8), r"AdaptiveMaxPool1d.*\(1, 2, 3, 8\)"),
    (lambda: nn.Upsample(scale_factor=2), (3, 4), r"Upsample\(scale_factor=2.0, mode='nearest'"
                                                  r"\): expected a 3-d .* got \(3, 4\)"),
    (lambda: nn.MaxPool2d(5), (1, 2, 3, 3), r"max_pool2d: .*\(1, 2, 3, 3\)"),
])
def test_wrong_input_shapes(layer, shape, match):
    with pytest.raises(RuntimeError, match=match):
        layer()(ag.zeros(*shape))


def test_max_unpool_bad_indices():
    y, idx = nn.MaxPool2d(2, return_indices=True)(ag.randn(1, 2, 4, 4))
    with pytest.raises(RuntimeError, match=r"MaxUnpool2d.*got shape \(2, 2\)"):
        nn.MaxUnpool2d(2)(y[0, 0], idx[0, 0])
    with pytest.raises(RuntimeError,
                       match=r"max_unpool2d: indices must be .* shape \(1, 2, 2, 2\)"):
        nn.MaxUnpool2d(2)(y, idx[:, :1])
