"""The fused GRU scan primitive (see scan.py; the math in autograd/kernels/scan_gru.py)."""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..kernels import scan_gru as K
from ..kernels.scratch import workspace
from ._scan_util import (SCAN_SLOT, carray, check_scan_args, check_states, final_state,
                         initial_state, linear_grads, output_grad, recomputed_grads,
                         rows_of, save, saved, state_grad, step_sizes)

__all__ = ["GRUScan", "gru_scan"]


class GRUScan(Function):
    """r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z}),
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h_t = (1 - z) n + z h_{t-1}.
    Arguments (x, h0, w_ih, w_hh, b_ih, b_hh, sizes, reverse, recompute); h0 and biases may
    be None; recompute: as RNNScan's. -> (out, h_n (1, B, H))."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sizes, reverse, recompute=None):
        dtype = x.data.dtype
        rows = rows_of(x)
        hidden = w_hh.shape[1]
        xg = np.matmul(rows, w_ih.data.T)
        if b_ih is not None:
            xg += b_ih.data
        if b_hh is not None:                   # b_hr, b_hz join the input side; b_hn cannot
            xg[:, :2 * hidden] += b_hh.data[:2 * hidden]
            bhn = carray(b_hh.data[2 * hidden:], dtype)
        else:
            bhn = np.zeros(hidden, dtype)
        count = xg.shape[0]
        state0 = h0
        h0 = initial_state(h0, sizes[0], hidden, dtype)
        hs, hn = np.empty((count, hidden), dtype), np.empty((count, hidden), dtype)
        gates = xg                                   # the kernel writes the gates over xg
        h_n = final_state(h0)
        K.gru_scan_forward(gates, carray(w_hh.data, dtype), bhn, h0, sizes, reverse,
                           dtype == np.float32, hs, hn, h_n[0])
        out = hs.reshape(x.shape[:-1] + (hidden,))
        save(ctx, (x, w_ih, w_hh, state0, b_ih, b_hh), out, (rows, h0, gates, hn))
        ctx.recompute = recompute
        ctx.set_materialize_grads(False)        # an output without gradient: None
        ctx.zero_h0 = state0 is None
        ctx.sizes, ctx.reverse = sizes, reverse
        return out, h_n

    @staticmethod
    def backward(ctx, g_out, g_hn):
        if _State.enabled:                      # create_graph=True
            (x, w_ih, w_hh, h0, b_ih, b_hh), _, _ = saved(ctx)
            return recomputed_grads(ctx, (g_out, g_hn), (x, h0, w_ih, w_hh, b_ih, b_hh), (h0,),
                                    dict(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih,
                                         bias_hh=b_hh))
        (x, w_ih, w_hh, *_), hs, (rows, h0, gates, hn) = saved(ctx)
        dtype = gates.dtype
        dh = state_grad(g_hn, h0)
        dgi = workspace(gates.shape, dtype, slot=SCAN_SLOT)       # freed when backward ends
        dgh = workspace(gates.shape, dtype, slot=SCAN_SLOT + 1)
        K.gru_scan_backward(output_grad(g_out, hs), carray(w_hh.data, dtype), h0, gates, hn,
                            hs, ctx.sizes, ctx.reverse, dh, dgi, dgh)
        return linear_grads(ctx, x, rows, dgi, dgh, w_ih.data, hs,
                            None if ctx.zero_h0 else h0, states=(dh,))


def gru_scan(input, h0=None, w_ih=None, w_hh=None, b_ih=None, b_hh=None, batch_sizes=None,
             reverse=False):
    """input: (T, B, I) padded, or (R, I) packed rows with batch_sizes (T,); h0: (B, H) or
    None; w_ih: (3H, I), w_hh: (3H, H), b_ih, b_hh: (3H,) or None.
    -> (out (T, B, H) or (R, H), h_n (B, H))."""
    hidden = check_scan_args("gru_scan", 3, input, w_ih, w_hh, {"b_ih": b_ih, "b_hh": b_hh})
    if w_hh.shape[1] != hidden:
        raise RuntimeError(f"gru_scan: w_hh must be (3H, H) = (3*{hidden}, {hidden}), got "
                           f"{tuple(w_hh.shape)}")
    sizes, batch = step_sizes("gru_scan", input, batch_sizes)
    check_states("gru_scan", input, batch, {"h0": (h0, hidden)})
    out, h_n = GRUScan.apply(input, h0, w_ih, w_hh, b_ih, b_hh, sizes, bool(reverse))
    return out, h_n.squeeze(0)
