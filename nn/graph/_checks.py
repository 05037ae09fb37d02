"""Input checks shared by the graph utilities and layers: edge lists, node counts, weights."""
import numpy as np

import autograd as ag
from autograd import dtypes

__all__ = ["edge_array", "infer_num_nodes", "index_array", "weight_tensor", "attr_tensor",
           "as_edge_tensor"]


def edge_array(op, edge_index, num_nodes=None):
    """edge_index: (2, E) integer Tensor / array -> int64 ndarray, checked against num_nodes."""
    e = edge_index.data if isinstance(edge_index, ag.Tensor) else np.asarray(edge_index)
    if e.ndim != 2 or e.shape[0] != 2:
        raise ValueError(f"{op}: edge_index must have shape (2, E), got {tuple(e.shape)}")
    if e.size and e.dtype.kind not in "iu":
        raise TypeError(f"{op}: edge_index must hold integers (int64), got dtype {e.dtype} "
                        f"with shape {tuple(e.shape)}")
    e = e.astype(np.int64, copy=False)
    if e.size and e.min() < 0:
        raise ValueError(f"{op}: edge_index of shape {tuple(e.shape)} holds a negative node "
                         f"index {int(e.min())}")
    if num_nodes is not None and e.size and e.max() >= num_nodes:
        raise ValueError(f"{op}: edge_index of shape {tuple(e.shape)} refers to node "
                         f"{int(e.max())} but num_nodes is {num_nodes}")
    return e


def infer_num_nodes(edges, num_nodes=None):
    """num_nodes if given, else the largest index + 1 (0 for an empty edge list)."""
    if num_nodes is not None:
        return int(num_nodes)
    return int(edges.max()) + 1 if edges.size else 0


def index_array(op, index, name="index"):
    """A 1-d integer Tensor / array -> int64 ndarray (non-negative)."""
    a = index.data if isinstance(index, ag.Tensor) else np.asarray(index)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise TypeError(f"{op}: {name} must be a 1-d integer tensor, got dtype {a.dtype} and "
                        f"shape {tuple(a.shape)}")
    a = a.astype(np.int64, copy=False)
    if a.size and a.min() < 0:
        raise ValueError(f"{op}: {name} holds a negative entry {int(a.min())}")
    return a


def weight_tensor(op, weight, num_edges, dtype=None):
    """Edge weights (E,) as a float Tensor (ones of `dtype` when None); keeps its graph."""
    if weight is None:
        dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        return ag.ones(num_edges, dtype=dt)
    w = weight if isinstance(weight, ag.Tensor) else ag.tensor(np.asarray(weight))
    if w.dtype.kind != "f":
        w = w.to(dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype())
    elif dtype is not None and w.dtype != dtypes.to_dtype(dtype):
        w = w.to(dtypes.to_dtype(dtype))
    if tuple(w.shape) != (num_edges,):
        raise ValueError(f"{op}: edge_weight of shape {tuple(w.shape)} for {num_edges} edges; "
                         f"expected ({num_edges},)")
    return w


def attr_tensor(op, attr, num_edges):
    """Edge attributes (E, ...) as a Tensor (None stays None); keeps its graph."""
    if attr is None:
        return None
    a = attr if isinstance(attr, ag.Tensor) else ag.tensor(np.asarray(attr))
    if a.ndim == 0 or a.shape[0] != num_edges:
        raise ValueError(f"{op}: edge attributes of shape {tuple(a.shape)} for {num_edges} "
                         f"edges; expected ({num_edges}, ...)")
    return a


def as_edge_tensor(e):
    """An int64 (2, E) ndarray as a Tensor."""
    return ag.from_numpy(np.ascontiguousarray(e, dtype=np.int64))
