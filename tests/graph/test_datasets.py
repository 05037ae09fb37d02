"""Graph data sets: Planetoid .npz loading and validation, karate club, SBM graphs."""
import os

import numpy as np
import pytest

import autograd as ag
import nn.graph as G
from autograd.datasets import planetoid as P
from autograd.datasets._files import DatasetError

from .graph_helpers import data_root


def _toy_arrays():
    """A valid 5-node Planetoid-format graph."""
    return dict(x_indptr=np.array([0, 2, 3, 3, 5, 6]), x_indices=np.array([0, 2, 1, 0, 3, 2]),
                x_data=np.array([1, 1, 1, 2, 2, 1], np.float32), x_shape=np.array([5, 4]),
                y=np.array([0, 1, 1, 0, -1]), edges=np.array([[0, 1, 2], [1, 3, 3]]),
                train_idx=np.array([0, 1]), val_idx=np.array([2]), test_idx=np.array([3]))


def _write(tmp_path, arrays, name="toy"):
    np.savez(os.path.join(tmp_path, f"{name}.npz"), **arrays)
    return str(tmp_path)


def test_toy_planetoid_file(tmp_path):
    root = _write(tmp_path, _toy_arrays())
    data = P.load_planetoid("toy", root)
    assert data.x.shape == (5, 4) and data.x.dtype == ag.float32
    np.testing.assert_array_equal(data.x.data[3], [2, 0, 0, 2])
    assert data.edge_index.data.tolist() == [[0, 1, 1, 2, 3, 3], [1, 0, 3, 3, 1, 2]]
    assert data.train_mask.data.tolist() == [True, True, False, False, False]
    assert data.num_classes == 2 and data.num_nodes == 5
    norm = P.load_planetoid("toy", root, normalize_features=True, sparse_features=True)
    dense = norm.x.to_dense().data
    np.testing.assert_allclose(dense.sum(1), [1, 1, 0, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(dense[3], [0.5, 0, 0, 0.5])


@pytest.mark.parametrize("change, words", [
    (dict(y=None), "missing arrays ['y']"),
    (dict(x_indptr=np.array([0, 2, 3, 3, 7, 6])), "row pointer"),
    (dict(x_indices=np.array([0, 2, 1, 0, 9, 2])), "x_indices out of range"),
    (dict(x_data=np.array([1, 1, 1, 2, np.nan, 1], np.float32)), "finite"),
    (dict(edges=np.array([[0, 1, 2], [1, 3, 5]])), "edges must be (2, E)"),
    (dict(edges=np.array([0.0, 1.0])), "2-d integer"),
    (dict(y=np.array([0, 1, 1])), "3 labels for 5 nodes"),
    (dict(val_idx=np.array([1])), "overlaps"),
    (dict(test_idx=np.array([4])), "unlabelled"),
])
def test_malformed_planetoid_files_are_rejected(tmp_path, change, words):
    arrays = _toy_arrays()
    for key, value in change.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    root = _write(tmp_path, arrays)
    with pytest.raises(DatasetError) as info:
        P.load_planetoid("toy", root)
    assert words in str(info.value)


def _garbage(path):
    with open(path, "wb") as f:
        f.write(b"not an npz archive, just bytes" * 4)


def _truncated(path):
    np.savez(path, **_toy_arrays())
    with open(path, "rb") as f:
        head = f.read()
    with open(path, "wb") as f:
        f.write(head[:len(head) // 2])


def _empty(path):
    open(path, "wb").close()


def _with_object_array(path):
    np.savez(path, **dict(_toy_arrays(), y=np.array([0, 1, 1, 0, None], dtype=object)))


def _no_planetoid_keys(path):
    np.savez(path, features=np.zeros((5, 4)), labels=np.zeros(5, np.int64))


def _single_npy(path):
    with open(path, "wb") as f:
        np.save(f, np.arange(5))


@pytest.mark.parametrize("make, words", [
    (_garbage, "not a readable .npz archive"),
    (_truncated, "not a readable .npz archive (BadZipFile"),
    (_empty, "not a readable .npz archive"),
    (_with_object_array, "array 'y' cannot be read"),
    (_no_planetoid_keys, "missing arrays ['x_indptr'"),
    (_single_npy, "single .npy array"),
], ids=lambda v: getattr(v, "__name__", "")[1:] or None)
def test_unreadable_planetoid_files_name_the_file(tmp_path, make, words):
    path = os.path.join(tmp_path, "toy.npz")
    make(path)
    with pytest.raises(DatasetError) as info:
        P.load_planetoid("toy", str(tmp_path))
    assert words in str(info.value) and path in str(info.value)


def test_known_sizes_are_checked_and_missing_files_named(tmp_path, monkeypatch):
    root = _write(tmp_path, _toy_arrays(), name="cora")
    with pytest.raises(DatasetError, match="expected .2708, 1433, 7"):
        P.load_cora(root)
    with pytest.raises(FileNotFoundError, match="citeseer.npz"):
        P.load_citeseer(root)
    monkeypatch.delenv("TAPEGRAD_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="TAPEGRAD_DATA"):
        P.load_cora()


@pytest.mark.parametrize("name, sizes", sorted(P.PLANETOID.items()))
def test_real_planetoid_graphs(name, sizes):
    root = data_root()
    if not os.path.exists(os.path.join(root, f"{name}.npz")):
        pytest.skip(f"{name}.npz not found under {root} (set TAPEGRAD_DATA)")
    data = P.load_planetoid(name, root, normalize_features=True, sparse_features=True)
    n, f, c, n_train, n_val, n_test = sizes
    assert data.x.shape == (n, f) and data.num_classes == c
    assert [data[k].shape[0] for k in ("train_idx", "val_idx", "test_idx")] == [
        n_train, n_val, n_test]
    assert G.is_undirected(data.edge_index) and not G.contains_self_loops(data.edge_index)
    row_sums = np.add.reduceat(data.x.values.data, data.x.indptr[:-1])
    nonempty = np.diff(data.x.indptr) > 0
    np.testing.assert_allclose(row_sums[nonempty], 1.0, rtol=1e-5)
    assert np.bincount(data.y.data[data.train_idx.data]).tolist() == [20] * c


def test_karate_club():
    pytest.importorskip("networkx")
    data = P.load_karate_club()
    assert data.num_nodes == 34 and data.edge_index.shape == (2, 156)
    adj = data.adj.data
    assert set(np.unique(adj).tolist()) == {0.0, 1.0} and np.array_equal(adj, adj.T)
    assert adj.sum() == 156 and data.x.shape == (34, 34)
    assert data.y.data[0] == 0 and data.y.data[33] == 1 and data.y.data.sum() == 17
    assert data.train_idx.data.tolist() == [0, 33]


def test_sbm_graphs():
    pytest.importorskip("networkx")
    graphs = P.make_sbm_graphs(20, num_nodes=(10, 16), seed=3)
    again = P.make_sbm_graphs(20, num_nodes=(10, 16), seed=3)
    assert len(graphs) == 20 and [g.y.data[0] for g in graphs[:4]] == [0, 1, 0, 1]
    for g, h in zip(graphs, again):
        assert 10 <= g.num_nodes <= 16 and g.x.shape == (g.num_nodes, 2)
        assert g.x.dtype == ag.float32 and G.is_undirected(g.edge_index)
        np.testing.assert_array_equal(g.edge_index.data, h.edge_index.data)
    # assortative graphs keep most edges inside a block, disassortative ones across
    inside = []
    for g in graphs:
        half = g.num_nodes // 2
        e = g.edge_index.data
        inside.append(np.mean((e[0] < half) == (e[1] < half)))
    inside = np.array(inside)
    assert inside[0::2].mean() > 0.7 and inside[1::2].mean() < 0.3
    with pytest.raises(ValueError, match="num_nodes"):
        P.make_sbm_graphs(2, num_nodes=(5, 3))
