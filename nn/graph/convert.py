"""Conversions to and from networkx, and the edge sampling of link prediction.

    from_networkx(G)                  Data with edge_index (both directions for an undirected
                                      G), edge_weight from the 'weight' attribute if present
    to_networkx(data)                 an nx.DiGraph (nx.Graph with to_undirected=True)
    negative_sampling(edge_index, N)  (2, M) random node pairs that are not edges
    train_test_split_edges(data)      positive and negative edges for training and testing
"""
import numpy as np

import autograd as ag
from autograd.creation import get_rng

from ._checks import as_edge_tensor, edge_array, infer_num_nodes
from .data import Data

__all__ = ["from_networkx", "to_networkx", "negative_sampling", "train_test_split_edges"]


def _networkx(op):
    try:
        import networkx
    except ImportError as exc:
        raise ImportError(f"{op} needs the networkx package (pip install networkx)") from exc
    return networkx


def from_networkx(graph, weight="weight", node_attrs=None, dtype=None):
    """A networkx graph -> Data(edge_index (2, E), num_nodes, edge_weight?, x?). Nodes are
    numbered in graph.nodes order (data.node_names keeps the original labels); an undirected
    edge gives both directions; edge_weight is read from the `weight` attribute when every
    edge has it; node_attrs: names of numeric node attributes stacked as the columns of x."""
    _networkx("from_networkx")
    names = list(graph.nodes)
    pos = {name: i for i, name in enumerate(names)}
    edges = list(graph.edges(data=True))
    src = np.array([pos[u] for u, _, _ in edges], dtype=np.int64)
    dst = np.array([pos[v] for _, v, _ in edges], dtype=np.int64)
    dt = ag.dtypes.to_dtype(dtype) if dtype is not None else ag.get_default_dtype()
    w = None
    if weight is not None and edges and all(weight in a for _, _, a in edges):
        w = np.array([a[weight] for _, _, a in edges], dtype=dt)
    if not graph.is_directed():
        loops = src == dst                      # a self-loop is listed once
        src, dst = (np.concatenate([src, dst[~loops]]), np.concatenate([dst, src[~loops]]))
        if w is not None:
            w = np.concatenate([w, w[~loops]])
    data = Data(edge_index=np.stack([src, dst]) if src.size else np.zeros((2, 0), np.int64))
    data.num_nodes = len(names)
    data.node_names = names
    if w is not None:
        data.edge_weight = ag.from_numpy(w)
    if node_attrs:
        cols = [[float(graph.nodes[name][a]) for a in node_attrs] for name in names]
        data.x = ag.from_numpy(np.asarray(cols, dtype=dt).reshape(len(names), len(node_attrs)))
    return data


def to_networkx(data, num_nodes=None, edge_weight=None, to_undirected=False,
                remove_self_loops=False):
    """Data (or an edge_index (2, E)) -> nx.DiGraph, or nx.Graph when to_undirected (each
    pair once). Edge weights become the 'weight' attribute."""
    nx = _networkx("to_networkx")
    if isinstance(data, Data):
        edge_index = data.edge_index
        num_nodes = data.num_nodes if num_nodes is None else num_nodes
        edge_weight = data.edge_weight if edge_weight is None else edge_weight
    else:
        edge_index = data
    e = edge_array("to_networkx", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    graph = nx.Graph() if to_undirected else nx.DiGraph()
    graph.add_nodes_from(range(n))
    w = None
    if edge_weight is not None:
        w = edge_weight.data if isinstance(edge_weight, ag.Tensor) else np.asarray(edge_weight)
    for k, (u, v) in enumerate(e.T.tolist()):
        if remove_self_loops and u == v:
            continue
        if w is None:
            graph.add_edge(u, v)
        else:
            graph.add_edge(u, v, weight=float(w[k]))
    return graph


def negative_sampling(edge_index, num_nodes=None, num_neg_samples=None,
                      force_undirected=False, generator=None):
    """(2, M) node pairs (u, v), u != v, that are not edges of edge_index, drawn uniformly
    without repeats (M = num_neg_samples, default E; fewer if the graph is too dense). With
    force_undirected, pairs are drawn with u < v and returned in both directions.
    generator: a numpy Generator (default: autograd's, seeded by ag.manual_seed)."""
    e = edge_array("negative_sampling", edge_index, num_nodes)
    n = infer_num_nodes(e, num_nodes)
    rng = get_rng() if generator is None else generator
    want = e.shape[1] if num_neg_samples is None else int(num_neg_samples)
    if force_undirected:
        want = want // 2
    src, dst = e
    if force_undirected:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    off = src != dst
    taken = np.unique(src[off] * n + dst[off])             # the edges, self-loops aside
    capacity = n * (n - 1) - taken.size
    if force_undirected:
        capacity //= 2
    want = max(min(want, capacity), 0)
    picked = np.zeros(0, dtype=np.int64)
    while picked.size < want:
        draw = rng.integers(0, n, size=(2, 2 * (want - picked.size) + 16))
        u, v = (np.minimum(*draw), np.maximum(*draw)) if force_undirected else draw
        key = u * n + v
        key = key[(u != v) & ~np.isin(key, taken) & ~np.isin(key, picked)]
        _, first = np.unique(key, return_index=True)         # each new pair once, drawn order
        picked = np.concatenate([picked, key[np.sort(first)]])[:want]
    out = np.stack([picked // max(n, 1), picked % max(n, 1)]).astype(np.int64)
    if force_undirected:
        out = np.concatenate([out, out[::-1]], axis=1)
    return as_edge_tensor(out)


def train_test_split_edges(data, val_ratio=0.05, test_ratio=0.1, generator=None):
    """Split an undirected graph's edges for link prediction (as PyG's helper of the same
    name). Each undirected pair is assigned to one split; returns a new Data with
    train_pos_edge_index (both directions), val_pos_edge_index, val_neg_edge_index,
    test_pos_edge_index, test_neg_edge_index (one direction each; negatives are non-edges of
    the whole graph, as many as the positives) and the other attributes of `data`."""
    if not (val_ratio >= 0 and test_ratio >= 0 and val_ratio + test_ratio < 1):
        raise ValueError(f"train_test_split_edges: ratios {val_ratio}, {test_ratio} must be "
                         "non-negative and sum to less than 1")
    n = data.num_nodes
    e = edge_array("train_test_split_edges", data.edge_index, n)
    rng = get_rng() if generator is None else generator
    pairs = np.unique(np.sort(e[:, e[0] != e[1]], axis=0), axis=1)     # u < v, once each
    pairs = pairs[:, rng.permutation(pairs.shape[1])]
    n_val = int(np.floor(val_ratio * pairs.shape[1]))
    n_test = int(np.floor(test_ratio * pairs.shape[1]))
    val, test = pairs[:, :n_val], pairs[:, n_val:n_val + n_test]
    train = pairs[:, n_val + n_test:]
    out = Data(**{k: v for k, v in data if k not in ("edge_index", "edge_weight")})
    out.num_nodes = n
    out.train_pos_edge_index = np.concatenate([train, train[::-1]], axis=1)
    out.val_pos_edge_index = val
    out.test_pos_edge_index = test
    neg = _neg_split(pairs, n, n_val + n_test, rng)
    out.val_neg_edge_index = neg[:, :n_val]
    out.test_neg_edge_index = neg[:, n_val:n_val + n_test]
    return out


def _neg_split(pairs, n, count, rng):
    """count distinct non-edges (u < v) of the undirected graph with the given pairs."""
    both = np.concatenate([pairs, pairs[::-1]], axis=1)
    neg = negative_sampling(both, n, 2 * count, force_undirected=True, generator=rng).data
    return neg[:, :neg.shape[1] // 2]
