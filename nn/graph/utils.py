"""Edge-list utilities, degrees, adjacency matrices and Laplacians (PyG's names and signatures).

A graph is an `edge_index` (2, E) of int64 node pairs (source, target) with optional edge
weights (E,). Message passing flows from source to target: node i aggregates over the edges
(j, i). Functions returning edge lists return Tensors; weights keep their autograd graph
(gradients reach a learned edge_weight through gcn_norm and the Laplacians).

    adjacency(edge_index)            A (N, N) SparseCSR, A[u, v] = w(u -> v), duplicates summed
    degree(index, N)                 d[i] = number (or weight) of entries equal to i
    add_self_loops / add_remaining_self_loops / remove_self_loops / coalesce / to_undirected
    gcn_norm(edge_index, w)          (edge_index, w~) of D~^-1/2 (A + I) D~^-1/2
    gcn_adjacency(edge_index, w)     the same as the (N, N) propagation matrix (a SparseCSR)
    get_laplacian(edge_index, w, normalization)   L = D - A, I - D^-1/2 A D^-1/2, I - D^-1 A
    laplacian / normalized_laplacian               the same as SparseCSR matrices
    scaled_laplacian                 2 L / lambda_max - I (Chebyshev filters)
"""
import numpy as np

import autograd as ag
from autograd.sparse import SparseCSR

from ._checks import (as_edge_tensor, attr_tensor, edge_array, index_array, infer_num_nodes,
                      weight_tensor)

__all__ = ["adjacency", "degree", "add_self_loops", "add_remaining_self_loops",
           "remove_self_loops", "contains_self_loops", "coalesce", "to_undirected",
           "is_undirected", "gcn_norm", "gcn_adjacency", "get_laplacian", "laplacian",
           "normalized_laplacian", "scaled_laplacian", "laplacian_lambda_max",
           "propagation_matrix"]


def _take(w, idx):
    """w[idx] for a Tensor or None."""
    return None if w is None else w.index_select(0, idx)


def degree(index, num_nodes=None, dtype=None, weight=None):
    """index: (E,) ints -> (num_nodes,) counts of each value (or the sum of `weight` (E,) over
    each value: the weighted degree, differentiable in the weights)."""
    idx = index_array("degree", index)
    n = infer_num_nodes(idx, num_nodes)
    if idx.size and idx.max() >= n:
        raise ValueError(f"degree: index refers to {int(idx.max())} but num_nodes is {n}")
    if weight is None:
        counts = np.bincount(idx, minlength=n)
        dt = ag.dtypes.to_dtype(dtype) if dtype is not None else ag.get_default_dtype()
        return ag.from_numpy(counts.astype(dt))
    w = weight_tensor("degree", weight, idx.size, dtype)
    return ag.index_add(ag.zeros(n, dtype=w.dtype), 0, idx, w)


def adjacency(edge_index, edge_weight=None, num_nodes=None, *, undirected=False, dtype=None):
    """edge_index: (2, E) -> A: (N, N) SparseCSR with A[u, v] = weight of (u -> v) (1 when
    edge_weight is None; repeated edges add up). undirected=True also sets A[v, u] for each
    listed pair (list each undirected edge once; a self-loop counts once). Differentiable in
    edge_weight."""
    e = edge_array("adjacency", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    w = weight_tensor("adjacency", edge_weight, e.shape[1], dtype)
    if undirected:
        back = np.flatnonzero(e[0] != e[1])
        e = np.concatenate([e, e[::-1, back]], axis=1)
        w = ag.cat([w, w.index_select(0, back)], 0)
    return SparseCSR.from_coo(e[0], e[1], w, (n, n))


def propagation_matrix(edge_index, edge_weight=None, num_nodes=None, *, dtype=None):
    """M = A^T: (N, N) SparseCSR with M[i, j] = weight of (j -> i), so (M X)[i] sums the
    messages arriving at i (source-to-target flow)."""
    e = edge_array("propagation_matrix", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    w = weight_tensor("propagation_matrix", edge_weight, e.shape[1], dtype)
    return SparseCSR.from_coo(e[1], e[0], w, (n, n))


def contains_self_loops(edge_index):
    e = edge_array("contains_self_loops", edge_index)
    return bool(np.any(e[0] == e[1]))


def remove_self_loops(edge_index, edge_attr=None):
    """-> (edge_index without (i, i) pairs, the matching rows of edge_attr or None)."""
    e = edge_array("remove_self_loops", edge_index)
    keep = np.flatnonzero(e[0] != e[1])
    return as_edge_tensor(e[:, keep]), _take(attr_tensor("remove_self_loops", edge_attr,
                                                         e.shape[1]), keep)


def _loop_values(attr, n, fill_value):
    """The attributes of n new self-loops: fill_value (default 1) broadcast to attr's rows."""
    fill = 1.0 if fill_value is None else fill_value
    if isinstance(fill, ag.Tensor):
        return fill.to(attr.dtype).expand((n,) + tuple(attr.shape[1:]))
    return ag.full((n,) + tuple(attr.shape[1:]), float(fill), dtype=attr.dtype)


def add_self_loops(edge_index, edge_attr=None, fill_value=None, num_nodes=None):
    """Append (i, i) for every node (even where a loop exists already) -> (edge_index,
    edge_attr with the loops' attributes fill_value, default 1)."""
    e = edge_array("add_self_loops", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    loops = np.arange(n, dtype=np.int64)
    out = np.concatenate([e, np.stack([loops, loops])], axis=1)
    if edge_attr is None:
        return as_edge_tensor(out), None
    attr = attr_tensor("add_self_loops", edge_attr, e.shape[1])
    return as_edge_tensor(out), ag.cat([attr, _loop_values(attr, n, fill_value)], 0)


def add_remaining_self_loops(edge_index, edge_attr=None, fill_value=None, num_nodes=None):
    """Add (i, i) for the nodes that have no self-loop; existing loops keep their attribute."""
    e = edge_array("add_remaining_self_loops", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    is_loop = e[0] == e[1]
    missing = np.ones(n, dtype=bool)
    missing[e[0, is_loop]] = False
    new = np.flatnonzero(missing).astype(np.int64)
    out = np.concatenate([e, np.stack([new, new])], axis=1)
    if edge_attr is None:
        return as_edge_tensor(out), None
    attr = attr_tensor("add_remaining_self_loops", edge_attr, e.shape[1])
    return as_edge_tensor(out), ag.cat([attr, _loop_values(attr, new.size, fill_value)], 0)


def coalesce(edge_index, edge_attr=None, num_nodes=None, reduce="add"):
    """Sort edges by (source, target) and merge duplicates (their attributes summed with
    reduce='add', averaged with 'mean'); -> (edge_index, edge_attr)."""
    if reduce not in ("add", "sum", "mean"):
        raise ValueError(f"coalesce: reduce must be 'add' or 'mean', got {reduce!r}")
    e = edge_array("coalesce", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    key = e[0] * max(n, 1) + e[1]
    uniq, slot = np.unique(key, return_inverse=True)
    out = np.stack([uniq // max(n, 1), uniq % max(n, 1)]).astype(np.int64)
    if edge_attr is None:
        return as_edge_tensor(out), None
    edge_attr = attr_tensor("coalesce", edge_attr, e.shape[1])
    summed = ag.index_add(ag.zeros((uniq.size,) + tuple(edge_attr.shape[1:]),
                                   dtype=edge_attr.dtype), 0, slot, edge_attr)
    if reduce == "mean":
        counts = np.bincount(slot, minlength=uniq.size).astype(edge_attr.dtype)
        summed = summed / ag.from_numpy(counts.reshape((-1,) + (1,) * (edge_attr.ndim - 1)))
    return as_edge_tensor(out), summed


def to_undirected(edge_index, edge_attr=None, num_nodes=None, reduce="add"):
    """Both directions of every edge, coalesced (an edge listed both ways gets its attributes
    combined by reduce, as PyG). -> edge_index (and edge_attr when given)."""
    e = edge_array("to_undirected", edge_index, num_nodes)
    both = np.concatenate([e, e[::-1]], axis=1)
    edge_attr = attr_tensor("to_undirected", edge_attr, e.shape[1])
    attr = None if edge_attr is None else ag.cat([edge_attr, edge_attr], 0)
    out, attr = coalesce(both, attr, num_nodes, reduce)
    return out if edge_attr is None else (out, attr)


def is_undirected(edge_index, edge_attr=None, num_nodes=None):
    """True when every edge (u, v) has its reverse (v, u) with the same attribute."""
    e = edge_array("is_undirected", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    fwd, back = e[0] * max(n, 1) + e[1], e[1] * max(n, 1) + e[0]
    order_f, order_b = np.argsort(fwd, kind="stable"), np.argsort(back, kind="stable")
    if not np.array_equal(fwd[order_f], back[order_b]):
        return False
    if edge_attr is None:
        return True
    a = attr_tensor("is_undirected", edge_attr, e.shape[1]).data
    return bool(np.array_equal(a[order_f], a[order_b]))


def _inv_sqrt(deg):
    """deg^-1/2 with 0 where deg == 0 (a differentiable composition)."""
    pos = deg.data > 0
    safe = ag.where(ag.from_numpy(pos), deg, 1.0)
    return safe.rsqrt() * ag.from_numpy(pos.astype(deg.dtype))


def gcn_norm(edge_index, edge_weight=None, num_nodes=None, improved=False,
             add_self_loops=True, dtype=None):
    """The GCN normalisation as an edge list (Kipf & Welling, 2017; PyG's gcn_norm).

    A~ = A + I (fill 2 when improved; nodes that already have a self-loop keep it), d~ the
    weighted in-degrees of A~ (summed at each edge's target), and each edge (j -> i) gets
    w~_ji = d~_j^-1/2 w_ji d~_i^-1/2 (0 for a node of degree 0).
    -> (edge_index with the loops, w~ (E',)); differentiable in edge_weight."""
    e = edge_array("gcn_norm", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    w = weight_tensor("gcn_norm", edge_weight, e.shape[1], dtype)
    if add_self_loops:
        e, w = add_remaining_self_loops(e, w, 2.0 if improved else 1.0, n)
        e = e.data
    deg = ag.index_add(ag.zeros(n, dtype=w.dtype), 0, e[1], w)        # d~_i = sum_j w_ji
    dinv = _inv_sqrt(deg)
    norm = dinv.index_select(0, e[0]) * w * dinv.index_select(0, e[1])
    return as_edge_tensor(e), norm


def gcn_adjacency(edge_index, edge_weight=None, num_nodes=None, improved=False,
                  add_self_loops=True, dtype=None):
    """A_hat = D~^-1/2 (A + I) D~^-1/2 as the (N, N) propagation matrix (SparseCSR,
    A_hat[i, j] = w~_ji): GCN's layer is A_hat X W. Constant unless edge_weight requires grad."""
    e = edge_array("gcn_adjacency", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    if edge_weight is None or not getattr(edge_weight, "requires_grad", False):
        with ag.no_grad():
            ei, norm = gcn_norm(e, edge_weight, n, improved, add_self_loops, dtype)
        ei = ei.data
        return SparseCSR.from_coo(ei[1], ei[0], norm.data, (n, n))
    ei, norm = gcn_norm(e, edge_weight, n, improved, add_self_loops, dtype)
    return SparseCSR.from_coo(ei.data[1], ei.data[0], norm, (n, n))


def get_laplacian(edge_index, edge_weight=None, normalization=None, dtype=None,
                  num_nodes=None):
    """The graph Laplacian as an edge list (self-loops of the input are dropped first):

        None    L = D - A
        'sym'   L = I - D^-1/2 A D^-1/2
        'rw'    L = I - D^-1 A
    with D the weighted out-degrees (summed over each edge's source). -> (edge_index,
    edge_weight) holding the off-diagonal entries then the diagonal."""
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"get_laplacian: normalization must be None, 'sym' or 'rw', got "
                         f"{normalization!r}")
    e = edge_array("get_laplacian", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    w = weight_tensor("get_laplacian", edge_weight, e.shape[1], dtype)
    keep = np.flatnonzero(e[0] != e[1])
    e, w = e[:, keep], w.index_select(0, keep)
    deg = ag.index_add(ag.zeros(n, dtype=w.dtype), 0, e[0], w)
    loops = np.arange(n, dtype=np.int64)
    out = as_edge_tensor(np.concatenate([e, np.stack([loops, loops])], axis=1))
    if normalization is None:
        return out, ag.cat([-w, deg], 0)                          # D - A
    if normalization == "sym":
        dinv = _inv_sqrt(deg)
        off = -(dinv.index_select(0, e[0]) * w * dinv.index_select(0, e[1]))
    else:
        pos = deg.data > 0
        inv = ag.where(ag.from_numpy(pos), deg, 1.0).reciprocal() \
            * ag.from_numpy(pos.astype(w.dtype))
        off = -(inv.index_select(0, e[0]) * w)
    return out, ag.cat([off, ag.ones(n, dtype=w.dtype)], 0)       # I - normalised A


def laplacian(edge_index, edge_weight=None, num_nodes=None, normalization=None, *,
              dtype=None):
    """The (N, N) Laplacian as a SparseCSR (see get_laplacian for the normalisations)."""
    e = edge_array("laplacian", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    ei, w = get_laplacian(e, edge_weight, normalization, dtype, n)
    return SparseCSR.from_coo(ei.data[0], ei.data[1], w, (n, n))


def normalized_laplacian(edge_index, edge_weight=None, num_nodes=None, *, dtype=None):
    """L_sym = I - D^-1/2 A D^-1/2 as an (N, N) SparseCSR."""
    return laplacian(edge_index, edge_weight, num_nodes, "sym", dtype=dtype)


def scaled_laplacian(edge_index, edge_weight=None, num_nodes=None, normalization="sym",
                     lambda_max=None, dtype=None, batch=None):
    """L_hat = 2 L / lambda_max - I as an edge list (the Chebyshev basis' domain [-1, 1]).

    lambda_max: a number; a (B,) Tensor of one value per graph with `batch` (N,) the graph
    of each node; or None: 2 for 'sym' (the bound of L_sym's spectrum), else 2 * the largest
    entry of L (a bound on its spectrum by Gershgorin; 2 for a graph without edges, whose L
    is 0; PyG asks for lambda_max there; laplacian_lambda_max gives the exact value).
    -> (edge_index, edge_weight); differentiable in edge_weight."""
    e = edge_array("scaled_laplacian", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    ei, w = get_laplacian(e, edge_weight, normalization, dtype, n)
    src = ei.data[0]
    if lambda_max is None:
        lam = 2.0 if normalization == "sym" else 2.0 * float(w.data.max(initial=0.0)) or 2.0
    elif isinstance(lambda_max, ag.Tensor) and lambda_max.numel() > 1:
        if batch is None:
            raise ValueError(f"scaled_laplacian: a per-graph lambda_max of shape "
                             f"{tuple(lambda_max.shape)} needs the batch vector")
        graph_of = index_array("scaled_laplacian", batch, "batch")
        lam = lambda_max.data.astype(np.float64)[graph_of[src]]
    else:
        lam = float(lambda_max.item() if isinstance(lambda_max, ag.Tensor) else lambda_max)
    if np.any(np.asarray(lam) <= 0):
        raise ValueError("scaled_laplacian: lambda_max must be positive")
    scale = np.asarray(2.0 / np.asarray(lam), dtype=w.dtype)
    is_loop = (src == ei.data[1]).astype(w.dtype)
    return ei, w * ag.from_numpy(scale) - ag.from_numpy(is_loop)


def laplacian_lambda_max(edge_index, edge_weight=None, num_nodes=None, normalization=None):
    """The largest eigenvalue of the Laplacian (float; scipy's Lanczos for large graphs)."""
    e = edge_array("laplacian_lambda_max", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    w = None if edge_weight is None else weight_tensor(
        "laplacian_lambda_max", edge_weight, e.shape[1]).detach().to(ag.float64)
    with ag.no_grad():
        lap = laplacian(e, w, n, normalization, dtype=ag.float64).to_scipy()
    if n == 0:
        return 0.0
    if n <= 256:
        return float(np.linalg.eigvals(lap.toarray()).real.max())
    from scipy.sparse.linalg import eigs
    return float(eigs(lap, k=1, which="LR", return_eigenvectors=False).real.max())
