"""The GNN models' shapes, modes and gradients; the link-prediction metrics; Data."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.graph as G
from autograd.sparse import SparseCSR
from nn.models import gnn

from .graph_helpers import random_graph


def _graphs(count, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n = int(rng.integers(4, 9))
        out.append(G.Data(x=ag.tensor(rng.standard_normal((n, 3)).astype(np.float32)),
                          edge_index=random_graph(n, 0.5, seed + i), y=ag.tensor([i % 2])))
    return out


def test_models_are_importable_from_nn_models():
    import nn.models
    assert nn.models.gnn is gnn
    assert issubclass(gnn.GCN, nn.Module) and issubclass(gnn.GAE, nn.Module)


def test_gcn_and_gat_node_classifiers():
    edges = random_graph(12, 0.3, 1)
    x = ag.randn(12, 5)
    gcn = gnn.GCN(5, 8, 3, num_layers=3)
    assert gcn(x, edges).shape == (12, 3) and len(gcn.convs) == 3
    sparse_x = SparseCSR.from_dense(x)
    gcn.eval()
    np.testing.assert_allclose(gcn(sparse_x, edges).data, gcn(x, edges).data, rtol=1e-5,
                               atol=1e-6)
    gat = gnn.GAT(5, 4, 3, heads=2)
    out = gat(x, edges)
    assert out.shape == (12, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in gat.parameters())
    gat.eval()
    np.testing.assert_array_equal(gat(x, edges).data, gat(x, edges).data)


@pytest.mark.parametrize("conv", ["gin", "gcn", "graph"])
@pytest.mark.parametrize("pool", ["mean", "add", "max"])
def test_graph_classifier_over_a_batch(conv, pool):
    batch = G.Batch.from_data_list(_graphs(5))
    model = gnn.GraphClassifier(3, 8, 2, num_layers=2, conv=conv, pool=pool)
    logits = model(batch.x, batch.edge_index, batch.batch)
    assert logits.shape == (5, 2) and logits.dtype == ag.float32
    nn.functional.cross_entropy(logits, batch.y).backward()
    assert all(p.grad is not None for p in model.parameters())
    single = model(batch.x, batch.edge_index)
    assert single.shape == (1, 2)


def test_graph_classifier_rejects_unknown_options():
    with pytest.raises(ValueError, match="conv"):
        gnn.GraphClassifier(3, 8, 2, conv="sage")
    with pytest.raises(ValueError, match="pool"):
        gnn.GraphClassifier(3, 8, 2, pool="median")


def test_gae_loss_decoder_and_metrics():
    edges = random_graph(15, 0.3, 2)
    x = ag.randn(15, 4)
    model = gnn.GAE(gnn.GCN(4, 8, 4, dropout=0.0))
    z = model.encode(x, edges)
    probs = model.decode(z, edges)
    assert probs.shape == (edges.shape[1],) and np.all((probs.data > 0) & (probs.data < 1))
    full = model.decoder.forward_all(z)
    np.testing.assert_allclose(full.data[edges[0], edges[1]], probs.data, rtol=1e-5)
    ag.manual_seed(0)
    loss = model.recon_loss(z, edges)
    s_pos = model.decode(z, edges, sigmoid=False).data.astype(np.float64)
    ag.manual_seed(0)
    neg = G.negative_sampling(edges, 15).data
    s_neg = model.decode(z, neg, sigmoid=False).data.astype(np.float64)
    expected = np.mean(np.log1p(np.exp(-s_pos))) + np.mean(np.log1p(np.exp(s_neg)))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    auc, ap = model.test(z, edges, neg)
    assert 0 <= auc <= 1 and 0 <= ap <= 1


def test_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = rng.integers(0, 2, 40)
        s = np.round(rng.random(40), 1)                  # ties
        np.testing.assert_allclose(gnn.roc_auc_score(y, s), metrics.roc_auc_score(y, s))
        np.testing.assert_allclose(gnn.average_precision_score(y, s),
                                   metrics.average_precision_score(y, s))
    with pytest.raises(ValueError, match="roc_auc_score"):
        gnn.roc_auc_score([1, 1], [0.2, 0.3])


def test_data_container():
    d = G.Data(x=ag.randn(4, 2), edge_index=[[0, 1], [1, 2]], y=ag.tensor([1]))
    assert d.num_nodes == 4 and d.num_edges == 2 and d.num_node_features == 2
    assert d.edge_index.dtype == ag.int64 and "x" in d and d.edge_weight is None
    d.extra = 3
    assert d["extra"] == 3 and "extra" in d.keys()
    assert G.Data(edge_index=[[0, 5], [1, 2]]).num_nodes == 6
    assert "Data(x=[4, 2]" in repr(d)
    with pytest.raises(AttributeError, match="nodes_features"):
        _ = d.nodes_features
