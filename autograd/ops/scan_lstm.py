"""The fused LSTM scan primitive (see scan.py; the math in autograd/kernels/scan_lstm.py)."""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..kernels import scan_threads as K
from ..kernels.scratch import workspace
from ._scan_util import (SCAN_SLOT, carray, check_dtypes, check_scan_args, check_states,
                         final_state, initial_state, linear_grads, nothing, recomputed_grads,
                         output_grad, rows_of, save, saved, state_grad, step_sizes)

__all__ = ["LSTMScan", "lstm_scan"]


KERNEL_INPUT_GEMM = 1 << 20  # x W_ih^T up to this many multiply-adds in the kernel's loops
                             # (BLAS's thread start-up costs more at such sizes)
KERNEL_INPUT_GRAD = 8        # dx = da W_ih in the backward kernel, a step's rows at a time,
                             # from this many sequences (its 8-row register tiles; H128 B32:
                             # 0.44 ms of GEMM after the kernel -> 0.2 ms inside it); fewer:
                             # one GEMM after (B1: the per-step products cost more)


class LSTMScan(Function):
    """[i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh, c_t = f c_{t-1} + i g,
    h_t = (o tanh(c_t)) W_hr^T (W_hr: the optional projection). Arguments (x, h0, c0, w_ih,
    w_hh, b_ih, b_hh, w_hr, sizes, reverse, recompute); h0, c0, biases and w_hr may be None;
    recompute: as RNNScan's (scan.py). -> (out, h_n (1, B, P), c_n (1, B, H))."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, sizes, reverse, recompute=None):
        dtype = x.data.dtype
        rows = rows_of(x)
        count, hidden, proj = rows.shape[0], w_hh.shape[0] // 4, w_hh.shape[1]
        if count * rows.shape[1] * 4 * hidden <= KERNEL_INPUT_GEMM:
            wih = carray(w_ih.data, dtype)           # the kernel computes xg = x W_ih^T
            gates = np.empty((count, 4 * hidden), dtype)
        else:
            wih = nothing(dtype)
            gates = np.matmul(rows, w_ih.data.T)     # xg
        bias = _bias_sum(b_ih, b_hh, 4 * hidden, dtype)     # added by the kernel
        states = (h0, c0)
        h0 = initial_state(h0, sizes[0], proj, dtype)
        c0 = initial_state(c0, sizes[0], hidden, dtype)
        hs = np.empty((count, proj), dtype)
        cs, tanh_c = np.empty((count, hidden), dtype), np.empty((count, hidden), dtype)
        h_n, c_n = final_state(h0), final_state(c0)
        if w_hr is None:
            whr = m = nothing(dtype)
        else:
            whr, m = carray(w_hr.data, dtype), np.empty((count, hidden), dtype)
        args = (rows, wih, gates, carray(w_hh.data, dtype), bias, whr, h0, c0, sizes, reverse,
                dtype == np.float32, hs, cs, tanh_c, m, h_n[0], c_n[0])
        K.lstm_scan_forward(*args)
        out = hs.reshape(x.shape[:-1] + (proj,))
        save(ctx, (x, w_ih, w_hh, w_hr) + states + (b_ih, b_hh), out,
             (rows, h0, c0, gates, cs, tanh_c, m))
        ctx.recompute = recompute
        ctx.set_materialize_grads(False)        # an output without gradient: None
        ctx.zero_h0 = states[0] is None
        ctx.sizes, ctx.reverse = sizes, reverse
        return out, h_n, c_n

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn):
        if _State.enabled:                      # create_graph=True
            (x, w_ih, w_hh, w_hr, h0, c0, b_ih, b_hh), _, _ = saved(ctx)
            return recomputed_grads(
                ctx, (g_out, g_hn, g_cn), (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr), (h0, c0),
                dict(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh,
                     weight_hr=w_hr))
        (x, w_ih, w_hh, w_hr, *_), hs, (rows, h0, c0, gates, cs, tanh_c, m) = saved(ctx)
        dtype = gates.dtype
        dh, dc = state_grad(g_hn, h0), state_grad(g_cn, c0)
        da = workspace(gates.shape, dtype, slot=SCAN_SLOT)     # freed when backward ends
        db = np.empty(gates.shape[1], np.float64)
        if w_hr is None:
            whr = dh_all = nothing(dtype)
        else:
            whr, dh_all = carray(w_hr.data, dtype), np.empty(hs.shape, dtype)
        needs = ctx.needs_input_grad
        if needs[0] and ctx.sizes[0] >= KERNEL_INPUT_GRAD:     # dx of x's shape: owned
            dx = np.empty(x.shape[:-1] + (w_ih.shape[1],), dtype)
            wih, dx_rows = carray(w_ih.data, dtype), dx.reshape(rows.shape)
        else:
            dx = None
            wih = dx_rows = nothing(dtype)
        args = (output_grad(g_out, hs), carray(w_hh.data, dtype), whr, c0,
                gates, cs, tanh_c, ctx.sizes, ctx.reverse, dh, dc, da, dh_all, db, wih, dx_rows)
        K.lstm_scan_backward(*args)
        dw_hr = dh_all.T @ m if w_hr is not None and needs[7] else None     # sum dh^T m
        return linear_grads(ctx, x, rows, da, da, w_ih.data, hs,
                            None if ctx.zero_h0 else h0, states=(dh, dc),
                            extra=(dw_hr,), d_bias=db, dx=dx)


def _bias_sum(b_ih, b_hh, size, dtype):
    """b_ih + b_hh as an array (zeros without either)."""
    if b_ih is not None and b_hh is not None:
        return np.add(b_ih.data, b_hh.data, dtype=dtype)
    bias = np.zeros(size, dtype)
    for b in (b_ih, b_hh):
        if b is not None:
            bias += b.data
    return bias


def lstm_scan(input, h0=None, c0=None, w_ih=None, w_hh=None, b_ih=None, b_hh=None, w_hr=None,
              batch_sizes=None, reverse=False):
    """input: (T, B, I) padded, or (R, I) packed rows with batch_sizes (T,); h0: (B, P),
    c0: (B, H) or None; w_ih: (4H, I), w_hh: (4H, P), b_ih, b_hh: (4H,) or None, w_hr:
    (P, H) or None (then P = H). -> (out (T, B, P) or (R, P), h_n (B, P), c_n (B, H))."""
    hidden = check_scan_args("lstm_scan", 4, input, w_ih, w_hh, {"b_ih": b_ih, "b_hh": b_hh})
    proj = w_hh.shape[1]
    if w_hr is None and proj != hidden or w_hr is not None and (
            not hasattr(w_hr, "shape") or tuple(w_hr.shape) != (proj, hidden) or proj >= hidden):
        shown = None if w_hr is None else tuple(getattr(w_hr, "shape", ()))
        raise RuntimeError(f"lstm_scan: w_hh {tuple(w_hh.shape)} and w_hr {shown} must be "
                           f"(4H, P) and (P, H) with P < H (or w_hr None and P = H = "
                           f"{hidden})")
    if w_hr is not None:
        check_dtypes("lstm_scan", [input, w_hr])
    sizes, batch = step_sizes("lstm_scan", input, batch_sizes)
    check_states("lstm_scan", input, batch, {"h0": (h0, proj), "c0": (c0, hidden)})
    out, h_n, c_n = LSTMScan.apply(input, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, sizes,
                                   bool(reverse))
    return out, h_n.squeeze(0), c_n.squeeze(0)
