"""The convolution paths that keep the input in a layout of their own (drivers of the kernels
in autograd/kernels/conv_flat.py, conv_shift.py and conv_batch_last.py); autograd/ops/conv.py
chooses among them and im2col.

- flat path (stride 1): register tiles that read the flat padded input's shifted rows in
  place (kernels/conv_tile.py), or a direct numba loop over it (the flat loop).
- shifted GEMMs (stride 1, long sums): the columns are row copies of the flat padded input.
- batch-last columns (long sums, any stride): the input padded with the image index last,
  xp: (C, ED, EH, EW, N); an output row of all the images is one run of OW*N columns, copied
  whole for stride 1 along w (N at a time otherwise), so that every column is a real output
  position: the flat layout computes and drops the positions past each row and image (36 %
  of a 4x4 'same' plane, 21 % of 8x8), im2col copies a small image's rows a few elements at
  a time. Per chunk of output rows r (od*OH + oh), one GEMM per group:
      Y[:, chunk] (O/G, m) = W[grp] (O/G, C/G*T) . cols[grp]           (conv)
      Z (C/G*T, m) = W[grp]^T . G[grp][:, chunk], scattered back into dxp    (conv_transpose)
      dW[grp] += G[grp][:, chunk] . cols[grp]^T                       (conv_weight)
  with G: (O, OD*OH*OW*N), g in the same batch-last order.
"""
import numpy as np

from ..kernels import conv_flat as KF
from ..kernels import conv_scratch as KW
from ..kernels import conv_threads as CT
from ..kernels import conv_shift as KS
from ..kernels import conv_tile as KT

__all__ = ["contiguous", "five", "flat_layout", "flat_loop_conv", "flipped", "shift_conv",
           "shift_transpose", "shift_weight", "BatchLastPlan", "batch_last_conv",
           "batch_last_transpose", "batch_last_weight"]

_workspace = KW.workspace


def contiguous(arr):
    """arr as a C-contiguous, writeable array (one numba signature per dtype)."""
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.array(arr, order="C")


def five(arr, nsp):
    """(N, C, *S) with nsp spatial dims -> C-contiguous (N, C, D, H, W) (a view if it was)."""
    return contiguous(arr).reshape(arr.shape[:2] + (1,) * (3 - nsp) + arr.shape[2:])


def _bias(b, size, dtype):
    return np.zeros(size, dtype) if b is None else contiguous(b)


def flat_layout(size, out, kernel, pad, dilation):
    """The KF.FlatPlan of a stride-1 convolution, or None where the flat loop does not apply
    or would lose to im2col + GEMM (measured): fewer than three taps (a 1x1 convolution is a
    plain GEMM), or over 30 % of the computed positions dropped (4x4 'same': 36 %)."""
    layout = KF.flat_plan(size, out, kernel, pad, dilation)
    if layout is None or len(layout[2]) < 3:
        return None
    plan = KF.FlatPlan(*layout)
    return None if 10 * int(np.prod(out)) < 7 * plan.block else plan


# -- the flat path: register tiles (kernels/conv_tile.py) or the flat loop (conv_flat.py) ---
def flat_loop_conv(x, w3, b, geom, plan, out_size, keep=None, tiles=True, share=False):
    """b + the stride-1 convolution of x: (N, C, *S) with w3: (O, C/G, T) -> (N, O, *out_size),
    on the flat layout: by register tiles (tiles=True) or the flat loop. keep: a list that
    receives (x, plan, xf), x in the flat input layout (for the weight gradient); share: x
    is a backward's g, packed as a shared pack (conv_scratch.shared_pack) that the weight
    gradient's tiles read too (g_output_layout)."""
    n, o, nsp = x.shape[0], w3.shape[0], geom.nsp
    a5 = five(x, nsp)
    total = n * plan.block
    shape = (a5.shape[1], (KT.room(total) if tiles else total) + plan.reach)

    def fill(xf):
        CT.flat_pack(a5, plan.gaps, plan.ext, xf)
    if keep is not None:
        xf = np.empty(shape, x.dtype)
        fill(xf)
        keep.append((x, plan, xf))
    elif share:
        xf = KW.shared_pack(x, plan, shape, x.dtype, fill)
    else:
        xf = _workspace(shape, x.dtype, 0)
        fill(xf)
    # rows a multiple of 16 long, plus 16 to spare for flat_unpack's whole-vector copies
    yf = _workspace((o, -(-KT.room(total) // 16) * 16 + 16), x.dtype, slot=4)
    (CT.tile_conv if tiles else CT.flat_conv)(xf, contiguous(w3), plan.offs, geom.groups,
                                              total, yf)
    y = np.empty((n, o) + out_size, x.dtype)      # owned: a .grad without another copy
    CT.unpack_images(yf, plan.ext, _bias(b, o, x.dtype), b is not None, 0, n,
                     y.reshape((n, o) + (1,) * (3 - nsp) + out_size))
    return y


def flipped(w, groups, taps):
    """w: (O, C/G, *k) -> (C, O/G, T): each group's transpose, taps reversed (the kernel of
    C(w)^T as a convolution)."""
    o, cg = w.shape[:2]
    w4 = w.reshape(groups, o // groups, cg, taps)[..., ::-1].transpose(0, 2, 1, 3)
    return np.ascontiguousarray(w4).reshape(groups * cg, o // groups, taps)


# -- GEMMs over shifted copies of the flat layout (kernels/conv_shift.py) ---------------------
def shift_conv(x, w, b, geom, plan, keep=None):
    """b + C(w) x: Y[grp] (O/G, positions) = W[grp] (O/G, C/G*T) . cols[grp]. keep: a list
    that receives (x, plan, xf), x in the flat input layout (for the weight gradient)."""
    n, o, nsp = x.shape[0], w.shape[0], geom.nsp
    x5 = five(x, nsp)
    xf = None
    if keep is not None:
        xf = KS.pack_input(x5, plan, np.empty((x5.shape[1], n * plan.block + plan.reach),
                                              x.dtype))
        keep.append((x, plan, xf))
    y = np.empty((n, o) + (1,) * (3 - nsp) + geom.out_size, x.dtype)
    KS.conv(x5, contiguous(w).reshape(geom.groups, o // geom.groups, -1),
            _bias(b, o, x.dtype), b is not None, plan, _workspace, y, xf)
    return y.reshape((n, o) + geom.out_size)


def shift_transpose(g, w, b, geom, plan):
    """b + C(w)^T g: Z = W[grp]^T (C/G*T, O/G) . G[grp], then the gather of Z's shifted rows."""
    n, o, nsp, c = g.shape[0], g.shape[1], geom.nsp, w.shape[1] * geom.groups
    dx = np.empty((n, c) + geom.in_size, g.dtype)         # owned (see flat_loop_conv)
    KS.transpose(KW.pack_output(g, five(g, nsp), plan),
                 contiguous(w).reshape(geom.groups, o // geom.groups, -1), plan,
                 _bias(b, c, g.dtype), _workspace,
                 dx.reshape((n, c) + (1,) * (3 - nsp) + geom.in_size))
    return dx


def shift_weight(x, g, geom, plan, wshape):
    """dW[grp]^T (C/G*T, O/G) = sum over positions of cols[grp] . G[grp]^T -> wshape (O, C/G,
    *k), in an array of its own."""
    gq = KW.pack_output(g, five(g, geom.nsp), plan)
    dwt = KS.weight_transposed(five(x, geom.nsp), gq, geom.groups, plan, _workspace,
                               KW.offered(x, plan))
    return _owned_weight(dwt.transpose(0, 2, 1), wshape)


def g_output_layout(g, geom, plan):
    """g: (N, O, *out) in the flat output layout, (O, N*block): the pack the input gradient's
    tiles made of g in the transposed plan's input layout, shifted by that plan's gap offset,
    when the two plans' blocks have the same extents (its data then sits `shift` positions
    on, and the gaps around it hold the zeros of the dropped positions); else packed."""
    t = geom.flat_t
    packed = KW.offered(g, t) if t is not None else None
    if packed is None or tuple(t.ext) != tuple(plan.ext):
        return KW.pack_output(g, five(g, geom.nsp), plan)
    shift = int((t.gaps[0] * t.ext[1] + t.gaps[1]) * t.ext[2] + t.gaps[2])
    return packed[:, shift:shift + g.shape[0] * plan.block]


def tile_weight(x, g, geom, plan, wshape):
    """dW by register tiles on the flat layout (kernels/conv_tile.py): per tap, G (O/G,
    positions) . x channels last shifted by the tap -> wshape (O, C/G, *k), in an array of
    its own."""
    n, c, nsp = x.shape[0], x.shape[1], geom.nsp
    gq = g_output_layout(g, geom, plan)
    xcl = _workspace((n * plan.block + plan.reach, c), x.dtype, 2)
    CT.pack_last(five(x, nsp), plan.gaps, plan.ext, xcl)
    dwt = np.zeros((geom.taps,) + wshape[:2], x.dtype)     # (T, O, C/G)
    CT.tile_weight(gq, xcl, plan.offs, geom.groups, dwt)
    out = np.empty(wshape, x.dtype)
    np.copyto(out.reshape(wshape[:2] + (geom.taps,)), dwt.transpose(1, 2, 0))
    return out


# -- batch-last columns (kernels/conv_batch_last.py) ------------------------------------------
CHUNK = 1 << 20            # column elements per chunk of output rows (4 MB of float32)
MIN_POSITIONS = 1024       # fewest columns per chunk of conv and conv_transpose
MIN_WEIGHT_POSITIONS = 2048    # and of conv_weight (each chunk adds a C/G*T x O/G product)


class BatchLastPlan:
    """The batch-last layout of a geometry (padded to three spatial dims): lo = the low
    padding, ext = xp's spatial extents (the data and every position a tap reads), geo = the
    kernels' (12,) table (kernel, stride, dilation, out), rows = OD*OH output rows of OW
    positions per image."""
    __slots__ = ("lo", "ext", "geo", "rows", "width", "size", "out")

    def __init__(self, geom):
        unit = (1,) * (3 - geom.nsp)
        kernel, stride = unit + geom.kernel, unit + geom.stride
        dilation, self.out = unit + geom.dilation, unit + geom.out_size
        self.size = unit + geom.in_size
        lo = (0,) * (3 - geom.nsp) + geom.pad
        self.lo = np.array(lo, np.int64)
        self.ext = tuple(max(p + s, (o - 1) * st + (k - 1) * d + 1) for p, s, o, st, k, d in
                         zip(lo, self.size, self.out, stride, kernel, dilation))
        self.geo = np.array(kernel + stride + dilation + self.out, np.int64)
        self.rows, self.width = self.out[0] * self.out[1], self.out[2]

    def step(self, n, rows, least):
        """Output rows per chunk: about CHUNK column elements of `rows` rows each, and at
        least `least` columns (positions) per chunk."""
        run = self.width * n
        return max(1, CHUNK // max(rows * run, 1), -(-least // run))


def _pack_input(x, plan, nsp, keep=None):
    """xp: (C, ED, EH, EW, N) = x: (N, C, *S) padded, batch last: the pack offered for x, or
    made in workspace slot 0, or (keep: a list) in an array of its own appended to keep as
    (x, plan, xp)."""
    xp = KW.offered(x, plan)
    if xp is not None:
        return xp
    x5 = five(x, nsp)
    shape = (x5.shape[1],) + plan.ext + (x5.shape[0],)
    xp = _workspace(shape, x.dtype, 0) if keep is None else np.empty(shape, x.dtype)
    CT.pack(x5, plan.lo, xp)
    if keep is not None:
        keep.append((x, plan, xp))
    return xp


def _pack_output(g, plan, nsp):
    """G: (O, OD*OH*OW*N) = g: (N, O, *out) batch last; packed once for the input and weight
    gradients of one Conv (conv_scratch.shared_pack)."""
    g5 = five(g, nsp)
    n, o = g5.shape[:2]

    def fill(buf):
        CT.pack(g5, np.zeros(3, np.int64), buf.reshape((o,) + plan.out + (n,)))
    return KW.shared_pack(g, plan, (o, plan.rows * plan.width * n), g.dtype, fill)


def batch_last_conv(x, w, b, geom, plan, keep=None):
    """b + C(w) x: x: (N, C, *S), w: (O, C/G, *k) -> (N, O, *out). keep: a list that
    receives (x, plan, xp) (for the weight gradient)."""
    n, o, groups, nsp = x.shape[0], w.shape[0], geom.groups, geom.nsp
    xp = _pack_input(x, plan, nsp, keep)
    k = xp.shape[0] * geom.taps
    run = plan.width * n
    yb = _workspace((groups, o // groups, plan.rows * run), x.dtype, 1)
    w3 = contiguous(w).reshape(groups, o // groups, k // groups)
    step = plan.step(n, k, MIN_POSITIONS)
    for r0 in range(0, plan.rows, step):
        r1 = min(plan.rows, r0 + step)
        cols = _workspace((k, (r1 - r0) * run), x.dtype, 2)
        CT.columns(xp, plan.geo, r0, r1, cols)
        np.matmul(w3, cols.reshape(groups, k // groups, -1), out=yb[:, :, r0 * run:r1 * run])
    y = np.empty((n, o) + plan.out, x.dtype)
    CT.unpack(yb.reshape((o,) + plan.out + (n,)), np.zeros(3, np.int64),
              _bias(b, o, x.dtype), b is not None, y)
    return y.reshape((n, o) + geom.out_size)


def batch_last_transpose(g, w, b, geom, plan):
    """b + C(w)^T g: g: (N, O, *out), w: (O, C/G, *k) -> (N, C, *S)."""
    n, o, groups, nsp = g.shape[0], g.shape[1], geom.groups, geom.nsp
    c = w.shape[1] * groups
    k = c * geom.taps
    run = plan.width * n
    gb = _pack_output(g, plan, nsp).reshape(groups, o // groups, -1)
    dxp = _workspace((c,) + plan.ext + (n,), g.dtype, 0)
    dxp[...] = 0
    w3t = contiguous(w).reshape(groups, o // groups, k // groups).transpose(0, 2, 1)
    step = plan.step(n, k, MIN_POSITIONS)
    for r0 in range(0, plan.rows, step):
        r1 = min(plan.rows, r0 + step)
        z = _workspace((k, (r1 - r0) * run), g.dtype, 2)
        np.matmul(w3t, gb[:, :, r0 * run:r1 * run], out=z.reshape(groups, k // groups, -1))
        CT.scatter_add(z, plan.geo, r0, r1, dxp)
    dx = np.empty((n, c) + geom.in_size, g.dtype)         # owned (see flat_loop_conv)
    CT.unpack(dxp, plan.lo, _bias(b, c, g.dtype), b is not None, dx.reshape((n, c) + plan.size))
    return dx


def batch_last_weight(x, g, geom, plan, wshape):
    """dW: wshape (O, C/G, *k) = d<g, C(w) x>/dw, in an array of its own. Formed as
    dW[grp] += G[grp] . cols[grp]^T when the batch has fewer positions than C/G*T (deep
    layers: the product's output is the big operand), else as its transpose
    cols[grp] . G[grp]^T (OpenBLAS: 10-30 % faster there), transposed at the end."""
    n, o, groups, nsp = x.shape[0], g.shape[1], geom.groups, geom.nsp
    xp = _pack_input(x, plan, nsp)
    k = xp.shape[0] * geom.taps
    run = plan.width * n
    gb = _pack_output(g, plan, nsp).reshape(groups, o // groups, -1)
    direct = plan.rows * run < k // groups
    shape = (groups, o // groups, k // groups) if direct else (groups, k // groups, o // groups)
    # the products land in workspaces: a fresh array written by BLAS's threads page-faults
    # in both at once (512 channels 3x3: 6.3 ms against 2.9 ms, then 1 ms for the copy)
    dw, part = _workspace(shape, x.dtype, 5), _workspace(shape, x.dtype, 4)
    step = plan.step(n, k, MIN_WEIGHT_POSITIONS)
    for r0 in range(0, plan.rows, step):
        r1 = min(plan.rows, r0 + step)
        cols = _workspace((k, (r1 - r0) * run), x.dtype, 2)
        CT.columns(xp, plan.geo, r0, r1, cols)
        c3, g3 = cols.reshape(groups, k // groups, -1), gb[:, :, r0 * run:r1 * run]
        a, b = (g3, c3.transpose(0, 2, 1)) if direct else (c3, g3.transpose(0, 2, 1))
        np.matmul(a, b, out=dw if r0 == 0 else part)
        if r0:
            dw += part
    return _owned_weight(dw if direct else dw.transpose(0, 2, 1), wshape)


def _owned_weight(dw, wshape):
    """dw: (G, O/G, C/G*T) copied into a new array of shape wshape (owning its data: the
    engine copies a gradient that is a view once more before it becomes a .grad)."""
    out = np.empty(wshape, dw.dtype)
    np.copyto(out.reshape(dw.shape), dw)
    return out
