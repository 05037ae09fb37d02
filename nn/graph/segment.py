"""Segment reductions over an index vector (PyG's scatter, softmax, to_dense_batch), composed
from index_add, index_select and gather so their gradients are the engine's.

    scatter(src, index, reduce)   out[k] = reduce over {src[e] : index[e] == k}
                                  sum: d src[e] = g[index[e]]; mean: g[index[e]] / n_k;
                                  max/min: g[k] goes to the first extreme entry of segment k
    softmax(src, index)           a[e] = exp(src[e]) / sum_{e' : index[e'] == index[e]} exp(src[e'])
                                  (the per-segment max is subtracted first, as a constant)
    to_dense_batch(x, batch)      (B, N_max, C) padded node features and the (B, N_max) mask
    to_dense_adj(edge_index)      (B, N_max, N_max) dense adjacency per graph
"""
import numpy as np

import autograd as ag

from ._checks import edge_array, index_array, infer_num_nodes

__all__ = ["scatter", "softmax", "segment_extreme", "to_dense_batch", "to_dense_adj"]

_REDUCE = ("sum", "add", "mean", "max", "min", "amax", "amin")


def _check_src(op, src, idx, dim):
    if not isinstance(src, ag.Tensor):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    if src.ndim == 0 or src.shape[dim] != idx.size:
        raise ValueError(f"{op}: index of {idx.size} entries does not match src of shape "
                         f"{tuple(src.shape)} along dim {dim}")


def segment_extreme(values, index, num_segments, largest=True):
    """values: (E, K) ndarray, index: (E,) -> (rows (S, K) of the first extreme entry of each
    non-empty segment, segments (S,), extremes (S, K)); NaN counts as the extreme."""
    e = index.size
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=num_segments)
    segments = np.flatnonzero(counts)
    starts = (np.cumsum(counts) - counts)[segments]
    v = values[order]
    reduce = np.maximum if largest else np.minimum
    ext = reduce.reduceat(v, starts, axis=0)                   # NaN propagates
    seg_of_row = np.repeat(np.arange(segments.size), counts[segments])
    target = ext[seg_of_row]
    hit = (v == target) | (np.isnan(v) & np.isnan(target))
    pos = np.where(hit, np.arange(e)[:, None], e)
    first = np.minimum.reduceat(pos, starts, axis=0)
    return order[first], segments, ext


def scatter(src, index, dim=0, dim_size=None, reduce="sum"):
    """src: (..., E, ...) with E along dim, index: (E,) ints -> (..., dim_size, ...) holding
    the sum / mean / max / min of the src slices sent to each index (0 where none arrive)."""
    if reduce not in _REDUCE:
        raise ValueError(f"scatter: reduce must be one of {_REDUCE}, got {reduce!r}")
    idx = index_array("scatter", index)
    dim = dim % src.ndim if isinstance(src, ag.Tensor) and src.ndim else dim
    _check_src("scatter", src, idx, dim)
    n = infer_num_nodes(idx, dim_size)
    if idx.size and idx.max() >= n:
        raise ValueError(f"scatter: index refers to {int(idx.max())} but dim_size is {n}")
    if dim != 0:
        return scatter(src.movedim(dim, 0), idx, 0, n, reduce).movedim(0, dim)
    rest = tuple(src.shape[1:])
    if reduce in ("sum", "add", "mean"):
        out = ag.index_add(ag.zeros((n,) + rest, dtype=src.dtype), 0, idx, src)
        if reduce == "mean":
            counts = np.maximum(np.bincount(idx, minlength=n), 1).astype(src.dtype)
            out = out / ag.from_numpy(counts.reshape((n,) + (1,) * len(rest)))
        return out
    flat = src.reshape(idx.size, -1)
    rows, segments, _ = segment_extreme(flat.data, idx, n, reduce in ("max", "amax"))
    picked = flat.gather(0, rows)                                 # (S, K)
    k = flat.shape[1]
    out = ag.index_add(ag.zeros((n, k), dtype=src.dtype), 0, segments, picked)
    return out.reshape((n,) + rest)


def softmax(src, index, num_nodes=None):
    """src: (E,) or (E, H) scores, index: (E,) the group of each entry (e.g. the edge's
    target) -> (E,) / (E, H) softmax within each group (PyG's utils.softmax)."""
    idx = index_array("softmax", index)
    _check_src("softmax", src, idx, 0)
    n = infer_num_nodes(idx, num_nodes)
    if idx.size == 0:
        return src
    flat = src.data.reshape(idx.size, -1)
    _, segments, ext = segment_extreme(flat, idx, n, True)
    shift = np.zeros((n, flat.shape[1]), dtype=src.dtype)
    shift[segments] = np.where(np.isfinite(ext), ext, 0)
    # softmax is unchanged by a per-group shift, so the max enters as a constant
    ex = (src - ag.from_numpy(shift[idx].reshape(src.shape))).exp()
    den = ag.index_add(ag.zeros((n,) + tuple(src.shape[1:]), dtype=src.dtype), 0, idx, ex)
    return ex / den.index_select(0, idx)


def _batch_positions(op, batch, num_nodes, batch_size):
    """batch: (N,) graph ids or None -> (ids, counts per graph, rank of each node in its
    graph), the rank following node order."""
    if batch is None:
        ids = np.zeros(num_nodes, dtype=np.int64)
    else:
        ids = index_array(op, batch, "batch")
        if ids.size != num_nodes:
            raise ValueError(f"{op}: batch of {ids.size} entries for {num_nodes} nodes")
    b = infer_num_nodes(ids, batch_size) if (ids.size or batch_size is not None) else 1
    counts = np.bincount(ids, minlength=b)
    order = np.argsort(ids, kind="stable")
    starts = np.cumsum(counts) - counts
    rank = np.empty(num_nodes, dtype=np.int64)
    rank[order] = np.arange(num_nodes) - starts[ids[order]]
    return ids, counts, rank


def to_dense_batch(x, batch=None, fill_value=0.0, max_num_nodes=None, batch_size=None):
    """x: (N, C) nodes of B graphs, batch: (N,) graph ids -> (out (B, N_max, C) with graph b's
    nodes in rows 0..n_b-1 and fill_value after, mask (B, N_max) bool). Nodes past
    max_num_nodes are dropped."""
    if not isinstance(x, ag.Tensor) or x.ndim < 1:
        raise TypeError(f"to_dense_batch: x must be a Tensor (N, ...), got {type(x).__name__}")
    n = x.shape[0]
    ids, counts, rank = _batch_positions("to_dense_batch", batch, n, batch_size)
    b = counts.size
    width = int(counts.max()) if counts.size and max_num_nodes is None else \
        int(max_num_nodes or 0)
    keep = np.flatnonzero(rank < width)
    pos = ids[keep] * width + rank[keep]
    rest = tuple(x.shape[1:])
    src = x if keep.size == n else x.index_select(0, keep)
    out = ag.index_add(ag.zeros((b * width,) + rest, dtype=x.dtype), 0, pos, src)
    mask = np.zeros(b * width, dtype=bool)
    mask[pos] = True
    out = out.reshape((b, width) + rest)
    mask = mask.reshape(b, width)
    if fill_value != 0:
        full_mask = mask.reshape((b, width) + (1,) * len(rest))
        out = ag.where(ag.from_numpy(full_mask), out, float(fill_value))
    return out, ag.from_numpy(mask)


def to_dense_adj(edge_index, batch=None, edge_attr=None, max_num_nodes=None, batch_size=None):
    """edge_index: (2, E) over the nodes of B graphs -> (B, N_max, N_max) with
    adj[b, u, v] = sum of the weights of (u -> v) (1 each without edge_attr)."""
    e = edge_array("to_dense_adj", edge_index)
    if batch is None:
        n = infer_num_nodes(e, max_num_nodes)
        ids = np.zeros(n, dtype=np.int64)
    else:
        ids = index_array("to_dense_adj", batch, "batch")
        n = ids.size
        if e.size and e.max() >= n:
            raise ValueError(f"to_dense_adj: edge_index refers to node {int(e.max())} but "
                             f"batch has {n} nodes")
    _, counts, rank = _batch_positions("to_dense_adj", ids, n, batch_size)
    b = counts.size
    width = int(max_num_nodes) if max_num_nodes is not None else int(counts.max(initial=0))
    src, dst = e
    keep = np.flatnonzero((rank[src] < width) & (rank[dst] < width))
    pos = (ids[src[keep]] * width + rank[src[keep]]) * width + rank[dst[keep]]
    if edge_attr is None:
        w = ag.ones(keep.size)
    else:
        w = edge_attr if isinstance(edge_attr, ag.Tensor) else ag.tensor(np.asarray(edge_attr))
        if w.shape[0] != e.shape[1]:
            raise ValueError(f"to_dense_adj: edge_attr of shape {tuple(w.shape)} for "
                             f"{e.shape[1]} edges")
        w = w.index_select(0, keep)
    rest = tuple(w.shape[1:])
    out = ag.index_add(ag.zeros((b * width * width,) + rest, dtype=w.dtype), 0, pos, w)
    return out.reshape((b, width, width) + rest)
