"""Helpers of the scan kernels (scan.py, scan_lstm.py, scan_gru.py), inlined into or called
from their whole-sequence loops.

    gate_scalar(x, tanh, fast)     tanh(x) or sigmoid(x) (sigmoid_scalar, tanh_scalar;
                                   sigmoid_into / tanh_into over (n,) arrays)
    matmul_into(a, b, out)         out = a @ b, a: (m, k), b: (k, n) (one step's product;
                                   register tiles from register_tile.py); matmul_tiles
                                   the same, called rather than inlined (many rows)
    state_rows / final_rows        where a step's starting states and the final states are
    state_product                  a step's starting states @ W_hh^T, read in place
    (aligned_copy, aligned_transpose, unowned, copy_rows: scan_memory.py, compiled with these)
    fma(a, b, c)                   a * b + c with one rounding (LLVM's fma)

fast=True (float32 data) evaluates exp in float64 arithmetic, in loops LLVM vectorises:
    v = k ln2 + r, k = round(v / ln2), |r| <= ln2 / 2
    exp(v) = 2^k * sum_{j<=11} r^j / j!          (relative error < 1e-14)
with 2^k built from its bits, (k + 1023) << 52 (`bits_f64`); then, e = exp(-a|x|):
    sigmoid(x) = 1 / (1 + e) (x >= 0), e / (1 + e) (x < 0)             a = 1
    tanh(x)    = sign(x) (1 - e) / (1 + e)                              a = 2, |x| >= 1/4
               = x - x^3/3 + 2x^5/15 - ... (odd series to x^13)         |x| < 1/4
(the series avoids the cancellation of 1 - e near 0; its truncation error is < 1e-11).
Rounded to float32 this is the correctly rounded value, or 1 ulp from it within 1e-14 of a
rounding midpoint: within float32 rounding of the exact function over the whole range,
saturation, denormals, inf and NaN included (tests/kernels/test_scan_kernels.py sweeps it).
fast=False (float64 data) uses the C library's exp and tanh.

The helpers are plain Python functions until the first scan kernel compiles: scan_jit then
compiles them (the small ones inlined into the kernels; bits_f64, fma and the register
tiles as LLVM intrinsics) and rebinds their names in the kernel's module. numba keys a cached
kernel on its own file only, so a kernel cached before this file or register_tile.py last
changed is recompiled (_flush_if_stale).
"""

import numpy as np

from . import register_tile, scan_memory
from ._jit import _numba, flush_stale_cache, jit
from .scan_memory import copy_rows

__all__ = ["sigmoid_into", "tanh_into", "matmul_into", "matmul_tiles", "scan_jit",
           "scan_helper", "batch_offsets", "state_rows", "chunk_state_rows", "state_product",
           "final_rows", "activation", "matmul"]

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01       # ln 2 split so that k * LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10
E2, E3, E4, E5 = 1 / 2, 1 / 6, 1 / 24, 1 / 120                   # 1 / j!
E6, E7, E8, E9 = 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880
E10, E11 = 1 / 3628800, 1 / 39916800
T3, T5, T7 = -1 / 3, 2 / 15, -17 / 315                             # tanh's odd series
T9, T11, T13 = 62 / 2835, -1382 / 155925, 21844 / 6081075
SMALL_TANH = 0.25
BLAS_GEMM = 1 << 24           # m * k * n above which matmul_into calls BLAS


def bits_f64(bits):
    """The float64 whose IEEE bits are the int64 `bits` (a numba intrinsic once compiled)."""
    return np.int64(bits).view(np.float64)


def fma(a, b, c):
    """a * b + c rounded once (an LLVM fma once compiled: exact, not a fast-math shortcut)."""
    return a * b + c


def exp_neg(v):
    """exp(v) for v <= 0 (v < -708 is clamped: exp is then below float32's range), with the
    polynomial of the module docstring; NaN gives a finite garbage value. The polynomial by
    Estrin's scheme (pairs, then powers r^2, r^4, r^8): a dependency chain of 5
    multiply-adds, not Horner's 11 (gate loops 10 % faster: they wait on latency)."""
    v = v if v > -708.0 else -708.0
    k = np.floor(v * LOG2E + 0.5)
    r = fma(-k, LN2_LO, fma(-k, LN2_HI, v))
    r2 = r * r
    r4 = r2 * r2
    low = fma(fma(E3, r, E2), r2, r + 1.0)                  # 1 + r + r^2/2 + r^3/6
    mid = fma(fma(E7, r, E6), r2, fma(E5, r, E4))           # (r^4 ... r^7 terms) / r^4
    high = fma(fma(E11, r, E10), r2, fma(E9, r, E8))        # (r^8 ... r^11 terms) / r^8
    p = fma(fma(high, r4, mid), r4, low)
    return p * bits_f64((np.int64(k) + 1023) << 52)


def gate_scalar(x, tanh, fast):
    """tanh(x) when `tanh` else sigmoid(x), branch-free in the fast case so that one loop can
    mix the two (the LSTM's gate blocks). fast (float32): with e = exp(-a|x|), a = 1 or 2,
    s = 1 / (1 + e):  sigmoid(x) = s (x >= 0) or e s (x < 0),  tanh(|x|) = (1 - e) s, or
    the odd series for |x| < 1/4; float64 arithmetic, NaN kept. Else the exact functions."""
    if not fast:
        return np.tanh(x) if tanh else 1.0 / (1.0 + np.exp(-x))
    xd = np.float64(x)
    a = abs(xd)
    e = exp_neg(-2.0 * a if tanh else -a)
    s = 1.0 / (1.0 + e)
    a2 = a * a
    p = fma(T13, a2, T11)
    p = fma(p, a2, T9)
    p = fma(p, a2, T7)
    p = fma(p, a2, T5)
    p = fma(p, a2, T3)
    th = fma(a * a2, p, a) if a < SMALL_TANH else (1.0 - e) * s
    th = -th if xd < 0.0 else th
    sg = s if xd >= 0.0 else e * s
    y = th if tanh else sg
    return y if xd == xd else xd


def sigmoid_scalar(x, fast):
    """sigmoid(x) (see gate_scalar)."""
    return gate_scalar(x, False, fast)


def tanh_scalar(x, fast):
    """tanh(x) (see gate_scalar)."""
    return gate_scalar(x, True, fast)


def sigmoid_into(x, out, fast):
    """out = sigmoid(x) over (n,) arrays (out may be x)."""
    for i in range(x.size):
        out[i] = sigmoid_scalar(x[i], fast)


def tanh_into(x, out, fast):
    """out = tanh(x) over (n,) arrays (out may be x)."""
    for i in range(x.size):
        out[i] = tanh_scalar(x[i], fast)


def matmul_into(a, b, out):
    """out = a @ b for a: (m, k), b: (k, n), out: (m, n) (b and out with unit stride along
    their last axis, else a plain loop). Up to BLAS_GEMM multiply-adds register tiles
    (kernels/register_tile.py; one thread: a step's product is too small to share, and a
    thread pool waiting on a busy machine costs more than the product), BLAS above. Tiles of
    8 and 4 rows by two vectors, then 2 and 1 row (four partial sums; a single row by eight
    vectors where it spans them); columns past the last two-vector block by one vector, the
    rest one by one, all in k order. A row at a multiple of 4 from the start therefore gets
    the same sums in any product that has it at a multiple of 4 (scan_threads' split).
    Inlined: a single row whose columns are whole two-vector blocks (a step of one sequence)
    takes its tiles here; a call of matmul_tiles costs more than that product (1 x 32 @
    32 x 128: ~50 ns a step)."""
    n = b.shape[1]
    item = out.itemsize
    if a.shape[0] == 1 and n % (2 * VECTOR_BYTES // item) == 0 and \
            b.strides[1] == item and out.strides[1] == item and a.shape[1] * n <= BLAS_GEMM:
        one_row_tiles(a, b, out, 0, n)
    else:
        matmul_tiles(a, b, out)


def one_row_tiles(a, b, out, i, tiled):
    """Row i of out = a[i] @ b over columns 0 <= j < tiled (whole two-vector blocks): eight
    vectors at a time while they fit (1 x 32 @ 32 x 128: 110 -> 40 ns), then two."""
    lanes = VECTOR_BYTES // out.itemsize
    wide = tiled - tiled % (8 * lanes)
    for j in range(0, wide, 8 * lanes):
        tile_wide1(a, b, out, i, j)
    for j in range(wide, tiled, 2 * lanes):
        tile_rows1(a, b, out, i, j)


def matmul_tiles(a, b, out):
    """matmul_into's product, called (not inlined): for products of many rows, and rare
    ones (each inlined front adds its tiles' code to the kernel: compile time)."""
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if m * k * n > BLAS_GEMM:
        np.dot(a, b, out)
        return
    item = out.itemsize
    if b.strides[1] != item or out.strides[1] != item:          # (a: any strides)
        _matmul_strided(a, b, out)
        return
    lanes = VECTOR_BYTES // item
    tiled = n - n % (2 * lanes)
    i = 0
    while m - i >= 8:
        for j in range(0, tiled, 2 * lanes):
            tile_rows8(a, b, out, i, j)
        i += 8
    if m - i >= 4:
        for j in range(0, tiled, 2 * lanes):
            tile_rows4(a, b, out, i, j)
        i += 4
    if m - i >= 2:
        for j in range(0, tiled, 2 * lanes):
            tile_rows2(a, b, out, i, j)
        i += 2
    if m - i == 1:
        one_row_tiles(a, b, out, i, tiled)
    j0 = tiled
    if n - j0 >= lanes:
        i = 0
        while m - i >= 8:
            tile_vector(a, b, out, i, j0)
            i += 8
        for r in range(i, m):
            tile_vector1(a, b, out, r, j0)
        j0 += lanes
    if j0 < n:
        _matmul_strided(a, b[:, j0:], out[:, j0:])      # the last columns (< a vector)


def _matmul_strided(a, b, out):
    """out = a @ b for arrays of any strides (one sum in k order per element)."""
    zero = np.zeros(1, out.dtype)[0]
    for r in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = zero
            for p in range(a.shape[1]):
                s = fma(a[r, p], b[p, j], s)
            out[r, j] = s


def state_rows(hs, h0, offsets, sizes, step, t, reverse, scratch):
    """The states the rows of step t (visited `step`-th) start from, as a contiguous
    (sizes[t], H) block: a block of hs (or of h0 at the first step) when it can be, else
    gathered into scratch (B, H) (reverse over a growing packed batch)."""
    return chunk_state_rows(hs, h0, offsets, sizes, step, t, reverse, 0, h0.shape[0], scratch)


def chunk_state_rows(hs, h0, offsets, sizes, step, t, reverse, lo, hi, scratch):
    """state_rows for the sequences lo <= s < hi only: their rows of step t, a contiguous
    (n, H) block with n = min(sizes[t], hi) - lo > 0; scratch: (hi - lo, H)."""
    nb = min(sizes[t], hi) - lo
    if step == 0:
        return h0[lo:lo + nb]
    tp = t + 1 if reverse else t - 1
    po = offsets[tp] + lo
    npv = max(min(sizes[tp], hi) - lo, 0)
    if npv >= nb:
        return hs[po:po + nb]
    copy_rows(hs[po:po + npv], scratch[:npv])
    copy_rows(h0[lo + npv:lo + nb], scratch[npv:nb])
    return scratch[:nb]


def state_product(hs, h0, offsets, sizes, step, t, reverse, lo, hi, scratch, w, out):
    """out = hprev @ w for hprev the states the rows of step t of the sequences
    lo <= s < hi start from (chunk_state_rows), read in place where they can be: one
    product call per case (an array picked by branches costs reference counts, ~40 ns a
    step); only the steady case inlines matmul_into's one-row front."""
    nb = min(sizes[t], hi) - lo
    if step == 0:
        matmul_tiles(h0[lo:lo + nb], w, out)
        return
    tp = t + 1 if reverse else t - 1
    po = offsets[tp] + lo
    if min(sizes[tp], hi) - lo >= nb:             # the step of every scan but the first
        matmul_into(hs[po:po + nb], w, out)
    else:
        matmul_tiles(chunk_state_rows(hs, h0, offsets, sizes, step, t, reverse, lo, hi,
                                      scratch), w, out)


def final_rows(hs, sizes, reverse, h_n):
    """h_n: (B, H) = each sequence's last row of hs: its last step forward, step 0 reverse."""
    offsets = batch_offsets(sizes)
    steps = sizes.size
    for t in range(steps):
        lo = 0 if reverse or t == steps - 1 else sizes[t + 1]
        if reverse and t > 0:
            break
        for r in range(lo, sizes[t]):
            for j in range(h_n.shape[1]):
                h_n[r, j] = hs[offsets[t] + r, j]


def batch_offsets(sizes):
    """sizes: (T,) batch sizes -> (T + 1,) row offsets of each step in the packed rows."""
    offsets = np.zeros(sizes.size + 1, np.int64)
    for t in range(sizes.size):
        offsets[t + 1] = offsets[t] + sizes[t]
    return offsets


INLINE = ("exp_neg", "gate_scalar", "sigmoid_scalar", "tanh_scalar", "sigmoid_into",
          "tanh_into", "copy_rows", "batch_offsets", "state_rows", "chunk_state_rows",
          "state_product", "matmul_into", "one_row_tiles", "aligned_copy",
          "aligned_empty", "unowned", "_matmul_strided")           # inlined: no call cost
HELPERS = ("matmul_tiles", "final_rows", "aligned_transpose")         # compiled once, shared
VECTOR_BYTES = 64             # the tiles' vector width: register_tile.vector_bytes(), set
                              # before the helpers compile
# the register tiles (register_tile.tiles(), LLVM intrinsics: compiled code only), bound by
# _compiled_helpers before matmul_into compiles
tile_rows8 = tile_rows4 = tile_rows2 = tile_rows1 = tile_wide1 = tile_vector = None
tile_vector1 = None
_NAMESPACES = (globals(), vars(scan_memory))   # where the helpers live and are rebound
_compiled = {}


def _intrinsics():
    """bits_f64 as an LLVM bitcast (numba has no scalar int -> float reinterpretation) and fma
    as LLVM's fused multiply-add (numba contracts a * b + c only under fastmath); carray and
    address_pointer for scan_memory.unowned."""
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    @intrinsic
    def bits_f64(typingctx, bits):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen

    @intrinsic
    def fma(typingctx, a, b, c):
        if not (isinstance(a, types.Float) and a == b == c):
            return None

        def codegen(context, builder, signature, args):
            return builder.fma(*args)
        return a(a, a, a), codegen
    from numba import carray

    from .blas_threads import address_pointer
    return {"bits_f64": bits_f64, "fma": fma, "carray": carray,
            "address_pointer": address_pointer(), **register_tile.tiles()}


def _compiled_helpers():
    """The helpers compiled with numba (once), also rebound in this module and scan_memory so
    that helpers calling helpers get the compiled versions."""
    if not _compiled:
        numba = _numba()
        globals()["VECTOR_BYTES"] = register_tile.vector_bytes()
        for name, fn in _intrinsics().items():
            _bind(name, fn)
        for name in INLINE:
            _bind(name, numba.njit(inline="always", error_model="numpy")(_source(name)))
        for name in HELPERS:
            _bind(name, numba.njit(cache=True, error_model="numpy")(_source(name)))
            _flush_if_stale(_compiled[name])
    return _compiled


def _source(name):
    """The plain Python helper `name` (from this module or scan_memory)."""
    return next(ns[name] for ns in _NAMESPACES if name in ns)


def _bind(name, value):
    _compiled[name] = value
    for ns in _NAMESPACES:
        if name in ns:
            ns[name] = value


def _flush_if_stale(dispatcher):
    """numba keys a cached kernel on its own file only, but the scan kernels inline this
    file's and scan_memory's helpers: a kernel cached before either changed is dropped from
    the cache."""
    py_func = dispatcher.py_func
    flush_stale_cache(getattr(dispatcher, "_cache", None),
                      f"{py_func.__module__}.{py_func.__qualname__}",
                      [__file__, scan_memory.__file__, register_tile.__file__],
                      register_tile.cache_salt())


def scan_helper(py_func):
    """Marks a function of a scan kernel module as a helper of its kernels: scan_jit compiles
    it (once, cached, not inlined) and rebinds its name in the module before a kernel that
    calls it compiles. Until then it stays a plain Python function."""
    py_func.scan_helper = True
    return py_func


def _compile_module_helpers(namespace):
    """Compile the module's scan_helper functions (see scan_helper), once."""
    numba = _numba()
    for name, value in list(namespace.items()):
        if getattr(value, "scan_helper", False) and not hasattr(value, "py_func"):
            compiled = numba.njit(cache=True, error_model="numpy")(value)
            _flush_if_stale(compiled)
            namespace[name] = compiled


def scan_jit(namespace, **options):
    """jit(**options) for a scan kernel module whose globals are `namespace`: before the
    kernel's first compile, the helper names in that module are replaced by their compiled
    versions (scan_math's, and the module's own scan_helper functions)."""
    def prepare():
        namespace.update({k: v for k, v in _compiled_helpers().items() if k in namespace})
        _compile_module_helpers(namespace)
    return jit(prepare=prepare, finish=_flush_if_stale, **options)


@scan_jit(globals())
def matmul(a, b, out):
    """out = a @ b with matmul_into (tests; scan_threads' input projection, as the serial
    LSTM kernel computes it)."""
    matmul_into(a, b, out)


@scan_jit(globals())
def activation(x, out, tanh, fast):
    """out = tanh(x) or sigmoid(x) over (n,) arrays, as the scans compute them (for tests
    and the accuracy sweep)."""
    if tanh:
        tanh_into(x, out, fast)
    else:
        sigmoid_into(x, out, fast)
