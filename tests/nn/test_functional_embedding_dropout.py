"""embedding, one_hot and dropout against PyTorch (dropout: statistics, seeding, gradient)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from tests.helpers import check_op

# -- embedding ---------------------------------------------------------------------------------
INDICES = [
    np.array([[1, 2, 1], [5, 1, 0]]),      # repeated indices accumulate in the gradient
    np.array([3, 3, 3, 3]),
    np.array(4),                           # 0-d index -> (D,)
    np.zeros((2, 0), np.int64),            # empty
]


@pytest.mark.parametrize("idx", INDICES, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("padding_idx", [None, 1, -3])
@pytest.mark.parametrize("freq", [False, True])
def test_embedding(idx, padding_idx, freq):
    def make(rng, dtype):
        return [rng.standard_normal((6, 3)), idx]
    kw = dict(padding_idx=padding_idx, scale_grad_by_freq=freq)
    # padding_idx and scale_grad_by_freq change the gradient on purpose: no gradcheck then
    check_op(lambda w, i: F.embedding(i, w, **kw), lambda w, i: TF.embedding(i, w, **kw),
             make_inputs=make, layouts=("contiguous", "transposed"),
             gradcheck=padding_idx is None and not freq)


def test_embedding_padding_row_gets_no_gradient():
    w = ag.randn(4, 2, requires_grad=True)
    F.embedding(ag.tensor([[0, 2, 2], [2, 1, 0]]), w, padding_idx=2).sum().backward()
    assert w.grad.data[2].tolist() == [0.0, 0.0]
    assert w.grad.data[0].tolist() == [2.0, 2.0] and w.grad.data[3].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalises_rows_in_place(norm_type):
    rng = np.random.default_rng(0)
    table = rng.standard_normal((5, 4)) * 3
    idx = np.array([[0, 2], [2, 4]])
    w = ag.tensor(table, requires_grad=True)
    wt = torch.tensor(table, requires_grad=True)
    out = F.embedding(ag.tensor(idx), w, max_norm=1.5, norm_type=norm_type)
    ref = TF.embedding(torch.tensor(idx), wt, max_norm=1.5, norm_type=norm_type)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.data, wt.detach().numpy(), rtol=1e-12)
    assert np.allclose(w.data[1], table[1]) and not np.allclose(w.data[0], table[0])
    g = rng.standard_normal(out.shape)
    out.backward(ag.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-12)


def test_embedding_gradgradcheck():
    w = ag.tensor(np.random.default_rng(0).standard_normal((5, 2)), requires_grad=True)
    idx = ag.tensor([[0, 3, 3], [4, 0, 1]])
    assert ag.autograd.gradgradcheck(lambda w: F.embedding(idx, w) * w[0], [w])


@pytest.mark.parametrize("padding_idx,freq", [(4, False), (3, True)])
def test_embedding_backward_is_differentiable(padding_idx, freq):
    # the map g -> dw (scatter-add, masked/scaled) is itself differentiable: gradcheck it
    rng = np.random.default_rng(0)
    w = ag.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    idx = ag.tensor([[0, 3, 3], [4, 0, 1]])
    g = ag.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)

    def first_order(g):
        with ag.enable_grad():      # gradcheck evaluates it under no_grad too
            out = F.embedding(idx, w, padding_idx=padding_idx, scale_grad_by_freq=freq)
            return ag.grad(out, [w], g, create_graph=True)[0]
    assert ag.autograd.gradcheck(first_order, [g])
    dw = first_order(g)
    assert dw.requires_grad and not dw.data[padding_idx].any()


def test_embedding_errors():
    w = ag.randn(5, 3)
    with pytest.raises(IndexError, match=r"embedding: index 5 .*\(5, 3\).*\(2,\)"):
        F.embedding(ag.tensor([1, 5]), w)
    with pytest.raises(IndexError, match=r"embedding: index -1"):
        F.embedding(ag.tensor([-1, 2]), w)
    with pytest.raises(RuntimeError, match=r"embedding: expected an integer.*float32.*\(2,\)"):
        F.embedding(ag.tensor([1.0, 2.0]), w)
    with pytest.raises(RuntimeError, match=r"embedding: weight must be a 2-D.*\(5,\)"):
        F.embedding(ag.tensor([1, 2]), ag.randn(5))
    with pytest.raises(ValueError, match="embedding: padding_idx 5"):
        F.embedding(ag.tensor([1, 2]), w, padding_idx=5)


# -- one_hot -----------------------------------------------------------------------------------
@pytest.mark.parametrize("idx,n", [([0, 2, 1, 2], -1), ([[0, 1], [3, 1]], 5), (2, 4),
                                   (np.zeros((0,), np.int64), 3)],
                         ids=["infer", "2d", "0d", "empty"])
def test_one_hot(idx, n):
    ours = F.one_hot(ag.tensor(idx), n)
    ref = TF.one_hot(torch.tensor(idx), n)
    assert ours.dtype == np.int64 and ours.shape == tuple(ref.shape)
    np.testing.assert_array_equal(ours.data, ref.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match=r"one_hot: class values must be smaller than "
                                           r"num_classes \(3\).*\(2,\)"):
        F.one_hot(ag.tensor([1, 5]), 3)
    with pytest.raises(RuntimeError, match="one_hot: class values must be non-negative"):
        F.one_hot(ag.tensor([1, -1]), 3)
    with pytest.raises(RuntimeError, match="one_hot: expected an integer"):
        F.one_hot(ag.tensor([1.0]), 3)
    with pytest.raises(RuntimeError, match="one_hot: can not infer"):
        F.one_hot(ag.tensor(np.zeros(0, np.int64)))


# -- dropout -----------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    ag.manual_seed(0)
    y = F.dropout(ag.ones(400, 500), p)
    assert y.dtype == np.float32
    kept = y.data != 0
    assert abs((~kept).mean() - p) < 0.005                  # fraction zeroed ~ p
    assert abs(y.data.mean() - 1.0) < 0.02                  # mean preserved
    np.testing.assert_allclose(y.data[kept], np.float32(1 / (1 - p)))


def test_dropout_is_seeded():
    x = ag.randn(50, 20)
    ag.manual_seed(7)
    a = F.dropout(x, 0.4)
    b = F.dropout(x, 0.4)
    ag.manual_seed(7)
    c = F.dropout(x, 0.4)
    np.testing.assert_array_equal(a.data, c.data)
    assert not np.array_equal(a.data, b.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_gradient_is_mask_over_keep(dtype):
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.uniform(0.5, 1.5, (30, 40)).astype(dtype), requires_grad=True)
    g = rng.standard_normal((30, 40)).astype(dtype)
    y = F.dropout(x, 0.3)
    y.backward(ag.tensor(g))
    mask = (y.data != 0).astype(dtype)
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_array_equal(y.data, x.data * (mask / dtype(0.7)))
    np.testing.assert_array_equal(x.grad.data, g * (mask / dtype(0.7)))


def test_dropout_eval_p0_p1():
    x = ag.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(ag.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert not y.data.any() and not x.grad.data.any() and np.isfinite(x.grad.data).all()


def test_dropout_inplace():
    ag.manual_seed(1)
    x = ag.randn(20, 20, requires_grad=True)
    h = x * 1.0
    y = F.dropout(h, 0.5, inplace=True)
    assert y is h and (h.data == 0).any()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, (h.data != 0) * np.float32(2.0))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p(p):
    for fn in (F.dropout, F.dropout2d):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            fn(ag.randn(2, 3, 4, 4), p)


@pytest.mark.parametrize("shape", [(8, 16, 5, 6), (16, 5, 6)], ids=str)
def test_dropout2d_zeroes_whole_channels(shape):
    # a 3-D input is (N, C, L) with a warning, as PyTorch 2.x: whole rows of L dropped
    ag.manual_seed(3)
    x = ag.tensor(np.random.default_rng(0).uniform(0.5, 1.5, shape), requires_grad=True)
    if len(shape) == 3:
        with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
            y = F.dropout2d(x, 0.5)
    else:
        y = F.dropout2d(x, 0.5)
    maps = y.data.reshape(-1, shape[-1] if len(shape) == 3 else shape[-2] * shape[-1])
    zero = (maps == 0).all(axis=1)
    assert zero.any() and not zero.all()
    np.testing.assert_allclose(maps[~zero], x.data.reshape(maps.shape)[~zero] * 2.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data.reshape(maps.shape),
                                  np.where(zero[:, None], 0.0, 2.0) * np.ones_like(maps))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout2d_is_seeded(dtype):
    """Same seed -> same channel mask; each (n, c) map is all zero or x / (1 - p);
    training=False returns the input."""
    p = 0.3
    x = ag.tensor(np.random.default_rng(5).uniform(0.5, 1.5, (6, 10, 3, 4)).astype(dtype))
    ag.manual_seed(11)
    a = F.dropout2d(x, p)
    b = F.dropout2d(x, p)
    ag.manual_seed(11)
    c = F.dropout2d(x, p)
    assert a.dtype == dtype
    np.testing.assert_array_equal(a.data, c.data)
    assert not np.array_equal(a.data, b.data)
    maps, xs = a.data.reshape(60, 12), x.data.reshape(60, 12)
    zero = (maps == 0).all(axis=1)
    assert zero.any() and not zero.all()
    assert np.all((maps == 0).any(axis=1) == zero)             # no partially zeroed map
    np.testing.assert_array_equal(maps[~zero], xs[~zero] * dtype(1 / (1 - p)))
    assert F.dropout2d(x, p, training=False) is x


def test_dropout1d_and_3d_shapes():
    ag.manual_seed(0)
    y = F.dropout1d(ag.ones(4, 6, 7), 0.5)
    assert ((y.data == 0).all(-1) | (y.data == 2).all(-1)).all()
    z = F.dropout3d(ag.ones(3, 5, 2, 2, 2), 0.5)
    assert ((z.data == 0).all((-3, -2, -1)) | (z.data == 2).all((-3, -2, -1))).all()
    with pytest.raises(RuntimeError, match=r"dropout2d: expected .*\(3, 4\)"):
        F.dropout2d(ag.ones(3, 4), 0.5)
