"""Small graphs and PyTorch dense references for the graph tests.

Every reference builds the dense matrices of its formula in PyTorch (float64 unless told),
so the sparse, edge-list code of nn.graph is checked against the textbook definition.
"""
import os

import numpy as np
import torch

import autograd as ag

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}


def data_root():
    return os.environ.get("TAPEGRAD_DATA", os.path.join(ROOT, "..", "shared", "data"))


def random_graph(n, p, seed, directed=False, loops=False):
    """(2, E) int64 edges of a G(n, p) graph (both directions when undirected)."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, n)) < p
    if not loops:
        np.fill_diagonal(a, False)
    if not directed:
        a = np.triu(a, 1)
        a = a | a.T
    src, dst = np.nonzero(a)
    return np.stack([src, dst]).astype(np.int64)


def dense_adj(edges, n, weight=None):
    """Torch (n, n) float64: A[u, v] = sum of the weights of (u -> v)."""
    w = torch.ones(edges.shape[1], dtype=torch.float64) if weight is None else weight
    a = torch.zeros(n * n, dtype=w.dtype)
    return a.index_add(0, torch.from_numpy(edges[0] * n + edges[1]), w).reshape(n, n)


def gcn_dense(a, improved=False):
    """D~^-1/2 (A + fill I) D~^-1/2 propagating along A^T (rows: targets); a node keeps an
    existing self-loop's weight (PyG's add_remaining_self_loops)."""
    n = a.shape[0]
    eye = torch.eye(n, dtype=a.dtype)
    has_loop = (torch.diagonal(a) != 0).to(a.dtype)
    fill = 2.0 if improved else 1.0
    a_t = a.t() + eye * (1 - has_loop) * fill
    deg = a_t.sum(1)
    dinv = torch.where(deg > 0, deg.clamp(min=1e-300).rsqrt(), torch.zeros_like(deg))
    return dinv[:, None] * a_t * dinv[None, :]


def laplacian_dense(a, normalization):
    """L of a (no self-loops) with out-degrees D: D - A, I - D^-1/2 A D^-1/2, I - D^-1 A."""
    a = a - torch.diag(torch.diagonal(a))
    deg = a.sum(1)
    eye = torch.eye(a.shape[0], dtype=a.dtype)
    if normalization is None:
        return torch.diag(deg) - a
    safe = torch.where(deg > 0, deg, torch.ones_like(deg))
    if normalization == "sym":
        dinv = torch.where(deg > 0, safe.rsqrt(), torch.zeros_like(deg))
        return eye - dinv[:, None] * a * dinv[None, :]
    return eye - torch.where(deg > 0, 1 / safe, torch.zeros_like(deg))[:, None] * a


def ours(a, dtype=np.float64, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


def theirs(a, dtype=np.float64, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


def assert_close(ours_t, theirs_t, dtype=np.float64, what=""):
    o = ours_t.data if isinstance(ours_t, ag.Tensor) else np.asarray(ours_t)
    t = theirs_t.detach().numpy() if isinstance(theirs_t, torch.Tensor) else theirs_t
    assert o.shape == t.shape, f"{what}: shape {o.shape} vs {t.shape}"
    if isinstance(ours_t, ag.Tensor):
        assert o.dtype == np.dtype(dtype), f"{what}: dtype {o.dtype}, expected {dtype}"
    np.testing.assert_allclose(o, t, err_msg=what, **TOL[dtype])


def copy_params(pairs):
    """Copy torch tensors into our parameters: pairs of (ours, torch tensor)."""
    for p, t in pairs:
        p.data[...] = t.detach().numpy().astype(p.data.dtype)
