"""Message-passing layers on sparse adjacency: GCNConv, GraphConv (the original GNN layer),
GINConv, and the Linear map they share (dense or SparseCSR node features).

Every layer takes `x` (N, C) and `edge_index` (2, E) int64 (or a SparseCSR `adj_t` with
adj_t[i, j] the weight of the edge j -> i); messages flow from source to target.

    GCNConv     X' = A_hat X W^T + b,   A_hat = D~^-1/2 (A + I) D~^-1/2     (Kipf & Welling)
    GraphConv   h'_i = act(W0 h_i + W1 sum_{j in N(i)} alpha_ji h_j + b)   (Scarselli et al.'s
                form; alpha_ji = edge weight, or 1 / |N(i)| with aggr='mean')
    GINConv     h'_i = nn((1 + eps) h_i + sum_{j in N(i)} h_j)                   (Xu et al.)
"""
import math

import numpy as np

import autograd as ag
from autograd import sparse
from autograd.sparse import SparseCSR

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._checks import edge_array, weight_tensor
from .segment import scatter
from .utils import gcn_adjacency

__all__ = ["Linear", "GCNConv", "GraphConv", "GINConv", "glorot_", "sparse_dropout"]


def glorot_(tensor):
    """U(-a, a) with a = sqrt(6 / (size(-2) + size(-1))) (PyG's glorot, any rank)."""
    a = math.sqrt(6.0 / (tensor.shape[-2] + tensor.shape[-1]))
    return init.uniform_(tensor, -a, a)


def sparse_dropout(x, p=0.5, training=True):
    """Dropout on the stored values of a SparseCSR (the paper's dropout of sparse features);
    a dense Tensor goes to F.dropout."""
    if not isinstance(x, SparseCSR):
        return F.dropout(x, p, training)
    if not training or p == 0:
        return x
    return _with_values(x, F.dropout(x.values_tensor, p, training))


def _with_values(a, values):
    """A SparseCSR on a's structure with new values (in the order of a's values tensor).
    Sharing the structure keeps its cached transpose, which the backward of a product needs:
    rebuilding it would cost a transpose per call."""
    return a.with_values(values)


def _features(op, x, in_channels=None):
    """x as a layer takes it: a float (N, C) Tensor or a SparseCSR, C = in_channels when
    given (the error names the layer the user called)."""
    if not isinstance(x, SparseCSR):
        if not isinstance(x, ag.Tensor):
            raise TypeError(f"{op}: x must be a Tensor (N, C) or a SparseCSR, got "
                            f"{type(x).__name__}")
        if x.ndim != 2 or x.dtype.kind != "f":
            raise ValueError(f"{op}: x must be a float (N, C) tensor, got {x.dtype} with "
                             f"shape {tuple(x.shape)}")
    if in_channels is not None and x.shape[1] != in_channels:
        raise ValueError(f"{op}: x of shape {tuple(x.shape)} for in_channels={in_channels}")
    return x


class Linear(Module):
    """x (N, in) -> x W^T + b (N, out); x may be a SparseCSR (sparse features: a sparse
    product). weight_initializer: 'glorot' or 'kaiming_uniform' (PyTorch's Linear init)."""

    def __init__(self, in_channels, out_channels, bias=True, weight_initializer="glorot"):
        super().__init__()
        if weight_initializer not in ("glorot", "kaiming_uniform"):
            raise ValueError(f"Linear: unknown weight_initializer {weight_initializer!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight_initializer = weight_initializer
        self.weight = Parameter(ag.empty(out_channels, in_channels))
        self.bias = Parameter(ag.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight_initializer == "glorot":
            glorot_(self.weight)
        else:
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        x = _features("Linear", x, self.in_channels)
        if isinstance(x, SparseCSR):
            out = sparse.mm(x, self.weight.t())
            return out if self.bias is None else out + self.bias
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"


def _edges_of(op, edge_index, edge_weight, num_nodes):
    """(edge_index (2, E) array, edge_weight or None) from an edge list or an adj_t."""
    if isinstance(edge_index, SparseCSR):
        if edge_index.shape != (num_nodes, num_nodes):
            raise ValueError(f"{op}: adjacency of shape {edge_index.shape} for {num_nodes} "
                             f"nodes")
        e = np.stack([edge_index.indices, edge_index.row_indices()])   # (source j, target i)
        return e, edge_index.values
    return edge_array(op, edge_index, num_nodes), edge_weight


def _propagation(op, edge_index, edge_weight, num_nodes, dtype):
    """M (N, N) SparseCSR with M[i, j] = weight of j -> i (1 without weights)."""
    if isinstance(edge_index, SparseCSR) and edge_weight is None:
        return edge_index if edge_index.dtype == dtype else edge_index.to(dtype)
    e, w = _edges_of(op, edge_index, edge_weight, num_nodes)
    w = weight_tensor(op, w, e.shape[1], dtype)
    return SparseCSR.from_coo(e[1], e[0], w, (num_nodes, num_nodes))


class GCNConv(Module):
    """GCNConv(in_channels, out_channels, improved=False, cached=False, add_self_loops=True,
    normalize=True, bias=True): X' = A_hat X W^T + b (Kipf & Welling, 2017).

    forward(x (N, in), edge_index (2, E) or SparseCSR adj_t, edge_weight (E,) = None)
    -> (N, out). A_hat = D~^-1/2 (A + I) D~^-1/2 with D~ the degrees of A + I (improved: A + 2I);
    normalize=False propagates with A (plus nothing) as given. cached=True keeps A_hat from
    the first call (transductive learning on one graph)."""

    def __init__(self, in_channels, out_channels, improved=False, cached=False,
                 add_self_loops=True, normalize=True, bias=True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached = improved, cached
        self.add_self_loops, self.normalize = add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = Parameter(ag.zeros(out_channels)) if bias else None
        self._cached_adj = None

    def reset_parameters(self):
        self.lin.reset_parameters()
        if self.bias is not None:
            init.zeros_(self.bias)
        self._cached_adj = None

    def adjacency(self, edge_index, edge_weight, num_nodes, dtype):
        """The propagation matrix A_hat (N, N) for this graph (cached when cached=True)."""
        adj = self._cached_adj
        if adj is not None and adj.shape == (num_nodes, num_nodes):
            return adj if adj.dtype == dtype else adj.to(dtype)
        if self.normalize:
            e, w = _edges_of("GCNConv", edge_index, edge_weight, num_nodes)
            adj = gcn_adjacency(e, w, num_nodes, self.improved, self.add_self_loops, dtype)
        else:
            adj = _propagation("GCNConv", edge_index, edge_weight, num_nodes, dtype)
        if self.cached:
            self._cached_adj = adj
        return adj

    def forward(self, x, edge_index, edge_weight=None):
        x = _features("GCNConv", x, self.in_channels)
        adj = self.adjacency(edge_index, edge_weight, x.shape[0], x.dtype)
        out = sparse.mm(adj, self.lin(x))            # A_hat (X W^T)
        return out if self.bias is None else out + self.bias

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}"


class GraphConv(Module):
    """GraphConv(in_channels, out_channels, aggr='add', bias=True, act=None): the message-
    passing layer of the original GNN model,

        h'_i = act(W0 h_i + W1 aggr_{j in N(i)} alpha_ji h_j + b)

    with alpha_ji the edge weight (1 by default); aggr 'add' sums, 'mean' divides by the
    number of incoming edges, 'max' takes the channel-wise maximum. W1 is `lin_rel` (with the
    bias), W0 `lin_root`, as PyG's GraphConv (which is this layer with act=None)."""

    def __init__(self, in_channels, out_channels, aggr="add", bias=True, act=None):
        super().__init__()
        if aggr not in ("add", "sum", "mean", "max"):
            raise ValueError(f"GraphConv: aggr must be 'add', 'mean' or 'max', got {aggr!r}")
        self.in_channels, self.out_channels, self.aggr, self.act = (in_channels, out_channels,
                                                                     aggr, act)
        self.lin_rel = Linear(in_channels, out_channels, bias=bias,
                              weight_initializer="kaiming_uniform")
        self.lin_root = Linear(in_channels, out_channels, bias=False,
                               weight_initializer="kaiming_uniform")

    def reset_parameters(self):
        self.lin_rel.reset_parameters()
        self.lin_root.reset_parameters()

    def forward(self, x, edge_index, edge_weight=None):
        x = _features("GraphConv", x, self.in_channels)
        if isinstance(x, SparseCSR):
            raise TypeError("GraphConv: x must be a dense Tensor")
        n = x.shape[0]
        if self.aggr == "max":
            e, w = _edges_of("GraphConv", edge_index, edge_weight, n)
            msg = x.index_select(0, e[0])                          # h_j for each edge j -> i
            if w is not None:
                msg = msg * weight_tensor("GraphConv", w, e.shape[1], x.dtype).unsqueeze(1)
            agg = scatter(msg, e[1], 0, n, "max")
        else:
            m = _propagation("GraphConv", edge_index, edge_weight, n, x.dtype)
            agg = sparse.mm(m, x)                                  # sum_j alpha_ji h_j
            if self.aggr == "mean":
                # incoming edges per node; from_coo merged parallel edges into one entry of
                # m, so they are counted on the edge list (an adj_t: its stored entries)
                e, _ = _edges_of("GraphConv", edge_index, None, n)
                counts = np.maximum(np.bincount(e[1], minlength=n), 1).astype(x.dtype)
                agg = agg / ag.from_numpy(counts.reshape(n, 1))
        out = self.lin_rel(agg) + self.lin_root(x)
        return out if self.act is None else self.act(out)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, aggr={self.aggr!r}"


class GINConv(Module):
    """GINConv(nn, eps=0.0, train_eps=False): h'_i = nn((1 + eps) h_i + sum_{j in N(i)} h_j)
    (Xu et al., 2019); `nn` is any Module (usually an MLP)."""

    def __init__(self, nn, eps=0.0, train_eps=False):
        super().__init__()
        self.nn = nn
        self.initial_eps = float(eps)
        if train_eps:
            self.eps = Parameter(ag.tensor([float(eps)]))
        else:
            self.register_buffer("eps", ag.tensor([float(eps)]))

    def reset_parameters(self):
        with ag.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x, edge_index):
        x = _features("GINConv", x)
        if isinstance(x, SparseCSR):
            raise TypeError("GINConv: x must be a dense Tensor")
        m = _propagation("GINConv", edge_index, None, x.shape[0], x.dtype)
        return self.nn(sparse.mm(m, x) + (1 + self.eps.to(x.dtype)) * x)
