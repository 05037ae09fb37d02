"""The models learn: GCN on Cora (the paper's setup), graph classification of SBM graphs,
the graph autoencoder's link prediction on Cora, GCN on the karate club. Seeded."""
import os

import numpy as np
import pytest

import autograd as ag
import nn.functional as F
import optim
from autograd.datasets import planetoid as P
from nn.graph import Batch, DataLoader, train_test_split_edges
from nn.models.gnn import GAE, GCN, GraphClassifier

from .graph_helpers import data_root


def _cora(**kwargs):
    root = data_root()
    if not os.path.exists(os.path.join(root, "cora.npz")):
        pytest.skip(f"cora.npz not found under {root} (set TAPEGRAD_DATA)")
    return P.load_cora(root, **kwargs)


def _accuracy(logits, y, idx):
    return float(np.mean(logits.data[idx].argmax(1) == y.data[idx]))


def test_gcn_reaches_80_percent_on_cora():
    # Kipf & Welling: 2 layers, 16 hidden, dropout 0.5, L2 5e-4 on layer 1, Adam lr 0.01,
    # 200 epochs, row-normalised (sparse) features; paper: 81.5 %
    data = _cora(normalize_features=True, sparse_features=True)
    ag.manual_seed(0)
    model = GCN(data.x.shape[1], 16, data.num_classes, dropout=0.5, cached=True)
    opt = optim.Adam([dict(params=model.convs[0].parameters(), weight_decay=5e-4),
                      dict(params=model.convs[1].parameters(), weight_decay=0.0)], lr=0.01)
    train = data.train_idx.data
    y_train = data.y[train]
    for _ in range(200):
        opt.zero_grad()
        loss = F.cross_entropy(model(data.x, data.edge_index)[train], y_train)
        loss.backward()
        opt.step()
    model.eval()
    with ag.no_grad():
        logits = model(data.x, data.edge_index)
    assert _accuracy(logits, data.y, train) > 0.95
    assert _accuracy(logits, data.y, data.test_idx.data) >= 0.80


def test_graph_classification_of_sbm_structures():
    pytest.importorskip("networkx")
    graphs = P.make_sbm_graphs(240, seed=0)
    train, test = graphs[:160], Batch.from_data_list(graphs[160:])
    ag.manual_seed(0)
    model = GraphClassifier(2, 32, 2, num_layers=2, conv="graph", pool="mean")
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(12):
        for batch in DataLoader(train, batch_size=32, shuffle=True, seed=0):
            opt.zero_grad()
            loss = F.cross_entropy(model(batch.x, batch.edge_index, batch.batch), batch.y)
            loss.backward()
            opt.step()
    model.eval()
    with ag.no_grad():
        logits = model(test.x, test.edge_index, test.batch)
    assert _accuracy(logits, test.y, np.arange(80)) >= 0.90


def test_graph_autoencoder_link_prediction_on_cora():
    data = _cora(normalize_features=True, sparse_features=True)
    ag.manual_seed(0)
    split = train_test_split_edges(data, 0.05, 0.1, generator=np.random.default_rng(0))
    model = GAE(GCN(data.x.shape[1], 32, 16, dropout=0.0, cached=True))
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(100):
        opt.zero_grad()
        z = model.encode(split.x, split.train_pos_edge_index)
        loss = model.recon_loss(z, split.train_pos_edge_index)
        loss.backward()
        opt.step()
    model.eval()
    with ag.no_grad():
        z = model.encode(split.x, split.train_pos_edge_index)
    auc, ap = model.test(z, split.test_pos_edge_index, split.test_neg_edge_index)
    assert auc >= 0.85 and ap >= 0.85, (auc, ap)


def test_gcn_separates_the_karate_club_from_two_labels():
    pytest.importorskip("networkx")
    data = P.load_karate_club()
    ag.manual_seed(0)
    model = GCN(34, 8, 2, dropout=0.0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    train = data.train_idx.data
    for _ in range(60):
        opt.zero_grad()
        loss = F.cross_entropy(model(data.x, data.edge_index)[train], data.y[train])
        loss.backward()
        opt.step()
    with ag.no_grad():
        logits = model(data.x, data.edge_index)
    assert _accuracy(logits, data.y, data.test_idx.data) >= 0.8
