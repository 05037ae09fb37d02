"""Sparse CSR matrices and sparse.mm against PyTorch (torch.sparse.mm) and dense matmul."""
import os

import numpy as np
import pytest
import scipy.sparse
import torch

import autograd as ag
from autograd import sparse
from tests.helpers import check_op

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _coords(seed, m, n, nnz, duplicates=0, empty_rows=()):
    """Random COO coordinates (rows, cols) with some repeated pairs and some empty rows."""
    rng = np.random.default_rng(seed)
    rows = rng.choice([i for i in range(m) if i not in empty_rows], size=nnz)
    cols = rng.integers(0, n, size=nnz)
    if duplicates:
        rows = np.concatenate([rows, rows[:duplicates]])
        cols = np.concatenate([cols, cols[:duplicates]])
    return rows.astype(np.int64), cols.astype(np.int64)


def _torch_coo(rows, cols, values, shape):
    idx = torch.tensor(np.stack([rows, cols]))
    return torch.sparse_coo_tensor(idx, values, shape, check_invariants=True)


def _ops(rows, cols, shape):
    """ours(values, x) and ref(values, x): the product with the COO triplets' values."""
    def ours(values, x):
        return sparse.mm(sparse.SparseCSR.from_coo(rows, cols, values, shape), x)

    def ref(values, x):
        return torch.sparse.mm(_torch_coo(rows, cols, values, shape), x)
    return ours, ref


def _inputs(nnz, n, k):
    def make(rng, dtype):
        return [rng.standard_normal(nnz), rng.standard_normal((n, k) if k else (n,))]
    return make


MM_CASES = [  # (name, m, n, k, nnz, duplicates, empty rows)
    ("square", 6, 6, 3, 14, 0, ()),
    ("rectangular_wide", 4, 9, 2, 12, 0, ()),
    ("rectangular_tall", 9, 3, 5, 10, 0, ()),
    ("duplicates", 5, 4, 3, 9, 4, ()),
    ("empty_rows", 7, 5, 2, 8, 0, (0, 3, 6)),
    ("single_column_x", 5, 5, 1, 9, 2, (2,)),
]


@pytest.mark.parametrize("name,m,n,k,nnz,dup,empty", MM_CASES, ids=[c[0] for c in MM_CASES])
def test_mm_vs_torch(name, m, n, k, nnz, dup, empty):
    rows, cols = _coords(m + n + k, m, n, nnz, dup, empty)
    ours, ref = _ops(rows, cols, (m, n))
    # values and x vary in layout (contiguous, transposed, flipped); gradcheck in float64
    check_op(ours, ref, make_inputs=_inputs(nnz + dup, n, k))


def test_mm_unique_unsorted_coords():
    # no duplicates: the matrix reads the given values tensor through a permutation
    rng = np.random.default_rng(7)
    flat = rng.permutation(30)[:13]
    rows, cols = flat // 6, flat % 6
    assert not sparse.SparseCSR.from_coo(rows, cols, np.ones(13), (5, 6))._struct.identity
    ours, ref = _ops(rows, cols, (5, 6))
    check_op(ours, ref, make_inputs=_inputs(13, 6, 3))


def test_mm_constant_values():
    # only x differentiated: no sampled product is computed
    rows, cols = _coords(3, 6, 5, 11, 2)
    ours, ref = _ops(rows, cols, (6, 5))
    check_op(ours, ref, make_inputs=_inputs(13, 5, 4), grad_inputs=(1,))


def test_mm_vector_x():
    rows, cols = _coords(1, 5, 4, 8, 2)
    ours, ref = _ops(rows, cols, (5, 4))
    check_op(ours, lambda v, x: ref(v, x[:, None])[:, 0], make_inputs=_inputs(10, 4, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mm_vs_dense_matmul(dtype):
    rng = np.random.default_rng(5)
    rows, cols = _coords(5, 6, 4, 12, 3, (1,))
    values = ag.tensor(rng.standard_normal(15).astype(dtype), requires_grad=True)
    x = ag.tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True)
    g = ag.tensor(rng.standard_normal((6, 3)).astype(dtype))
    a = sparse.SparseCSR.from_coo(rows, cols, values, (6, 4))
    y = sparse.mm(a, x)
    y_dense = ag.matmul(a.to_dense(), x)
    assert y.dtype == dtype and a.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.data, y_dense.data, **tol)
    got = ag.grad(y, [values, x], g, retain_graph=True)     # a.to_dense() shares from_coo
    want = ag.grad(y_dense, [values, x], g)
    for a_, b_ in zip(got, want):
        assert a_.dtype == dtype
        np.testing.assert_allclose(a_.data, b_.data, **tol)


def test_matmul_operator_and_method():
    a = sparse.SparseCSR.from_dense(np.array([[0.0, 2.0], [1.0, 0.0], [0.0, 0.0]]))
    x = ag.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    want = np.array([[6.0, 8.0], [1.0, 2.0], [0.0, 0.0]])
    for y in (a @ x, a.mm(x), a.matmul(x), sparse.mm(a, x)):
        np.testing.assert_array_equal(y.data, want)


def test_dense_times_sparse():
    # x @ A through SparseCSR.__rmatmul__: (A^T x^T)^T
    rows, cols = _coords(8, 4, 5, 9, 2)
    check_op(lambda v, x: sparse.SparseCSR.from_coo(rows, cols, v, (4, 5)).__rmatmul__(x),
             lambda v, x: torch.sparse.mm(_torch_coo(rows, cols, v, (4, 5)).t(), x.t()).t(),
             make_inputs=lambda rng, dtype: [rng.standard_normal(11),
                                             rng.standard_normal((3, 4))])


def test_transpose_shares_values():
    # gradients through A and A^T reach the same values tensor
    rng = np.random.default_rng(2)
    rows, cols = _coords(2, 5, 3, 9, 2)
    v = rng.standard_normal(11)
    x, z = rng.standard_normal((3, 2)), rng.standard_normal((5, 4))
    ours_v = ag.tensor(v, requires_grad=True)
    a = sparse.SparseCSR.from_coo(rows, cols, ours_v, (5, 3))
    out = (a @ ag.tensor(x)).sum() + (a.T @ ag.tensor(z)).pow(2).sum()
    out.backward()
    tv = torch.tensor(v, requires_grad=True)
    ta = _torch_coo(rows, cols, tv, (5, 3))
    tout = torch.sparse.mm(ta, torch.tensor(x)).sum() + \
        torch.sparse.mm(ta.t(), torch.tensor(z)).pow(2).sum()
    tout.backward()
    np.testing.assert_allclose(ours_v.grad.data, tv.grad.numpy(), rtol=1e-12)
    assert a.T.T.shape == a.shape and a.t().shape == (3, 5)
    np.testing.assert_allclose(a.T.to_dense().data, a.to_dense().data.T)


def test_double_backward():
    rows, cols = _coords(4, 5, 4, 10, 2, (3,))
    rng = np.random.default_rng(4)
    v = ag.tensor(rng.standard_normal(12), requires_grad=True)
    x = ag.tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def f(v, x):
        # a product of the output with itself, so second derivatives are non-zero
        y = sparse.mm(sparse.SparseCSR.from_coo(rows, cols, v, (5, 4)), x)
        return y * y
    assert ag.autograd.gradgradcheck(f, [v, x])


def test_values_leaf_in_csr_order():
    a = sparse.SparseCSR(np.array([0, 2, 2, 3]), np.array([0, 2, 1]), np.array([1.0, 2.0, 3.0]),
                         (3, 3)).requires_grad_()
    assert a.values.is_leaf and a.requires_grad
    (a @ ag.ones(3, 2, dtype=ag.float64)).sum().backward()
    np.testing.assert_array_equal(a.values.grad.data, [2.0, 2.0, 2.0])


def test_from_coo_sums_duplicates_and_sorts():
    a = sparse.coo_to_csr([2, 0, 2, 0], [1, 3, 1, 0], [1.0, 2.0, 5.0, 4.0], (3, 4))
    np.testing.assert_array_equal(a.indptr, [0, 2, 2, 3])
    np.testing.assert_array_equal(a.indices, [0, 3, 1])
    np.testing.assert_array_equal(a.values.data, np.array([4.0, 2.0, 6.0], np.float32))
    assert a.dtype == np.float32 and a.nnz == 3           # Python floats: the default dtype
    assert sparse.coo_to_csr([0, 1], [1, 0]).shape == (2, 2)   # values default to ones


def test_scipy_round_trip():
    m = scipy.sparse.random(6, 5, density=0.4, format="coo", random_state=0, dtype=np.float32)
    a = sparse.from_scipy(m)
    assert a.dtype == np.float32 and a.shape == (6, 5)
    np.testing.assert_array_equal(a.to_dense().data, m.toarray())
    np.testing.assert_array_equal(a.to_scipy().toarray(), m.toarray())
    b = sparse.from_scipy(scipy.sparse.eye(3, dtype=np.int64).tocsr())
    assert b.dtype == np.float32                          # integer data -> default float


def test_torch_style_constructors_and_cast():
    a = sparse.sparse_coo_tensor([[0, 1, 1], [2, 0, 0]], [1.0, 2.0, 3.0], (2, 3))
    b = sparse.sparse_csr_tensor([0, 1, 2], [2, 0], [1.0, 5.0], (2, 3))
    np.testing.assert_array_equal(a.to_dense().data, b.to_dense().data)
    assert a.double().dtype == np.float64 and a.double().float().dtype == np.float32
    assert not a.detach().requires_grad and "nnz=2" in repr(a)
    e = sparse.SparseCSR.from_edges(np.array([[0, 2, 2], [1, 0, 0]]), 4)
    np.testing.assert_array_equal(e.to_dense().data[:3, :2], [[0, 1], [0, 0], [2, 0]])
    assert e.shape == (4, 4) and e.nnz == 2


def test_empty_matrix():
    a = sparse.SparseCSR.from_coo([], [], None, (3, 4), dtype=ag.float64)
    x = ag.ones(4, 2, dtype=ag.float64, requires_grad=True)
    y = a @ x
    np.testing.assert_array_equal(y.data, np.zeros((3, 2)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((4, 2)))


def test_errors_name_the_op_and_shapes():
    a = sparse.coo_to_csr([0, 1], [1, 0], [1.0, 2.0], (2, 2))
    with pytest.raises(ValueError, match=r"sparse.mm: shapes \(2, 2\).*\(3, 4\)"):
        sparse.mm(a, ag.zeros(3, 4))
    with pytest.raises(TypeError, match="sparse.mm: the sparse matrix is float32.*float64"):
        sparse.mm(a, ag.zeros(2, 4, dtype=ag.float64))
    with pytest.raises(TypeError, match="first operand must be a SparseCSR"):
        sparse.mm(ag.zeros(2, 2), ag.zeros(2, 2))
    with pytest.raises(ValueError, match="SparseCSR: indptr"):
        sparse.SparseCSR([0, 3, 1], [0, 1, 1], [1.0, 1.0, 1.0], (2, 2))
    with pytest.raises(ValueError, match="SparseCSR: column index out of range"):
        sparse.SparseCSR([0, 1, 2], [0, 2], [1.0, 1.0], (2, 2))
    with pytest.raises(ValueError, match=r"from_coo: an index is out of range"):
        sparse.coo_to_csr([0, 5], [0, 1], None, (2, 2))
    with pytest.raises(ValueError, match=r"from_coo: values of shape \(3,\) for 2"):
        sparse.coo_to_csr([0, 1], [0, 1], [1.0, 2.0, 3.0], (2, 2))


def _gcn_norm_dense(edges, n):
    """Kipf & Welling's A_hat = D^-1/2 (A + I) D^-1/2 on dense arrays."""
    a = np.zeros((n, n))
    a[edges[0], edges[1]] = 1.0
    a = np.maximum(a, a.T) + np.eye(n)
    d = a.sum(1) ** -0.5
    return d[:, None] * a * d[None, :]


def test_gcn_norm():
    edges = np.array([[0, 0, 1, 3, 0], [1, 2, 2, 4, 1]])     # (0, 1) listed twice; 5 isolated
    a = sparse.gcn_norm(edges, 6)
    assert a.dtype == np.float32 and a.shape == (6, 6)
    np.testing.assert_allclose(a.to_dense().data, _gcn_norm_dense(edges, 6), rtol=1e-6)
    a64 = sparse.gcn_norm(edges, 6, dtype=ag.float64, add_self_loops=False)
    d = np.zeros((6, 6))
    d[edges[0], edges[1]] = d[edges[1], edges[0]] = 1.0
    deg = d.sum(1)
    inv = np.zeros(6)
    inv[deg > 0] = deg[deg > 0] ** -0.5                       # isolated node: 0, not inf
    np.testing.assert_allclose(a64.to_dense().data, inv[:, None] * d * inv[None, :])
    # directed: A + I = [[1, 1], [0, 1]], row degrees (2, 1)
    directed = sparse.gcn_norm(np.array([[0], [1]]), 2, undirected=False)
    np.testing.assert_allclose(directed.to_dense().data, [[0.5, 0.5 ** 0.5], [0.0, 1.0]],
                               rtol=1e-6)


def _data_dir():
    path = os.environ.get("TAPEGRAD_DATA") or os.path.join(ROOT, "..", "shared", "data")
    return path if os.path.exists(os.path.join(path, "cora.npz")) else None


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.skipif(_data_dir() is None, reason="cora.npz not found: set TAPEGRAD_DATA to the "
                    "data directory (default ../shared/data from the repository root)")
def test_cora_adjacency():
    data = np.load(os.path.join(_data_dir(), "cora.npz"), allow_pickle=False)
    edges, n = data["edges"], data["y"].shape[0]
    a = sparse.gcn_norm(edges, n)
    assert a.shape == (2708, 2708) and a.nnz == 2 * edges.shape[1] + n == 13264
    dense = a.to_dense().data.astype(np.float64)
    np.testing.assert_allclose(dense, dense.T, rtol=1e-6)        # symmetric
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 16)).astype(np.float32)
    g = rng.standard_normal((n, 16)).astype(np.float32)
    v = ag.tensor(a.values.data.copy(), requires_grad=True)
    ours = sparse.SparseCSR(a.indptr, a.indices, v, a.shape)
    xt = ag.tensor(x, requires_grad=True)
    y = ours @ xt
    dv, dx = ag.grad(y, [v, xt], ag.tensor(g))
    tv = torch.tensor(a.values.data.copy(), requires_grad=True)
    ta = torch.sparse_csr_tensor(torch.tensor(a.indptr), torch.tensor(a.indices), tv, a.shape,
                                 check_invariants=True)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.sparse.mm(ta, tx)
    tdv, tdx = torch.autograd.grad(ty, [tv, tx], torch.tensor(g))
    assert y.dtype == dv.dtype == dx.dtype == np.float32
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx.data, tdx.numpy(), rtol=1e-5, atol=1e-6)
    # dvalues are 16-term dot products: ours accumulate in float64, PyTorch's in float32
    np.testing.assert_allclose(dv.data, tdv.numpy(), rtol=1e-5, atol=1e-5)


def test_with_values_shares_structure_and_routes_gradients():
    a = ag.sparse.SparseCSR.from_coo([0, 1, 1], [1, 0, 2], [1.0, 2.0, 3.0], (2, 3))
    v = ag.tensor([4.0, 5.0, 6.0], requires_grad=True)
    b = a.with_values(v)
    assert b._struct is a._struct and b.values_tensor is v
    x = ag.randn(3, 2)
    (b @ x).sum().backward()
    np.testing.assert_allclose(v.grad.data, x.data.sum(1)[[1, 0, 2]], rtol=1e-6)
    with pytest.raises(ValueError, match="with_values.*\\(2,\\).*3 stored"):
        a.with_values(ag.tensor([1.0, 2.0]))
