"""Readout and pooling: global pools against torch, SortPooling's selection and gradient
routing, DenseGCNConv and DiffPool against their dense formulas, shapes and gradients."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn.graph as G
from autograd.autograd import gradcheck

from .graph_helpers import assert_close, copy_params, ours, theirs

DTYPES = (np.float32, np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pool, reduce", [(G.global_add_pool, "sum"),
                                          (G.global_mean_pool, "mean"),
                                          (G.global_max_pool, "amax")])
def test_global_pools_match_torch(dtype, pool, reduce):
    rng = np.random.default_rng(0)
    batch = np.array([0, 0, 1, 2, 2, 2, 1, 0])
    x = rng.standard_normal((8, 3))
    g = rng.standard_normal((3, 3))
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    out = pool(xo, batch)
    index = torch.from_numpy(batch)[:, None].expand(8, 3)
    ref = torch.zeros(3, 3, dtype=xt.dtype).scatter_reduce(0, index, xt, reduce,
                                                           include_self=False)
    assert_close(out, ref, dtype, reduce)
    out.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    assert_close(xo.grad, xt.grad, dtype, f"d {reduce}")
    whole = pool(ours(x, dtype), None)
    assert whole.shape == (1, 3)
    assert pool(ours(x, dtype), batch, size=5).shape == (5, 3)
    with pytest.raises(ValueError, match=rf"{pool.__name__}: batch of shape \(7,\)"):
        pool(ours(x, dtype), batch[:7])


def _sort_pool_reference(x, batch, k):
    """Per graph: rows sorted by the last channel, descending, first k, zero-padded."""
    out = []
    for b in range(batch.max() + 1):
        rows = x[batch == b]
        rows = rows[np.argsort(-rows[:, -1], kind="stable")][:k]
        pad = np.zeros((k - rows.shape[0], x.shape[1]))
        out.append(np.concatenate([rows, pad]).reshape(-1))
    return np.stack(out)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_sort_pool_keeps_the_right_nodes_and_routes_gradients(k):
    rng = np.random.default_rng(1)
    batch = np.array([0, 1, 0, 0, 1, 2, 0, 1, 0])
    x = rng.standard_normal((9, 4))
    xo = ag.tensor(x, requires_grad=True)
    out = G.global_sort_pool(xo, batch, k)
    assert out.shape == (3, k * 4)
    np.testing.assert_array_equal(out.data, _sort_pool_reference(x, batch, k))
    g = rng.standard_normal(out.shape)
    out.backward(ag.tensor(g))
    expected = np.zeros_like(x)                         # upstream rows land on kept nodes
    for b in range(3):
        nodes = np.flatnonzero(batch == b)
        kept = nodes[np.argsort(-x[nodes, -1], kind="stable")][:k]
        for slot, node in enumerate(kept):
            expected[node] = g[b, slot * 4:(slot + 1) * 4]
    np.testing.assert_array_equal(xo.grad.data, expected)
    assert G.SortAggregation(k)(xo, batch).shape == (3, k * 4)
    x32 = ag.tensor(x.astype(np.float32))
    assert G.global_sort_pool(x32, batch, k).dtype == ag.float32


def _dense_gcn_reference(xt, adj, w, b, mask, improved):
    n = adj.shape[-1]
    eye = torch.eye(n, dtype=adj.dtype)
    adj = adj * (1 - eye) + eye * (2.0 if improved else 1.0)        # diagonal set to 1 (2)
    d = adj.sum(-1).clamp(min=1) ** -0.5
    out = (d[..., :, None] * adj * d[..., None, :]) @ (xt @ w.t()) + b
    return out * mask[..., None].to(out.dtype) if mask is not None else out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("improved", [False, True])
def test_dense_gcnconv_equals_formula(dtype, improved):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3))
    adj = (rng.random((2, 5, 5)) < 0.5) * rng.uniform(0.5, 1.5, (2, 5, 5))
    mask = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
    conv = G.DenseGCNConv(3, 4, improved=improved)
    conv = conv.double() if dtype == np.float64 else conv
    w = torch.randn(4, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    b = torch.randn(4, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    w, b = w.to(tdt).requires_grad_(), b.to(tdt).requires_grad_()
    copy_params([(conv.lin.weight, w), (conv.bias, b)])
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    ao, at = ours(adj, dtype, True), theirs(adj, dtype, True)
    out = conv(xo, ao, ag.tensor(mask))
    ref = _dense_gcn_reference(xt, at, w, b, torch.from_numpy(mask), improved)
    assert_close(out, ref, dtype, "DenseGCNConv")
    g = rng.standard_normal(out.shape)
    out.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    for name, a, t in [("x", xo, xt), ("adj", ao, at), ("W", conv.lin.weight, w)]:
        assert_close(a.grad, t.grad, dtype, f"d DenseGCNConv / d {name}")


def _diff_pool_reference(x, adj, s, mask):
    s = torch.softmax(s, -1)
    if mask is not None:
        m = mask[..., None].to(x.dtype)
        x, s = x * m, s * m
    out = s.transpose(1, 2) @ x
    out_adj = s.transpose(1, 2) @ adj @ s
    link = torch.norm(adj - s @ s.transpose(1, 2), p=2) / adj.numel()
    ent = (-s * torch.log(s + 1e-15)).sum(-1).mean()
    return out, out_adj, link, ent


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_mask", [False, True])
def test_dense_diff_pool_equals_formula(dtype, use_mask):
    rng = np.random.default_rng(5)
    b, n, f, k = 2, 6, 3, 2
    x, s = rng.standard_normal((b, n, f)), rng.standard_normal((b, n, k))
    adj = (rng.random((b, n, n)) < 0.4).astype(np.float64)
    mask = np.ones((b, n), bool)
    mask[0, 4:] = False
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    so, st = ours(s, dtype, True), theirs(s, dtype, True)
    ao, at = ours(adj, dtype, True), theirs(adj, dtype, True)
    outs = G.dense_diff_pool(xo, ao, so, ag.tensor(mask) if use_mask else None)
    refs = _diff_pool_reference(xt, at, st, torch.from_numpy(mask) if use_mask else None)
    assert [tuple(o.shape) for o in outs] == [(b, k, f), (b, k, k), (), ()]
    for name, o, t in zip(["x'", "adj'", "link", "entropy"], outs, refs):
        assert_close(o, t, dtype, name)
    gs = [rng.standard_normal(tuple(o.shape)) for o in outs]
    total = sum((o * ours(g, dtype)).sum() for o, g in zip(outs, gs))
    total_t = sum((t * theirs(g, dtype)).sum() for t, g in zip(refs, gs))
    total.backward()
    total_t.backward()
    for name, a, t in [("x", xo, xt), ("s", so, st), ("adj", ao, at)]:
        assert_close(a.grad, t.grad, dtype, f"d DiffPool / d {name}")


def test_diff_pool_module_shapes_gradients_and_gradcheck():
    rng = np.random.default_rng(6)
    x = ag.tensor(rng.standard_normal((3, 7, 4)).astype(np.float32))
    adj = ag.tensor((rng.random((3, 7, 7)) < 0.4).astype(np.float32))
    pool = G.DiffPool(4, 8, 3)
    out, out_adj, link, ent = pool(x, adj)
    assert out.shape == (3, 3, 8) and out_adj.shape == (3, 3, 3)
    assert out.dtype == ag.float32 and link.shape == () and ent.shape == ()
    (out.sum() + out_adj.sum() + link + ent).backward()
    for name, p in pool.named_parameters():
        assert p.grad is not None and np.any(p.grad.data != 0), name
    x64 = ag.tensor(rng.standard_normal((1, 4, 2)), requires_grad=True)
    s64 = ag.tensor(rng.standard_normal((1, 4, 2)), requires_grad=True)
    a64 = ag.tensor(rng.random((1, 4, 4)), requires_grad=True)
    gradcheck(lambda a, b, c: G.dense_diff_pool(a, b, c), [x64, a64, s64])
    with pytest.raises(ValueError, match="dense_diff_pool"):
        G.dense_diff_pool(x64, a64[:, :3, :3], s64)
