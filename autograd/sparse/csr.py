"""SparseCSR: the sparse matrix type, its constructors and sparse.mm (see the package doc)."""
import numpy as np

from .. import dtypes
from ..creation import zeros
from ..ops import index_add
from ..ops._util import as_tensor
from ..tensor import Tensor
from .primitives import _FLOATS, SpMM, _Structure

__all__ = ["SparseCSR", "mm", "coo_to_csr", "from_scipy", "sparse_coo_tensor",
           "sparse_csr_tensor"]


def _index_array(name, a):
    a = np.asarray(a.data if isinstance(a, Tensor) else a)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise TypeError(f"{name}: expected a 1-d integer array, got dtype {a.dtype} and "
                        f"shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.int64)


def _values_tensor(name, values, nnz, dtype):
    """values as a 1-d float Tensor of length nnz (ones when None)."""
    if values is None:
        return Tensor._make(np.ones(nnz, dtypes.to_dtype(dtype) or
                                    dtypes.get_default_dtype()), False, None, 0)
    v = as_tensor(values)
    if dtype is not None:
        v = v.to(dtypes.to_dtype(dtype))
    elif v.dtype.kind != "f":
        v = v.to(dtypes.get_default_dtype())
    if v.dtype not in _FLOATS:
        raise TypeError(f"{name}: values must be float32 or float64, got {v.dtype}")
    if v.shape != (nnz,):
        raise ValueError(f"{name}: values of shape {tuple(v.shape)} for {nnz} stored entries")
    return v


class SparseCSR:
    """A sparse (m, n) matrix in CSR form: `indptr` (m+1,), `indices` (nnz,) int64 arrays and
    `values` (nnz,) a float Tensor (which may require grad). Entries at repeated coordinates
    add up (the constructors from COO sum them into one entry).

        A = SparseCSR(indptr, indices, values, shape)       # CSR arrays, as scipy's csr_matrix
        A = SparseCSR.from_coo(rows, cols, values, shape)  # duplicates summed
        A = SparseCSR.from_scipy(m);  A.to_dense();  A.T;  A @ X;  A.requires_grad_()
    """

    def __init__(self, indptr, indices, values, shape, *, dtype=None):
        indptr = _index_array("SparseCSR", indptr)
        indices = _index_array("SparseCSR", indices)
        m, n = (int(s) for s in shape)
        if (len(indptr) != m + 1 or indptr[0] != 0 or indptr[-1] != len(indices)
                or np.any(np.diff(indptr) < 0)):
            raise ValueError(f"SparseCSR: indptr of length {len(indptr)} is not a valid row "
                             f"pointer for shape ({m}, {n}) with {len(indices)} entries")
        if len(indices) and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(f"SparseCSR: column index out of range for shape ({m}, {n})")
        v = _values_tensor("SparseCSR", values, len(indices), dtype)
        perm = np.arange(len(indices), dtype=np.int64)
        self._init(_Structure(indptr, indices, perm, (m, n), True), v)

    def _init(self, struct, base):
        self._struct = struct
        self._base = base      # the values tensor; entry p reads base[perm[p]]
        return self

    @classmethod
    def _make(cls, struct, base):
        return object.__new__(cls)._init(struct, base)

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def from_coo(cls, rows, cols, values=None, shape=None, *, dtype=None):
        """COO triplets (rows, cols: (E,) ints; values: (E,) or None for ones) -> CSR with
        entries sorted by (row, column) and duplicates summed. The values may be a Tensor
        that requires grad: the gradient flows back to it. shape defaults to max index + 1."""
        rows, cols = _index_array("from_coo", rows), _index_array("from_coo", cols)
        if rows.shape != cols.shape:
            raise ValueError(f"from_coo: rows {rows.shape} and cols {cols.shape} differ")
        if shape is None:
            shape = (int(rows.max()) + 1 if rows.size else 0,
                     int(cols.max()) + 1 if cols.size else 0)
        m, n = (int(s) for s in shape)
        if rows.size and (rows.min() < 0 or rows.max() >= m or cols.min() < 0
                          or cols.max() >= n):
            raise ValueError(f"from_coo: an index is out of range for shape ({m}, {n})")
        v = _values_tensor("from_coo", values, rows.size, dtype)
        order = np.lexsort((cols, rows))                     # sort by row, then column
        r, c = rows[order], cols[order]
        first = np.ones(r.size, dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])  # the first of each coordinate
        indptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(r[first], minlength=m), out=indptr[1:])
        indices = np.ascontiguousarray(c[first])
        nnz = indices.size
        if nnz == rows.size:   # no duplicates: read the given values through the sort order
            order = order.astype(np.int64)
            identity = bool(np.all(order == np.arange(nnz)))
            return cls._make(_Structure(indptr, indices, order, (m, n), identity), v)
        slot = np.empty(rows.size, dtype=np.int64)
        slot[order] = np.cumsum(first) - 1                   # the CSR entry of each triplet
        if v.requires_grad:
            summed = index_add(zeros(nnz, dtype=v.dtype), 0, slot, v)
        else:
            data = np.zeros(nnz, dtype=v.dtype)
            np.add.at(data, slot, v.data)
            summed = Tensor._make(data, False, None, 0)
        perm = np.arange(nnz, dtype=np.int64)
        return cls._make(_Structure(indptr, indices, perm, (m, n), True), summed)

    @classmethod
    def from_edges(cls, edges, num_nodes=None, values=None, *, dtype=None):
        """edges: (2, E) ints (source row, target column) -> the (N, N) adjacency."""
        e = np.asarray(edges.data if isinstance(edges, Tensor) else edges)
        if e.ndim != 2 or e.shape[0] != 2:
            raise ValueError(f"from_edges: edges must have shape (2, E), got {e.shape}")
        if num_nodes is None:
            num_nodes = int(e.max()) + 1 if e.size else 0
        return cls.from_coo(e[0], e[1], values, (num_nodes, num_nodes), dtype=dtype)

    @classmethod
    def from_scipy(cls, matrix, *, dtype=None):
        """Any scipy.sparse matrix or array -> SparseCSR (a constant: values need no grad)."""
        csr = matrix.tocsr()
        data = csr.data
        if dtype is None and data.dtype not in _FLOATS:
            dtype = dtypes.get_default_dtype()
        return cls(csr.indptr, csr.indices, np.array(data), csr.shape, dtype=dtype)

    @classmethod
    def from_dense(cls, dense):
        """The nonzero entries of a 2-d array or Tensor (a constant copy)."""
        d = np.asarray(dense.data if isinstance(dense, Tensor) else dense)
        if d.ndim != 2:
            raise ValueError(f"from_dense: expected a 2-d array, got shape {d.shape}")
        rows, cols = np.nonzero(d)
        return cls.from_coo(rows, cols, d[rows, cols], d.shape)

    # -- attributes ----------------------------------------------------------------------------
    @property
    def shape(self):
        return self._struct.shape

    @property
    def dtype(self):
        return self._base.dtype

    @property
    def ndim(self):
        return 2

    @property
    def nnz(self):
        return self._struct.nnz

    @property
    def indptr(self):
        return self._struct.indptr

    @property
    def indices(self):
        return self._struct.indices

    def row_indices(self):
        """The row of each stored entry, (nnz,) int64."""
        return self._struct.rows()

    @property
    def values(self):
        """The stored values in CSR order, (nnz,): the values tensor itself when the matrix
        was built in CSR order, else a differentiable gather from it."""
        if self._struct.identity:
            return self._base
        return self._base[self._struct.perm]

    @property
    def requires_grad(self):
        return self._base.requires_grad

    def requires_grad_(self, requires_grad=True):
        self._base.requires_grad_(requires_grad)
        return self

    def detach(self):
        return SparseCSR._make(self._struct, self._base.detach())

    def with_values(self, values):
        """A matrix on this one's structure (shared, with its cached transpose) holding
        `values`: a (nnz,) float Tensor in the order of this matrix's values tensor (the
        order it was built with), e.g. F.dropout(A.values_tensor) for edge dropout."""
        v = _values_tensor("SparseCSR.with_values", values, self._base.shape[0], None)
        return SparseCSR._make(self._struct, v)

    @property
    def values_tensor(self):
        """The values tensor as given to the constructor (construction order)."""
        return self._base

    def to(self, dtype):
        """A differentiable cast of the values (the structure is shared)."""
        return SparseCSR._make(self._struct, self._base.to(dtypes.to_dtype(dtype)))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def transpose(self, dim0=0, dim1=1):
        """A^T, (n, m): shares A's values tensor (gradients reach the same values)."""
        if {dim0 % 2, dim1 % 2} != {0, 1}:
            return self
        return SparseCSR._make(self._struct.T, self._base)

    t = transpose

    @property
    def T(self):
        return self.transpose()

    # -- conversions ---------------------------------------------------------------------------
    def to_dense(self):
        """The dense (m, n) Tensor, differentiable with respect to the values."""
        s = self._struct
        m, n = s.shape
        flat = np.empty(s.nnz, dtype=np.int64)
        flat[s.perm] = s.rows() * n + s.indices    # where values[perm[p]] lands
        out = index_add(zeros(m * n, dtype=self.dtype), 0, flat, self._base)
        return out.reshape(m, n)

    def to_scipy(self):
        import scipy.sparse
        return scipy.sparse.csr_matrix(
            (self.values.data.copy(), self.indices.copy(), self.indptr.copy()),
            shape=self.shape)

    # -- products ------------------------------------------------------------------------------
    def mm(self, x):
        return mm(self, x)

    matmul = mm

    def __matmul__(self, x):
        return mm(self, x)

    def __rmatmul__(self, x):
        """x @ A = (A^T x^T)^T, x: (k, m) -> (k, n); x (m,) -> (n,)."""
        x = as_tensor(x)
        if x.ndim == 1:
            return mm(self.T, x)
        return mm(self.T, x.transpose(0, 1)).transpose(0, 1)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return (f"SparseCSR(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype}{grad})")


# -- public functions --------------------------------------------------------------------------
def mm(sparse, dense):
    """sparse: SparseCSR (m, n), dense: Tensor (n, k) or (n,) -> Tensor (m, k) or (m,).

    Gradients flow to `dense` and to the sparse matrix's values (when they require grad)."""
    if not isinstance(sparse, SparseCSR):
        raise TypeError(f"sparse.mm: the first operand must be a SparseCSR matrix, got "
                        f"{type(sparse).__name__}")
    if isinstance(dense, SparseCSR):
        raise TypeError("sparse.mm: sparse @ sparse is not supported; convert one operand "
                        "with to_dense()")
    x = as_tensor(dense)
    m, n = sparse.shape
    if x.ndim not in (1, 2) or x.shape[0] != n:
        raise ValueError(f"sparse.mm: shapes {sparse.shape} (sparse) and {tuple(x.shape)} "
                         f"(dense) cannot be multiplied")
    if x.dtype != sparse.dtype:
        raise TypeError(f"sparse.mm: the sparse matrix is {sparse.dtype} but the dense "
                        f"operand of shape {tuple(x.shape)} is {x.dtype}; cast one of them")
    if x.ndim == 1:
        return SpMM.apply(sparse._base, x.reshape(n, 1), sparse._struct).reshape(m)
    return SpMM.apply(sparse._base, x, sparse._struct)


def coo_to_csr(rows, cols, values=None, shape=None, *, dtype=None):
    """COO triplets -> SparseCSR, duplicates summed (see SparseCSR.from_coo)."""
    return SparseCSR.from_coo(rows, cols, values, shape, dtype=dtype)


def from_scipy(matrix, *, dtype=None):
    return SparseCSR.from_scipy(matrix, dtype=dtype)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None):
    """As torch.sparse_coo_tensor: indices (2, E), values (E,) -> a (coalesced) SparseCSR."""
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.ndim != 2 or idx.shape[0] != 2:
        raise ValueError(f"sparse_coo_tensor: indices must have shape (2, E), got {idx.shape}")
    return SparseCSR.from_coo(idx[0], idx[1], values, size, dtype=dtype)


def sparse_csr_tensor(crow_indices, col_indices, values, size, *, dtype=None):
    """As torch.sparse_csr_tensor: row pointers (m+1,), columns (nnz,), values (nnz,)."""
    return SparseCSR(crow_indices, col_indices, values, size, dtype=dtype)
