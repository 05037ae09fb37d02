"""Graph containers: Data (one graph), Batch (many graphs as one block-diagonal graph) and a
DataLoader of batches, as PyG's.

    g = Data(x=x, edge_index=edge_index, y=y)           # x: (N, C), edge_index: (2, E)
    b = Batch.from_data_list([g1, g2, g3])
    b.x: (N1+N2+N3, C)   b.edge_index: node ids shifted by each graph's offset, so the
    adjacency of b is block-diagonal   b.batch: (N,) the graph of each node   b.ptr: (B+1,)
"""
import numpy as np

import autograd as ag
from autograd.sparse import SparseCSR

__all__ = ["Data", "Batch", "DataLoader"]

# attributes that read as None when absent (as PyG's); any other missing name is an error
_OPTIONAL = ("x", "edge_index", "edge_weight", "edge_attr", "y", "pos", "batch", "ptr")


class Data:
    """A graph with any named attributes: x (N, C) node features, edge_index (2, E) int64,
    edge_weight (E,), edge_attr (E, D), y (labels), ... Attributes whose name contains
    'index' hold node ids (shifted when graphs are batched)."""

    def __init__(self, x=None, edge_index=None, edge_weight=None, y=None, **kwargs):
        self.__dict__["_store"] = {}
        for key, value in dict(x=x, edge_index=edge_index, edge_weight=edge_weight, y=y,
                               **kwargs).items():
            if value is not None:
                self[key] = value

    def __getattr__(self, key):
        store = self.__dict__["_store"]
        if key in store:
            return store[key]
        if key in _OPTIONAL:
            return None
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'")

    def __setattr__(self, key, value):
        self[key] = value

    def __getitem__(self, key):
        return self._store[key]

    def __setitem__(self, key, value):
        if value is None:
            self._store.pop(key, None)
            return
        if "index" in key and not isinstance(value, (ag.Tensor, SparseCSR, int)):
            value = ag.from_numpy(np.ascontiguousarray(np.asarray(value), dtype=np.int64))
        self._store[key] = value

    def __contains__(self, key):
        return key in self._store

    def __iter__(self):
        return iter(self._store.items())

    def keys(self):
        return list(self._store)

    @property
    def num_nodes(self):
        """The `num_nodes` attribute if set, else x's rows, else the largest node id + 1."""
        if "num_nodes" in self._store:
            return int(self._store["num_nodes"])
        if "x" in self._store:
            return self._store["x"].shape[0]
        e = self._store.get("edge_index")
        if e is not None:
            e = e.data if isinstance(e, ag.Tensor) else np.asarray(e)
            return int(e.max()) + 1 if e.size else 0
        return None

    @num_nodes.setter
    def num_nodes(self, value):
        self._store["num_nodes"] = int(value)

    @property
    def num_edges(self):
        e = self._store.get("edge_index")
        return 0 if e is None else e.shape[1]

    @property
    def num_node_features(self):
        x = self._store.get("x")
        return 0 if x is None else (1 if x.ndim == 1 else x.shape[1])

    num_features = num_node_features

    def __repr__(self):
        parts = []
        for key, value in self._store.items():
            shape = getattr(value, "shape", None)
            parts.append(f"{key}={list(shape)}" if shape is not None else f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _cat_dim(key, value):
    return -1 if "index" in key and value.ndim == 2 else 0


class Batch(Data):
    """Many graphs as one: node-level tensors concatenated, node ids in '*index*' attributes
    shifted by the number of nodes before each graph, graph-level scalars stacked; plus
    `batch` (N,) int64 graph ids, `ptr` (B+1,) node offsets and `num_graphs`."""

    @classmethod
    def from_data_list(cls, data_list):
        graphs = list(data_list)
        if not graphs:
            raise ValueError("Batch.from_data_list: expected at least one graph")
        keys = graphs[0].keys()
        for i, g in enumerate(graphs):
            if g.keys() != keys:
                raise ValueError(f"Batch.from_data_list: graph {i} has attributes {g.keys()} "
                                 f"but graph 0 has {keys}")
        sizes = np.array([g.num_nodes or 0 for g in graphs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        out = cls()
        for key in keys:
            if key == "num_nodes":
                continue
            values = [g[key] for g in graphs]
            out[key] = _combine(key, values, offsets)
        out.batch = ag.from_numpy(np.repeat(np.arange(len(graphs), dtype=np.int64), sizes))
        out.ptr = ag.from_numpy(offsets.astype(np.int64))
        out.num_nodes = int(offsets[-1])
        out._store["num_graphs"] = len(graphs)
        return out


def _combine(key, values, offsets):
    first = values[0]
    if isinstance(first, ag.Tensor):
        if first.ndim == 0:
            return ag.stack(values)
        if "index" in key:
            shifted = [ag.from_numpy(v.data + offsets[i]) for i, v in enumerate(values)]
            return ag.cat(shifted, _cat_dim(key, first))
        return ag.cat(values, 0)
    if isinstance(first, (int, float, np.integer, np.floating)) and not isinstance(first, bool):
        return ag.tensor(np.asarray(values))
    return list(values)


class DataLoader:
    """Iterates over a list of Data in Batches of batch_size graphs (reshuffled each epoch
    with a numpy Generator seeded by `seed` when shuffle=True)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, *, drop_last=False, seed=None):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        self.dataset = list(dataset)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for i in range(len(self)):
            chunk = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield Batch.from_data_list([self.dataset[j] for j in chunk])
