"""Graph utilities: adjacency, degrees, self-loops, Laplacians and A_hat against their dense
definitions in PyTorch; edge-list helpers; bad inputs."""
import numpy as np
import pytest

import autograd as ag
import nn.graph as G
from autograd.autograd import gradcheck

from .graph_helpers import (assert_close, dense_adj, gcn_dense, laplacian_dense, ours,
                            random_graph, theirs)

DTYPES = (np.float32, np.float64)


def _weighted(seed=0, n=7, p=0.4, directed=True, loops=True):
    edges = random_graph(n, p, seed, directed=directed, loops=loops)
    rng = np.random.default_rng(seed + 1)
    return edges, rng.uniform(0.5, 2.0, edges.shape[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_adjacency_sums_repeated_edges_and_routes_grads(dtype):
    edges, w = _weighted()
    edges = np.concatenate([edges, edges[:, :3]], axis=1)          # repeated edges add up
    w = np.concatenate([w, w[:3]])
    g = np.random.default_rng(2).standard_normal((7, 7))
    w_ours, w_t = ours(w, dtype, True), theirs(w, dtype, True)
    a = G.adjacency(edges, w_ours, 7).to_dense()
    a_t = dense_adj(edges, 7, w_t)
    assert_close(a, a_t, dtype, "adjacency")
    a.backward(ours(g, dtype))
    a_t.backward(theirs(g, dtype))
    assert_close(w_ours.grad, w_t.grad, dtype, "d adjacency / d w")


def test_undirected_adjacency_from_pairs_listed_once():
    pairs = np.array([[0, 1, 2], [1, 2, 2]])
    w = ag.tensor([2.0, 3.0, 5.0], requires_grad=True)
    a = G.adjacency(pairs, w, 4, undirected=True).to_dense()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = 2
    expected[1, 2] = expected[2, 1] = 3
    expected[2, 2] = 5
    np.testing.assert_array_equal(a.data, expected)
    a.sum().backward()
    assert w.grad.data.tolist() == [2, 2, 1]
    binary = G.adjacency(pairs, num_nodes=3, undirected=True).to_dense().data
    assert binary.sum() == 5 and binary.dtype == np.float32


def test_degree_counts_and_weights():
    idx = np.array([0, 2, 2, 3, 3, 3])
    assert G.degree(idx, 5).data.tolist() == [1, 0, 2, 3, 0]
    w = ag.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    d = G.degree(idx, 5, weight=w)
    assert d.data.tolist() == [1, 0, 5, 15, 0]
    d.sum().backward()
    assert w.grad.data.tolist() == [1.0] * 6
    assert G.degree(idx).dtype == ag.float32


def test_self_loop_helpers():
    e = np.array([[0, 1, 2, 2], [1, 0, 2, 0]])
    w = ag.tensor([1.0, 2.0, 3.0, 4.0])
    ei, ew = G.remove_self_loops(e, w)
    assert ei.data.tolist() == [[0, 1, 2], [1, 0, 0]] and ew.data.tolist() == [1, 2, 4]
    ei, ew = G.add_self_loops(e, w, fill_value=0.5, num_nodes=4)
    assert ei.shape == (2, 8) and ew.data[4:].tolist() == [0.5] * 4
    ei, ew = G.add_remaining_self_loops(e, w, num_nodes=4)
    loops = ei.data[:, ei.data[0] == ei.data[1]]
    assert sorted(loops[0].tolist()) == [0, 1, 2, 3]
    assert ew.data.tolist() == [1, 2, 3, 4, 1, 1, 1]             # node 2 keeps its loop
    assert G.contains_self_loops(e) and not G.contains_self_loops(e[:, :2])


def test_coalesce_and_to_undirected():
    e = np.array([[2, 0, 2, 1], [1, 1, 1, 0]])
    w = ag.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    ei, ew = G.coalesce(e, w)
    assert ei.data.tolist() == [[0, 1, 2], [1, 0, 1]] and ew.data.tolist() == [2, 4, 4]
    ew.sum().backward()
    assert w.grad.data.tolist() == [1, 1, 1, 1]
    _, mean = G.coalesce(e, ag.tensor([1.0, 2.0, 3.0, 4.0]), reduce="mean")
    assert mean.data.tolist() == [2, 4, 2]
    und = G.to_undirected(np.array([[0, 1], [1, 2]]))
    assert und.data.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert G.is_undirected(und) and not G.is_undirected(np.array([[0], [1]]))
    assert G.is_undirected(und, ag.tensor([1.0, 1.0, 2.0, 2.0]))
    assert not G.is_undirected(und, ag.tensor([1.0, 2.0, 2.0, 2.0]))


@pytest.mark.parametrize("improved", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gcn_adjacency_is_the_renormalised_matrix(dtype, improved):
    edges, w = _weighted(seed=3, loops=True)
    w_ours, w_t = ours(w, dtype, True), theirs(w, dtype, True)
    a_hat = G.gcn_adjacency(edges, w_ours, 7, improved=improved).to_dense()
    ref = gcn_dense(dense_adj(edges, 7, w_t), improved)
    assert_close(a_hat, ref, dtype, "A_hat")
    g = np.random.default_rng(4).standard_normal((7, 7))
    a_hat.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    assert_close(w_ours.grad, w_t.grad, dtype, "d A_hat / d w")


def test_gcn_norm_matches_the_engine_helper_and_handles_isolated_nodes():
    edges = random_graph(9, 0.3, 5)
    ours_adj = G.gcn_adjacency(edges, num_nodes=11).to_dense().data
    engine = ag.sparse.gcn_norm(edges[:, edges[0] < edges[1]], 11).to_dense().data
    np.testing.assert_allclose(ours_adj, engine, rtol=1e-6)
    no_loops = G.gcn_adjacency(edges, num_nodes=11, add_self_loops=False).to_dense().data
    assert np.all(no_loops[9:] == 0) and np.all(np.isfinite(no_loops))


def test_gcn_norm_gradcheck():
    edges, w = _weighted(seed=6, n=5)
    w = ag.tensor(w, requires_grad=True)
    gradcheck(lambda v: G.gcn_norm(edges, v, 5)[1], [w])


@pytest.mark.parametrize("normalization", [None, "sym", "rw"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_laplacians_equal_their_definitions(normalization, dtype):
    edges, w = _weighted(seed=7, directed=False, loops=True)
    w_ours, w_t = ours(w, dtype, True), theirs(w, dtype, True)
    lap = G.laplacian(edges, w_ours, 8, normalization).to_dense()     # node 7 is isolated
    ref = laplacian_dense(dense_adj(edges, 8, w_t), normalization)
    assert_close(lap, ref, dtype, f"L ({normalization})")
    g = np.random.default_rng(8).standard_normal((8, 8))
    lap.backward(ours(g, dtype))
    ref.backward(theirs(g, dtype))
    assert_close(w_ours.grad, w_t.grad, dtype, "d L / d w")


def test_normalized_laplacian_spectrum_and_scaled_laplacian():
    edges = random_graph(10, 0.4, 9)
    lap = G.normalized_laplacian(edges, num_nodes=10, dtype=ag.float64).to_dense().data
    lam = np.linalg.eigvalsh(lap)
    assert lam.min() > -1e-12 and lam.max() < 2 + 1e-12
    ei, w = G.scaled_laplacian(edges, num_nodes=10, dtype=ag.float64)
    scaled = G.adjacency(ei, w, 10).to_dense().data
    np.testing.assert_allclose(scaled, lap - np.eye(10), atol=1e-12)
    combinatorial = G.laplacian(edges, num_nodes=10, dtype=ag.float64).to_dense().data
    exact = G.laplacian_lambda_max(edges, num_nodes=10)
    np.testing.assert_allclose(exact, np.linalg.eigvalsh(combinatorial).max(), rtol=1e-10)
    ei, w = G.scaled_laplacian(edges, num_nodes=10, normalization=None, lambda_max=exact,
                               dtype=ag.float64)
    lam = np.linalg.eigvalsh(G.adjacency(ei, w, 10).to_dense().data)
    assert lam.min() >= -1 - 1e-9 and abs(lam.max() - 1) < 1e-9


def test_dtypes_are_kept():
    edges = random_graph(5, 0.5, 1)
    assert G.gcn_adjacency(edges).dtype == ag.float32
    assert G.gcn_adjacency(edges, dtype=ag.float64).dtype == ag.float64
    _, w = G.gcn_norm(edges, ag.ones(edges.shape[1], dtype=ag.float64))
    assert w.dtype == ag.float64
    assert G.laplacian(edges, ag.ones(edges.shape[1])).dtype == ag.float32


@pytest.mark.parametrize("bad, error, words", [
    (np.zeros((3, 4), np.int64), ValueError, "(2, E)"),
    (np.zeros((2, 4), np.float32), TypeError, "integers"),
    (np.array([[0, 5], [1, 2]]), ValueError, "num_nodes is 4"),
    (np.array([[0, -1], [1, 2]]), ValueError, "negative"),
])
def test_bad_edge_index_is_named(bad, error, words):
    with pytest.raises(error, match="gcn_adjacency") as info:
        G.gcn_adjacency(bad, num_nodes=4)
    assert words in str(info.value)


def test_bad_weights_are_named():
    edges = random_graph(4, 0.6, 2)
    with pytest.raises(ValueError, match=r"adjacency: edge_weight of shape \(3,\)"):
        G.adjacency(edges, ag.ones(3), 4)
    with pytest.raises(ValueError, match="normalization"):
        G.get_laplacian(edges, normalization="random")
