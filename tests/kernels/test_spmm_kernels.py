"""SpMM kernels (autograd/kernels/spmm.py) against plain-numpy and scipy references."""
import numpy as np
import pytest
import scipy.sparse

from autograd.kernels import spmm as K


def _random_csr(rng, m, n, density, empty_rows=()):
    """A random CSR structure (m, n) with a random permutation into the values array."""
    a = scipy.sparse.random(m, n, density=density, format="csr", random_state=rng)
    a = a.tolil()
    for i in empty_rows:
        a[i, :] = 0
    a = a.tocsr()
    a.eliminate_zeros()
    indptr = a.indptr.astype(np.int64)
    indices = a.indices.astype(np.int64)
    perm = rng.permutation(indices.size).astype(np.int64)
    return indptr, indices, perm


def _rows(indptr):
    return np.repeat(np.arange(indptr.size - 1), np.diff(indptr))


def spmm_reference(indptr, indices, perm, values, x):
    """out[i] = sum_p values[perm[p]] x[indices[p]], with numpy's unbuffered add."""
    out = np.zeros((indptr.size - 1, x.shape[1]), dtype=x.dtype)
    np.add.at(out, _rows(indptr), values[perm][:, None] * x[indices])
    return out


def sddmm_reference(indptr, indices, perm, g, x):
    """out[perm[p]] = g[row(p)] . x[indices[p]]."""
    out = np.zeros(indices.size, dtype=g.dtype)
    out[perm] = np.einsum("pk,pk->p", g[_rows(indptr)], x[indices])
    return out


def _dense(indptr, indices, perm, values, shape):
    d = np.zeros(shape)
    np.add.at(d, (_rows(indptr), indices), values[perm])
    return d


CASES = [  # (m, n, k, density, empty rows)
    (7, 5, 3, 0.4, (2, 5)),
    (1, 9, 4, 0.5, ()),
    (12, 3, 1, 0.3, (0, 11)),
    (6, 6, 0, 0.5, ()),          # k = 0
    (5, 4, 2, 0.0, ()),          # no stored entries
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,n,k,density,empty", CASES, ids=str)
def test_spmm_csr(dtype, m, n, k, density, empty):
    rng = np.random.default_rng(m * 31 + k)
    indptr, indices, perm = _random_csr(rng, m, n, density, empty)
    values = rng.standard_normal(indices.size).astype(dtype)
    x = rng.standard_normal((n, k)).astype(dtype)
    want = spmm_reference(indptr, indices, perm, values, x)
    out = np.full((m, k), np.nan, dtype=dtype)       # the kernel overwrites every element
    got = K.spmm_csr(indptr, indices, perm, values, x, out)
    assert got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(got, _dense(indptr, indices, perm, values, (m, n)) @ x,
                               rtol=tol, atol=tol)
    ref = K.spmm_csr.py_func(indptr, indices, perm, values, x, np.empty((m, k), dtype))
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,n,k,density,empty", CASES, ids=str)
def test_sddmm_csr(dtype, m, n, k, density, empty):
    rng = np.random.default_rng(m * 17 + k)
    indptr, indices, perm = _random_csr(rng, m, n, density, empty)
    g = rng.standard_normal((m, k)).astype(dtype)
    x = rng.standard_normal((n, k)).astype(dtype)
    out = np.full(indices.size, np.nan, dtype=dtype)
    got = K.sddmm_csr(indptr, indices, perm, g, x, out)
    assert got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, sddmm_reference(indptr, indices, perm, g, x),
                               rtol=tol, atol=tol)
    # the sampled product is (G X^T) read at the stored coordinates
    full = g.astype(np.float64) @ x.astype(np.float64).T
    want = np.empty(indices.size)
    want[perm] = full[_rows(indptr), indices]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("m,n,density,empty", [(7, 5, 0.4, (3,)), (4, 9, 0.6, ()),
                                               (3, 3, 0.0, ())], ids=str)
def test_csr_transpose(m, n, density, empty):
    rng = np.random.default_rng(m + n)
    indptr, indices, perm = _random_csr(rng, m, n, density, empty)
    values = rng.standard_normal(indices.size)
    it, jt, pt = K.csr_transpose(indptr, indices, perm, n)
    assert it.dtype == jt.dtype == pt.dtype == np.int64
    # same row pointers as scipy's transpose; columns sorted within each row (stable sort)
    st = scipy.sparse.csr_matrix((values[perm], indices, indptr), shape=(m, n)).T.tocsr()
    st.sort_indices()
    np.testing.assert_array_equal(it, st.indptr)
    np.testing.assert_array_equal(jt, st.indices)
    np.testing.assert_allclose(values[pt], st.data)
    np.testing.assert_allclose(_dense(it, jt, pt, values, (n, m)),
                               _dense(indptr, indices, perm, values, (m, n)).T)
    # transposing twice gives back the original structure
    i2, j2, p2 = K.csr_transpose(it, jt, pt, m)
    np.testing.assert_array_equal(i2, indptr)
    np.testing.assert_array_equal(j2, indices)
    np.testing.assert_array_equal(p2, perm)


def test_transpose_reference_is_the_python_function():
    rng = np.random.default_rng(3)
    indptr, indices, perm = _random_csr(rng, 6, 4, 0.5, ())
    for a, b in zip(K.csr_transpose(indptr, indices, perm, 4),
                    K.csr_transpose.py_func(indptr, indices, perm, 4)):
        np.testing.assert_array_equal(a, b)
