"""Shared by the fused scan primitives (scan.py, scan_lstm.py, scan_gru.py): argument checks,
the packed-rows geometry, the create_graph=True path (recomputed_grads) and array helpers."""
import numpy as np

from ..kernels import scan as K
from ..kernels import scan_threads as ST
from ..kernels import tile_gemm as TG
from ..tensor import Tensor

SCAN_SLOT = 8     # the workspace slot (kernels/scratch.py) of the scans' backward scratch

__all__ = ["check_scan_args", "check_states", "check_dtypes", "step_sizes",
           "recomputed_grads", "carray", "wrap", "rows_of", "initial_state", "input_gates",
           "linear_grads", "save", "saved", "state_grad", "final_state",
           "output_grad", "nothing"]


def nothing(dtype):
    """A (0, 0) array of dtype: a kernel argument that is not wanted (one per dtype, shared:
    nothing is ever written into it)."""
    return _NOTHING[np.dtype(dtype)]


_NOTHING = {np.dtype(t): np.empty((0, 0), t) for t in (np.float32, np.float64)}


def carray(arr, dtype):
    """arr as a C-contiguous array of dtype (no copy when it already is one)."""
    return np.ascontiguousarray(arr, dtype=dtype)


def wrap(arr):
    """A gradient array as a constant Tensor (None stays None)."""
    return None if arr is None else Tensor._make(arr, False, None, 0)


def rows_of(x):
    """x: (..., I) Tensor -> its data as a C-contiguous (R, I) array (a view when it can)."""
    data = x.data
    return np.ascontiguousarray(data.reshape(-1, data.shape[-1]))


def initial_state(state, batch, size, dtype):
    """The initial state as a C-contiguous (B, size) array; zeros when state is None."""
    if state is None:
        return np.zeros((batch, size), dtype)
    return carray(state.data, dtype)


def state_grad(g, state):
    """The gradient of a final state (1, B, size) as a C-contiguous (B, size) array the
    backward kernel may overwrite (it leaves the initial state's there): a copy, or zeros
    for None (the scans set materialize_grads False)."""
    if g is None:
        return np.zeros(state.shape, state.dtype)
    return np.array(g.data, dtype=state.dtype, order="C").reshape(state.shape)


def output_grad(g, hs):
    """The gradient of a scan's output as (R, size) rows like hs (zeros for None)."""
    if g is None:
        return np.zeros(hs.shape, hs.dtype)
    return carray(g.data, hs.dtype).reshape(hs.shape)


def final_state(state):
    """An array for a scan's final state: (1, B, size) like the layers' (L*D, B, size), so
    a one-layer layer returns it with no op; the kernels write its (B, size) view [0]."""
    return np.empty((1,) + state.shape, state.dtype)


def save(ctx, tensors, out, arrays):
    """Save for backward the input Tensors and the output array `out` forward returns (both
    version-checked: changing them in place before backward raises), and the forward's
    private intermediate arrays; the engine frees them after backward unless
    retain_graph=True."""
    ctx.save_for_backward(*tensors, out)
    ctx.save_arrays(*arrays)


def saved(ctx):
    """-> (the saved input Tensors, the output's data as (R, size) rows, the arrays)."""
    *tensors, out = ctx.saved_tensors
    data = out.data
    return tuple(tensors), data.reshape(-1, data.shape[-1]), ctx.saved_arrays


def recomputed_grads(ctx, grads, inputs, states, weights):
    """The gradients of the forward's arguments for a backward under create_graph=True.
    The fused kernels are once-differentiable (their backward runs on arrays in numba), so
    the forward is recomputed on the composed path (ctx.recompute(x, states, weights), given
    by the layer; None when the scan was called directly) and differentiated through that
    graph: the gradients it returns are themselves differentiable. inputs: the forward's
    Tensor arguments in order (None where not given), from the saved tensors; states: the
    initial states among them; weights: {stem: Tensor or None} as the layer names them."""
    if ctx.recompute is None:
        raise RuntimeError(
            f"{ctx.name()}: the fused recurrent scan is once-differentiable, so its backward "
            "cannot be recorded (create_graph=True). Run the layer on the composed path for "
            "higher-order gradients: set `layer.fused = False` or wrap the forward in "
            "`with nn.rnn.fused_scan(False):`.")
    from ..engine import grad
    out, finals = ctx.recompute(inputs[0], states, weights)
    needs = ctx.needs_input_grad
    wanted = [t for t, need in zip(inputs, needs) if need]
    pairs = [(o, g) for o, g in zip((out,) + tuple(finals), grads)
             if g is not None and o.requires_grad]
    found = iter(grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                      create_graph=True, allow_unused=True))
    return tuple(next(found) if need else None for need in needs)


def step_sizes(op, x, batch_sizes):
    """The batch size of every step as an int64 array, and the batch B: x is a padded batch
    (T, B, I) when batch_sizes is None (T steps of B), else packed rows (R, I) with
    batch_sizes (T,) positive, non-increasing and summing to R."""
    if batch_sizes is None:
        if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0:
            raise RuntimeError(f"{op}: expected a padded input (T, B, I) with T, B > 0 (or "
                               f"packed rows (R, I) with batch_sizes), got {tuple(x.shape)}")
        return np.full(x.shape[0], x.shape[1], np.int64), x.shape[1]
    if isinstance(batch_sizes, Tensor):
        batch_sizes = batch_sizes.data
    sizes = np.ascontiguousarray(batch_sizes, dtype=np.int64).reshape(-1)
    if x.ndim != 2 or sizes.size == 0 or sizes.min() < 1 or np.any(np.diff(sizes) > 0) or \
            int(sizes.sum()) != x.shape[0]:
        raise RuntimeError(f"{op}: packed rows (R, I) need batch_sizes that are positive, "
                           f"non-increasing and sum to R; got input {tuple(x.shape)} and "
                           f"batch_sizes {sizes.tolist()}")
    return sizes, int(sizes[0])


def check_scan_args(op, gates, x, w_ih, w_hh, biases):
    """x: (R, I), w_ih: (gates*H, I), w_hh: (gates*H, P), biases (gates*H,) or None, one
    floating dtype (float32 or float64) for all -> H."""
    for name, t in (("input", x), ("w_ih", w_ih), ("w_hh", w_hh)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: expected a float32 or float64 input, got {x.dtype}")
    if x.ndim not in (2, 3) or w_ih.ndim != 2 or w_hh.ndim != 2 or \
            w_ih.shape[1] != x.shape[-1] or w_ih.shape[0] != w_hh.shape[0] or \
            w_ih.shape[0] % gates:
        raise RuntimeError(f"{op}: expected input (T, B, I) or (R, I), w_ih ({gates}*H, I), "
                           f"w_hh ({gates}*H, P); got input {tuple(x.shape)}, w_ih "
                           f"{tuple(w_ih.shape)}, w_hh {tuple(w_hh.shape)}")
    hidden = w_ih.shape[0] // gates
    tensors = [x, w_ih, w_hh]
    for name, b in biases.items():
        if b is None:
            continue
        if not isinstance(b, Tensor) or b.shape != (gates * hidden,):
            shape = tuple(b.shape) if isinstance(b, Tensor) else type(b).__name__
            raise RuntimeError(f"{op}: {name} must be a Tensor of shape ({gates * hidden},), "
                               f"got {shape}")
        tensors.append(b)
    check_dtypes(op, tensors)
    return hidden


def check_states(op, x, batch, states):
    """states: {name: (tensor or None, size)}, each tensor (B, size)."""
    for name, (t, size) in states.items():
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
        if tuple(t.shape) != (batch, size):
            raise RuntimeError(f"{op}: {name} of shape {tuple(t.shape)} does not match "
                               f"(B, {size}) = ({batch}, {size})")
        check_dtypes(op, [x, t])


def check_dtypes(op, tensors):
    if any(t.dtype != tensors[0].dtype for t in tensors):
        shown = ", ".join(f"{t.dtype} {tuple(t.shape)}" for t in tensors)
        raise RuntimeError(f"{op}: expected all tensors to have the same dtype, got {shown}")


def transposed_product(a, b):
    """a^T @ b for a: (K, M), b: (K, N): register tiles (kernels/tile_gemm.py, K's rows in
    chunks; LSTM(32, 128) on (100, 32, 32): dW_hh 1.1 -> 0.75 ms after the scan kernel) when
    both are C-contiguous of one dtype, else BLAS."""
    if a.flags.c_contiguous and b.flags.c_contiguous and a.dtype == b.dtype and \
            a.dtype in (np.float32, np.float64):
        return ST.weight_product(a, b)
    return a.T @ b


def hprev_rows(d, hs, h0, sizes, reverse):
    """(d', hprev) with d'^T hprev = d^T H_prev (see hprev_product): hs shifted by one step
    (no copy) when every step has the whole batch and h0 is zeros (None), else d and the
    gathered hprev (R, P)."""
    batch = sizes[0]
    if sizes[-1] == batch and h0 is None:
        return (d[:-batch], hs[batch:]) if reverse else (d[batch:], hs[:-batch])
    if h0 is None:
        h0 = np.zeros((batch, hs.shape[1]), hs.dtype)
    hprev = np.empty_like(hs)
    K.previous_rows(hs, h0, sizes, reverse, hprev)
    return d, hprev


def hprev_product(d, hs, h0, sizes, reverse):
    """d^T hprev: (G*H, P), with hprev (R, P) the state each row started from (h0's rows at
    the first step, else the previous step's rows of hs; h0 None means zeros). A padded
    batch needs no copy: hprev is hs shifted by one step, h0's term apart."""
    batch = sizes[0]
    if sizes[-1] == batch and h0 is not None:
        first, rest, prev = (d[-batch:], d[:-batch], hs[batch:]) if reverse else \
            (d[:batch], d[batch:], hs[:-batch])
        return transposed_product(rest, prev) + first.T @ h0
    return transposed_product(*hprev_rows(d, hs, h0, sizes, reverse))


def linear_grads(ctx, x, rows, d_in, d_hid, w_ih, hs, h0, states, extra=(), d_bias=None,
                 dx=None):
    """The gradients of (x, *states, w_ih, w_hh, b_ih, b_hh, *extra) followed by None for
    each remaining forward argument, from the pre-activation gradients of the input side
    d_in and the hidden side d_hid (R, G*H): dx = d_in W_ih, dW_ih = d_in^T x,
    dW_hh = d_hid^T hprev, db_ih / db_hh = row sums (d_bias: d_in's row sums when the
    kernel already has them, then d_hid must be d_in; dx: likewise, of x's shape). h0: the
    initial state array, or None for zeros. A small scan takes the three products in one
    kernel call (tile_gemm.linear_grads), a large one BLAS and the split weight_product."""
    needs = ctx.needs_input_grad
    k = 1 + len(states)
    want_dx = dx is None and needs[0]
    if _small(d_in, rows, hs, w_ih):
        dx, dw_ih, dw_hh = _small_linear_grads(ctx, x.shape, rows, d_in, d_hid, w_ih, hs,
                                               h0, want_dx, needs[k], needs[k + 1], dx)
    else:
        if want_dx:
            dx = (d_in @ w_ih).reshape(x.shape)
        dw_ih = transposed_product(d_in, rows) if needs[k] else None
        dw_hh = hprev_product(d_hid, hs, h0, ctx.sizes, ctx.reverse) if needs[k + 1] \
            else None
    if d_bias is not None:
        db = d_bias.astype(d_in.dtype)
        db_ih, db_hh = (db if needs[k + 2] else None), (db if needs[k + 3] else None)
    else:
        db_ih = d_in.sum(0) if needs[k + 2] else None
        if needs[k + 3]:
            db_hh = db_ih if d_hid is d_in and db_ih is not None else d_hid.sum(0)
        else:
            db_hh = None
    states = tuple(s if needs[1 + i] else None for i, s in enumerate(states))
    grads = (dx,) + states + (dw_ih, dw_hh, db_ih, db_hh) + tuple(extra)
    return tuple(wrap(g) for g in grads) + (None,) * (len(needs) - len(grads))


def _small(d_in, rows, hs, w_ih):
    """Whether the scan's products are small enough for one thread and one kernel call (as
    weight_product's split, ST.MIN_WORK) and their arrays fit it."""
    return d_in.shape[0] * d_in.shape[1] * (rows.shape[1] + hs.shape[1]) < ST.MIN_WORK and \
        d_in.dtype in (np.float32, np.float64) and w_ih.dtype == d_in.dtype and \
        w_ih.flags.c_contiguous


def _small_linear_grads(ctx, x_shape, rows, d_in, d_hid, w_ih, hs, h0, want_dx, want_ih,
                        want_hh, dx):
    """linear_grads' (dx, dW_ih, dW_hh) by tile_gemm.linear_grads (None where not wanted;
    dx as given when not wanted, else built in x's shape: no copy when it becomes .grad)."""
    dtype = d_in.dtype
    skip = nothing(dtype)
    d_prev, hprev = hprev_rows(d_hid, hs, h0, ctx.sizes, ctx.reverse) if want_hh else \
        (skip, skip)
    if want_dx:
        dx = np.empty(x_shape, dtype)
    dw_ih = np.empty((d_in.shape[1], rows.shape[1]), dtype) if want_ih else skip
    dw_hh = np.empty((d_hid.shape[1], hs.shape[1]), dtype) if want_hh else skip
    TG.linear_grads(d_in, rows, w_ih, d_prev, hprev, dx.reshape(rows.shape) if want_dx else
                    skip, dw_ih, dw_hh)
    return dx, (dw_ih if want_ih else None), (dw_hh if want_hh else None)


def input_gates(rows, w_ih, b_ih, b_hh):
    """xg = x W_ih^T + b_ih + b_hh: the input projections of every row in one GEMM
    (b_ih and b_hh are arrays or None)."""
    xg = np.matmul(rows, w_ih.T)
    for b in (b_ih, b_hh):
        if b is not None:
            xg += b
    return xg
