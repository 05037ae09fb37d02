"""Graph helpers: the GCN-normalised adjacency."""
import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .csr import SparseCSR

__all__ = ["gcn_norm"]


def gcn_norm(edges, num_nodes, add_self_loops=True, *, undirected=True, dtype=None):
    """The GCN propagation matrix A_hat = D^-1/2 (A + I) D^-1/2 (Kipf & Welling, 2017).

    edges: (2, E) int node pairs. A is the binary adjacency: with undirected=True each pair
    gives both directions, and repeated pairs count once. add_self_loops adds I (on top of any
    self-loop already listed, as in the paper's code). D is the diagonal of the row sums of
    A + I; a node of degree 0 gets 0 in D^-1/2. Returns a constant (num_nodes, num_nodes)
    SparseCSR of `dtype` (the default float dtype when None)."""
    e = np.asarray(edges.data if isinstance(edges, Tensor) else edges)
    if e.ndim != 2 or e.shape[0] != 2 or (e.size and e.dtype.kind not in "iu"):
        raise ValueError(f"gcn_norm: edges must be (2, E) integers, got {e.dtype} {e.shape}")
    e = e.astype(np.int64)
    rows, cols = e[0], e[1]
    if undirected:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
    ones = np.ones(rows.size, dtype=np.float64)
    a = SparseCSR.from_coo(rows, cols, ones, (num_nodes, num_nodes), dtype=np.float64)
    data = np.minimum(a.values.data, 1.0)                  # binary: duplicates count once
    rows, cols = a.row_indices(), a.indices
    if add_self_loops:
        loops = np.arange(num_nodes, dtype=np.int64)
        rows, cols = np.concatenate([rows, loops]), np.concatenate([cols, loops])
        data = np.concatenate([data, np.ones(num_nodes)])
    deg = np.bincount(rows, weights=data, minlength=num_nodes)   # row sums of A + I
    with np.errstate(divide="ignore"):
        d_inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(deg), 0.0)
    norm = d_inv_sqrt[rows] * data * d_inv_sqrt[cols]      # A_hat[i, j] = A[i, j] / sqrt(d_i d_j)
    out_dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return SparseCSR.from_coo(rows, cols, norm.astype(out_dtype), (num_nodes, num_nodes))
