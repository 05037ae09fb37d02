"""Graph neural network models: node classification (GCN, GAT), graph classification over
batched graphs, and the graph autoencoder for link prediction.

    GCN(in, 16, classes)            Kipf & Welling (2017): dropout, GCNConv, ReLU, dropout,
                                    GCNConv -> logits (N, classes)
    GAT(in, 8, classes, heads=8)    Velickovic et al. (2018): dropout, GATConv x 8 heads, ELU,
                                    dropout, GATConv (1 head, mean) -> logits
    GraphClassifier(in, 64, classes, conv='gin', pool='mean')
                                    message-passing encoder, global pooling over the batch
                                    vector, MLP -> logits (B, classes)
    GAE(encoder)                    Kipf & Welling (2016): Z = encoder(X, A),
                                    p(u ~ v) = sigmoid(z_u . z_v), trained on the observed
                                    edges against sampled non-edges; test() -> (AUC, AP)
"""
import numpy as np

import autograd as ag

from .. import functional as F
from ..containers import ModuleList
from ..graph import (GATConv, GCNConv, GINConv, GraphConv, Linear, global_add_pool,
                     global_max_pool, global_mean_pool, negative_sampling, sparse_dropout)
from ..module import Module

__all__ = ["GCN", "GAT", "MLP", "GraphClassifier", "InnerProductDecoder", "GAE",
           "roc_auc_score", "average_precision_score"]


class GCN(Module):
    """GCN(in_channels, hidden_channels, out_channels, num_layers=2, dropout=0.5,
    cached=False): forward(x (N, in) Tensor or SparseCSR, edge_index, edge_weight=None)
    -> (N, out). Dropout before every layer (on the stored values of a sparse x), ReLU
    between layers. cached=True keeps A_hat (one fixed graph)."""

    def __init__(self, in_channels, hidden_channels, out_channels, num_layers=2, dropout=0.5,
                 cached=False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"GCN: num_layers must be >= 1, got {num_layers}")
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = ModuleList([GCNConv(a, b, cached=cached)
                                 for a, b in zip(sizes[:-1], sizes[1:])])
        self.dropout = dropout

    def forward(self, x, edge_index, edge_weight=None):
        for i, conv in enumerate(self.convs):
            x = sparse_dropout(x, self.dropout, self.training)
            x = conv(x, edge_index, edge_weight)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x


class GAT(Module):
    """GAT(in_channels, hidden_channels, out_channels, heads=8, out_heads=1, dropout=0.6):
    forward(x (N, in), edge_index) -> (N, out). The first layer concatenates its heads
    (hidden_channels * heads), the output layer averages out_heads heads; dropout on the
    inputs of both layers and on the attention coefficients."""

    def __init__(self, in_channels, hidden_channels, out_channels, heads=8, out_heads=1,
                 dropout=0.6):
        super().__init__()
        self.conv1 = GATConv(in_channels, hidden_channels, heads=heads, dropout=dropout)
        self.conv2 = GATConv(hidden_channels * heads, out_channels, heads=out_heads,
                             concat=False, dropout=dropout)
        self.dropout = dropout

    def forward(self, x, edge_index):
        x = sparse_dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


class MLP(Module):
    """MLP(channels, dropout=0.0): Linear layers of sizes channels[0] -> ... -> channels[-1]
    with ReLU (and dropout) between them."""

    def __init__(self, channels, dropout=0.0):
        super().__init__()
        self.lins = ModuleList([Linear(a, b, weight_initializer="kaiming_uniform")
                                for a, b in zip(channels[:-1], channels[1:])])
        self.dropout = dropout

    def forward(self, x):
        for i, lin in enumerate(self.lins):
            x = lin(x)
            if i < len(self.lins) - 1:
                x = F.dropout(F.relu(x), self.dropout, self.training)
        return x


_POOLS = {"mean": global_mean_pool, "add": global_add_pool, "sum": global_add_pool,
          "max": global_max_pool}


class GraphClassifier(Module):
    """GraphClassifier(in_channels, hidden_channels, num_classes, num_layers=3, conv='gin',
    pool='mean', dropout=0.0): forward(x (N, in), edge_index, batch (N,)) -> (B, classes).

    conv: 'gin' (GINConv with a 2-layer MLP), 'gcn' (GCNConv) or 'graph' (GraphConv, the
    original GNN layer); ReLU after each layer; pool: 'mean', 'add' or 'max' readout of the
    node states of each graph, then an MLP hidden -> hidden -> num_classes."""

    def __init__(self, in_channels, hidden_channels, num_classes, num_layers=3, conv="gin",
                 pool="mean", dropout=0.0):
        super().__init__()
        if conv not in ("gin", "gcn", "graph"):
            raise ValueError(f"GraphClassifier: conv must be 'gin', 'gcn' or 'graph', got "
                             f"{conv!r}")
        if pool not in _POOLS:
            raise ValueError(f"GraphClassifier: pool must be one of {sorted(_POOLS)}, got "
                             f"{pool!r}")
        self.conv_type, self.pool = conv, pool
        convs = []
        for i in range(num_layers):
            a = in_channels if i == 0 else hidden_channels
            if conv == "gin":
                convs.append(GINConv(MLP([a, hidden_channels, hidden_channels])))
            elif conv == "gcn":
                convs.append(GCNConv(a, hidden_channels))
            else:
                convs.append(GraphConv(a, hidden_channels))
        self.convs = ModuleList(convs)
        self.head = MLP([hidden_channels, hidden_channels, num_classes], dropout=dropout)

    def forward(self, x, edge_index, batch=None):
        for conv in self.convs:
            x = F.relu(conv(x, edge_index))
        size = None if batch is None else int(np.max(ag.as_tensor(batch).data, initial=-1)) + 1
        return self.head(_POOLS[self.pool](x, batch, size))


class InnerProductDecoder(Module):
    """p(u ~ v) = sigmoid(z_u . z_v). forward(z (N, D), edge_index (2, M), sigmoid=True)
    -> (M,); forward_all(z) -> (N, N)."""

    def forward(self, z, edge_index, sigmoid=True):
        e = edge_index.data if isinstance(edge_index, ag.Tensor) else np.asarray(edge_index)
        value = (z.index_select(0, e[0]) * z.index_select(0, e[1])).sum(-1)
        return value.sigmoid() if sigmoid else value

    def forward_all(self, z, sigmoid=True):
        adj = z @ z.t()
        return adj.sigmoid() if sigmoid else adj


class GAE(Module):
    """GAE(encoder, decoder=None): graph autoencoder (Kipf & Welling, 2016).

    encode(*args) = encoder(*args) -> Z (N, D); decode(z, edge_index) -> probabilities;
    recon_loss(z, pos_edge_index, neg_edge_index=None): binary cross-entropy of the observed
    edges (label 1) and of as many sampled non-edges (label 0, drawn when not given);
    test(z, pos_edge_index, neg_edge_index) -> (ROC AUC, average precision)."""

    def __init__(self, encoder, decoder=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = InnerProductDecoder() if decoder is None else decoder

    def forward(self, *args, **kwargs):
        return self.encode(*args, **kwargs)

    def encode(self, *args, **kwargs):
        return self.encoder(*args, **kwargs)

    def decode(self, *args, **kwargs):
        return self.decoder(*args, **kwargs)

    def recon_loss(self, z, pos_edge_index, neg_edge_index=None):
        # -log sigmoid(s) for edges, -log(1 - sigmoid(s)) = -log sigmoid(-s) for non-edges
        pos = self.decoder(z, pos_edge_index, sigmoid=False)
        pos_loss = -F.logsigmoid(pos).mean()
        if neg_edge_index is None:
            neg_edge_index = negative_sampling(pos_edge_index, z.shape[0])
        neg = self.decoder(z, neg_edge_index, sigmoid=False)
        return pos_loss - F.logsigmoid(-neg).mean()

    def test(self, z, pos_edge_index, neg_edge_index):
        with ag.no_grad():
            pos = self.decoder(z, pos_edge_index).data
            neg = self.decoder(z, neg_edge_index).data
        y = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
        score = np.concatenate([pos, neg]).astype(np.float64)
        return roc_auc_score(y, score), average_precision_score(y, score)


def roc_auc_score(y_true, y_score):
    """Area under the ROC curve of binary labels (the Mann-Whitney statistic; ties count 1/2)."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(y_score, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc_score: needs both positive and negative labels")
    order = np.argsort(s, kind="stable")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    first = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    last = np.r_[first[1:], s.size]
    average = (first + last + 1) / 2.0                     # mean 1-based rank of each tie group
    ranks[order] = np.repeat(average, last - first)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision_score(y_true, y_score):
    """Average precision: sum over thresholds of (recall_k - recall_{k-1}) * precision_k."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]   # end of each threshold
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall = tp / max(int(y.sum()), 1)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
