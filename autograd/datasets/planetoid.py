"""Graph data sets: the Planetoid citation graphs (Cora, Citeseer) from .npz files, the karate
club (networkx) and stochastic-block-model graphs for graph classification.

    cora = load_cora(root)                 # Data: x (2708, 1433), y, edge_index (2, 10556),
                                           # train/val/test_idx and masks (Kipf & Welling split)
    club = load_karate_club()              # 34 nodes, 0/1 adjacency, the two clubs as labels
    graphs = make_sbm_graphs(200, seed=0)  # list of Data, y = 0 (assortative blocks) or
                                           # 1 (disassortative blocks)

The .npz format (no pickle): x_indptr, x_indices, x_data, x_shape (CSR bag-of-words features),
y (int64 labels, -1 = unlabelled), edges (2, E) undirected pairs u < v, train_idx, val_idx,
test_idx. Graphs are returned as nn.graph.Data (imported when a loader runs).
"""
import zipfile
import zlib

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ._files import DatasetError, data_dir, find_file
from ._rng import make_rng

__all__ = ["load_planetoid", "load_cora", "load_citeseer", "load_karate_club", "sbm_graph",
           "make_sbm_graphs", "PLANETOID"]

# nodes, features, classes, train / val / test sizes (Kipf & Welling's split)
PLANETOID = {"cora": (2708, 1433, 7, 140, 500, 1000),
             "citeseer": (3327, 3703, 6, 120, 500, 1000)}
_KEYS = ("x_indptr", "x_indices", "x_data", "x_shape", "y", "edges", "train_idx", "val_idx",
         "test_idx")


def _data_class():
    from nn.graph.data import Data     # nn builds on autograd: imported at call time
    return Data


def _tensor(a):
    return Tensor._make(np.ascontiguousarray(a), False, None, 0)


def _int_array(path, arrays, key, ndim):
    a = arrays[key]
    if a.ndim != ndim or (a.size and a.dtype.kind not in "iu"):
        raise DatasetError(f"{path}: '{key}' must be a {ndim}-d integer array, got dtype "
                           f"{a.dtype} and shape {a.shape}")
    return a.astype(np.int64)


def _load_npz(path):
    """{key: ndarray} for the _KEYS of an .npz archive (no pickle); DatasetError naming the
    file when it is not a readable archive of plain arrays or lacks a key."""
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: not a readable .npz archive ({type(exc).__name__}: "
                           f"{exc})") from exc
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path}: holds a single .npy array, expected an .npz archive of "
                           f"{list(_KEYS)}")
    with f:
        missing = [k for k in _KEYS if k not in f.files]
        if missing:
            raise DatasetError(f"{path}: missing arrays {missing} (found {sorted(f.files)})")
        arrays = {}
        for k in _KEYS:
            try:
                arrays[k] = f[k]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise DatasetError(f"{path}: array '{k}' cannot be read ({type(exc).__name__}"
                                   f": {exc})") from exc
    return arrays


def _read_planetoid(path, name):
    """The validated arrays of a Planetoid .npz file."""
    arrays = _load_npz(path)
    shape = _int_array(path, arrays, "x_shape", 1)
    if shape.shape != (2,) or shape.min() < 0:
        raise DatasetError(f"{path}: x_shape must hold (nodes, features), got {shape}")
    n, n_feat = (int(s) for s in shape)
    indptr = _int_array(path, arrays, "x_indptr", 1)
    indices = _int_array(path, arrays, "x_indices", 1)
    values = arrays["x_data"]
    if (indptr.size != n + 1 or indptr[0] != 0 or indptr[-1] != indices.size
            or np.any(np.diff(indptr) < 0)):
        raise DatasetError(f"{path}: x_indptr of length {indptr.size} is not a CSR row "
                           f"pointer for {n} rows and {indices.size} entries")
    if indices.size and (indices.min() < 0 or indices.max() >= n_feat):
        raise DatasetError(f"{path}: x_indices out of range for {n_feat} features")
    if values.shape != indices.shape or values.dtype.kind != "f" or \
            not np.all(np.isfinite(values)):
        raise DatasetError(f"{path}: x_data must be {indices.size} finite floats, got dtype "
                           f"{values.dtype} and shape {values.shape}")
    y = _int_array(path, arrays, "y", 1)
    edges = _int_array(path, arrays, "edges", 2)
    if y.size != n:
        raise DatasetError(f"{path}: y has {y.size} labels for {n} nodes")
    if edges.shape[0] != 2 or (edges.size and (edges.min() < 0 or edges.max() >= n)):
        raise DatasetError(f"{path}: edges must be (2, E) node ids in [0, {n}), got shape "
                           f"{edges.shape}")
    splits = {k: _int_array(path, arrays, k, 1) for k in ("train_idx", "val_idx", "test_idx")}
    seen = np.zeros(n, dtype=bool)
    for key, idx in splits.items():
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise DatasetError(f"{path}: {key} holds node ids outside [0, {n})")
        if np.unique(idx).size != idx.size or seen[idx].any():
            raise DatasetError(f"{path}: {key} repeats nodes or overlaps another split")
        seen[idx] = True
        if np.any(y[idx] < 0):
            raise DatasetError(f"{path}: {key} holds unlabelled nodes (label -1)")
    if y.min() < -1:
        raise DatasetError(f"{path}: labels must be >= -1, got {int(y.min())}")
    expected = PLANETOID.get(name)
    if expected is not None:
        got = (n, n_feat, int(y.max()) + 1, *(splits[k].size for k in splits))
        if got != expected:
            raise DatasetError(f"{path}: (nodes, features, classes, train, val, test) = {got}, "
                               f"expected {expected} for {name}")
    return n, n_feat, indptr, indices, values, y, edges, splits


def _both_directions(edges, n):
    """Undirected pairs -> (2, 2E') directed edges, without duplicates, sorted by source."""
    e = edges[:, edges[0] != edges[1]]
    both = np.concatenate([e, e[::-1]], axis=1)
    keys = np.unique(both[0] * n + both[1])
    return np.stack([keys // n, keys % n]).astype(np.int64)


def load_planetoid(name, root=None, *, normalize_features=False, sparse_features=False,
                   dtype=None):
    """A Planetoid graph from root/<name>.npz (root: default $TAPEGRAD_DATA) -> Data with

        x            (N, F) features (float32 by default): a dense Tensor, or a SparseCSR with
                     sparse_features; row-normalised (each row sums to 1) with
                     normalize_features, as in the GCN paper
        y            (N,) int64 labels (-1: unlabelled)
        edge_index   (2, E) int64, both directions of each undirected pair, no self-loops
        train_idx, val_idx, test_idx (int64) and train_mask, val_mask, test_mask (bool)
        num_classes, name"""
    from ..sparse import SparseCSR
    name = name.lower()
    path = find_file(data_dir(root), [f"{name}.npz"], f"load_planetoid({name!r})")
    n, n_feat, indptr, indices, values, y, edges, splits = _read_planetoid(path, name)
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.float32
    values = values.astype(np.float64)
    if normalize_features:
        row_sum = np.add.reduceat(values, indptr[:-1]) if values.size else np.zeros(n)
        row_sum = np.where(np.diff(indptr) > 0, row_sum, 0.0)
        scale = np.divide(1.0, row_sum, out=np.zeros(n), where=row_sum != 0)
        values = values * np.repeat(scale, np.diff(indptr))
    if sparse_features:
        x = SparseCSR(indptr, indices, values.astype(dt), (n, n_feat))
    else:
        dense = np.zeros((n, n_feat), dtype=dt)
        dense[np.repeat(np.arange(n), np.diff(indptr)), indices] = values
        x = _tensor(dense)
    data = _data_class()(x=x, edge_index=_both_directions(edges, n), y=_tensor(y))
    for key, idx in splits.items():
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        data[key] = _tensor(idx)
        data[key.replace("_idx", "_mask")] = _tensor(mask)
    data.num_nodes = n
    data.num_classes = int(y.max()) + 1
    data.name = name
    return data


def load_cora(root=None, **kwargs):
    """Cora (2708 nodes, 1433 features, 7 classes, 140/500/1000 split); see load_planetoid."""
    return load_planetoid("cora", root, **kwargs)


def load_citeseer(root=None, **kwargs):
    """Citeseer (3327 nodes, 3703 features, 6 classes, 120/500/1000 split; 15 isolated
    unlabelled nodes, y = -1); see load_planetoid."""
    return load_planetoid("citeseer", root, **kwargs)


def _networkx(op):
    try:
        import networkx
    except ImportError as exc:
        raise ImportError(f"{op} needs the networkx package (pip install networkx)") from exc
    return networkx


def _graph_data(graph, x, y, n):
    edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2).T
    data = _data_class()(x=_tensor(x), edge_index=_both_directions(edges, n), y=_tensor(y))
    data.num_nodes = n
    return data


def load_karate_club(dtype=None):
    """Zachary's karate club (networkx) -> Data with x = I (34, 34) (one-hot node ids),
    edge_index (2, 156) both directions, adj (34, 34) the 0/1 adjacency (weights ignored),
    y (34,) the club each member joined (0: Mr. Hi, 1: Officer), train_idx = [0, 33] (the
    two leaders, one labelled node per class), test_idx the others, num_classes = 2."""
    nx = _networkx("load_karate_club")
    graph = nx.karate_club_graph()
    n = graph.number_of_nodes()
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.float32
    y = np.array([0 if graph.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(n)], np.int64)
    data = _graph_data(graph, np.eye(n, dtype=dt), y, n)
    adj = np.zeros((n, n), dtype=dt)
    adj[data.edge_index.data[0], data.edge_index.data[1]] = 1
    data.adj = _tensor(adj)
    data.train_idx = _tensor(np.array([0, n - 1], dtype=np.int64))
    data.test_idx = _tensor(np.arange(1, n - 1, dtype=np.int64))
    data.num_classes = 2
    return data


def sbm_graph(sizes, probs, seed=None):
    """One stochastic-block-model graph (networkx): sizes of the blocks, probs[a][b] the
    edge probability between blocks a and b -> (edge_index (2, E) both directions, block of
    each node (N,))."""
    nx = _networkx("sbm_graph")
    rng = make_rng(seed)
    graph = nx.stochastic_block_model(list(sizes), probs, seed=int(rng.integers(2 ** 31)))
    n = int(sum(sizes))
    edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2).T
    blocks = np.repeat(np.arange(len(sizes)), sizes).astype(np.int64)
    return _both_directions(edges, n), blocks


def make_sbm_graphs(num_graphs=200, num_nodes=(20, 40), p_high=0.3, p_low=0.05, noise=1.0,
                    seed=0, dtype=None):
    """Graphs of two structures for graph classification, from two-block SBMs with the same
    expected degree: class 0 is assortative (p_high within blocks, p_low across), class 1
    disassortative (p_low within, p_high across). Node features x (N, 2): the one-hot block
    of the node plus N(0, noise^2) noise, so a node alone does not tell the class: the
    structure (do neighbours share the feature?) does. -> list of Data with y (1,) int64,
    classes alternating (balanced). num_nodes: (min, max) nodes per graph."""
    rng = make_rng(seed)
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.float32
    lo, hi = num_nodes
    if not 2 <= lo <= hi:
        raise ValueError(f"make_sbm_graphs: num_nodes must be (min, max) with 2 <= min <= max, "
                         f"got {num_nodes}")
    graphs = []
    for i in range(num_graphs):
        label = i % 2
        n = int(rng.integers(lo, hi + 1))
        sizes = [n // 2, n - n // 2]
        inside, across = (p_high, p_low) if label == 0 else (p_low, p_high)
        edge_index, blocks = sbm_graph(sizes, [[inside, across], [across, inside]], rng)
        x = np.eye(2)[blocks] + noise * rng.standard_normal((n, 2))
        data = _data_class()(x=_tensor(x.astype(dt)), edge_index=edge_index,
                             y=_tensor(np.array([label], dtype=np.int64)))
        data.num_nodes = n
        graphs.append(data)
    return graphs
