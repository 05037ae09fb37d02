"""Graph convolutions against their dense formulas computed in PyTorch: outputs and the
gradients of the input, the weights and the edge weights (random upstream gradient), float32
and float64; gradcheck in float64."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn.graph as G
from autograd.autograd import gradcheck
from autograd.sparse import SparseCSR

from .graph_helpers import (assert_close, copy_params, dense_adj, gcn_dense, laplacian_dense,
                            ours, random_graph, theirs)

DTYPES = (np.float32, np.float64)
N, C_IN, C_OUT = 9, 4, 3


def _setup(dtype, seed=0, weighted=False):
    edges = random_graph(N, 0.35, seed)
    rng = np.random.default_rng(seed + 10)
    x = rng.standard_normal((N, C_IN))
    g = rng.standard_normal((N, C_OUT))
    w = rng.uniform(0.5, 2.0, edges.shape[1]) if weighted else None
    return edges, x, g, w


def _grads(out, ref, g, dtype, pairs):
    """Backward with upstream g on both sides; compare the listed (ours, torch) gradients."""
    out.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    for name, a, b in pairs:
        assert_close(a.grad, b.grad, dtype, f"grad {name}")


def _torch_params(*shapes, seed=0, dtype=np.float64):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen, dtype=torch.float64).to(
        torch.float32 if dtype == np.float32 else torch.float64).requires_grad_()
        for s in shapes]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("improved", [False, True])
def test_gcnconv_equals_dense_formula(dtype, improved):
    edges, x, g, w = _setup(dtype, weighted=True)
    conv = G.GCNConv(C_IN, C_OUT, improved=improved).to(ag.float64 if dtype == np.float64
                                                          else ag.float32)
    wt, bt = _torch_params((C_OUT, C_IN), (C_OUT,), dtype=dtype)
    copy_params([(conv.lin.weight, wt), (conv.bias, bt)])
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    wo, w_t = ours(w, dtype, True), theirs(w, dtype, True)
    out = conv(xo, edges, wo)
    a_hat = gcn_dense(dense_adj(edges, N, w_t), improved)
    ref = a_hat @ xt @ wt.t() + bt                                   # A_hat X W^T + b
    assert_close(out, ref, dtype, "GCNConv")
    _grads(out, ref, g, dtype, [("x", xo, xt), ("W", conv.lin.weight, wt),
                                ("b", conv.bias, bt), ("edge_weight", wo, w_t)])


def test_gcnconv_variants_and_sparse_features():
    edges, x, g, _ = _setup(np.float64, seed=1)
    conv = G.GCNConv(C_IN, C_OUT, cached=True).double()
    xo = ours(x)
    dense = conv(xo, edges).data
    x_sparse = SparseCSR.from_dense(x)
    np.testing.assert_allclose(conv(x_sparse, edges).data, dense, rtol=1e-12)
    adj_t = G.propagation_matrix(edges, num_nodes=N, dtype=ag.float64)
    plain = G.GCNConv(C_IN, C_OUT, normalize=False, bias=False).double()
    plain.lin.weight.data[...] = conv.lin.weight.data
    expected = dense_adj(edges, N).numpy().T @ x @ conv.lin.weight.data.T
    np.testing.assert_allclose(plain(xo, edges).data, expected, rtol=1e-12)
    np.testing.assert_allclose(plain(xo, adj_t).data, expected, rtol=1e-12)
    assert conv._cached_adj is not None                               # cached: reused
    np.testing.assert_allclose(conv(xo, np.zeros((2, 0), np.int64)).data, dense, rtol=1e-12)
    xs = ag.tensor(x, requires_grad=True)
    gradcheck(lambda t: conv(t, edges), [xs])
    assert G.GCNConv(C_IN, C_OUT)(ag.randn(N, C_IN), edges).dtype == ag.float32
    with pytest.raises(ValueError, match=r"GCNConv: x must be a float \(N, C\)"):
        conv(ag.randn(N), edges)


@pytest.mark.parametrize("layer", [G.GCNConv(3, 2), G.ChebConv(3, 2, 2), G.GATConv(3, 2),
                                   G.GraphConv(3, 2)], ids=lambda m: type(m).__name__)
def test_layers_name_themselves_in_channel_errors(layer):
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}: x of shape \(4, 5\) for "
                                         r"in_channels=3"):
        layer(ag.randn(4, 5), np.array([[0, 1], [1, 2]]))


def _cheb_reference(xt, lap_hat, weights, bias):
    tx = [xt, lap_hat @ xt]
    for _ in range(2, len(weights)):
        tx.append(2 * lap_hat @ tx[-1] - tx[-2])
    out = sum(t @ w.t() for t, w in zip(tx, weights))
    return out + bias


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, normalization, lambda_max", [
    (1, "sym", None), (2, "sym", None), (4, "sym", None), (3, None, 5.0), (3, "rw", None)])
def test_chebconv_equals_dense_formula(dtype, k, normalization, lambda_max):
    edges, x, g, w = _setup(dtype, seed=2, weighted=True)
    conv = G.ChebConv(C_IN, C_OUT, k, normalization=normalization)
    conv = conv.double() if dtype == np.float64 else conv
    params = _torch_params(*[(C_OUT, C_IN)] * k, (C_OUT,), seed=3, dtype=dtype)
    copy_params([(lin.weight, p) for lin, p in zip(conv.lins, params[:k])]
                + [(conv.bias, params[k])])
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    wo, w_t = ours(w, dtype, True), theirs(w, dtype, True)
    out = conv(xo, edges, wo, lambda_max=lambda_max)
    lap = laplacian_dense(dense_adj(edges, N, w_t), normalization)
    lam = lambda_max if lambda_max is not None else (
        2.0 if normalization == "sym" else 2.0 * lap.detach().max().item())
    lap_hat = (2.0 / lam * lap - torch.eye(N, dtype=lap.dtype)).t()   # rows: targets
    ref = _cheb_reference(xt, lap_hat, params[:k], params[k])
    assert_close(out, ref, dtype, "ChebConv")
    pairs = [("x", xo, xt), ("b", conv.bias, params[k])]
    pairs += [(f"W{i}", lin.weight, p) for i, (lin, p) in enumerate(zip(conv.lins, params))]
    if k > 1:                                         # T_0 = x does not see the graph
        pairs.append(("edge_weight", wo, w_t))
    _grads(out, ref, g, dtype, pairs)


def test_chebconv_gradcheck_and_batched_lambda_max():
    edges, x, _, w = _setup(np.float64, seed=4, weighted=True)
    conv = G.ChebConv(C_IN, 2, 3).double()
    gradcheck(lambda t, v: conv(t, edges, v), [ag.tensor(x, requires_grad=True),
                                               ag.tensor(w, requires_grad=True)])
    lam = ag.tensor([2.0, 4.0], dtype=ag.float64)                   # one value per graph
    batch = (np.arange(N) >= 5).astype(np.int64)
    inside = edges[:, (edges[0] < 5) == (edges[1] < 5)]
    both = conv(ag.tensor(x), inside, batch=batch, lambda_max=lam).data
    first = inside[:, inside[0] < 5]
    second = inside[:, inside[0] >= 5] - 5
    np.testing.assert_allclose(both[:5], conv(ag.tensor(x[:5]), first, lambda_max=2.0).data,
                               rtol=1e-12)
    np.testing.assert_allclose(both[5:], conv(ag.tensor(x[5:]), second, lambda_max=4.0).data,
                               rtol=1e-12)


@pytest.mark.parametrize("normalization, signs", [(None, (1, -1, 1)), ("sym", (1, 0, -1)),
                                                  ("rw", (1, 0, -1))])
def test_chebconv_on_a_graph_without_edges(normalization, signs):
    # default lambda_max. None: L = 0, L_hat = -I, T_k = x, -x, x; 'sym' and 'rw': L = I
    # (isolated nodes), lambda_max 2, L_hat = 0, T_k = x, 0, -x
    x = np.random.default_rng(6).standard_normal((4, C_IN))
    conv = G.ChebConv(C_IN, 2, 3, normalization=normalization).double()
    out = conv(ag.tensor(x), np.zeros((2, 0), np.int64)).data
    w = sum(sign * lin.weight.data for sign, lin in zip(signs, conv.lins))
    np.testing.assert_allclose(out, x @ w.T + conv.bias.data, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_spectral_conv_equals_its_definition(dtype):
    edges, x, g, _ = _setup(dtype, seed=5)
    lap = laplacian_dense(dense_adj(edges, N), "sym").numpy()
    lam, u = np.linalg.eigh(lap)
    conv = G.SpectralConv(C_IN, C_OUT, N)
    conv = conv.double() if dtype == np.float64 else conv
    xo = ours(x, dtype, True)
    out = conv(xo, edges)
    theta = conv.theta.data.astype(np.float64)
    expected = np.zeros((N, C_OUT))
    for c in range(C_IN):
        for o in range(C_OUT):                    # y_o = sum_c U diag(theta_co) U^T x_c
            expected[:, o] += u @ np.diag(theta[c, o]) @ u.T @ x[:, c]
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.data, expected, **tol)
    assert out.dtype == np.dtype(dtype)
    # filters of the spectrum itself: g_theta(L) = U diag(lambda) U^T = L
    basis_lam, basis_u = G.graph_fourier_basis(edges, num_nodes=N, dtype=ag.float64)
    np.testing.assert_allclose(basis_lam.data, lam, atol=1e-10)
    single = ag.tensor(lam.reshape(1, 1, N))
    y = G.spectral_conv(ag.tensor(x[:, :1]), basis_u, single)
    np.testing.assert_allclose(y.data, lap @ x[:, :1], atol=1e-10)
    out.backward(ours(g, dtype))
    g64 = g.astype(np.float64)
    # d/dx = sum_o U diag(theta_co) U^T g_o ;  d/dtheta_con = (U^T x)_nc (U^T g)_no
    dx = np.stack([sum(u @ np.diag(theta[c, o]) @ u.T @ g64[:, o] for o in range(C_OUT))
                   for c in range(C_IN)], 1)
    dtheta = np.einsum("nc,no->con", u.T @ x, u.T @ g64)
    np.testing.assert_allclose(xo.grad.data, dx, **tol)
    np.testing.assert_allclose(conv.theta.grad.data, dtheta, **tol)
    np.testing.assert_allclose(conv.bias.grad.data, g64.sum(0), **tol)


def test_spectral_conv_gradcheck_and_errors():
    edges, x, _, _ = _setup(np.float64, seed=6)
    conv = G.SpectralConv(C_IN, 2, N).double()
    gradcheck(lambda t: conv(t, edges), [ag.tensor(x, requires_grad=True)])
    with pytest.raises(ValueError, match="num_nodes=9"):
        conv(ag.randn(4, C_IN, dtype=ag.float64), edges[:, :0])
    with pytest.raises(ValueError, match="not symmetric"):
        G.graph_fourier_basis(np.array([[0], [1]]), num_nodes=2, normalization=None)


def _gat_reference(xt, edges, w, att_src, att_dst, bias, heads, c, concat, slope, loops):
    """Dense masked attention: e_ij = leaky(a_src . h_j + a_dst . h_i) for edges j -> i."""
    n = xt.shape[0]
    mask = dense_adj(edges, n).t() > 0                              # mask[i, j]: j -> i
    if loops:
        mask = mask | torch.eye(n, dtype=torch.bool)
    h = (xt @ w.t()).reshape(n, heads, c)
    a_s = (h * att_src).sum(-1)                                     # (n, heads)
    a_d = (h * att_dst).sum(-1)
    e = torch.nn.functional.leaky_relu(a_d.t()[:, :, None] + a_s.t()[:, None, :], slope)
    e = e.masked_fill(~mask, float("-inf"))                         # (heads, i, j)
    alpha = torch.softmax(e, -1)
    out = alpha @ h.permute(1, 0, 2)                                # (heads, n, c)
    out = out.permute(1, 0, 2).reshape(n, heads * c) if concat else out.mean(0)
    return out + bias, alpha


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("heads, concat", [(1, True), (3, True), (2, False)])
def test_gatconv_equals_dense_formula(dtype, heads, concat):
    edges, x, _, _ = _setup(dtype, seed=7)
    edges = np.concatenate([edges, np.array([[2], [2]])], axis=1)  # a loop: replaced
    c = 2
    conv = G.GATConv(C_IN, c, heads=heads, concat=concat)
    conv = conv.double() if dtype == np.float64 else conv
    width = heads * c if concat else c
    params = _torch_params((heads * c, C_IN), (1, heads, c), (1, heads, c), (width,), seed=8,
                           dtype=dtype)
    mods = [conv.lin.weight, conv.att_src, conv.att_dst, conv.bias]
    copy_params(list(zip(mods, params)))
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    out, (ei, alpha) = conv(xo, edges, return_attention_weights=True)
    ref, alpha_t = _gat_reference(xt, edges, *params, heads, c, concat, 0.2, True)
    assert_close(out, ref, dtype, "GATConv")
    # the returned coefficients are the dense ones at the listed edges, summing to 1 per node
    src, dst = ei.data
    assert_close(alpha, alpha_t[:, dst, src].t(), dtype, "attention coefficients")
    sums = np.zeros((N, heads))
    np.add.at(sums, dst, alpha.data)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-5)
    assert np.sum(src == dst) == N
    g = np.random.default_rng(9).standard_normal(out.shape)
    _grads(out, ref, g, dtype, [("x", xo, xt)] + [(n, m, p) for n, m, p in zip(
        ["W", "att_src", "att_dst", "bias"], mods, params)])


def test_gatconv_dropout_gradcheck_and_no_loops():
    edges, x, _, _ = _setup(np.float64, seed=11)
    conv = G.GATConv(C_IN, 2, heads=2, dropout=0.5).double()
    xo = ag.tensor(x)
    conv.eval()
    a = conv(xo, edges).data
    np.testing.assert_array_equal(a, conv(xo, edges).data)           # eval: no dropout
    _, (_, clean) = conv(xo, edges, return_attention_weights=True)
    conv.train()
    ag.manual_seed(0)
    _, (_, alpha) = conv(xo, edges, return_attention_weights=True)
    dropped = alpha.data == 0                    # attention dropout: zeros, the rest / (1 - p)
    assert 0 < dropped.mean() < 1
    np.testing.assert_allclose(alpha.data[~dropped], 2 * clean.data[~dropped], rtol=1e-12)
    conv.eval()
    gradcheck(lambda t: conv(t, edges), [ag.tensor(x, requires_grad=True)])
    bare = G.GATConv(C_IN, 2, add_self_loops=False).double()
    _, (ei, _) = bare(xo, edges, return_attention_weights=True)
    assert ei.shape[1] == edges.shape[1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("aggr", ["add", "mean", "max"])
@pytest.mark.parametrize("parallel", [False, True])
def test_graphconv_equals_original_gnn_formula(dtype, aggr, parallel):
    edges, x, g, w = _setup(dtype, seed=12, weighted=True)
    if parallel:                    # repeated edges j -> i: each is a message ('mean' counts it)
        edges = np.concatenate([edges, edges[:, :4]], axis=1)
        w = np.concatenate([w, w[:4] * 0.5])
    conv = G.GraphConv(C_IN, C_OUT, aggr=aggr, act=torch_free_tanh)
    conv = conv.double() if dtype == np.float64 else conv
    params = _torch_params((C_OUT, C_IN), (C_OUT,), (C_OUT, C_IN), seed=13, dtype=dtype)
    copy_params(list(zip([conv.lin_rel.weight, conv.lin_rel.bias, conv.lin_root.weight],
                         params)))
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    wo, w_t = ours(w, dtype, True), theirs(w, dtype, True)
    out = conv(xo, edges, wo)
    msgs = xt[edges[0]] * w_t[:, None]                          # alpha_ji h_j per edge j -> i
    index = torch.from_numpy(edges[1])[:, None].expand_as(msgs)
    reduce = {"add": "sum", "mean": "mean", "max": "amax"}[aggr]
    agg = torch.zeros(N, C_IN, dtype=xt.dtype).scatter_reduce(0, index, msgs, reduce,
                                                              include_self=False)
    w1, b, w0 = params
    ref = torch.tanh(xt @ w0.t() + agg @ w1.t() + b)   # act(W0 h_i + W1 sum alpha h_j + b)
    assert_close(out, ref, dtype, f"GraphConv {aggr}")
    _grads(out, ref, g, dtype, [("x", xo, xt), ("W1", conv.lin_rel.weight, w1),
                                ("W0", conv.lin_root.weight, w0), ("edge_weight", wo, w_t)])


def torch_free_tanh(t):
    return t.tanh()


def test_ginconv_equals_formula():
    edges, x, _, _ = _setup(np.float64, seed=14)
    mlp = G.Linear(C_IN, C_OUT).double()
    conv = G.GINConv(mlp, eps=0.25, train_eps=True).double()
    xo = ag.tensor(x, requires_grad=True)
    out = conv(xo, edges)
    a = dense_adj(edges, N).numpy().T
    expected = ((1.25 * x + a @ x) @ mlp.weight.data.T + mlp.bias.data)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    out.sum().backward()
    assert conv.eps.grad is not None and xo.grad is not None
    gradcheck(lambda t: conv(t, edges), [ag.tensor(x, requires_grad=True)])
    assert "eps" not in dict(G.GINConv(mlp).named_parameters())
