"""The LSTM scan with its sequences split over OpenBLAS's threads (kernels/blas_threads.py).
On by default; TAPEGRAD_BLAS_THREADS=0 in the environment (read at import) turns it off.

The sequences of a batch are independent: each thread runs scan_lstm's *_rows helpers on a
run of them (their rows of every step), writing only those rows; the bias gradient, which
all rows add to, is summed per run (a row of db_runs each) and added up after.

    lstm_scan_forward(...)     as scan_lstm.lstm_scan_forward   (same arguments)
    lstm_scan_backward(...)    as scan_lstm.lstm_scan_backward
    weight_product(at, b)      at^T @ b by tile_gemm.matmul_tn, runs of 8 rows of the result
                               split (any recurrent layer's weight gradients)

Both run the single-threaded kernel when turned off, when the pool has one thread, the
batch one sequence, or the scan less than MIN_WORK multiply-adds (the hand-over costs 5-20
us to a spinning OpenBLAS worker, ~0.15 ms to a sleeping one).

Measured (H128 B32, T=100, float32): the forward's recurrence 3.72 ms on one thread,
1.88-2.24 ms split in two, also right after GEMMs (numba's own threads: 1.0x there); the
whole forward + backward step 10.7 -> 7.0-7.3 ms (benchmark lstm_h128_b32 1.39-1.84x ->
0.92-1.22x of PyTorch). Runs of 8-33 ms (in steps of the 4 ms scheduler tick) came from
splitting on scipy's OpenBLAS pool instead of numpy's (blas_threads.numpy_openblas): one
process in six picked it; forced, 2.5-2.7x PyTorch's time against 1.16x on numpy's pool.

The jobs read their arrays from an int64 context: per array its address and two extents
(a vector's second is 0), then the flags and the item size (one job serves both dtypes).
"""
import numpy as np

from . import blas_threads as BT
from . import scan_lstm as K
from . import scan_math as SM
from . import tile_gemm as TG
from .scratch import aligned

__all__ = ["lstm_scan_forward", "lstm_scan_backward", "weight_product", "MIN_WORK"]

MIN_WORK = 1 << 23      # rows * 4H * P multiply-adds of the recurrence below which one thread
RUN = 4                 # sequences per unit of the split: a thread's rows start at multiples
                        # of 4, so its per-step products take the same register tiles as
                        # one thread's (scan_math.matmul_into): bit for bit the same sums
FORCE = None            # True / False: split / never (tests); None: BT.ENABLED, MIN_WORK
FORWARD_ARRAYS, BACKWARD_ARRAYS = 12, 16
_jobs = {}
# bound by _job() before the jobs compile (numba is not imported until then)
carray = _ptr = by_item = lstm_forward_rows = lstm_backward_rows = matmul_tn = None


def _split_runs(batch, work):
    return batch > RUN and BT.worth_splitting(FORCE, work, MIN_WORK)


def _units(batch):
    """The runs of RUN sequences a batch is split in (the last one shorter)."""
    return -(-batch // RUN)


def _context(arrays, flags):
    """int64 context: (address, extent 0, extent 1) per array (a vector's second extent 0),
    then the flags, then the item size of the first array (4: float32, 8: float64); None
    when an array is not C-contiguous (the jobs rebuild them as such). It holds addresses
    only: the caller keeps every array referenced until the split returns."""
    if not all(a.flags.c_contiguous for a in arrays):
        return None
    ctx = []
    for a in arrays:
        ctx += [a.ctypes.data, a.shape[0], a.shape[1] if a.ndim > 1 else 0]
    return np.array(ctx + [int(f) for f in flags] + [arrays[0].dtype.itemsize], np.int64)


# -- the jobs: plain functions here, compiled on first use (_job) -------------------------
def _mat(ctx, i, dtype):
    return carray(_ptr(ctx[3 * i]), (ctx[3 * i + 1], ctx[3 * i + 2]), dtype)


def _vec(ctx, i, dtype):
    return carray(_ptr(ctx[3 * i]), (ctx[3 * i + 1],), dtype)


def _forward_run(ctx, lo, hi, dtype):
    """Units lo <= u < hi: sequences RUN*lo <= s < min(RUN*hi, B) (B: h0's rows)."""
    f = 3 * FORWARD_ARRAYS
    start, stop = RUN * lo, min(RUN * hi, ctx[3 * 4 + 1])
    lstm_forward_rows(start, stop, _mat(ctx, 0, dtype), _mat(ctx, 1, dtype),
                      _vec(ctx, 2, dtype), _mat(ctx, 3, dtype), _mat(ctx, 4, dtype),
                      _mat(ctx, 5, dtype), _vec(ctx, 6, np.int64), _vec(ctx, 7, np.int64),
                      ctx[f] != 0, ctx[f + 1] != 0, _mat(ctx, 8, dtype), _mat(ctx, 9, dtype),
                      _mat(ctx, 10, dtype), _mat(ctx, 11, dtype),
                      np.empty((stop - start, ctx[3 * 4 + 2]), dtype),      # h0's columns
                      np.empty((stop - start, ctx[3 * 0 + 2]), dtype))      # the gates'


def _backward_run(ctx, lo, hi, dtype):
    """Units lo <= u < hi: sequences RUN*lo <= s < min(RUN*hi, B) (B: c0's rows); their
    bias gradient in row lo of db_runs."""
    db_runs = _mat(ctx, 13, np.float64)
    start, stop = RUN * lo, min(RUN * hi, ctx[3 * 3 + 1])
    proj = ctx[3 * 2 + 1] > 0                                  # W_hr's rows
    lstm_backward_rows(start, stop, _mat(ctx, 0, dtype),
                       _mat(ctx, 1, dtype), _mat(ctx, 2, dtype), _mat(ctx, 3, dtype),
                       _mat(ctx, 4, dtype), _mat(ctx, 5, dtype),
                       _mat(ctx, 6, dtype), _vec(ctx, 7, np.int64), _vec(ctx, 8, np.int64),
                       ctx[3 * BACKWARD_ARRAYS] != 0, _mat(ctx, 9, dtype), _mat(ctx, 10, dtype),
                       _mat(ctx, 11, dtype), _mat(ctx, 12, dtype), db_runs[lo],
                       _mat(ctx, 14, dtype), _mat(ctx, 15, dtype),
                       np.empty((stop - start, ctx[3 * 10 + 2]) if proj else (0, 0), dtype))


def _weight_run(ctx, lo, hi, dtype):
    """Rows 8*lo <= i < 8*hi of out = at^T @ b."""
    out = _mat(ctx, 2, dtype)
    matmul_tn(_mat(ctx, 0, dtype), _mat(ctx, 1, dtype), 8 * lo, min(8 * hi, out.shape[0]), out)


def _forward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (3 * FORWARD_ARRAYS + 3,), np.int64)
    by_item(_forward_run, ctx, a >> n, m, ctx[3 * FORWARD_ARRAYS + 2])


def _backward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (3 * BACKWARD_ARRAYS + 2,), np.int64)
    by_item(_backward_run, ctx, a >> n, m, ctx[3 * BACKWARD_ARRAYS + 1])


def _weight_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (3 * 3 + 1,), np.int64)
    by_item(_weight_run, ctx, a >> n, m, ctx[3 * 3])


def _job(kind):
    """The compiled job of kind ("forward", "backward" or "weight"); it inlines scan_lstm's,
    scan_math's and tile_gemm's code, so a change in any recompiles it."""
    if kind not in _jobs:
        K.lstm_scan_forward.dispatcher()           # compiles scan_lstm's rows helpers
        _jobs[kind] = BT.build_job(
            globals(), f"_{kind}_job",
            dict(lstm_forward_rows=K.lstm_forward_rows,
                 lstm_backward_rows=K.lstm_backward_rows, matmul_tn=TG.matmul_tn.dispatcher()),
            ("_mat", "_vec", "_forward_run", "_backward_run", "_weight_run"),
            ("scan_threads.py", "scan_lstm.py", "scan_math.py", "scan_memory.py",
             "register_tile.py", "tile_gemm.py"))
    return _jobs[kind]


def _offsets(sizes):
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def lstm_scan_forward(x, w_ih, gates, w_hh, bias, w_hr, h0, c0, sizes, reverse, fast, hs,
                      cs, tanh_c, m, h_n, c_n):
    """scan_lstm.lstm_scan_forward, its sequences split over the pool when that pays."""
    batch = h0.shape[0]
    ctx = None
    if _split_runs(batch, hs.shape[0] * w_hh.shape[0] * w_hh.shape[1]):
        # the transposes, aligned as the serial kernel's; held here while the threads run
        whh_t, whr_t, offsets = aligned(w_hh.T, w_hh.dtype), aligned(w_hr.T, w_hh.dtype), \
            _offsets(sizes)
        ctx = _context((gates, whh_t, bias, whr_t, h0, c0, sizes, offsets, hs, cs, tanh_c, m),
                       (reverse, fast))
    if ctx is None:
        return K.lstm_scan_forward(x, w_ih, gates, w_hh, bias, w_hr, h0, c0, sizes, reverse,
                                   fast, hs, cs, tanh_c, m, h_n, c_n)
    if w_ih.shape[0] > 0:             # xg as the serial kernel computes it (the same sums)
        SM.matmul(x, np.ascontiguousarray(w_ih.T), gates)
    BT.split(_job("forward"), _units(batch), ctx)
    K.lstm_final_states(hs, cs, sizes, reverse, h_n, c_n)


def lstm_scan_backward(g_hs, whh, whr, c0, gates, cs, tanh_c, sizes, reverse, dh, dc, da,
                       dh_all, db, wih, dx):
    """scan_lstm.lstm_scan_backward, its sequences split over the pool when that pays."""
    batch = c0.shape[0]
    ctx = None
    if _split_runs(batch, gates.shape[0] * whh.shape[0] * whh.shape[1]):
        whh = aligned(whh, whh.dtype)       # as the serial kernel's (scan_memory.aligned_copy)
        db_runs = np.zeros((batch, db.shape[0]), np.float64)
        offsets = _offsets(sizes)
        ctx = _context((g_hs, whh, whr, c0, gates, cs, tanh_c, sizes, offsets, dh, dc, da,
                        dh_all, db_runs, wih, dx), (reverse,))
    if ctx is None:
        return K.lstm_scan_backward(g_hs, whh, whr, c0, gates, cs, tanh_c, sizes, reverse,
                                    dh, dc, da, dh_all, db, wih, dx)
    BT.split(_job("backward"), _units(batch), ctx)
    np.sum(db_runs, axis=0, out=db)


def weight_product(at, b):
    """at^T @ b: (M, N) in a new array, for at: (K, M), b: (K, N) C-contiguous of one dtype
    (tile_gemm.matmul_tn), runs of 8 rows of the result split over the pool when that pays."""
    out = np.empty((at.shape[1], b.shape[1]), b.dtype)
    blocks = -(-out.shape[0] // 8)
    if blocks < 2 or not BT.worth_splitting(FORCE, at.size * b.shape[1], MIN_WORK, (at, b)):
        TG.matmul_tn(at, b, 0, out.shape[0], out)
        return out
    ctx = _context((at, b, out), ())
    BT.split(_job("weight"), blocks, ctx)
    return out
