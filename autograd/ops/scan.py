"""Fused recurrent scans: one primitive per layer and direction runs a whole sequence.

The input projections of every step are one GEMM (xg = x W_ih^T + b), the loop over time with
its gates and the backward through time run in numba (autograd/kernels/scan*.py), and the
parameter gradients are GEMMs over all steps at once:

    dW_ih = dA^T x        dW_hh = dA^T hprev        db = sum_rows dA        dx = dA W_ih

(dA: the gradients of the pre-activations of every row, hprev: the state each row started
from). The input is a padded batch (T, B, I), or the rows of a PackedSequence (R, I) with
its batch_sizes (see autograd/kernels/scan.py); the output has the input's leading dims.
Initial states may be None (zeros).

    rnn_scan   (this file)   Elman RNN, tanh or relu       -> out, h_n
    lstm_scan  (scan_lstm)   LSTM, optional projection     -> out, h_n, c_n
    gru_scan   (scan_gru)    GRU                           -> out, h_n

The scans are once-differentiable: their backward runs on arrays. Called directly they
raise under create_graph=True; the recurrent layers (nn.RNN, nn.LSTM, nn.GRU), which use
them by default, pass the same direction on their composed path (cells built from
primitives) as `recompute`, which such a backward differentiates instead
(_scan_util.recomputed_grads).
"""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..kernels import scan as K
from ..kernels.scratch import workspace
from ._scan_util import (SCAN_SLOT, carray, check_scan_args, check_states, final_state,
                         initial_state, input_gates, linear_grads, output_grad,
                         recomputed_grads, rows_of, save, saved, state_grad, step_sizes)
from .scan_gru import GRUScan, gru_scan
from .scan_lstm import LSTMScan, lstm_scan

__all__ = ["RNNScan", "rnn_scan", "LSTMScan", "lstm_scan", "GRUScan", "gru_scan"]


class RNNScan(Function):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.
    Arguments (x, h0, w_ih, w_hh, b_ih, b_hh, sizes, reverse, relu, recompute); h0 and
    biases may be None; sizes: the int64 step sizes (see step_sizes); recompute: the same
    direction on the composed path, which a backward under create_graph=True differentiates
    (_scan_util.recomputed_grads), or None. -> (out, h_n (1, B, H)): the final state in
    the layers' (L*D, B, H) layout (rnn_scan returns it (B, H))."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sizes, reverse, relu, recompute=None):
        dtype = x.data.dtype
        rows = rows_of(x)
        xg = input_gates(rows, w_ih.data, None if b_ih is None else b_ih.data,
                         None if b_hh is None else b_hh.data)
        hidden = xg.shape[1]
        state0 = h0
        h0 = initial_state(h0, sizes[0], hidden, dtype)
        hs = np.empty(xg.shape, dtype)
        h_n = final_state(h0)
        K.rnn_scan_forward(xg, carray(w_hh.data, dtype), h0, sizes, reverse, relu,
                           dtype == np.float32, hs, h_n[0])
        out = hs.reshape(x.shape[:-1] + (hidden,))
        save(ctx, (x, w_ih, w_hh, state0, b_ih, b_hh), out, (rows, h0))
        ctx.recompute = recompute
        ctx.set_materialize_grads(False)        # an output without gradient: None
        ctx.zero_h0 = state0 is None
        ctx.sizes, ctx.reverse, ctx.relu = sizes, reverse, relu
        return out, h_n

    @staticmethod
    def backward(ctx, g_out, g_hn):
        if _State.enabled:                      # create_graph=True
            (x, w_ih, w_hh, h0, b_ih, b_hh), _, _ = saved(ctx)
            return recomputed_grads(ctx, (g_out, g_hn), (x, h0, w_ih, w_hh, b_ih, b_hh), (h0,),
                                    dict(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih,
                                         bias_hh=b_hh))
        (x, w_ih, w_hh, *_), hs, (rows, h0) = saved(ctx)
        dtype = hs.dtype
        dh = state_grad(g_hn, h0)
        da = workspace(hs.shape, dtype, slot=SCAN_SLOT)       # freed when backward ends
        K.rnn_scan_backward(output_grad(g_out, hs), carray(w_hh.data, dtype), hs, ctx.sizes,
                            ctx.reverse, ctx.relu, dh, da)
        return linear_grads(ctx, x, rows, da, da, w_ih.data, hs,
                            None if ctx.zero_h0 else h0, states=(dh,))


def rnn_scan(input, h0=None, w_ih=None, w_hh=None, b_ih=None, b_hh=None, batch_sizes=None,
             reverse=False, nonlinearity="tanh"):
    """input: (T, B, I) padded, or (R, I) packed rows with batch_sizes (T,); h0: (B, H) or
    None; w_ih: (H, I), w_hh: (H, H), b_ih, b_hh: (H,) or None.
    -> (out (T, B, H) or (R, H), h_n (B, H))."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_scan: unknown nonlinearity '{nonlinearity}', expected 'tanh' "
                         "or 'relu'")
    hidden = check_scan_args("rnn_scan", 1, input, w_ih, w_hh, {"b_ih": b_ih, "b_hh": b_hh})
    if w_hh.shape[1] != hidden:
        raise RuntimeError(f"rnn_scan: w_hh must be square (H, H), got {tuple(w_hh.shape)}")
    sizes, batch = step_sizes("rnn_scan", input, batch_sizes)
    check_states("rnn_scan", input, batch, {"h0": (h0, hidden)})
    out, h_n = RNNScan.apply(input, h0, w_ih, w_hh, b_ih, b_hh, sizes, bool(reverse),
                             nonlinearity == "relu")
    return out, h_n.squeeze(0)
