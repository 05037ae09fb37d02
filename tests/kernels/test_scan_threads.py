"""The LSTM scan split over OpenBLAS's threads (kernels/scan_threads.py, blas_threads.py):
the same results as the single-threaded kernels, for every layout the layer supports.

The split hands each thread runs of 4 sequences (scan_threads.RUN), so that its rows of the
per-step products take the same register tiles as one thread's: the outputs, states and
gradients are bit for bit the serial ones (the bias gradient, summed per run in float64:
to rounding)."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd.kernels import blas_threads as BT
from autograd.kernels import scan_threads as ST


def _lstm_run(force, dtype, batch=5, proj=0, bidirectional=False, packed=False):
    """Outputs, final states and every gradient of one nn.LSTM forward + backward."""
    old, ST.FORCE = ST.FORCE, force
    try:
        ag.manual_seed(0)
        layer = nn.LSTM(6, 8, proj_size=proj, bidirectional=bidirectional)
        if dtype == np.float64:
            layer = layer.double()
        rng = np.random.default_rng(0)
        steps = 7
        x = ag.tensor(rng.standard_normal((steps, batch, 6)).astype(dtype), requires_grad=True)
        if packed:
            lengths = sorted(rng.integers(1, steps + 1, batch).tolist(), reverse=True)
            lengths[0] = steps
            out, (h_n, c_n) = layer(nn.utils.rnn.pack_padded_sequence(x, lengths))
            out = out.data
        else:
            out, (h_n, c_n) = layer(x)
        loss = (out * ag.tensor(rng.standard_normal(out.shape).astype(dtype))).sum() + \
            (h_n * 0.5).sum() + (c_n * 0.25).sum()
        loss.backward()
        return [out.data, h_n.data, c_n.data, x.grad.data] + \
            [p.grad.data for p in layer.parameters()]
    finally:
        ST.FORCE = old


@pytest.mark.usefixtures("two_blas_threads")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [dict(), dict(proj=4), dict(bidirectional=True),
                                  dict(packed=True), dict(packed=True, bidirectional=True),
                                  dict(batch=2), dict(batch=9)])
def test_split_scan_matches_one_thread(case, dtype):
    serial, split = _lstm_run(False, dtype, **case), _lstm_run(True, dtype, **case)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(serial, split):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


@pytest.mark.usefixtures("two_blas_threads")
@pytest.mark.parametrize("batch", [8, 10, 12, 20, 9])
def test_split_is_exact(batch):
    serial, split = _lstm_run(False, np.float32, batch=batch), \
        _lstm_run(True, np.float32, batch=batch)
    for a, b in zip(serial[:6], split[:6]):     # outputs, states, dx, dW_ih, dW_hh
        np.testing.assert_array_equal(b, a)


def _marking_job():
    numba = pytest.importorskip("numba")
    ptr = BT.address_pointer()

    @numba.cfunc(BT.job_type())
    def mark(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
        ctx = numba.carray(c, (2,), np.int64)
        hits = numba.carray(ptr(ctx[0]), (ctx[1],), np.int64)
        start = a >> n
        for i in range(start, start + m):
            hits[i] += 1 + start            # which chunk wrote it, and how often
    return mark


@pytest.mark.usefixtures("two_blas_threads")
@pytest.mark.parametrize("count", [1, 2, 3, 1000])
def test_split_visits_every_index_once(count):
    hits = np.zeros(count, np.int64)
    BT.split(_marking_job(), count, np.array([hits.ctypes.data, count], np.int64))
    chunk_starts = hits - 1
    assert np.all(chunk_starts >= 0) and np.all(chunk_starts <= np.arange(count))
    parts = np.unique(chunk_starts)                  # each chunk a run of consecutive indices
    assert len(parts) == min(BT.threads(), count)
    assert list(parts) == [i for i in range(count) if i == 0 or chunk_starts[i] == i]


def test_split_runs_the_job_once_without_the_pool(monkeypatch):
    monkeypatch.setitem(BT._state, "pool", None)
    hits = np.zeros(10, np.int64)
    BT.split(_marking_job(), 10, np.array([hits.ctypes.data, 10], np.int64))
    np.testing.assert_array_equal(hits, np.ones(10, np.int64))


@pytest.mark.usefixtures("two_blas_threads")
def test_split_only_when_enabled_and_large(monkeypatch):
    monkeypatch.setattr(ST, "FORCE", None)
    monkeypatch.setattr(BT, "ENABLED", False)
    assert not ST._split_runs(32, 1 << 30)                # TAPEGRAD_BLAS_THREADS=0
    monkeypatch.setattr(BT, "ENABLED", True)
    assert ST._split_runs(32, ST.MIN_WORK)
    assert not ST._split_runs(32, ST.MIN_WORK - 1)
    assert not ST._split_runs(1, 1 << 30)


def test_context_refuses_strided_arrays():
    a = np.zeros((4, 6), np.float32)
    assert ST._context((a, a[:, ::2]), ()) is None           # the jobs assume C order
    ctx = ST._context((a, a[1:]), (True,))
    assert list(ctx[:3]) == [a.ctypes.data, 4, 6] and list(ctx[-2:]) == [1, 4]


SITE = "/venv/lib/python3.11/site-packages"
NUMPY_LIB = f"{SITE}/numpy.libs/libscipy_openblas64_-32a4b2a6.so"
SCIPY_LIB = f"{SITE}/scipy.libs/libscipy_openblas-6cdc3b4a.so"


@pytest.mark.parametrize("paths", [[NUMPY_LIB, SCIPY_LIB], [SCIPY_LIB, NUMPY_LIB]])
def test_the_pool_is_numpys_openblas_not_scipys(paths):
    # a site-packages prefix matches both: the choice once followed a set's order
    assert BT.numpy_openblas(paths, f"{SITE}/numpy", True) == NUMPY_LIB


def test_a_shared_system_openblas_only_when_numpy_uses_openblas():
    system = ["/usr/lib/x86_64-linux-gnu/libopenblas.so.0"]
    assert BT.numpy_openblas(system, f"{SITE}/numpy", True) == system[0]
    assert BT.numpy_openblas(system, f"{SITE}/numpy", False) is None        # numpy on MKL
    assert BT.numpy_openblas([SCIPY_LIB], f"{SITE}/numpy", False) is None
    assert BT.numpy_openblas(system + [SCIPY_LIB], f"{SITE}/numpy", True) is None


def test_this_process_splits_on_numpys_openblas():
    import os
    import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS beside numpy's)
    numpy_dir = os.path.dirname(os.path.abspath(np.__file__))
    with open("/proc/self/maps") as f:
        own = {line.split()[-1] for line in f if "openblas" in line.lower() and
               line.split()[-1].startswith((numpy_dir + os.sep, numpy_dir + ".libs" + os.sep))}
    if not own:
        pytest.skip("numpy here has no OpenBLAS of its own")
    assert BT.available() is not None and BT._state["path"] in own
