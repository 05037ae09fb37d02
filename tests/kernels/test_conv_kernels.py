"""Convolution kernels (autograd/kernels/conv.py) against plain-numpy references."""
import numpy as np
import pytest

from autograd.kernels import conv as K
from autograd.kernels import conv_flat as KF
from autograd.kernels import conv_shift as KS
from autograd.ops import conv as C
from autograd.ops.conv import ConvGeometry

# (x shape (N, C, D, H, W), kernel, stride, pad, dilation): 3-d, flat and strided paths
GEOMETRIES = [
    ((2, 3, 1, 6, 6), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),    # 'same' 3x3: flat path
    ((2, 2, 1, 7, 5), (1, 2, 3), (1, 2, 3), (0, 1, 0), (1, 2, 1)),    # strided rows
    ((1, 2, 1, 9, 8), (1, 2, 2), (1, 3, 4), (0, 0, 1), (1, 3, 2)),    # stride > kernel
    ((2, 2, 4, 5, 6), (2, 3, 2), (1, 1, 1), (1, 1, 0), (2, 1, 3)),    # 3-d, dilation
    ((1, 1, 1, 1, 11), (1, 1, 4), (1, 1, 2), (0, 0, 3), (1, 1, 2)),   # 1-d, pad > half kernel
    ((1, 2, 3, 4, 4), (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1)),    # 3-d strided
]


def _geometry(xshape, kernel, stride, pad, dilation):
    sizes = xshape[2:]
    out = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, k, st, p, d in zip(sizes, kernel, stride, pad, dilation))
    return ConvGeometry(sizes, out, kernel, stride, pad, dilation, 1)


def im2col_reference(x, geom):
    """cols (C*K, N, L): one row per (channel, tap), gathered with numpy fancy indexing."""
    n, c = x.shape[:2]
    padded = np.pad(x, [(0, 0), (0, 0)] + [(p, p + d * k) for p, d, k in
                                           zip(geom.pad, geom.dilation, geom.kernel)])
    rows = []
    for ch in range(c):
        for taps in np.ndindex(*geom.kernel):
            index = np.ix_(*[t * d + np.arange(o) * s for t, d, o, s in
                             zip(taps, geom.dilation, geom.out_size, geom.stride)])
            rows.append(padded[:, ch][(slice(None),) + index].reshape(n, -1))
    return np.stack(rows)


def col2im_reference(cols, geom, xshape):
    """The transpose of im2col_reference: scatter-add each row back into a padded array."""
    n, c = xshape[:2]
    pads = [(p, p + d * k) for p, d, k in zip(geom.pad, geom.dilation, geom.kernel)]
    padded = np.zeros(xshape[:2] + tuple(s + a + b for s, (a, b) in zip(xshape[2:], pads)),
                      cols.dtype)
    row = 0
    for ch in range(c):
        for taps in np.ndindex(*geom.kernel):
            index = np.ix_(*[t * d + np.arange(o) * s for t, d, o, s in
                             zip(taps, geom.dilation, geom.out_size, geom.stride)])
            padded[:, ch][(slice(None),) + index] += cols[row].reshape((n,) + geom.out_size)
            row += 1
    crop = tuple(slice(a, a + s) for (a, _), s in zip(pads, xshape[2:]))
    return padded[(slice(None), slice(None)) + crop]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("image_major", [0, 1])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_im2col(case, image_major, dtype):
    geom = _geometry(*case)
    x = np.random.default_rng(0).standard_normal(case[0]).astype(dtype)
    want = im2col_reference(x, geom)
    rows, n, length = want.shape
    shape = (n, rows, length) if image_major else (rows, n, length)
    cols = np.full(shape, np.nan, dtype)                 # every entry must be written
    K.im2col(x, *geom.tables, geom.geo[image_major], cols)
    got = cols.transpose(1, 0, 2) if image_major else cols
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("image_major", [0, 1])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_col2im(case, image_major, dtype):
    geom = _geometry(*case)
    rng = np.random.default_rng(1)
    xshape = case[0]
    rows = xshape[1] * geom.taps
    cols = rng.standard_normal((rows, xshape[0], geom.positions)).astype(dtype)
    want = col2im_reference(cols, geom, xshape) + 1       # col2im adds to what dx holds
    arg = np.ascontiguousarray(cols.transpose(1, 0, 2)) if image_major else cols.copy()
    dx = np.ones(xshape, dtype)
    K.col2im(arg, *geom.tables, geom.geo[image_major], dx)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, want, rtol=tol, atol=tol)


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for the interpreted kernels too (kernel.py_func)
    geom = _geometry(*GEOMETRIES[3])
    rng = np.random.default_rng(2)
    x = rng.standard_normal(GEOMETRIES[3][0])
    cols = np.empty((x.shape[1] * geom.taps, x.shape[0], geom.positions))
    K.im2col.py_func(x, *geom.tables, geom.geo[0], cols)
    c = rng.standard_normal(cols.shape)
    dx = np.zeros_like(x)
    K.col2im.py_func(c.copy(), *geom.tables, geom.geo[0], dx)
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, dx), rtol=1e-12)


def test_tap_table():
    # size 5, out 3, kernel 3, stride 2, pad 1, dilation 1: taps read o*2 - 1 + t
    assert K.tap_table(5, 3, 3, 2, 1, 1) == [(-1, 1, 3), (0, 0, 3), (1, 0, 2)]


# -- the flat stride-1 kernels (autograd/kernels/conv_flat.py) -------------------------------
# (x shape (N, C, D, H, W), weight shape (O, C/G, KD, KH, KW), pad, dilation, groups)
FLAT = [
    ((2, 3, 1, 6, 6), (5, 3, 1, 3, 3), (0, 1, 1), (1, 1, 1), 1),     # 'same' 3x3, O % 4 = 1
    ((2, 4, 1, 7, 5), (6, 2, 1, 2, 3), (0, 1, 2), (1, 2, 1), 2),     # groups, dilation
    ((1, 2, 1, 9, 8), (4, 2, 1, 3, 3), (0, 0, 0), (1, 1, 1), 1),     # 'valid'
    ((2, 2, 4, 5, 6), (7, 2, 2, 3, 2), (1, 1, 0), (2, 1, 3), 1),     # 3-d, taps % 3 = 0
    ((3, 3, 1, 1, 11), (4, 3, 1, 1, 4), (0, 0, 3), (1, 1, 2), 1),    # 1-d, pad > half kernel
    ((1, 2, 1, 5, 5), (8, 1, 1, 5, 5), (0, 2, 1), (1, 1, 1), 2),     # 25 taps, uneven pads
]


def _flat_case(case, dtype, seed=0):
    xshape, wshape, pad, dil, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    out = tuple(s + 2 * p - d * (k - 1) for s, p, d, k in zip(xshape[2:], pad, dil, wshape[2:]))
    return x, w, out


def _flat_packed(case, dtype, room):
    """x, w, out of the case, xf: x in the flat layout (NaN-filled first: all must be
    written), with `room` positions (the tiles' KT.room(total), else total), and the plan."""
    x, w, out = _flat_case(case, dtype)
    _, _, pad, dil, groups = case
    gaps, ext, offs = KF.flat_plan(x.shape[2:], out, w.shape[2:], pad, dil)
    total = x.shape[0] * int(np.prod(ext))
    xf = np.full((x.shape[1], room(total) + max(offs) + 1), np.nan, dtype)
    KF.flat_pack(x, np.array(gaps), np.array(ext), xf)
    return x, w, out, xf, np.array(ext), np.array(offs), total


def conv_reference(x, w, pad, dil, groups, out):
    """y[n, o, od, oh, ow] = sum over c, taps of w * x at o*1 - pad + tap*dil (zero outside)."""
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    y = np.zeros((n, o) + out)
    for taps in np.ndindex(*w.shape[2:]):
        sl = tuple(slice(t * d, t * d + s) for t, d, s in zip(taps, dil, out))
        patch = xp[(slice(None), slice(None)) + sl].reshape(n, groups, cg, -1)
        wt = w[(slice(None), slice(None)) + taps].reshape(groups, o // groups, cg)
        y += np.einsum("gkc,ngcl->ngkl", wt, patch).reshape((n, o) + out)
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FLAT, ids=str)
def test_flat_conv(case, dtype):
    # pack, convolve, unpack (with a bias) against the direct sum
    _, _, pad, dil, groups = case
    x, w, out, xf, ext, offs, total = _flat_packed(case, dtype, lambda total: total)
    n, o = x.shape[0], w.shape[0]
    yf = np.full((o, total + 16), np.nan, dtype)
    KF.flat_conv(xf, w.reshape(o, w.shape[1], -1), offs, groups, 0, total, yf)
    bias = np.arange(o, dtype=dtype)
    y = np.full((n, o) + out, np.nan, dtype)
    KF.flat_unpack(yf, ext, bias, True, y)
    want = conv_reference(x, w, pad, dil, groups, out) + bias.reshape(o, 1, 1, 1)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)
    KF.flat_unpack(yf, ext, bias, False, y)
    np.testing.assert_allclose(y, want - bias.reshape(o, 1, 1, 1), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FLAT, ids=str)
def test_tile_conv(case, dtype):
    # the register tiles on the flat layout (every row count of tile: O/G = 5, 3, 4, 7, 4)
    # against the direct sum; positions past `total` only need room
    from autograd.kernels import conv_tile as KT
    _, _, pad, dil, groups = case
    x, w, out, xf, ext, offs, total = _flat_packed(case, dtype, KT.room)
    n, o = x.shape[0], w.shape[0]
    yf = np.full((o, KT.room(total) + 16), np.nan, dtype)
    KT.tile_conv(xf, w.reshape(o, w.shape[1], -1), offs, groups, 0, total, yf)
    y = np.full((n, o) + out, np.nan, dtype)
    KF.flat_unpack(yf, ext, np.zeros(o, dtype), False, y)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, conv_reference(x, w, pad, dil, groups, out), rtol=tol, atol=tol)


TILE_WEIGHT = [   # C/G whole tiles wide (16 float64 or 32 float32 on AVX-512; 8 or 16 else)
    ((2, 32, 1, 6, 7), (8, 32, 1, 3, 3), (0, 1, 1), (1, 1, 1), 1),     # 'same' 3x3
    ((2, 64, 1, 7, 5), (12, 32, 1, 2, 3), (0, 1, 2), (1, 2, 1), 2),    # groups, dilation
    ((1, 32, 3, 4, 4), (5, 32, 2, 2, 2), (1, 0, 1), (1, 1, 1), 1),     # 3-d, O = 5
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TILE_WEIGHT, ids=str)
def test_tile_weight(case, dtype):
    # dW by register tiles (x packed channels last) against the direct sum over positions
    from autograd.kernels import conv_tile as KT
    x, w, out = _flat_case(case, dtype)
    _, _, pad, dil, groups = case
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    g = np.random.default_rng(1).standard_normal((n, o) + out).astype(dtype)
    gaps, ext, offs = KF.flat_plan(x.shape[2:], out, w.shape[2:], pad, dil)
    total = n * int(np.prod(ext))
    xcl = np.full((total + max(offs) + 1, c), np.nan, dtype)
    KT.pack_last(x, np.array(gaps), np.array(ext), 0, n, xcl)
    xf = np.empty((c, xcl.shape[0]), dtype)
    KF.flat_pack(x, np.array(gaps), np.array(ext), xf)
    np.testing.assert_array_equal(xcl, xf.T)                 # the flat layout, transposed
    gq = np.empty((o, total), dtype)
    KF.flat_pack(g, np.zeros(3, np.int64), np.array(ext), gq)
    taps = len(offs)
    dwt = np.zeros((taps, o, c // groups), dtype)
    KT.tile_weight(gq, xcl, np.array(offs), groups, 0, o, dwt)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    want = np.zeros((o, c // groups, taps))
    for t, tap in enumerate(np.ndindex(*w.shape[2:])):
        sl = tuple(slice(k * d, k * d + s) for k, d, s in zip(tap, dil, out))
        patch = xp[(slice(None), slice(None)) + sl].reshape(n, groups, c // groups, -1)
        gg = g.reshape(n, groups, o // groups, -1)
        want[:, :, t] = np.einsum("ngkl,ngcl->gkc", gg, patch).reshape(o, c // groups)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(dwt.transpose(1, 2, 0), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", FLAT[:4], ids=str)
def test_flat_pack_layout(case):
    # input layout: data after the gaps, zeros in every gap and past the last image; output
    # layout (before = 0): data at the start of each block
    x, w, out = _flat_case(case, np.float64)
    gaps, ext, offs = KF.flat_plan(x.shape[2:], out, w.shape[2:], case[2], case[3])
    n, c = x.shape[:2]
    for before in (gaps, (0, 0, 0)):
        xf = np.full((c, n * int(np.prod(ext)) + 7), np.nan)
        KF.flat_pack(x, np.array(before), np.array(ext), xf)
        want = np.zeros((c, n) + tuple(ext))
        at = tuple(slice(b, b + s) for b, s in zip(before, x.shape[2:]))
        want[(slice(None), slice(None)) + at] = x.transpose(1, 0, 2, 3, 4)
        np.testing.assert_array_equal(xf[:, :want[0].size], want.reshape(c, -1))
        np.testing.assert_array_equal(xf[:, want[0].size:], 0)


def test_flat_conv_interpreted():
    # kernel.py_func (plain Python) computes the same as the compiled kernel
    x, w, out = _flat_case(FLAT[1], np.float64)
    _, _, pad, dil, groups = FLAT[1]
    gaps, ext, offs = KF.flat_plan(x.shape[2:], out, w.shape[2:], pad, dil)
    total = x.shape[0] * int(np.prod(ext))
    xf = np.empty((x.shape[1], total + max(offs) + 1))
    KF.pack_images.py_func(x, np.array(gaps), np.array(ext), 0, x.shape[0], xf)
    w3 = w.reshape(w.shape[0], w.shape[1], -1)
    got, want = np.zeros((w.shape[0], total)), np.zeros((w.shape[0], total))
    KF.flat_conv.py_func(xf, w3, np.array(offs), groups, 0, total, got)
    KF.flat_conv(xf, w3, np.array(offs), groups, 0, total, want)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_flat_plan():
    # 14x14 'same' 3x3: one gap row and column shared between neighbours, block 15x15
    gaps, ext, offs = KF.flat_plan((1, 14, 14), (1, 14, 14), (1, 3, 3), (0, 1, 1), (1, 1, 1))
    assert gaps == (0, 1, 1) and ext == (1, 15, 15)
    assert offs == [0, 1, 2, 15, 16, 17, 30, 31, 32]
    # low padding beyond the dilated kernel: the output would overrun its block
    assert KF.flat_plan((1, 1, 5), (1, 1, 9), (1, 1, 2), (0, 0, 3), (1, 1, 1)) is None


# -- GEMMs over shifted copies of the flat layout (autograd/kernels/conv_shift.py) -----------
def test_flat_columns():
    # cols[c*T + t, j] = xf[c, m0 + j + off[t]] for start <= j < stop; the rest untouched
    rng = np.random.default_rng(3)
    xf, offs = rng.standard_normal((3, 60)), np.array([0, 1, 2, 7, 8, 9, 14, 15, 16])
    cols = np.full((27, 30), np.nan)
    KS.flat_columns(xf, offs, 5, 4, 29, cols)
    want = np.stack([xf[c, 5 + j + off] for c in range(3) for off in offs
                     for j in [np.arange(4, 29)]])
    np.testing.assert_array_equal(cols[:, 4:29], want)
    assert np.isnan(cols[:, :4]).all() and np.isnan(cols[:, 29:]).all()


def test_flat_gather():
    # dx[n, c, d, h, w] = bias[c] + sum over taps of z[c*T + t, p - off[t] - z0] (terms at
    # p - off[t] < 0 absent), for the images start <= n < stop only
    rng = np.random.default_rng(4)
    gaps, ext, offs = np.array([0, 1, 2]), np.array([1, 6, 7]), np.array([0, 3, 8, 13, 20])
    n, c, h, w, block = 4, 2, 5, 5, 42
    z0 = 1 * block - 20
    z = rng.standard_normal((c * len(offs), n * block - z0))
    bias = rng.standard_normal(c)
    dx = np.full((n, c, 1, h, w), np.nan)
    KS.flat_gather(z, offs, gaps, ext, z0, bias, 1, 3, dx)
    want = np.zeros((2, c, 1, h, w))
    for i, img in enumerate((1, 2)):
        for ch, hh, ww in np.ndindex(c, h, w):
            p = img * block + (hh + 1) * 7 + ww + 2
            want[i, ch, 0, hh, ww] = bias[ch] + sum(
                z[ch * len(offs) + t, p - off - z0] for t, off in enumerate(offs)
                if p - off >= 0)
    np.testing.assert_allclose(dx[1:3], want, rtol=1e-12)
    assert np.isnan(dx[0]).all() and np.isnan(dx[3]).all()
    # image 0 reads before position 0: those terms are dropped, not wrapped
    z0 = 0
    z = rng.standard_normal((c * len(offs), block))
    KS.flat_gather(z, offs, gaps, ext, z0, bias, 0, 1, dx)
    p = (0 + 1) * 7 + 0 + 2                                   # (h, w) = (0, 0): p = 9
    np.testing.assert_allclose(dx[0, 0, 0, 0, 0], bias[0] + z[0, 9] + z[1, 6] + z[2, 1])
    assert p == 9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FLAT, ids=str)
def test_shift_primitives(case, dtype, monkeypatch):
    # conv, conv_transpose and conv_weight by GEMMs over shifted copies (forced, in small
    # chunks of positions and images): conv against the direct sum, the two others against it
    # through <C(w) x, g> = <x, C(w)^T g> = <w, dW(x, g)>
    monkeypatch.setattr(C, "SHIFT", True)
    monkeypatch.setattr(KS, "CHUNK", 1 << 9)
    monkeypatch.setattr(KS, "MIN_STEP", 16)
    x, w, out = _flat_case(case, dtype)
    _, _, pad, dil, groups = case
    # the flat layout even where it drops too many positions for the paths to choose it
    plan = KF.FlatPlan(*KF.flat_plan(x.shape[2:], out, w.shape[2:], pad, dil))
    nsp = 3 if x.shape[2] > 1 else 2 if x.shape[3] > 1 else 1
    x, w = x.reshape(x.shape[:2] + x.shape[5 - nsp:]), w.reshape(w.shape[:2] + w.shape[5 - nsp:])
    out = out[3 - nsp:]
    geom = ConvGeometry(x.shape[2:], out, w.shape[2:], (1,) * nsp, pad[3 - nsp:],
                        dil[3 - nsp:], groups)
    geom.flat = geom.flat or plan
    assert C._shift_plan(geom, x.shape[1], w.shape[0]) is geom.flat is not None
    rng = np.random.default_rng(5)
    b = rng.standard_normal(w.shape[0]).astype(dtype)
    y = C.conv_forward(x, w, b, geom)
    want = conv_reference(x.reshape(x.shape[:2] + (1,) * (3 - nsp) + x.shape[2:]),
                          w.reshape(w.shape[:2] + (1,) * (3 - nsp) + w.shape[2:]),
                          pad, dil, groups, (1,) * (3 - nsp) + out)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, want.reshape(y.shape) + b.reshape((-1,) + (1,) * nsp),
                               rtol=tol, atol=tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    bt = rng.standard_normal(x.shape[1]).astype(dtype)
    z = C.conv_transpose_forward(g, w, bt, geom)
    dw = C.conv_weight_forward(x, g, geom, w.shape)
    inner = np.vdot(want, g)
    np.testing.assert_allclose(np.vdot(x, z - bt.reshape((-1,) + (1,) * nsp)), inner,
                               rtol=tol)
    np.testing.assert_allclose(np.vdot(w, dw), inner, rtol=tol)
    np.testing.assert_allclose(C.conv_transpose_forward(g, w, None, geom) + bt.reshape(
        (-1,) + (1,) * nsp), z, rtol=tol, atol=tol)


def test_shift_gradcheck(monkeypatch):
    # float64 gradients of every order through the shifted-copy GEMMs (forced)
    import autograd as ag
    import nn.functional as F
    monkeypatch.setattr(C, "SHIFT", True)
    rng = np.random.default_rng(6)
    x = ag.tensor(rng.standard_normal((2, 4, 5, 4)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((6, 2, 3, 2)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(6), requires_grad=True)

    def f(x, w, b):
        return F.conv2d(x, w, b, padding="same", dilation=(1, 2), groups=2)
    assert ag.autograd.gradcheck(f, [x, w, b])
    assert ag.autograd.gradgradcheck(f, [x, w, b])


def test_shift_path_taken():
    # the benchmark's layer (32 -> 64 channels, 3x3 'same') runs the shifted-copy GEMMs; a
    # one-channel first layer does not
    geom = ConvGeometry((14, 14), (14, 14), (3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert C._shift_plan(geom, 32, 64) is geom.flat is not None
    assert C._shift_plan(geom, 1, 32) is None
