"""nn.graph: graph utilities, graph layers and pooling, with PyTorch Geometric's names and
signatures.

    import nn.graph as G
    conv = G.GCNConv(in_channels, out_channels)
    h = conv(x, edge_index)                  # x: (N, C), edge_index: (2, E) int64 (j -> i)
    r = G.global_mean_pool(h, batch)         # batch: (N,) graph ids -> (B, C)

    data        Data, Batch (block-diagonal batching with a batch vector), DataLoader
    utils       adjacency, degree, self-loops, coalesce, to_undirected, gcn_norm,
                gcn_adjacency (A_hat), get_laplacian, laplacian, normalized_laplacian
    segment     scatter (sum/mean/max/min), softmax over groups, to_dense_batch, to_dense_adj
    convert     from_networkx, to_networkx, negative_sampling, train_test_split_edges
    conv        Linear, GCNConv, GraphConv (the original GNN layer), GINConv, sparse_dropout
    spectral    SpectralConv (U g U^T x), ChebConv, graph_fourier_basis
    gat         GATConv
    pool        global_add/mean/max_pool, global_sort_pool / SortAggregation, dense_diff_pool,
                DenseGCNConv, DiffPool

Sparse products go through autograd.sparse (SparseCSR, sparse.mm); every layer composes
engine ops, so gradients reach features, weights and learned edge weights.
"""
from . import conv, convert, data, gat, pool, segment, spectral, utils
from .conv import *  # noqa: F401,F403
from .convert import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .gat import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .segment import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403

__all__ = (conv.__all__ + convert.__all__ + data.__all__ + gat.__all__ + pool.__all__
           + segment.__all__ + spectral.__all__ + utils.__all__)
