"""GATConv: multi-head graph attention (Velickovic et al., 2018), PyG's signature.

For each head k, with h = x W^T split into heads h_i^k (C channels):

    e_ji^k     = LeakyReLU(a_src^k . h_j^k + a_dst^k . h_i^k)          for each edge j -> i
    alpha_ji^k = exp(e_ji^k) / sum_{j' in N(i)} exp(e_j'i^k)           (softmax over i's
                                                                        incoming edges)
    h'_i^k     = sum_{j in N(i)} dropout(alpha_ji^k) h_j^k
    out        = concat_k h'^k (N, heads * C)  or  mean_k h'^k (N, C);  + bias

The aggregation is one sparse product: the heads are stacked as a block-diagonal
(heads * N, heads * N) matrix holding the attention coefficients, applied to the heads of h
stacked as (heads * N, C); gradients reach the coefficients through the sparse product.
"""
import numpy as np

import autograd as ag
from autograd import sparse
from autograd.sparse import SparseCSR

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ._checks import as_edge_tensor, edge_array
from .conv import Linear, _features, glorot_
from .segment import softmax

__all__ = ["GATConv"]


def _attention_edges(e, num_nodes, add_loops):
    """Edges sorted by (target, source), self-loops replaced by one per node when add_loops;
    -> (src, dst, indptr) with indptr the CSR row pointer over targets."""
    src, dst = e
    if add_loops:
        keep = src != dst
        loops = np.arange(num_nodes, dtype=np.int64)
        src = np.concatenate([src[keep], loops])
        dst = np.concatenate([dst[keep], loops])
    order = np.lexsort((src, dst))
    src, dst = src[order], dst[order]
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(dst, minlength=num_nodes), out=indptr[1:])
    return src, dst, indptr


class GATConv(Module):
    """GATConv(in_channels, out_channels, heads=1, concat=True, negative_slope=0.2,
    dropout=0.0, add_self_loops=True, bias=True).

    forward(x (N, in), edge_index (2, E), return_attention_weights=None) -> (N, heads * out)
    if concat else (N, out); with return_attention_weights=True also (edge_index (2, E'),
    alpha (E', heads)): the edges actually used (self-loops added, sorted by target) and
    their coefficients as applied (after attention dropout in training, as PyG).
    Parameters: lin.weight (heads * out, in), att_src and att_dst (1, heads, out), bias."""

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2,
                 dropout=0.0, add_self_loops=True, bias=True):
        super().__init__()
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="glorot")
        self.att_src = Parameter(ag.empty(1, heads, out_channels))
        self.att_dst = Parameter(ag.empty(1, heads, out_channels))
        width = heads * out_channels if concat else out_channels
        self.bias = Parameter(ag.zeros(width)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        self.lin.reset_parameters()
        glorot_(self.att_src)
        glorot_(self.att_dst)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x, edge_index, return_attention_weights=None):
        x = _features("GATConv", x, self.in_channels)
        n, heads, c = x.shape[0], self.heads, self.out_channels
        e = edge_array("GATConv", edge_index, n)
        src, dst, indptr = _attention_edges(e, n, self.add_self_loops)
        num_edges = src.size
        h = self.lin(x).reshape(n, heads, c)
        a_src = (h * self.att_src).sum(-1)                     # a_src . h_j   (N, heads)
        a_dst = (h * self.att_dst).sum(-1)                     # a_dst . h_i   (N, heads)
        score = a_src.index_select(0, src) + a_dst.index_select(0, dst)
        score = F.leaky_relu(score, self.negative_slope)       # e_ji (E, heads)
        alpha = softmax(score, dst, n)                         # over each target's edges
        weights = F.dropout(alpha, self.dropout, self.training)
        # block-diagonal over heads: row k*N + i holds alpha_ji^k at column k*N + j
        shift = np.arange(heads, dtype=np.int64)
        block_indptr = (indptr[None, :-1] + shift[:, None] * num_edges).reshape(-1)
        block_indptr = np.append(block_indptr, heads * num_edges)
        block_indices = (src[None, :] + shift[:, None] * n).reshape(-1)
        adj = SparseCSR(block_indptr, block_indices, weights.t().reshape(-1),
                        (heads * n, heads * n))
        h_stacked = h.permute(1, 0, 2).reshape(heads * n, c)
        out = sparse.mm(adj, h_stacked).reshape(heads, n, c)   # sum_j alpha_ji h_j per head
        out = out.permute(1, 0, 2).reshape(n, heads * c) if self.concat else out.mean(0)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (as_edge_tensor(np.stack([src, dst])), weights)
        return out

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"
