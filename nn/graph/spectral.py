"""Spectral graph convolutions: the exact one through the Laplacian's eigenvectors and
Chebyshev polynomial filters.

    L = U Lambda U^T                 (eigendecomposition of the graph Laplacian, small graphs)
    x *_G g_theta = U g_theta U^T x  (the graph Fourier transform U^T x, a filter per frequency,
                                      back with U) -- SpectralConv, spectral_conv
    L_hat = 2 L / lambda_max - I,    T_0 = x, T_1 = L_hat x, T_k = 2 L_hat T_{k-1} - T_{k-2}
    ChebConv: x' = sum_{k<K} T_k W_k^T + b      (Defferrard et al., 2016)
"""
import numpy as np

import autograd as ag
from autograd import sparse
from autograd.sparse import SparseCSR

from .. import init
from ..containers import ModuleList
from ..module import Module
from ..parameter import Parameter
from ._checks import edge_array
from .conv import Linear, _edges_of, _features
from .utils import laplacian, scaled_laplacian

__all__ = ["ChebConv", "SpectralConv", "graph_fourier_basis", "spectral_conv"]


def graph_fourier_basis(edge_index, edge_weight=None, num_nodes=None, normalization="sym",
                        dtype=None):
    """The eigendecomposition L = U diag(lambda) U^T of a symmetric graph Laplacian (dense,
    O(N^3): small graphs) -> (lambda (N,) ascending, U (N, N) orthonormal columns), constant
    Tensors of `dtype` (default float dtype)."""
    e = edge_array("graph_fourier_basis", edge_index, num_nodes)
    n = num_nodes if num_nodes is not None else (int(e.max()) + 1 if e.size else 0)
    w = edge_weight
    if isinstance(w, ag.Tensor):
        w = w.detach()
    if w is not None:
        w = np.asarray(w.data if isinstance(w, ag.Tensor) else w, np.float64)
    with ag.no_grad():
        lap = laplacian(e, w, n, normalization, dtype=ag.float64).to_dense().data
    if not np.allclose(lap, lap.T, atol=1e-12):
        raise ValueError("graph_fourier_basis: the Laplacian is not symmetric; the graph "
                         "must be undirected (see to_undirected)")
    lam, u = np.linalg.eigh(lap)
    dt = ag.dtypes.to_dtype(dtype) if dtype is not None else ag.get_default_dtype()
    return ag.from_numpy(lam.astype(dt)), ag.from_numpy(np.ascontiguousarray(u, dtype=dt))


def spectral_conv(x, u, theta, bias=None):
    """x: (N, C_in), u: (N, N) Fourier basis, theta: (C_in, C_out, N) one filter per input and
    output channel and frequency -> (N, C_out):

        y[:, o] = sum_c U diag(theta[c, o]) U^T x[:, c]  (+ bias[o])"""
    if x.ndim != 2 or u.shape != (x.shape[0], x.shape[0]) or theta.ndim != 3 \
            or theta.shape[0] != x.shape[1] or theta.shape[2] != x.shape[0]:
        raise ValueError(f"spectral_conv: x {tuple(x.shape)}, u {tuple(u.shape)} and theta "
                         f"{tuple(theta.shape)} do not fit: expected x (N, C_in), u (N, N), "
                         f"theta (C_in, C_out, N)")
    x_hat = u.t() @ x                                      # graph Fourier transform (N, C_in)
    y_hat = ag.einsum("nc,con->no", x_hat, theta)          # filter each frequency
    y = u @ y_hat                                          # inverse transform
    return y if bias is None else y + bias


class SpectralConv(Module):
    """SpectralConv(in_channels, out_channels, num_nodes, normalization='sym', bias=True,
    cached=True): x *_G g_theta = U g_theta U^T x with a free filter g_theta (a diagonal of
    num_nodes values) per input/output channel pair (Bruna et al., 2014). The graph is fixed
    (num_nodes nodes); cached=True keeps U from the first call.

    forward(x (N, in), edge_index (2, E), edge_weight=None) -> (N, out)."""

    def __init__(self, in_channels, out_channels, num_nodes, normalization="sym", bias=True,
                 cached=True):
        super().__init__()
        if normalization not in (None, "sym", "rw"):
            raise ValueError(f"SpectralConv: unknown normalization {normalization!r}")
        if normalization == "rw":
            raise ValueError("SpectralConv: the random-walk Laplacian is not symmetric; use "
                             "normalization='sym' or None")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_nodes, self.normalization, self.cached = num_nodes, normalization, cached
        self.theta = Parameter(ag.empty(in_channels, out_channels, num_nodes))
        self.bias = Parameter(ag.zeros(out_channels)) if bias else None
        self._basis = None
        self.reset_parameters()

    def reset_parameters(self):
        # each output sums in_channels filtered signals: U(-a, a), a = sqrt(6 / (in + out))
        a = float(np.sqrt(6.0 / (self.in_channels + self.out_channels)))
        init.uniform_(self.theta, -a, a)
        if self.bias is not None:
            init.zeros_(self.bias)
        self._basis = None

    def forward(self, x, edge_index, edge_weight=None):
        x = _features("SpectralConv", x, self.in_channels)
        if x.shape[0] != self.num_nodes:
            raise ValueError(f"SpectralConv: x has {x.shape[0]} nodes but the layer was built "
                             f"for num_nodes={self.num_nodes}")
        u = self._basis
        if u is None or u.dtype != x.dtype:
            _, u = graph_fourier_basis(edge_index, edge_weight, self.num_nodes,
                                       self.normalization, dtype=x.dtype)
            if self.cached:
                self._basis = u
        return spectral_conv(x, u, self.theta, self.bias)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, num_nodes={self.num_nodes}"


class ChebConv(Module):
    """ChebConv(in_channels, out_channels, K, normalization='sym', bias=True): order-K
    Chebyshev filters of the scaled Laplacian (Defferrard et al., 2016), PyG's signature.

    forward(x (N, in), edge_index, edge_weight=None, batch=None, lambda_max=None) -> (N, out)
        x' = sum_{k=0}^{K-1} T_k(L_hat) x W_k^T + b,   L_hat = 2 L / lambda_max - I
    normalization: None (L = D - A), 'sym' (I - D^-1/2 A D^-1/2) or 'rw' (I - D^-1 A)."""

    def __init__(self, in_channels, out_channels, K, normalization="sym", bias=True):
        super().__init__()
        if K <= 0:
            raise ValueError(f"ChebConv: K must be positive, got {K}")
        if normalization not in (None, "sym", "rw"):
            raise ValueError(f"ChebConv: unknown normalization {normalization!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.K, self.normalization = K, normalization
        self.lins = ModuleList([Linear(in_channels, out_channels, bias=False,
                                       weight_initializer="glorot") for _ in range(K)])
        self.bias = Parameter(ag.zeros(out_channels)) if bias else None

    def reset_parameters(self):
        for lin in self.lins:
            lin.reset_parameters()
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x, edge_index, edge_weight=None, batch=None, lambda_max=None):
        x = _features("ChebConv", x, self.in_channels)
        if isinstance(x, SparseCSR):
            raise TypeError("ChebConv: x must be a dense Tensor")
        n = x.shape[0]
        e, w = _edges_of("ChebConv", edge_index, edge_weight, n)
        ei, lw = scaled_laplacian(e, w, n, self.normalization, lambda_max, x.dtype, batch)
        lap = SparseCSR.from_coo(ei.data[1], ei.data[0], lw, (n, n))   # L_hat[i, j]: j -> i
        tx_0 = x
        out = self.lins[0](tx_0)
        if self.K > 1:
            tx_1 = sparse.mm(lap, x)                           # T_1 = L_hat x
            out = out + self.lins[1](tx_1)
            for lin in self.lins[2:]:
                tx_2 = 2.0 * sparse.mm(lap, tx_1) - tx_0       # T_k = 2 L_hat T_{k-1} - T_{k-2}
                out = out + lin(tx_2)
                tx_0, tx_1 = tx_1, tx_2
        return out if self.bias is None else out + self.bias

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, K={self.K}, " \
               f"normalization={self.normalization!r}"
