"""Sparse CSR matrices and the sparse-dense product, with gradients to X and to A's values.

    import autograd as ag
    A = ag.sparse.SparseCSR.from_coo(rows, cols, values, shape=(m, n))   # duplicates summed
    A = ag.sparse.gcn_norm(edges, num_nodes)      # D^-1/2 (A + I) D^-1/2, the GCN propagation
    Y = ag.sparse.mm(A, X)                        # or A @ X;  X: (n, k) -> Y: (m, k)

The primitives (numba kernels in kernels/spmm.py; `A` has stored entries p at (i, j)):

    spmm(values, X)       Y[i] = sum_p values[p] X[j]         dX = A^T G    dvalues = sddmm(G, X)
    sddmm(G, X)           h[p] = G[i] . X[j]                  dG = A_h X    dX = A_h^T G
                          (A_h: A's structure holding h as its values)

Both backwards are written with the two primitives themselves, so gradients of gradients work
through X, G and the values. A matrix keeps its values as one Tensor (`A.values`, which may
require grad) and a CSR structure whose entry p reads values[perm[p]]: A.T shares A's values
tensor through a permuted structure, so gradients through A and A.T reach the same tensor. The
transposed structure is built once (a counting sort) and cached on the matrix.

Files: csr.py (SparseCSR, constructors, mm), primitives.py (SpMM, SDDMM, the CSR structure),
graph.py (gcn_norm).
"""
from .csr import (SparseCSR, coo_to_csr, from_scipy, mm, sparse_coo_tensor,
                  sparse_csr_tensor)
from .graph import gcn_norm

__all__ = ["SparseCSR", "mm", "coo_to_csr", "from_scipy", "sparse_coo_tensor",
           "sparse_csr_tensor", "gcn_norm"]
