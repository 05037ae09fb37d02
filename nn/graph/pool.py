"""Readout and pooling over graphs (PyG's names and signatures).

    global_add_pool(x, batch)    r_b = sum_{i in graph b} x_i                (B, C)
    global_mean_pool(x, batch)   r_b = mean_{i in graph b} x_i
    global_max_pool(x, batch)    r_b = max_{i in graph b} x_i   (channel-wise; the gradient
                                 goes to the first maximal node)
    global_sort_pool(x, batch, k)  SortPooling (Zhang et al., 2018, DGCNN): each graph's nodes
                                 sorted by their last channel (descending), the first k kept
                                 (zero rows when a graph has fewer), flattened: (B, k * C)
    dense_diff_pool(x, adj, s)   DiffPool (Ying et al., 2018): S = softmax(s), X' = S^T X,
                                 A' = S^T A S, link loss ||A - S S^T||_F / |A|, entropy loss
                                 mean_i H(S_i)
    DenseGCNConv, DiffPool       the dense GCN layer DiffPool runs on, and one DiffPool block
"""
import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .conv import Linear
from .segment import scatter, to_dense_batch

__all__ = ["global_add_pool", "global_mean_pool", "global_max_pool", "global_sort_pool",
           "SortAggregation", "dense_diff_pool", "DenseGCNConv", "DiffPool"]


def _check_x(op, x):
    if not isinstance(x, ag.Tensor) or x.ndim < 1:
        raise TypeError(f"{op}: x must be a Tensor (N, C), got {type(x).__name__}")


def _pool(op, x, batch, size, reduce):
    _check_x(op, x)
    if batch is None:
        dims = {"sum": x.sum, "mean": x.mean, "max": x.amax}
        return dims[reduce](0, keepdim=True)
    ids = batch.data if isinstance(batch, ag.Tensor) else np.asarray(batch)
    if ids.shape != (x.shape[0],):
        raise ValueError(f"{op}: batch of shape {tuple(ids.shape)} for x of shape "
                         f"{tuple(x.shape)}; expected ({x.shape[0]},)")
    return scatter(x, batch, 0, size, reduce)


def global_add_pool(x, batch=None, size=None):
    """x: (N, C), batch: (N,) graph ids (None: one graph) -> (B, C) sums per graph."""
    return _pool("global_add_pool", x, batch, size, "sum")


def global_mean_pool(x, batch=None, size=None):
    """x: (N, C), batch: (N,) -> (B, C) means per graph."""
    return _pool("global_mean_pool", x, batch, size, "mean")


def global_max_pool(x, batch=None, size=None):
    """x: (N, C), batch: (N,) -> (B, C) channel-wise maxima per graph (0 for an empty graph).
    Without batch, amax over all nodes (ties share the gradient, as amax)."""
    return _pool("global_max_pool", x, batch, size, "max")


def global_sort_pool(x, batch, k):
    """x: (N, C), batch: (N,) -> (B, k * C): per graph, the k nodes with the largest last
    channel in descending order (stable among ties), zero rows for missing nodes."""
    _check_x("global_sort_pool", x)
    if k <= 0:
        raise ValueError(f"global_sort_pool: k must be positive, got {k}")
    dense, mask = to_dense_batch(x, batch)                    # (B, N_max, C), (B, N_max)
    b, width, c = dense.shape
    key = np.where(mask.data, dense.data[:, :, -1], -np.inf)
    order = np.argsort(-key, axis=1, kind="stable")[:, :min(k, width)]
    rows = np.broadcast_to(order[:, :, None], (b, order.shape[1], c))
    out = dense.gather(1, np.ascontiguousarray(rows))        # the kept nodes, sorted
    kept = np.take_along_axis(mask.data, order, axis=1)
    out = out * ag.from_numpy(kept[:, :, None].astype(x.dtype))
    if order.shape[1] < k:
        out = ag.cat([out, ag.zeros(b, k - order.shape[1], c, dtype=x.dtype)], 1)
    return out.reshape(b, k * c)


class SortAggregation(Module):
    """SortAggregation(k): global_sort_pool as a module; forward(x, batch) -> (B, k * C)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x, batch=None):
        if batch is None:
            batch = np.zeros(x.shape[0], dtype=np.int64)
        return global_sort_pool(x, batch, self.k)

    def extra_repr(self):
        return f"k={self.k}"


def _batched(op, t, ndim):
    if not isinstance(t, ag.Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return t.unsqueeze(0) if t.ndim == ndim - 1 else t


def dense_diff_pool(x, adj, s, mask=None, normalize=True):
    """x: (B, N, F) node features, adj: (B, N, N), s: (B, N, K) cluster scores (unbatched 2-d
    inputs are taken as B = 1), mask: (B, N) bool of real nodes ->
    (x' (B, K, F), adj' (B, K, K), link_loss, entropy_loss):

        S = softmax(s) over clusters,   X' = S^T X,   A' = S^T A S
        link_loss = ||A - S S^T||_F (/ A.numel() when normalize)
        entropy_loss = mean over nodes of -sum_k S_ik log S_ik"""
    x, adj, s = (_batched("dense_diff_pool", t, 3) for t in (x, adj, s))
    bsz, n, _ = x.shape
    if adj.shape != (bsz, n, n) or s.shape[:2] != (bsz, n):
        raise ValueError(f"dense_diff_pool: x {tuple(x.shape)}, adj {tuple(adj.shape)} and s "
                         f"{tuple(s.shape)} do not fit: expected (B, N, F), (B, N, N), "
                         f"(B, N, K)")
    s = F.softmax(s, dim=-1)
    if mask is not None:
        m = mask.data if isinstance(mask, ag.Tensor) else np.asarray(mask)
        m = ag.from_numpy(m.reshape(bsz, n, 1).astype(x.dtype))
        x, s = x * m, s * m
    s_t = s.transpose(1, 2)
    out = s_t @ x                                              # S^T X
    out_adj = s_t @ adj @ s                                    # S^T A S
    link = adj - s @ s_t
    link_loss = (link * link).sum().sqrt()                     # ||A - S S^T||_F
    if normalize:
        link_loss = link_loss / adj.numel()
    ent_loss = (-s * (s + 1e-15).log()).sum(-1).mean()
    return out, out_adj, link_loss, ent_loss


class DenseGCNConv(Module):
    """DenseGCNConv(in_channels, out_channels, improved=False, bias=True): GCN on a dense
    batched adjacency. forward(x (B, N, in), adj (B, N, N), mask (B, N) = None,
    add_loop=True) -> (B, N, out):

        A~ = A with its diagonal set to 1 (2 if improved),  d_i = max(sum_j A~_ij, 1)
        X' = D^-1/2 A~ D^-1/2 X W^T + b   (rows of masked-out nodes zeroed)"""

    def __init__(self, in_channels, out_channels, improved=False, bias=True):
        super().__init__()
        self.in_channels, self.out_channels, self.improved = in_channels, out_channels, improved
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = Parameter(ag.zeros(out_channels)) if bias else None

    def reset_parameters(self):
        self.lin.reset_parameters()
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x, adj, mask=None, add_loop=True):
        x, adj = _batched("DenseGCNConv", x, 3), _batched("DenseGCNConv", adj, 3)
        bsz, n, _ = adj.shape
        if x.shape[:2] != (bsz, n):
            raise ValueError(f"DenseGCNConv: x {tuple(x.shape)} and adj {tuple(adj.shape)} "
                             f"do not fit: expected (B, N, C) and (B, N, N)")
        if add_loop:
            eye = np.eye(n, dtype=adj.dtype)
            fill = 2.0 if self.improved else 1.0
            adj = adj * ag.from_numpy(1.0 - eye) + ag.from_numpy(fill * eye)
        out = self.lin(x.reshape(bsz * n, -1)).reshape(bsz, n, self.out_channels)
        dinv = adj.sum(-1).clamp(min=1).pow(-0.5)             # D^-1/2
        norm_adj = dinv.unsqueeze(-1) * adj * dinv.unsqueeze(-2)
        out = norm_adj @ out
        if self.bias is not None:
            out = out + self.bias
        if mask is not None:
            m = mask.data if isinstance(mask, ag.Tensor) else np.asarray(mask)
            out = out * ag.from_numpy(m.reshape(bsz, n, 1).astype(out.dtype))
        return out


class DiffPool(Module):
    """DiffPool(in_channels, hidden_channels, num_clusters): one differentiable pooling
    block. forward(x (B, N, in), adj (B, N, N), mask=None) ->
    (x' (B, K, hidden), adj' (B, K, K), link_loss, entropy_loss) with
    Z = relu(GNN_embed(A, X)), s = GNN_pool(A, X), then dense_diff_pool(Z, A, s)."""

    def __init__(self, in_channels, hidden_channels, num_clusters):
        super().__init__()
        self.gnn_embed = DenseGCNConv(in_channels, hidden_channels)
        self.gnn_pool = DenseGCNConv(in_channels, num_clusters)

    def forward(self, x, adj, mask=None):
        s = self.gnn_pool(x, adj, mask)
        z = F.relu(self.gnn_embed(x, adj, mask))
        return dense_diff_pool(z, adj, s, mask)
