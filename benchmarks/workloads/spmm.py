"""Sparse-dense product on Cora's GCN adjacency, forward and backward.

    spmm_cora   Y = A_hat @ X with A_hat = D^-1/2 (A + I) D^-1/2 on Cora (2708 nodes, 13264
                stored entries) and X: (2708, 16) float32; then backward with a fixed upstream
                gradient G: dX = A_hat^T G and dvalues[p] = G[i] . X[j] (gradient to A's
                stored values). The target is at most 0.5x torch.sparse.mm's time.
    spmm_cora_x the same with a constant A (gradient to X only): a GCN layer's propagation.

PyTorch side: a CSR tensor that requires grad (its gradient is a CSR tensor on the same
pattern; the faster of PyTorch's layouts here, COO is slower still). scipy side: the same three
products with scipy.sparse (A @ X, a precomputed A^T @ G, a gathered row-wise dot product).
The data directory is $TAPEGRAD_DATA, else ../shared/data beside the repository if it exists.
"""
import os

import numpy as np

from . import Skip, Workload, allclose_check, register

K = 16
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def data_dir():
    """The data directory: $TAPEGRAD_DATA, else ../shared/data from the repository root."""
    path = os.environ.get("TAPEGRAD_DATA")
    if path:
        return path
    path = os.path.join(_ROOT, "..", "shared", "data")
    return path if os.path.isdir(path) else None


def _cora():
    """(edges (2, E), number of nodes) of Cora, or Skip when the file is absent."""
    path = data_dir()
    if path is None or not os.path.exists(os.path.join(path, "cora.npz")):
        raise Skip("cora.npz not found: set TAPEGRAD_DATA to the data directory "
                   "(default ../shared/data beside the repository)")
    data = np.load(os.path.join(path, "cora.npz"), allow_pickle=False)
    return data["edges"], int(data["y"].shape[0])


def _problem():
    """The normalised adjacency as CSR arrays, X and G (seeded), all float32."""
    from autograd.sparse import gcn_norm
    edges, n = _cora()
    a = gcn_norm(edges, n, dtype=np.float32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, K)).astype(np.float32)
    g = rng.standard_normal((n, K)).astype(np.float32)
    return a.indptr.copy(), a.indices.copy(), a.values.data.copy(), (n, n), x, g


def _ours(values_grad):
    def setup(quick):
        import autograd as ag
        from autograd.sparse import SparseCSR
        indptr, indices, values, shape, x, g = _problem()
        v = ag.tensor(values, requires_grad=values_grad)
        a = SparseCSR(indptr, indices, v, shape)
        xt, gt = ag.tensor(x, requires_grad=True), ag.tensor(g)

        def run():
            v.grad = xt.grad = None
            y = a @ xt
            y.backward(gt)
            return (y, xt.grad, v.grad) if values_grad else (y, xt.grad)
        return run
    return setup


def _torch(values_grad):
    def setup(quick):
        import warnings

        import torch
        indptr, indices, values, shape, x, g = _problem()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # "sparse CSR support is in beta"
            a = torch.sparse_csr_tensor(torch.from_numpy(indptr), torch.from_numpy(indices),
                                        torch.from_numpy(values), shape, check_invariants=True)
        a.requires_grad_(values_grad)
        xt, gt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(g)

        def run():
            a.grad = xt.grad = None
            y = torch.sparse.mm(a, xt)
            y.backward(gt)
            if not values_grad:
                return y, xt.grad
            da = a.grad
            if not (torch.equal(da.crow_indices(), a.crow_indices())
                    and torch.equal(da.col_indices(), a.col_indices())):
                raise AssertionError("PyTorch's gradient has a different sparsity pattern")
            return y, xt.grad, da.values()
        return run
    return setup


def _scipy(values_grad):
    def setup(quick):
        try:
            import scipy.sparse
        except ImportError as exc:
            raise Skip(f"scipy is not installed ({exc})") from None
        indptr, indices, values, shape, x, g = _problem()
        a = scipy.sparse.csr_matrix((values, indices, indptr), shape=shape)
        a_t = a.T.tocsr()
        rows = np.repeat(np.arange(shape[0]), np.diff(indptr))

        def run():
            y = a @ x                                            # forward
            dx = a_t @ g                                         # dX = A^T G
            if not values_grad:
                return y, dx
            dv = np.einsum("pk,pk->p", g[rows], x[indices])      # dvalues[p] = G[i] . X[j]
            return y, dx, dv
        return run
    return setup


def _target(row):
    return None if row.get("ratio") is None else row["ratio"] <= 0.5


for _name, _grad, _what in (("spmm_cora", True, "grads to X and to A's values"),
                            ("spmm_cora_x", False, "constant A, grad to X only")):
    register(Workload(
        name=_name,
        sizes=f"Cora A_hat 2708x2708 (13264 nnz) @ 2708x{K} float32, fwd+bwd",
        description=f"sparse.mm forward and backward ({_what})",
        setup_ours=_ours(_grad), setup_torch=_torch(_grad), baselines={"scipy": _scipy(_grad)},
        # dvalues are 16-term dot products: ours accumulate in float64, the others in float32
        check=allclose_check(rtol=1e-4, atol=1e-5),
        target=("ours <= 0.5x PyTorch", _target),
        meta={"dtype": "float32"},
    ))
