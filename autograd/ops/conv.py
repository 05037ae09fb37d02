"""Convolution primitives over 1, 2 or 3 spatial dims, forward and backward side by side.
Wrapped by nn.functional.conv (PyTorch's names and signatures); not an ops family.

A convolution with weight w is a linear map of its input, y = C(w) x (+ bias), and C(w) x is
bilinear in (x, w). Three primitives close under differentiation:

    conv(x, w, b)              y = C(w) x + b          Y = W . X_col
        dx = conv_transpose(g, w)        (col2im of W^T . G: the full convolution of G with
                                          the flipped kernel)
        dw = conv_weight(x, g)           (dW = sum_n G[n] . X_col[n]^T)
        db = sum of g over N and space
    conv_transpose(g, w, b)    z = C(w)^T g + b        Z = col2im(W^T . G)
        dg = conv(u, w)                  (<z, u> = <g, C(w) u>)
        dw = conv_weight(u, g)
    conv_weight(x, g)          dw = d<g, C(w) x>/dw    dW = sum_n G[n] . X_col[n]^T
        dx = conv_transpose(g, h)        (<dw, h> = <g, C(h) x>)
        dg = conv(x, h)

Each backward is made of these primitives, so gradients of any order work. The geometry
(sizes, stride, padding, dilation, groups) is a `ConvGeometry`, described in conv terms for
all three: `in_size` is the spatial size of x (the output of conv_transpose), `out_size` that
of y (the input of conv_transpose).

Four ways to compute them (the results agree to rounding; drivers of the last three in
autograd/ops/conv_paths.py):
- im2col (autograd/kernels/conv.py): Y (O, N*L) = W (O, C*K) . X_col (C*K, N*L) per group,
  on chunks of images whose columns stay in cache (per image when C*K is small beside O).
- batch-last columns (autograd/kernels/conv_batch_last.py), long sums that are strided or
  have no flat layout (over 30 % of its positions dropped: ResNet's 4x4 layers): the input
  padded with the image index last, so that an output row of all the images is one run of
  columns, and every column a real output position.
- shifted GEMMs (autograd/kernels/conv_shift.py), stride 1 with long sums (C/G*K >= 64):
  the padded input stored flat (conv_flat's layout), the columns are plain row copies of
  it, one GEMM per chunk of positions; the input gradient is W^T . G then a gather of
  shifted rows. The weight gradient also takes it where im2col would copy its columns row
  by row (OW != W).
- flat path, stride 1: each tap a shifted view of the flat input, with no column matrix:
  register tiles that read those views in place (autograd/kernels/conv_tile.py; 64 images
  32 -> 64 channels 3x3 on 14x14, one thread: 2.05 ms against 3.8 ms by the flat loop of
  autograd/kernels/conv_flat.py, its kernel before); conv_transpose is then a conv with
  the flipped kernel (padding d(k - 1) - p). It comes before the shifted GEMMs (the same
  layout, but a column matrix and a GEMM). Its weight gradient: register tiles too where
  C/G is a multiple of a tile's width (g times x stored channels last, shifted per tap;
  32 -> 64 channels 3x3 on 14x14: 2.3 -> 1.55 ms), else the shifted GEMMs'.
A Conv's forward keeps its packed input (batch-last or flat) for a weight gradient that
reads it (not the tiles'), and the backward packs g once for both gradients where they
share a layout (kernels/conv_scratch.py's sharing_packs).
"""
import functools

import numpy as np

from ..function import Function
from ..kernels import conv as K
from ..kernels import conv_scratch as KW
from ..kernels import conv_tile as KT
from . import conv_paths as P
from .shape import Expand

__all__ = ["Conv", "ConvTranspose", "ConvWeight", "ConvGeometry", "geometry", "conv_nd",
           "conv_transpose_nd"]


class ConvGeometry:
    """The geometry of one convolution with nsp spatial dims (each tuple has nsp entries):
    in_size S, out_size O, kernel k, stride s, pad (low side) p, dilation d, groups.
    Output o reads input o*s - p + t*d for kernel tap t. The kernels' form, padded to 3 dims
    with unit leading dims: tap tables `tables` (td, th, tw) and `geo` = (strides, out).
    Made once per distinct geometry (`geometry`) and shared: never mutate one."""
    __slots__ = ("nsp", "in_size", "out_size", "kernel", "stride", "pad", "dilation",
                 "groups", "tables", "geo", "taps", "positions", "flat", "flat_t",
                 "batch_last")

    def __init__(self, in_size, out_size, kernel, stride, pad, dilation, groups):
        self.nsp = len(in_size)
        self.in_size, self.out_size = tuple(in_size), tuple(out_size)
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.pad, self.dilation = tuple(pad), tuple(dilation)
        self.groups = int(groups)
        unit = (1,) * (3 - self.nsp)
        tables = [K.tap_table(*args) for args in zip(
            unit + self.in_size, unit + self.out_size, unit + self.kernel,
            unit + self.stride, (0,) * (3 - self.nsp) + self.pad, unit + self.dilation)]
        self.tables = tuple(np.array(t, np.int64).reshape(-1, 3) for t in tables)
        geo = unit + self.stride + unit + self.out_size
        self.geo = (np.array(geo + (0,), np.int64), np.array(geo + (1,), np.int64))
        self.taps = int(np.prod(self.kernel, dtype=np.int64))
        self.positions = int(np.prod(self.out_size, dtype=np.int64))
        self.flat = self.flat_t = None
        if all(st == 1 for st in self.stride):
            size, out, kern, dil = (unit + self.in_size, unit + self.out_size,
                                    unit + self.kernel, unit + self.dilation)
            pad = (0,) * (3 - self.nsp) + self.pad
            self.flat = P.flat_layout(size, out, kern, pad, dil)
            flipped = tuple(d * (k - 1) - p for k, p, d in zip(kern, pad, dil))
            self.flat_t = P.flat_layout(out, size, kern, flipped, dil)
        self.batch_last = P.BatchLastPlan(self) if min(self.pad) >= 0 else None


@functools.lru_cache(maxsize=256)
def geometry(in_size, out_size, kernel, stride, pad, dilation, groups):
    """The ConvGeometry of these arguments (tuples of ints), made once: its tables and plans
    are only read, and building them costs ~0.14 ms (64 images 32 -> 64 channels 3x3 on
    14x14: 3 % of a forward + backward)."""
    return ConvGeometry(in_size, out_size, kernel, stride, pad, dilation, groups)


# -- chunked im2col / col2im with a reused workspace (kernels/conv_scratch.py) -----------------
# The batch is processed a few images at a time: a chunk's column matrix (about _CHUNK
# elements) stays in cache between im2col and the GEMM, and the workspace is reused across
# calls.
_CHUNK = 1 << 20
_workspace = KW.workspace


def _chunks(n, per_image):
    """Image ranges [n0, n1) of about _CHUNK column elements each."""
    step = max(1, _CHUNK // max(per_image, 1))
    return [(n0, min(n, n0 + step)) for n0 in range(0, n, step)]


_c, _five = P.contiguous, P.five


def im2col(x5, geom, cols, image_major=False):
    """cols: (C*K, n, L) (or (n, C*K, L)) = the columns of x5: (n, C, D, H, W)."""
    K.im2col(x5, *geom.tables, geom.geo[image_major], cols)


def col2im(cols, geom, dx5, image_major=False):
    """dx5: (n, C, D, H, W) += the transpose of im2col of cols (layout as in im2col)."""
    K.col2im(cols, *geom.tables, geom.geo[image_major], dx5)


def _channels_first(g, n0, n1, groups, dtype):
    """G[n0:n1]: (nb, O, L) as (G, O/G, nb*L) in the workspace: the layout of the GEMMs."""
    nb, o, length = n1 - n0, g.shape[1], g.shape[2]
    gt = _workspace((o, nb, length), dtype, slot=1)
    np.copyto(gt, g[n0:n1].transpose(1, 0, 2))
    return gt.reshape(groups, o // groups, nb * length)


def _image_major(rows, o):
    """Per-image GEMMs (cols (n, C*K, L)) when C*K is small beside O: moving Y or G between
    (N, O, L) and (O, N*L) would then cost more than the short GEMMs save."""
    return rows * 2 < o if LAYOUT is None else LAYOUT


# the paths, chosen by shape (None) or forced (tests, benchmarks): LAYOUT True/False for
# im2col's image-major/channel-major columns, FLAT True/False for the flat path where it
# applies / never; TILES False: the flat path runs the flat loop, not register tiles, and
# after the shifted GEMMs
LAYOUT = None
FLAT = None
SHIFT = None
BATCH_LAST = None
TILES = None


def _flat_plan(geom, outputs, inputs, transpose=False):
    """The flat plan of conv (or of conv_transpose) from `inputs` to `outputs` channels, or
    None for im2col. Few output channels per group (< 4: a depthwise convolution, the input
    gradient of a one-channel image) stay with im2col, as do short sums (C/G * taps < 32,
    e.g. a first layer on one channel: there the per-image GEMM writes y in place and the
    flat path's copies in and out dominate; the tiles' sums would be short too)."""
    plan = geom.flat_t if transpose else geom.flat
    if plan is None or FLAT is False:
        return None
    if FLAT is True:
        return plan
    small = outputs < 4 * geom.groups or inputs // geom.groups * geom.taps < 32
    return None if small else plan


# -- GEMMs over shifted copies of the flat layout (kernels/conv_shift.py) -------------------
def _shift_plan(geom, c, o):
    """geom.flat when conv (c -> o channels) and its adjoints run as shifted GEMMs, else None:
    long sums (C/G * taps >= 64, O/G >= 16; 32 -> 64 channels 3x3 on 64 images of 14x14:
    1.6 ms against 2.1 ms by the flat loop). SHIFT True/False forces it where flat applies."""
    plan = geom.flat
    if plan is None or FLAT is False or SHIFT is False:
        return None
    if SHIFT is True:
        return plan
    return plan if c // geom.groups * geom.taps >= 64 and o // geom.groups >= 16 else None


# -- batch-last columns (ops/conv_paths.py, kernels/conv_batch_last.py) ------------------------
DROPPED = 0.15       # the flat layout's share of dropped positions above which batch-last wins
                     # over the flat loop and shifted GEMMs (not over the register tiles)


def _batch_last_plan(geom, n, c, o):
    """geom.batch_last when conv (c -> o channels, n images) and its adjoints run on
    batch-last columns, else None: long sums (C/G * taps >= 64, O/G >= 16, not 1x1) that are
    strided (im2col copies their rows a few elements at a time: 16 images 64 -> 128 channels
    3x3 stride 2 on 32x32, forward + backward on one thread 10.9 ms against 15.2 ms) or have
    no flat layout (512 channels of 4x4 'same', 36 % of the flat positions dropped: 16.8 ms
    against 30.4 ms by im2col), with one output row's columns (C*T*OW*N) within 4 chunks.
    Where the flat layout applies, its register tiles win even with a fifth of its positions
    dropped (forward + backward, two threads: 64 images 32 -> 64 channels 3x3 on 16x16
    valid, 23 %: 4.6 ms against 9.1 ms; 16 images of 8x8 'same' 256 -> 256, 21 %: 11.2 ms
    against 16.4 ms); without tiles (TILES False) batch-last takes those dropping over
    DROPPED. BATCH_LAST True/False forces it where it applies / never."""
    plan = geom.batch_last
    if plan is None or BATCH_LAST is False:
        return None
    if BATCH_LAST is True:
        return plan
    strided = any(st != 1 for st in geom.stride)
    if c // geom.groups * geom.taps < 64 or o // geom.groups < 16 or \
            geom.taps < 2 and not strided or c * geom.taps * plan.width * n > 4 * P.CHUNK:
        return None
    if strided or geom.flat is None:
        return plan
    if TILES is not False and _flat_plan(geom, o, c) is not None:
        return None
    return plan if geom.positions < (1 - DROPPED) * geom.flat.block else None


def _weight_tiles(geom, c, dtype):
    """Whether a weight gradient on the flat layout takes register tiles (packing x channels
    last itself) rather than shifted GEMMs: C/G whole tiles wide."""
    return TILES is not False and KT.weight_tiles_fit(c // geom.groups, dtype.itemsize)


def conv_forward(x, w, b, geom, keep=None):
    """y = C(w) x + b: x: (N, C, *S), w: (O, C/groups, *k), b: (O,) array or None
    -> (N, O, *out_size). keep: a list that receives (x, key, pack) when the path packs x in
    a layout its weight gradient reads too (a Conv keeps it for its backward). Per chunk of
    nb images, one GEMM per group:
    Y (O/G, nb*L) = W[g] . X_col[g] (C/G*K, nb*L), moved to (nb, O, L) with the bias added;
    or image-major: Y[n] = W[g] . X_col[n, g], written in place."""
    n, c, o, groups, length = x.shape[0], x.shape[1], w.shape[0], geom.groups, geom.positions
    if _batch_last_plan(geom, n, c, o) is not None:
        return P.batch_last_conv(x, w, b, geom, geom.batch_last, keep)
    plan = _flat_plan(geom, o, c)
    tiles = TILES is not False
    if plan is not None and tiles:      # x kept for a weight gradient by shifted GEMMs
        kept = keep if _shift_plan(geom, c, o) and not _weight_tiles(geom, c, x.dtype) else None
        return P.flat_loop_conv(x, _c(w).reshape(o, -1, geom.taps), b, geom, plan,
                                geom.out_size, kept)
    if _shift_plan(geom, c, o) is not None:
        return P.shift_conv(x, w, b, geom, geom.flat, keep)
    if plan is not None:
        return P.flat_loop_conv(x, _c(w).reshape(o, -1, geom.taps), b, geom, plan,
                                geom.out_size, tiles=False)
    x5 = _five(x, geom.nsp)
    w3 = w.reshape(groups, o // groups, -1)
    y = np.empty((n, o, length), x.dtype)
    rows = c * geom.taps
    bias = np.zeros((o, 1), x.dtype) if b is None else b.reshape(o, 1)
    per_image = _image_major(rows, o)
    for n0, n1 in _chunks(n, rows * length):
        nb = n1 - n0
        if per_image:
            cols = _workspace((nb, groups, rows // groups, length), x.dtype)
            im2col(x5[n0:n1], geom, cols, True)
            yc = y[n0:n1].reshape(nb, groups, o // groups, length)
            np.matmul(w3, cols, out=yc)
            if b is not None:
                y[n0:n1] += bias
            continue
        cols = _workspace((rows, nb, length), x.dtype)
        im2col(x5[n0:n1], geom, cols)
        yt = _workspace((groups, o // groups, nb * length), x.dtype, slot=1)
        np.matmul(w3, cols.reshape(groups, rows // groups, nb * length), out=yt)
        np.add(yt.reshape(o, nb, length).transpose(1, 0, 2), bias, out=y[n0:n1])
    return y.reshape((n, o) + geom.out_size)


def conv_transpose_forward(g, w, b, geom):
    """z = C(w)^T g + b: g: (N, O, *out_size), w: (O, C/groups, *k), b: (C,) array or None
    -> (N, C, *in_size). Per chunk of images: Z_col[g] = W[g]^T . G[g], then col2im."""
    n, o, groups, length = g.shape[0], w.shape[0], geom.groups, geom.positions
    c = w.shape[1] * groups
    if _batch_last_plan(geom, n, c, o) is not None:
        return P.batch_last_transpose(g, w, b, geom, geom.batch_last)
    plan = _flat_plan(geom, c, o, transpose=True)
    tiles = TILES is not False
    if plan is not None and tiles:
        return P.flat_loop_conv(g, P.flipped(w, groups, geom.taps), b, geom, plan,
                                geom.in_size, share=True)
    if _shift_plan(geom, c, o) is not None:
        return P.shift_transpose(g, w, b, geom, geom.flat)
    if plan is not None:
        return P.flat_loop_conv(g, P.flipped(w, groups, geom.taps), b, geom, plan,
                                geom.in_size, tiles=False)
    g3 = g.reshape(n, o, length)
    w3t = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)      # (G, C/G*K, O/G)
    z = np.zeros((n, c) + geom.in_size, g.dtype)
    if b is not None:
        z += b.reshape((c,) + (1,) * geom.nsp)
    z5 = _five(z, geom.nsp)
    rows = c * geom.taps
    per_image = _image_major(rows, o)
    for n0, n1 in _chunks(n, rows * length):
        nb = n1 - n0
        if per_image:
            cols = _workspace((nb, groups, rows // groups, length), g.dtype)
            np.matmul(w3t, g3[n0:n1].reshape(nb, groups, o // groups, length), out=cols)
            col2im(cols, geom, z5[n0:n1], True)
            continue
        gt = _channels_first(g3, n0, n1, groups, g.dtype)
        cols = _workspace((groups, rows // groups, nb * length), g.dtype)
        np.matmul(w3t, gt, out=cols)
        col2im(cols.reshape(rows, nb, length), geom, z5[n0:n1])
    return z


def conv_weight_forward(x, g, geom, wshape):
    """dw = d<g, C(w) x>/dw: x: (N, C, *S), g: (N, O, *out_size) -> wshape (O, C/G, *k).
    dW[g] = G[g] (O/G, N*L) . X_col[g]^T (N*L, C/G*K), accumulated over chunks of images
    (image-major: over images, dW[g] += G[n, g] . X_col[n, g]^T)."""
    n, c, o, groups, length = x.shape[0], x.shape[1], g.shape[1], geom.groups, geom.positions
    if _batch_last_plan(geom, n, c, o) is not None:
        return P.batch_last_weight(x, g, geom, geom.batch_last, wshape)
    if _shift_plan(geom, c, o) is not None or geom.flat is not None and FLAT is not False and (
            FLAT or geom.out_size[-1] != geom.in_size[-1]):
        # im2col would copy these columns row by row (its spans need OW == W)
        if _weight_tiles(geom, c, x.dtype):
            return P.tile_weight(x, g, geom, geom.flat, wshape)
        return P.shift_weight(x, g, geom, geom.flat, wshape)
    x5 = _five(x, geom.nsp)
    g3 = g.reshape(n, o, length)
    rows = c * geom.taps
    dw_own = np.zeros(wshape, x.dtype)       # owned: the engine copies a view once more
    dw = dw_own.reshape(groups, o // groups, rows // groups)
    per_image = _image_major(rows, o)
    for n0, n1 in _chunks(n, rows * length):
        nb = n1 - n0
        if per_image:
            cols = _workspace((nb, groups, rows // groups, length), x.dtype)
            im2col(x5[n0:n1], geom, cols, True)
            g4 = g3[n0:n1].reshape(nb, groups, o // groups, length)
            dw += np.matmul(g4, cols.transpose(0, 1, 3, 2)).sum(axis=0)
            continue
        cols = _workspace((rows, nb, length), x.dtype)
        im2col(x5[n0:n1], geom, cols)
        gt = _channels_first(g3, n0, n1, groups, x.dtype)
        cols3 = cols.reshape(groups, rows // groups, nb * length)
        dw += np.matmul(gt, cols3.transpose(0, 2, 1))
    return dw_own


class BiasGrad(Function):
    """db = sum of g: (N, O, *S) over N and the spatial dims -> (O,); its adjoint broadcasts
    h: (O,) back to g's shape. One pass over g (np.add.reduce over axes (0, 2, ...) took 3x
    longer)."""

    @staticmethod
    def forward(ctx, g):
        ctx.shape = g.data.shape
        return np.einsum("nol->o", g.data.reshape(g.data.shape[:2] + (-1,)))

    @staticmethod
    def backward(ctx, h):
        nsp = len(ctx.shape) - 2
        return Expand.apply(h.reshape((1, -1) + (1,) * nsp), ctx.shape)


def _bias_grad(g, nsp):
    """db = sum of g: (N, O, *S) over N and the spatial dims."""
    return BiasGrad.apply(g)


class Conv(Function):
    """y = C(w) x + b.  x: (N, C, *S), w: (O, C/groups, *k), b: (O,) or None."""

    @staticmethod
    def forward(ctx, x, w, b, geom):
        # x packed for the forward's columns, kept for the weight gradient's when it is needed
        packs = [] if ctx.needs_input_grad[1] else None
        y = conv_forward(x.data, w.data, None if b is None else b.data, geom, packs)
        ctx.save_for_backward(x, w)
        if packs:                # (x, plan, packed x): the packs freed with the saved tensors
            ctx.pack_plans = [plan for _, plan, _ in packs]
            ctx.save_arrays(*[packed for _, _, packed in packs])
        ctx.geom = geom
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        geom = ctx.geom
        need = ctx.needs_input_grad
        packs = [(x.data, plan, packed) for plan, packed in
                 zip(getattr(ctx, "pack_plans", ()), ctx.saved_arrays or ())]
        with KW.sharing_packs(*packs):    # dx and dw pack g once; dw reuses x's pack
            dx = ConvTranspose.apply(g, w, None, geom) if need[0] else None     # C(w)^T g
            dw = ConvWeight.apply(x, g, geom) if need[1] else None        # G . X_col^T
        db = _bias_grad(g, geom.nsp) if need[2] else None
        return dx, dw, db, None


class ConvTranspose(Function):
    """z = C(w)^T g + b.  g: (N, O, *out_size), w: (O, C/groups, *k), b: (C,) or None
    -> (N, C, *in_size)."""

    @staticmethod
    def forward(ctx, g, w, b, geom):
        z = conv_transpose_forward(g.data, w.data, None if b is None else b.data, geom)
        ctx.save_for_backward(g, w)
        ctx.geom = geom
        return z

    @staticmethod
    def backward(ctx, u):
        g, w = ctx.saved_tensors
        geom = ctx.geom
        need = ctx.needs_input_grad
        dg = Conv.apply(u, w, None, geom) if need[0] else None          # <z,u> = <g, C(w) u>
        dw = ConvWeight.apply(u, g, geom) if need[1] else None
        db = _bias_grad(u, geom.nsp) if need[2] else None
        return dg, dw, db, None


class ConvWeight(Function):
    """dw = d<g, C(w) x>/dw.  x: (N, C, *S), g: (N, O, *out_size) -> (O, C/groups, *k)."""

    @staticmethod
    def forward(ctx, x, g, geom):
        wshape = (g.shape[1], x.shape[1] // geom.groups) + geom.kernel
        ctx.save_for_backward(x, g)
        ctx.geom = geom
        return conv_weight_forward(x.data, g.data, geom, wshape)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        geom = ctx.geom
        need = ctx.needs_input_grad
        dx = ConvTranspose.apply(g, h, None, geom) if need[0] else None   # <dw,h> = <g,C(h)x>
        dg = Conv.apply(x, h, None, geom) if need[1] else None
        return dx, dg, None


def conv_nd(x, w, b, geom):
    """The primitive call behind conv1d/2d/3d (inputs already checked)."""
    return Conv.apply(x, w, b, geom)


def conv_transpose_nd(g, w, b, geom):
    """The primitive call behind conv_transpose1d/2d/3d (inputs already checked)."""
    return ConvTranspose.apply(g, w, b, geom)
