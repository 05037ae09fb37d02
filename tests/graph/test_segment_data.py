"""Segment reductions (scatter, group softmax, dense batches), graph batching, networkx
conversion and edge sampling."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn.graph as G
from autograd.autograd import gradcheck

from .graph_helpers import assert_close, dense_adj, ours, random_graph, theirs

DTYPES = (np.float32, np.float64)
TORCH_REDUCE = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin"}


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_matches_torch(reduce, dtype):
    rng = np.random.default_rng(0)
    index = np.array([3, 0, 3, 1, 0, 3, 1, 0])                 # segment 2 is empty
    x = rng.standard_normal((8, 3, 2))
    g = rng.standard_normal((5, 3, 2))
    xo, xt = ours(x, dtype, True), theirs(x, dtype, True)
    out = G.scatter(xo, index, 0, 5, reduce)
    idx_t = torch.from_numpy(index)[:, None, None].expand(8, 3, 2)
    ref = torch.zeros(5, 3, 2, dtype=xt.dtype).scatter_reduce(
        0, idx_t, xt, TORCH_REDUCE[reduce], include_self=False)
    assert_close(out, ref, dtype, f"scatter {reduce}")
    out.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    assert_close(xo.grad, xt.grad, dtype, f"d scatter {reduce}")


def test_scatter_along_another_dim_and_gradcheck():
    x = ag.randn(2, 5, dtype=ag.float64, requires_grad=True)
    index = np.array([1, 1, 0, 2, 0])
    out = G.scatter(x, index, dim=1, reduce="sum")
    np.testing.assert_allclose(out.data[:, 1], x.data[:, 0] + x.data[:, 1])
    for reduce in ("sum", "mean", "max"):
        gradcheck(lambda t, r=reduce: G.scatter(t, index, 1, 3, r), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_group_softmax_matches_torch_and_sums_to_one(dtype):
    rng = np.random.default_rng(1)
    index = np.array([0, 2, 2, 0, 2, 1])
    s = rng.standard_normal((6, 2)) * 30                       # large scores: stability
    g = rng.standard_normal((6, 2))
    so, st = ours(s, dtype, True), theirs(s, dtype, True)
    out = G.softmax(so, index, 3)
    parts = []
    for k in range(3):
        sel = torch.from_numpy(np.flatnonzero(index == k))
        parts.append((sel, torch.softmax(st[sel], 0)))
    ref = torch.zeros_like(st)
    for sel, p in parts:
        ref = ref.index_put((sel,), p)
    assert_close(out, ref, dtype, "group softmax")
    sums = np.zeros((3, 2))
    np.add.at(sums, index, out.data)
    np.testing.assert_allclose(sums, 1, rtol=1e-6)
    out.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    assert_close(so.grad, st.grad, dtype, "d group softmax")


def test_to_dense_batch_and_adj():
    x = ag.arange(12, dtype=ag.float64).reshape(6, 2).requires_grad_()
    batch = np.array([0, 0, 0, 2, 2, 1])                       # unsorted graph ids
    dense, mask = G.to_dense_batch(x, batch, fill_value=-1.0)
    assert dense.shape == (3, 3, 2) and mask.data.tolist() == [
        [True, True, True], [True, False, False], [True, True, False]]
    assert dense.data[1, 0].tolist() == [10, 11] and dense.data[1, 1].tolist() == [-1, -1]
    assert dense.data[2, 1].tolist() == [8, 9]
    dense.sum().backward()
    assert np.all(x.grad.data == 1)
    edges = np.array([[0, 1, 3, 4, 5], [1, 2, 4, 3, 5]])
    adj = G.to_dense_adj(edges, batch).data
    assert adj.shape == (3, 3, 3)
    assert adj[0, 0, 1] == adj[0, 1, 2] == adj[2, 0, 1] == adj[2, 1, 0] == adj[1, 0, 0] == 1
    assert adj.sum() == 5


def test_batch_is_block_diagonal():
    graphs = []
    for i, n in enumerate([3, 5, 4]):
        e = random_graph(n, 0.6, i)
        graphs.append(G.Data(x=ag.randn(n, 2), edge_index=e, y=ag.tensor([i])))
    b = G.Batch.from_data_list(graphs)
    assert b.num_graphs == 3 and b.num_nodes == 12
    assert b.batch.data.tolist() == [0] * 3 + [1] * 5 + [2] * 4
    assert b.ptr.data.tolist() == [0, 3, 8, 12] and b.y.data.tolist() == [0, 1, 2]
    a = G.adjacency(b.edge_index, num_nodes=12).to_dense().data
    blocks = [dense_adj(g.edge_index.data, g.num_nodes).numpy() for g in graphs]
    expected = np.zeros((12, 12))
    for k, blk in enumerate(blocks):
        s = b.ptr.data[k]
        expected[s:s + blk.shape[0], s:s + blk.shape[0]] = blk
    np.testing.assert_array_equal(a, expected)
    np.testing.assert_array_equal(b.x.data, np.concatenate([g.x.data for g in graphs]))
    loader = G.DataLoader(graphs, batch_size=2, shuffle=True, seed=0)
    sizes = [bb.num_graphs for bb in loader]
    assert sorted(sizes) == [1, 2] and len(loader) == 2
    with pytest.raises(ValueError, match="attributes"):
        G.Batch.from_data_list([graphs[0], G.Data(x=ag.randn(2, 2), edge_index=e)])


def test_networkx_round_trip():
    nx = pytest.importorskip("networkx")
    graph = nx.karate_club_graph()
    data = G.from_networkx(graph)
    assert data.num_nodes == 34 and data.edge_index.shape == (2, 156)
    assert data.edge_weight is not None and data.edge_weight.shape == (156,)
    assert G.is_undirected(data.edge_index, data.edge_weight)
    back = G.to_networkx(data, to_undirected=True)
    assert back.number_of_edges() == 78
    assert set(map(frozenset, back.edges())) == set(map(frozenset, graph.edges()))
    assert back[0][1]["weight"] == graph[0][1]["weight"]
    directed = nx.DiGraph([("a", "b"), ("b", "c")])
    d = G.from_networkx(directed)
    assert d.edge_index.data.tolist() == [[0, 1], [1, 2]] and d.node_names == ["a", "b", "c"]
    assert set(G.to_networkx(d).edges()) == {(0, 1), (1, 2)}


def test_negative_sampling_and_edge_split():
    edges = random_graph(30, 0.2, 3)
    ag.manual_seed(0)
    neg = G.negative_sampling(edges, 30, 200).data
    assert neg.shape == (2, 200) and np.all(neg[0] != neg[1])
    existing = set(map(tuple, edges.T.tolist()))
    pairs = list(map(tuple, neg.T.tolist()))
    assert not existing & set(pairs) and len(set(pairs)) == 200
    full = G.negative_sampling(np.array([[0, 1], [1, 0]]), 2, 10).data
    assert full.shape == (2, 0)                                 # no non-edge left
    data = G.Data(x=ag.randn(30, 3), edge_index=edges)
    split = G.train_test_split_edges(data, 0.1, 0.2, generator=np.random.default_rng(0))
    undirected = {frozenset(p) for p in edges.T.tolist()}
    parts = [split.val_pos_edge_index.data, split.test_pos_edge_index.data,
             split.train_pos_edge_index.data]
    sets = [{frozenset(p) for p in part.T.tolist()} for part in parts]
    assert sets[0] | sets[1] | sets[2] == undirected
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    for key in ("val_neg_edge_index", "test_neg_edge_index"):
        negs = {frozenset(p) for p in split[key].data.T.tolist()}
        assert not negs & undirected
    assert split.val_neg_edge_index.shape == split.val_pos_edge_index.shape
    assert split.x is data.x and split.edge_index is None
