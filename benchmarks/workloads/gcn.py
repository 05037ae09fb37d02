"""One GCN training epoch on Cora (Kipf & Welling's setup), ours vs PyTorch with torch.sparse.

    gcn_cora_epoch   2 layers, 16 hidden, on the 2708-node Cora graph with its 1433 sparse
                     row-normalised bag-of-words features: dropout 0.5 on the stored feature
                     values and on the hidden layer, A_hat X W1 (both products sparse), ReLU,
                     A_hat H W2, cross-entropy on the 140 training nodes, backward, Adam
                     (lr 0.01, L2 5e-4 on the first layer). The target is ours < PyTorch.

Ours: nn.graph.GCNConv (cached A_hat) on a SparseCSR feature matrix, optim.Adam. PyTorch:
the same computation with torch.sparse.mm on COO tensors, torch.optim.Adam (its COO and CSR
layouts, and W stored (out, in) or (in, out), measured within about 20 % of each other here
on one thread). Both start from the same weights. The first call of each side (the agreement
check) uses the same dropout masks, drawn from one seeded numpy generator, and returns the
logits, the gradients and the updated weights; the timed calls use each library's own
dropout. The data directory is $TAPEGRAD_DATA, else ../shared/data beside the repository.
"""
import os

import numpy as np

from . import Skip, Workload, allclose_check, register

HIDDEN, P_DROP, LR, DECAY = 16, 0.5, 0.01, 5e-4
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _data_root():
    path = os.environ.get("TAPEGRAD_DATA") or os.path.join(_ROOT, "..", "shared", "data")
    if not os.path.exists(os.path.join(path, "cora.npz")):
        raise Skip("cora.npz not found: set TAPEGRAD_DATA to the data directory "
                   "(default ../shared/data beside the repository)")
    return path


def _problem():
    """Cora with row-normalised sparse features, the initial weights and the check's masks."""
    from autograd.datasets.planetoid import load_cora
    data = load_cora(_data_root(), normalize_features=True, sparse_features=True)
    n, f = data.x.shape
    classes = data.num_classes
    rng = np.random.default_rng(0)
    a1 = np.sqrt(6.0 / (f + HIDDEN))
    a2 = np.sqrt(6.0 / (HIDDEN + classes))
    weights = [rng.uniform(-a1, a1, (HIDDEN, f)).astype(np.float32), np.zeros(HIDDEN, np.float32),
               rng.uniform(-a2, a2, (classes, HIDDEN)).astype(np.float32),
               np.zeros(classes, np.float32)]
    keep = 1.0 - P_DROP
    masks = [(rng.random(data.x.nnz) < keep).astype(np.float32) / keep,
             (rng.random((n, HIDDEN)) < keep).astype(np.float32) / keep]
    return data, weights, masks


def setup_ours(quick):
    import autograd as ag
    import nn.functional as F
    import optim
    from nn.graph import GCNConv, sparse_dropout
    from nn.graph.conv import _with_values
    data, weights, masks = _problem()
    n, f = data.x.shape
    conv1 = GCNConv(f, HIDDEN, cached=True)
    conv2 = GCNConv(HIDDEN, data.num_classes, cached=True)
    params = [conv1.lin.weight, conv1.bias, conv2.lin.weight, conv2.bias]
    for p, w in zip(params, weights):
        p.data[...] = w
    opt = optim.Adam([dict(params=params[:2], weight_decay=DECAY),
                      dict(params=params[2:], weight_decay=0.0)], lr=LR)
    x, edge_index = data.x, data.edge_index
    train_idx = data.train_idx.data
    y_train = data.y[train_idx]
    check_masks = [ag.from_numpy(m) for m in masks]
    calls = [0]

    def run():
        first = calls[0] == 0
        calls[0] += 1
        opt.zero_grad()
        if first:                                  # the check: the shared masks
            h = _with_values(x, x._base * check_masks[0])
            h = F.relu(conv1(h, edge_index)) * check_masks[1]
        else:
            h = sparse_dropout(x, P_DROP, True)
            h = F.dropout(F.relu(conv1(h, edge_index)), P_DROP, True)
        out = conv2(h, edge_index)
        loss = F.cross_entropy(out[train_idx], y_train)
        loss.backward()
        opt.step()
        if first:
            return [out, loss] + [p.grad for p in params] + [p.data.copy() for p in params]
        return loss
    return run


def setup_torch(quick):
    import torch

    from nn.graph import gcn_adjacency
    data, weights, masks = _problem()
    n, f = data.x.shape
    x_csr = data.x.to_scipy().tocoo()
    x_idx = torch.from_numpy(np.stack([x_csr.row, x_csr.col]).astype(np.int64))
    x_val = torch.from_numpy(x_csr.data.astype(np.float32))
    a = gcn_adjacency(data.edge_index, num_nodes=n, dtype=np.float32).to_scipy().tocoo()
    adj = torch.sparse_coo_tensor(np.stack([a.row, a.col]), a.data, (n, n)).coalesce()
    params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
    w1, b1, w2, b2 = params
    opt = torch.optim.Adam([dict(params=[w1, b1], weight_decay=DECAY),
                            dict(params=[w2, b2], weight_decay=0.0)], lr=LR)
    train_idx = torch.from_numpy(data.train_idx.data)
    y_train = torch.from_numpy(data.y.data)[train_idx]
    # the check's masks follow our CSR entry order; torch's COO of X is in the same order
    check_masks = [torch.from_numpy(m) for m in masks]
    calls = [0]

    def run():
        first = calls[0] == 0
        calls[0] += 1
        opt.zero_grad()
        if first:
            vals = x_val * check_masks[0]
        else:
            vals = torch.nn.functional.dropout(x_val, P_DROP, True)
        x = torch.sparse_coo_tensor(x_idx, vals, (n, f), is_coalesced=True)
        h = torch.relu(torch.sparse.mm(adj, torch.sparse.mm(x, w1.t())) + b1)
        if first:
            h = h * check_masks[1]
        else:
            h = torch.nn.functional.dropout(h, P_DROP, True)
        out = torch.sparse.mm(adj, h @ w2.t()) + b2
        loss = torch.nn.functional.cross_entropy(out[train_idx], y_train)
        loss.backward()
        opt.step()
        if first:
            return [out, loss] + [p.grad for p in params] + \
                [p.detach().numpy().copy() for p in params]
        return loss
    return run


register(Workload(
    name="gcn_cora_epoch",
    sizes=f"Cora 2708 nodes, 1433 sparse features, 2 layers, {HIDDEN} hidden, float32",
    description="one GCN training epoch: dropout, 2 GCN layers, loss, backward, Adam",
    setup_ours=setup_ours, setup_torch=setup_torch,
    check=allclose_check(rtol=1e-4, atol=1e-5),
    target=("ours < PyTorch", lambda row: None if row.get("ratio") is None
            else row["ratio"] < 1.0),
    meta={"dtype": "float32"},
))
