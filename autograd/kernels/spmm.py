"""Sparse-dense products on CSR structures (numba kernels, ndarrays only).

A CSR structure is (indptr, indices, perm): row i holds the stored entries p in
[indptr[i], indptr[i+1]), entry p sits in column indices[p] and its value is values[perm[p]].
The indirection through `perm` lets the transpose of a matrix (a CSR structure sorted by
column) read the very same values array, so the gradient of both products lands in one place.

    spmm_csr(indptr, indices, perm, values, x, out)
        out[i, :] = sum_{p in row i} values[perm[p]] * x[indices[p], :]          (out = A.X)
        x: (n_cols, k), out: (n_rows, k)
    sddmm_csr(indptr, indices, perm, g, x, out)
        out[perm[p]] = g[i, :] . x[indices[p], :]   for each stored entry p of row i
        g: (n_rows, k), x: (n_cols, k), out: (nnz,)
        (the sampled dense-dense product: dL/dvalues of out = A.X is sddmm(G, X))
    csr_transpose(indptr, indices, perm, n_cols) -> (indptr_t, indices_t, perm_t)
        the CSR structure of A^T reading the same values array (a stable counting sort by
        column, so each row of A^T lists its entries by increasing column)

Arrays must be C-contiguous; x, g, values and out share one float dtype; index arrays are
int64. Rows are independent, so each kernel writes disjoint elements (no races).
"""
import numpy as np

from ._jit import jit

__all__ = ["spmm_csr", "sddmm_csr", "csr_transpose"]


@jit()
def spmm_csr(indptr, indices, perm, values, x, out):
    """out = A . x for the CSR matrix A; out: (n_rows, k) is overwritten."""
    n_rows = indptr.shape[0] - 1
    k = x.shape[1]
    acc = np.empty(k, dtype=out.dtype)   # one row of out (a local buffer vectorises better)
    for i in range(n_rows):
        for c in range(k):
            acc[c] = 0
        for p in range(indptr[i], indptr[i + 1]):
            v = values[perm[p]]
            j = indices[p]
            for c in range(k):
                acc[c] += v * x[j, c]            # out[i] += A[i, j] * x[j]
        for c in range(k):
            out[i, c] = acc[c]
    return out


@jit()
def sddmm_csr(indptr, indices, perm, g, x, out):
    """out[perm[p]] = g[row(p)] . x[indices[p]]; out: (nnz,) is overwritten."""
    n_rows = indptr.shape[0] - 1
    k = x.shape[1]
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            s = 0.0                              # accumulated in float64, stored in out's dtype
            for c in range(k):
                s += g[i, c] * x[j, c]           # dvalues[p] = G[i] . X[j]
            out[perm[p]] = s
    return out


@jit()
def csr_transpose(indptr, indices, perm, n_cols):
    """The CSR structure of A^T (n_cols rows) whose entries read values[perm_t[q]]."""
    n_rows = indptr.shape[0] - 1
    nnz = indices.shape[0]
    indptr_t = np.zeros(n_cols + 1, dtype=np.int64)
    for p in range(nnz):                          # count the entries of each column
        indptr_t[indices[p] + 1] += 1
    for j in range(n_cols):                       # prefix sum: where each column starts
        indptr_t[j + 1] += indptr_t[j]
    fill = indptr_t[:-1].copy()
    indices_t = np.empty(nnz, dtype=np.int64)
    perm_t = np.empty(nnz, dtype=np.int64)
    for i in range(n_rows):                       # rows in order: a stable sort by column
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            q = fill[j]
            fill[j] = q + 1
            indices_t[q] = i                      # A^T[j, i] = A[i, j]
            perm_t[q] = perm[p]
    return indptr_t, indices_t, perm_t
