"""scaled_dot_product_attention against PyTorch: every mask kind, causal, scale, GQA,
fully masked rows (no NaN), dropout, errors, and the course's worked example."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from tests.helpers import check_op

Q, K, V = (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3)


def _sdpa_pair(**kw):
    """ours and PyTorch's sdpa with the keyword arguments bound (masks as numpy arrays,
    converted to each side's tensors in the input's dtype unless bool)."""
    mask = kw.pop("attn_mask", None)

    def ours(q, k, v):
        m = None if mask is None else ag.tensor(mask if mask.dtype == bool
                                                else mask.astype(q.dtype))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)

    def ref(q, k, v):
        m = None if mask is None else torch.tensor(mask if mask.dtype == bool
                                                   else mask.astype(q.detach().numpy().dtype))
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
    return ours, ref


@pytest.mark.parametrize("shapes", [[Q, K, V], [(5, 4), (6, 4), (6, 3)], [(1, 3, 5, 4),
                                    (2, 1, 6, 4), (2, 1, 6, 3)]],
                         ids=["4d", "2d", "broadcast"])
def test_no_mask(shapes):
    check_op(*_sdpa_pair(), shapes)


def test_scale():
    check_op(*_sdpa_pair(scale=0.3), [Q, K, V])


@pytest.mark.parametrize("mask_shape", [(5, 6), (2, 1, 5, 6), (2, 3, 5, 6), (1, 1, 1, 6)])
def test_bool_mask(mask_shape):
    rng = np.random.default_rng(1)
    mask = rng.random(mask_shape) < 0.6
    mask[..., 0] = True                                     # every row attends somewhere
    check_op(*_sdpa_pair(attn_mask=mask), [Q, K, V])


@pytest.mark.parametrize("with_inf", [False, True])
def test_float_mask_and_its_gradient(with_inf):
    rng = np.random.default_rng(2)
    mask = rng.normal(0, 1, (3, 5, 6))
    if with_inf:
        mask[rng.random(mask.shape) < 0.3] = -np.inf
        mask[..., 0] = 0.0
    check_op(F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
             make_inputs=lambda r, dt: [r.uniform(-2, 2, s).astype(dt) for s in (Q, K, V)]
             + [mask.astype(dt)])


@pytest.mark.parametrize("lengths", [(5, 5), (4, 7), (7, 4)], ids=["square", "L<S", "L>S"])
def test_causal(lengths):
    L, S = lengths
    check_op(*_sdpa_pair(is_causal=True), [(2, 2, L, 4), (2, 2, S, 4), (2, 2, S, 3)])


def test_grouped_query_attention():
    check_op(*_sdpa_pair(enable_gqa=True), [(2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)])


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_masked_rows_match_pytorch_and_have_no_nan(kind, dtype):
    rng = np.random.default_rng(3)
    keep = rng.random((2, 1, 5, 6)) < 0.5
    keep[..., 0] = True
    keep[0, :, 1] = False                                   # rows with every key masked
    keep[1, :, 4] = False
    mask = keep if kind == "bool" else np.where(keep, 0.0, -np.inf).astype(dtype)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (Q, K, V)]
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.scaled_dot_product_attention(*xs, attn_mask=ag.tensor(mask))
    t = TF.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(mask))
    g = rng.standard_normal(t.shape).astype(dtype)
    y.backward(ag.tensor(g))
    t.backward(torch.tensor(g))
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    assert not np.isnan(y.data).any()
    np.testing.assert_allclose(y.data[0, :, 1], 0.0)
    np.testing.assert_allclose(y.data, t.detach().numpy(), **tol)
    for x, tx in zip(xs, ts):
        assert np.isfinite(x.grad.data).all()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(xs[0].grad.data[0, :, 1], 0.0)


def test_fully_masked_rows_gradcheck():
    rng = np.random.default_rng(4)
    keep = rng.random((5, 6)) < 0.5
    keep[:, 0] = True
    keep[2] = False
    m = ag.tensor(keep)
    xs = [ag.tensor(rng.standard_normal(s), requires_grad=True) for s in (Q, K, V)]
    ag.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, m), xs)


def test_dropout():
    rng = np.random.default_rng(5)
    q, k, v = (ag.tensor(rng.standard_normal(s).astype(np.float32)) for s in [(1, 3, 4)] * 3)
    plain = F.scaled_dot_product_attention(q, k, v).data
    ag.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data
    ag.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, plain)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data == 0)
    # E[dropout(A) / 1] = A: the mean over many draws approaches the plain output
    draws = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).data for _ in range(3000)]
    np.testing.assert_allclose(np.mean(draws, 0), plain, atol=0.06)


def test_float32_stays_float32():
    x = ag.randn(2, 3, 4, requires_grad=True)
    y = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("args,kw,error", [
    ([(2, 5, 4), (2, 6, 3), (2, 6, 3)], {}, "last dim"),
    ([(2, 5, 4), (2, 6, 4), (2, 7, 3)], {}, "sequence length"),
    ([(4,), (4,), (4,)], {}, "at least 2-d"),
    ([(2, 5, 4), (3, 6, 4), (3, 6, 3)], {}, "do not broadcast"),
    ([(2, 5, 4), (2, 6, 4), (2, 6, 3)], {"attn_mask": np.ones((5, 6), bool), "is_causal": True},
     "is_causal"),
    ([(2, 5, 4), (2, 6, 4), (2, 6, 3)], {"attn_mask": np.ones((4, 6), bool)}, "attn_mask"),
])
def test_errors_name_the_operation_and_shapes(args, kw, error):
    xs = [ag.randn(*s) for s in args]
    if "attn_mask" in kw:
        kw = dict(kw, attn_mask=ag.tensor(kw["attn_mask"]))
    with pytest.raises(RuntimeError, match=error) as info:
        F.scaled_dot_product_attention(*xs, **kw)
    assert "scaled_dot_product_attention" in str(info.value)


def test_mixed_dtypes_and_bad_mask_dtype_raise():
    q = ag.randn(5, 4)
    with pytest.raises(RuntimeError, match="dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.zeros(5, 5, dtype=ag.float64))
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(q.data, q, q)


# -- the course's worked example --------------------------------------------------------------
# The course's own word vectors for "The weather is nice today" could not be found; these
# 3-d vectors stand in for them. The query is the course's [0.6, 0.2, 0.8].
WORDS = ["The", "weather", "is", "nice", "today"]
VECTORS = [[0.1, 0.3, 0.2], [0.9, 0.1, 0.7], [0.2, 0.4, 0.1], [0.7, 0.6, 0.9], [0.4, 0.8, 0.3]]
QUERY = [0.6, 0.2, 0.8]


@pytest.mark.parametrize("scale,weights,context", [
    # plain dot products: scores [0.28, 1.12, 0.28, 1.26, 0.64]
    (1.0, [0.1188, 0.2753, 0.1188, 0.3167, 0.1703], [0.5732, 0.4370, 0.5645]),
    # scaled by 1 / sqrt(3): scores [0.1617, 0.6466, 0.1617, 0.7275, 0.3695]
    (None, [0.1511, 0.2455, 0.1511, 0.2662, 0.1861], [0.5270, 0.4389, 0.5125]),
])
def test_course_example_weather_is_nice_today(scale, weights, context):
    x = ag.tensor(VECTORS, dtype=ag.float64)                # keys = values = the word vectors
    q = ag.tensor([QUERY], dtype=ag.float64)                # (1, 3)
    s = 1.0 / math.sqrt(3) if scale is None else scale
    scores = (q @ x.T) * s
    w = scores.softmax(-1)
    np.testing.assert_allclose(w.data[0], weights, atol=5e-5)
    np.testing.assert_allclose(w.data.sum(), 1.0)
    assert WORDS[int(w.data.argmax())] == "nice"
    y = F.scaled_dot_product_attention(q, x, x, scale=scale)
    np.testing.assert_allclose(y.data[0], context, atol=5e-5)
    np.testing.assert_allclose(y.data, w.data @ x.data)      # the weighted sum of the vectors


def test_second_derivatives():
    rng = np.random.default_rng(6)
    keep = rng.random((4, 5)) < 0.6
    keep[:, 0] = True
    keep[1] = False                                         # a fully masked row too
    m = ag.tensor(keep)
    xs = [ag.tensor(rng.standard_normal(s), requires_grad=True)
          for s in [(2, 4, 3), (2, 5, 3), (2, 5, 2)]]
    ag.autograd.gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, m), xs)
    ag.autograd.gradgradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), xs)
