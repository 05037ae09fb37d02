"""The sparse primitives: SpMM (A.X) and SDDMM (the sampled product G.X^T at A's entries),
and the CSR structure they run on. The kernels are in kernels/spmm.py.

    SpMM(values, X; A)    Y[i] = sum_p values[p] X[j]         dX = A^T G    dvalues = SDDMM(G, X)
    SDDMM(G, X; A)        h[p] = G[i] . X[j]                  dG = A_h X    dX = A_h^T G
                          (entry p at (i, j); A_h: A's structure holding h as its values)
"""
import numpy as np

from ..function import Function

__all__ = ["SpMM", "SDDMM"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _kernels():
    from ..kernels import spmm   # numba is imported on the first product, not at import
    return spmm


class _Structure:
    """CSR pattern of an (m, n) matrix: entry p of row i is in column indices[p] and reads
    values[perm[p]]. indptr: (m+1,), indices, perm: (nnz,), all int64 and C-contiguous."""
    __slots__ = ("indptr", "indices", "perm", "shape", "identity", "_t", "_rows")

    def __init__(self, indptr, indices, perm, shape, identity):
        self.indptr, self.indices, self.perm = indptr, indices, perm
        self.shape = shape
        self.identity = identity      # perm is arange(nnz): values are in CSR order
        self._t = None
        self._rows = None

    @property
    def nnz(self):
        return self.indices.shape[0]

    @property
    def T(self):
        """The structure of A^T, reading the same values array (computed once, cached)."""
        if self._t is None:
            m, n = self.shape
            indptr, indices, perm = _kernels().csr_transpose(
                self.indptr, self.indices, self.perm, n)
            t = _Structure(indptr, indices, perm, (n, m), False)
            t._t = self
            self._t = t
        return self._t

    def rows(self):
        """The row of each stored entry, (nnz,)."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.shape[0], dtype=np.int64),
                                   np.diff(self.indptr))
        return self._rows


def _contiguous(a):
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


class SpMM(Function):
    """values: (nnz,), x: (n, k), structure of an (m, n) matrix A -> A.x: (m, k)."""

    @staticmethod
    def forward(ctx, values, x, struct):
        ctx.struct = struct
        need_v, need_x = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if need_v or need_x:
            # dvalues reads x, dx reads the values
            ctx.save_for_backward(values if need_x else None, x if need_v else None)
        out = np.empty((struct.shape[0], x.shape[1]), dtype=x.data.dtype)
        _kernels().spmm_csr(struct.indptr, struct.indices, struct.perm,
                            _contiguous(values.data), _contiguous(x.data), out)
        return out

    @staticmethod
    def backward(ctx, g):
        values, x = ctx.saved_tensors
        struct = ctx.struct
        dv = dx = None
        if ctx.needs_input_grad[0]:
            dv = SDDMM.apply(g, x, struct)            # dvalues[p] = G[i] . X[j]
        if ctx.needs_input_grad[1]:
            dx = SpMM.apply(values, g, struct.T)      # dX = A^T G
        return dv, dx, None


class SDDMM(Function):
    """g: (m, k), x: (n, k), structure of an (m, n) matrix -> h: (nnz,) in values order,
    h[perm[p]] = g[i] . x[j] for the entry p at (i, j)."""

    @staticmethod
    def forward(ctx, g, x, struct):
        ctx.struct = struct
        need_g, need_x = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if need_g or need_x:
            ctx.save_for_backward(g if need_x else None, x if need_g else None)
        out = np.empty(struct.nnz, dtype=g.data.dtype)
        _kernels().sddmm_csr(struct.indptr, struct.indices, struct.perm,
                             _contiguous(g.data), _contiguous(x.data), out)
        return out

    @staticmethod
    def backward(ctx, h):
        g, x = ctx.saved_tensors
        struct = ctx.struct
        dg = dx = None
        if ctx.needs_input_grad[0]:
            dg = SpMM.apply(h, x, struct)             # dG[i] = sum_p h[p] X[j]  = A_h X
        if ctx.needs_input_grad[1]:
            dx = SpMM.apply(h, g, struct.T)           # dX[j] = sum_p h[p] G[i]  = A_h^T G
        return dg, dx, None
