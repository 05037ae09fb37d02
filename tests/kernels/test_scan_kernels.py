"""The scan kernels (autograd/kernels/scan*.py) against plain-numpy references of the same
recurrences (padded and packed batches, both directions, float32 and float64), and the fast
float32 activations against the exact functions over the whole float32 range."""
import math

import numpy as np
import pytest

from autograd.kernels import scan as KR
from autograd.kernels import scan_gru as KG
from autograd.kernels import scan_lstm as KL
from autograd.kernels.scan_math import activation, matmul

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
SIZES = {"padded": [3, 3, 3, 3], "packed": [4, 3, 3, 1, 1]}


def _order(sizes, reverse):
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    steps = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
    return [(t, offsets[t], sizes[t]) for t in steps]


def _sig(a):
    return 1 / (1 + np.exp(-a))


# -- numpy references: the recurrences step by step ---------------------------------------------
def rnn_reference(xg, w_hh, h0, sizes, reverse, relu, g_hs, g_hn):
    act = (lambda a: np.maximum(a, 0)) if relu else np.tanh
    h, hs = h0.copy(), np.zeros_like(xg)
    for _, o, n in _order(sizes, reverse):
        hs[o:o + n] = h[:n] = act(xg[o:o + n] + h[:n] @ w_hh.T)
    dh, da = g_hn.copy(), np.zeros_like(xg)
    for _, o, n in reversed(_order(sizes, reverse)):
        y = hs[o:o + n]
        da[o:o + n] = (dh[:n] + g_hs[o:o + n]) * ((y > 0) if relu else 1 - y * y)
        dh[:n] = da[o:o + n] @ w_hh
    return hs, h, dh, da


def lstm_reference(xg, w_hh, w_hr, h0, c0, sizes, reverse, g_hs, g_hn, g_cn):
    hidden = c0.shape[1]
    h, c = h0.copy(), c0.copy()
    hs = np.zeros((xg.shape[0], h0.shape[1]))
    saved = {}
    for t, o, n in _order(sizes, reverse):
        a = xg[o:o + n] + h[:n] @ w_hh.T
        i, f, g, og = _sig(a[:, :hidden]), _sig(a[:, hidden:2 * hidden]), \
            np.tanh(a[:, 2 * hidden:3 * hidden]), _sig(a[:, 3 * hidden:])
        c_prev = c[:n].copy()
        c[:n] = f * c_prev + i * g
        m = og * np.tanh(c[:n])
        hs[o:o + n] = h[:n] = m if w_hr is None else m @ w_hr.T
        saved[t] = (i, f, g, og, c_prev, c[:n].copy(), m)
    dh, dc, da = g_hn.copy(), g_cn.copy(), np.zeros_like(xg)
    for t, o, n in reversed(_order(sizes, reverse)):
        i, f, g, og, c_prev, c_t, m = saved[t]
        dh_t = dh[:n] + g_hs[o:o + n]
        dm = dh_t if w_hr is None else dh_t @ w_hr
        tc = np.tanh(c_t)
        dc_t = dc[:n] + dm * og * (1 - tc * tc)
        da[o:o + n] = np.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                                      dc_t * i * (1 - g * g), dm * tc * og * (1 - og)], 1)
        dc[:n] = dc_t * f
        dh[:n] = da[o:o + n] @ w_hh
    return hs, h, c, dh, dc, da


def gru_reference(xg, w_hh, b_hh, h0, sizes, reverse, g_hs, g_hn):
    hidden = h0.shape[1]
    h, hs = h0.copy(), np.zeros((xg.shape[0], hidden))
    saved = {}
    for t, o, n in _order(sizes, reverse):
        gi, gh = xg[o:o + n], h[:n] @ w_hh.T + b_hh
        r = _sig(gi[:, :hidden] + gh[:, :hidden])
        z = _sig(gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        hn = gh[:, 2 * hidden:]
        nn_ = np.tanh(gi[:, 2 * hidden:] + r * hn)
        saved[t] = (r, z, nn_, hn, h[:n].copy())
        hs[o:o + n] = h[:n] = (1 - z) * nn_ + z * h[:n]
    dh = g_hn.copy()
    dgi, dgh = np.zeros_like(xg), np.zeros_like(xg)
    for t, o, n in reversed(_order(sizes, reverse)):
        r, z, nn_, hn, hp = saved[t]
        d = dh[:n] + g_hs[o:o + n]
        dn = d * (1 - z) * (1 - nn_ ** 2)
        dz = d * (hp - nn_) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        dgi[o:o + n] = np.concatenate([dr, dz, dn], 1)
        dgh[o:o + n] = np.concatenate([dr, dz, dn * r], 1)
        dh[:n] = d * z + dgh[o:o + n] @ w_hh
    return hs, h, dh, dgi, dgh


def _data(dtype, sizes, gates, hidden, proj=None, seed=0):
    rng = np.random.default_rng(seed)
    rows, batch = sum(sizes), sizes[0]

    def u(*shape, scale=1.0):
        return (rng.uniform(-1, 1, shape) * scale).astype(dtype)
    return dict(xg=u(rows, gates * hidden, scale=1.5),
                w_hh=u(gates * hidden, proj or hidden, scale=0.6),
                h0=u(batch, proj or hidden), c0=u(batch, hidden),
                g_hs=u(rows, proj or hidden), g_hn=u(batch, proj or hidden),
                g_cn=u(batch, hidden), b=u(gates * hidden))


def _close(name, ours, ref, dtype):
    np.testing.assert_allclose(ours, ref, err_msg=name, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("layout", list(SIZES))
@pytest.mark.parametrize("relu", [False, True])
def test_rnn_scan_kernels(relu, layout, reverse, dtype):
    sizes = np.array(SIZES[layout], np.int64)
    d = _data(dtype, sizes, 1, 5)
    ref = rnn_reference(*(d[k].astype(np.float64) for k in ("xg", "w_hh", "h0")), sizes,
                        reverse, relu, d["g_hs"].astype(np.float64), d["g_hn"].astype(np.float64))
    hs, h_n = np.empty_like(d["xg"]), np.empty_like(d["h0"])
    KR.rnn_scan_forward(d["xg"], d["w_hh"], d["h0"], sizes, reverse, relu, dtype == np.float32,
                        hs, h_n)
    dh, da = d["g_hn"].copy(), np.empty_like(d["xg"])
    KR.rnn_scan_backward(d["g_hs"], d["w_hh"], hs, sizes, reverse, relu, dh, da)
    for name, ours, want in zip(("hs", "h_n", "dh0", "da"), (hs, h_n, dh, da), ref):
        assert ours.dtype == dtype
        _close(name, ours, want, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("layout", list(SIZES) + ["packed_wide"])
@pytest.mark.parametrize("proj", [None, 3])
@pytest.mark.parametrize("input_gemm", [False, True])
def test_lstm_scan_kernels(input_gemm, proj, layout, reverse, dtype):
    """The kernels, with the input projection given (xg) or computed by the kernel from x and
    W_ih^T; the backward with the input gradient da W_ih computed by the kernel (with x) or
    not wanted."""
    sizes = np.array(SIZES.get(layout, [9, 9, 7, 5, 5, 2, 1]), np.int64)
    hidden = 5
    d = _data(dtype, sizes, 4, hidden, proj)
    empty = np.empty((0, 0), dtype)
    x, wih_t = empty, empty
    if input_gemm:
        rng = np.random.default_rng(2)
        x = rng.uniform(-1, 1, (int(sizes.sum()), 6)).astype(dtype)
        wih_t = rng.uniform(-0.5, 0.5, (6, 4 * hidden)).astype(dtype)
        d["xg"] = x @ wih_t
    w_hr = (np.random.default_rng(1).uniform(-0.7, 0.7, (proj, hidden)).astype(dtype)
            if proj else None)
    f64 = {k: v.astype(np.float64) for k, v in d.items()}
    ref = lstm_reference(f64["xg"] + f64["b"], f64["w_hh"], None if w_hr is None else
                         w_hr.astype(np.float64), f64["h0"], f64["c0"], sizes, reverse,
                         f64["g_hs"], f64["g_hn"], f64["g_cn"])
    rows = int(sizes.sum())
    hs = np.empty((rows, proj or hidden), dtype)
    gates = np.full_like(d["xg"], np.nan) if input_gemm else d["xg"].copy()
    cs, tanh_c = np.empty((rows, hidden), dtype), np.empty((rows, hidden), dtype)
    h_n, c_n = np.empty_like(d["h0"]), np.empty_like(d["c0"])
    m = np.empty((rows, hidden), dtype) if proj else empty
    wih = np.ascontiguousarray(wih_t.T) if input_gemm else empty
    args = (x, wih, gates, d["w_hh"], d["b"], w_hr if proj else empty, d["h0"],
            d["c0"], sizes, reverse, dtype == np.float32, hs, cs, tanh_c, m, h_n, c_n)
    KL.lstm_scan_forward(*args)
    dh, dc, da = d["g_hn"].copy(), d["g_cn"].copy(), np.empty_like(gates)
    dh_all = np.empty_like(hs) if proj else empty
    db = np.full(4 * hidden, np.nan)
    dx = np.full((rows, wih.shape[1]), np.nan, dtype) if input_gemm else empty
    args = (d["g_hs"], d["w_hh"], w_hr if proj else empty, d["c0"], gates, cs, tanh_c, sizes,
            reverse, dh, dc, da, dh_all, db, wih, dx)
    KL.lstm_scan_backward(*args)
    for name, ours, want in zip(("hs", "h_n", "c_n", "dh0", "dc0", "da"),
                                (hs, h_n, c_n, dh, dc, da), ref):
        _close(name, ours, want, dtype)
    _close("db", db, ref[-1].sum(0), dtype)
    if input_gemm:
        _close("dx", dx, ref[-1] @ wih.astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("layout", list(SIZES))
def test_gru_scan_kernels(layout, reverse, dtype):
    sizes = np.array(SIZES[layout], np.int64)
    hidden = 4
    d = _data(dtype, sizes, 3, hidden)
    f64 = {k: v.astype(np.float64) for k, v in d.items()}
    ref = gru_reference(f64["xg"], f64["w_hh"], f64["b"], f64["h0"], sizes, reverse,
                        f64["g_hs"], f64["g_hn"])
    rows = int(sizes.sum())
    gates = d["xg"].copy()
    gates[:, :2 * hidden] += d["b"][:2 * hidden]       # the kernel's convention: b_hr, b_hz in xg
    hs, hn = np.empty((rows, hidden), dtype), np.empty((rows, hidden), dtype)
    h_n = np.empty_like(d["h0"])
    KG.gru_scan_forward(gates, d["w_hh"], d["b"][2 * hidden:].copy(), d["h0"], sizes, reverse,
                        dtype == np.float32, hs, hn, h_n)
    dh, dgi, dgh = d["g_hn"].copy(), np.empty_like(gates), np.empty_like(gates)
    KG.gru_scan_backward(d["g_hs"], d["w_hh"], d["h0"], gates, hn, hs, sizes, reverse, dh, dgi,
                         dgh)
    for name, ours, want in zip(("hs", "h_n", "dh0", "dgi", "dgh"), (hs, h_n, dh, dgi, dgh),
                                ref):
        _close(name, ours, want, dtype)


def _at_offset(a, offset):
    """A copy of a starting `offset` bytes past a 64-byte boundary."""
    buf = np.empty(a.nbytes + 128, np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_kernels_align_w_hh(dtype):
    """The backward kernels copy a W_hh that does not start on a 64-byte boundary to one
    that does (scan_memory.aligned_copy): the same results, bit for bit, at every offset
    (LSTM, Elman, GRU); scratch.aligned, its Python twin, copies only when needed."""
    from autograd.kernels.scratch import aligned
    sizes = np.array([4, 4, 3, 1], np.int64)
    hidden, rows = 16, 12
    d = _data(dtype, sizes, 4, hidden)
    gates = np.random.default_rng(5).uniform(0.05, 0.95, d["xg"].shape).astype(dtype)
    cs = np.random.default_rng(6).standard_normal((rows, hidden)).astype(dtype)
    gru = gates[:, :3 * hidden].copy()
    empty = np.empty((0, 0), dtype)
    results = []
    for offset in (0, 8, 16, 32, 48):
        dh, dc, da = d["g_hn"].copy(), d["g_cn"].copy(), np.empty_like(gates)
        db = np.empty(4 * hidden)
        KL.lstm_scan_backward(d["g_hs"], _at_offset(d["w_hh"], offset), empty, d["c0"], gates,
                              cs, np.tanh(cs), sizes, False, dh, dc, da, empty, db, empty,
                              empty)
        dh_rnn, da_rnn = d["g_hn"].copy(), np.empty_like(d["g_hs"])
        KR.rnn_scan_backward(d["g_hs"], _at_offset(d["w_hh"][:hidden], offset), cs, sizes,
                             False, False, dh_rnn, da_rnn)
        dh_gru, dgi, dgh = d["g_hn"].copy(), np.empty_like(gru), np.empty_like(gru)
        KG.gru_scan_backward(d["g_hs"], _at_offset(d["w_hh"][:3 * hidden], offset), d["h0"],
                             gru, cs, np.tanh(cs), sizes, False, dh_gru, dgi, dgh)
        results.append((dh, dc, da, db, dh_rnn, da_rnn, dh_gru, dgi, dgh))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    w = _at_offset(d["w_hh"], 16)
    copy = aligned(w, dtype)
    assert copy.ctypes.data % 64 == 0 and aligned(copy, dtype) is copy
    np.testing.assert_array_equal(copy, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_aligned_transpose(dtype):
    """The forward kernels' W^T (scan_memory.aligned_transpose): a new C-contiguous array on
    a 64-byte boundary equal to a.T, for row counts around its blocks of 8, any strides,
    empty arrays."""
    from autograd.kernels.scan_math import _compiled_helpers
    transpose = _compiled_helpers()["aligned_transpose"]
    rng = np.random.default_rng(7)
    for shape in [(128, 32), (13, 5), (8, 3), (7, 4), (1, 9), (0, 0), (5, 0)]:
        a = rng.standard_normal(shape).astype(dtype)
        for arr in (a, np.asfortranarray(a), a[::2]):
            out = transpose(arr)
            assert out.flags.c_contiguous and out.ctypes.data % 64 == 0
            np.testing.assert_array_equal(out, arr.T)


def test_step_loops_need_contiguous_arrays():
    """The step loops read their arrays through unowned views (scan_memory.unowned: the
    address and the shape, no reference counts): an array that is not C-contiguous raises
    rather than being read as if it were."""
    sizes = np.array([2, 2], np.int64)
    d = _data(np.float64, sizes, 1, 3)
    hs, h_n = np.empty_like(d["xg"]), np.empty_like(d["h0"])
    strided = np.repeat(d["xg"], 2, axis=1)[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        KR.rnn_scan_forward(strided, d["w_hh"], d["h0"], sizes, False, False, False, hs, h_n)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("layout", list(SIZES))
def test_previous_rows(layout, reverse):
    """Each row's previous state: the same sequence's row one step earlier in the visiting
    order, or its row of h0."""
    sizes = np.array(SIZES[layout], np.int64)
    rng = np.random.default_rng(4)
    hs, h0 = rng.standard_normal((int(sizes.sum()), 3)), rng.standard_normal((sizes[0], 3))
    out = np.empty_like(hs)
    KR.previous_rows(hs, h0, sizes, reverse, out)
    want, h = np.empty_like(hs), h0.copy()
    for _, o, n in _order(sizes, reverse):
        want[o:o + n] = h[:n]
        h[:n] = hs[o:o + n]
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [
    (1, 4, 6), (3, 5, 2), (9, 131, 17), (4, 1, 2), (32, 64, 96), (2, 0, 3), (3, 4, 0),
    (300, 300, 300), (1, 128, 32), (2, 33, 17), (1, 16, 1), (3, 47, 9), (1, 0, 3), (2, 4, 0),
    (16, 128, 512), (15, 7, 48), (13, 3, 40), (7, 9, 33), (1, 32, 128), (5, 2, 16)], ids=str)
def test_matmul_register_tiles(shape, dtype):
    """Every tile (8, 4, 2, 1 rows; two vectors, one vector, single columns) and a product
    large enough for BLAS, against numpy in float64 (the float32 sums: within rounding)."""
    m, k, n = shape
    rng = np.random.default_rng(k)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    out = np.full((m, n), np.nan, dtype)
    matmul(a, b, out)
    want = a.astype(np.float64) @ b.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-5 * max(1, np.sqrt(k))
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)


def test_matmul_strided_and_row_independent():
    """Views with a column stride take the plain loop; with eight rows or more, each row's
    result is the same whichever tile computes it (one sum in k order per element)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((20, 9)).astype(np.float32), rng.standard_normal((40, 40))
    out = np.empty((9, 40), np.float32)
    matmul(a.T, b[::2].astype(np.float32), out)        # a.T: column stride 9 elements
    np.testing.assert_allclose(out, a.T.astype(np.float64) @ b[::2], rtol=1e-5, atol=1e-5)
    a = rng.standard_normal((12, 64)).astype(np.float32)
    b = rng.standard_normal((64, 96)).astype(np.float32)
    whole, part = np.empty((12, 96), np.float32), np.empty((4, 96), np.float32)
    matmul(a, b, whole)                                 # rows 8-11 by the 4-row tile
    matmul(a[:4], b, part)
    np.testing.assert_array_equal(whole[:4], part)      # rows 0-3 by the 8-row tile


# -- the activations ---------------------------------------------------------------------------
def _ordered(a):
    """float32 values as integers in the order of the floats (+0 and -0 both 0): the
    difference of two is their distance in ulps."""
    i = a.view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def _sweep():
    """Every 1024th float32 bit pattern (all exponents, both signs, denormals, inf, NaN), and
    every float32 around 0, the tanh / sigmoid saturation points and the |x| = 1/4 switch."""
    bits = np.arange(0, 2 ** 32, 1024, dtype=np.uint64).astype(np.uint32).view(np.float32)
    dense = []
    for centre in (0.0, 0.25, -0.25, 9.0, -9.0, 17.0, -17.0, 88.7, -88.7, -103.9, 103.9):
        c = np.float32(centre).view(np.int32)
        dense.append((c + np.arange(-20000, 20000, dtype=np.int32)).view(np.float32))
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38,
                         1e-45, -1e-45, 1.1754944e-38], np.float32)
    return np.concatenate([bits, *dense, specials])


@pytest.mark.parametrize("fn", ["tanh", "sigmoid"])
def test_fast_activations_within_float32_rounding(fn):
    """Over the whole float32 range the fast path is the correctly rounded exact value or
    its neighbour (1 ulp), and NaN stays NaN."""
    x = _sweep()
    out = np.empty_like(x)
    activation(x, out, fn == "tanh", True)
    with np.errstate(all="ignore"):
        x64 = x.astype(np.float64)
        exact = np.tanh(x64) if fn == "tanh" else 1 / (1 + np.exp(-x64))
    ref = exact.astype(np.float32)
    nan = np.isnan(x)
    assert np.isnan(out[nan]).all()
    ulps = np.abs(_ordered(out[~nan]) - _ordered(ref[~nan]))
    assert ulps.max() <= 1, (fn, x[~nan][ulps.argmax()], out[~nan][ulps.argmax()])
    assert np.count_nonzero(ulps) <= 1e-5 * ulps.size       # double rounding near midpoints
    if fn == "tanh":
        assert out[x == np.inf][0] == 1 and out[x == -np.inf][0] == -1
        np.testing.assert_array_equal(np.sign(out[~nan]), np.sign(x[~nan]))
    else:
        assert out[x == np.inf][0] == 1 and out[x == -np.inf][0] == 0
        assert np.all((out[~nan] >= 0) & (out[~nan] <= 1))


@pytest.mark.parametrize("fn", ["tanh", "sigmoid"])
def test_float64_activations_are_exact(fn):
    """float64 uses the C library's exp and tanh (math.exp / math.tanh), no approximation."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(10000) * 10, [0.0, -0.0, np.inf, -np.inf,
                                                         np.nan, 1e-300, -800.0, 800.0]])
    out = np.empty_like(x)
    activation(x, out, fn == "tanh", False)
    def exact(v):
        if fn == "tanh":
            return math.tanh(v)
        return 0.0 if -v > 709 else 1.0 / (1.0 + math.exp(-v))
    np.testing.assert_array_equal(out, [exact(v) for v in x])
