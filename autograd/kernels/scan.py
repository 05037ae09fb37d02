"""Whole-sequence recurrences (the fused scans): the loop over time, the gates and the backward
through time in numba. This file: the layout shared by all scans and the Elman RNN; the LSTM
and GRU scans are in scan_lstm.py and scan_gru.py, the activations in scan_math.py.

Layout: a sequence batch is a list of rows ordered by time, step t holding the first
sizes[t] sequences (sizes non-increasing: PyTorch's packed layout; a padded batch of B
sequences has sizes = [B] * T). Step t occupies rows offsets[t] : offsets[t] + sizes[t].
Every per-row array has one row per (step, sequence): R = sum(sizes) rows.

    xg      (R, G*H)  the input projections of all steps, x W_ih^T + biases (one GEMM done by
                      the caller), G = number of gate blocks
    h0      (B, H)    the initial state
    hs      (R, H)    the outputs (each row's new state)
    h_n     (B, H)    each sequence's final state

The forward direction visits t = 0 .. T-1; reverse=True visits t = T-1 .. 0. The state a row
starts from is the same sequence's row of the step visited before, or its row of h0 at the
first step (and, in reverse, for sequences that join as the batch grows): no state is
copied, the rows are read where they are (`previous_rows` gathers them for dW_hh = dA^T hprev).
Backward visits the steps in the opposite order with dh (B, H) initialised to the gradient
of the final states: dh accumulates each step's output gradient and is replaced by
dh_prev = dA W_hh; at the end it holds the gradient of the initial state.

Elman RNN (nonlinearity tanh or relu):
    h_t = act(a_t),  a_t = xg_t + h_{t-1} W_hh^T
    da_t = dh_t * act'(a_t)    (tanh: 1 - h_t^2; relu: h_t > 0)
    dh_{t-1} = da_t W_hh
"""
from .scan_math import (batch_offsets, final_rows, matmul_into, scan_helper, scan_jit,
                        state_product, state_rows, tanh_scalar)
from .scan_memory import aligned_copy, aligned_transpose, copy_rows, unowned

__all__ = ["rnn_scan_forward", "rnn_scan_backward", "previous_rows"]


@scan_jit(globals())
def previous_rows(hs, h0, sizes, reverse, out):
    """out: (R, H) = the state each row started from (hprev; see state_rows)."""
    offsets = batch_offsets(sizes)
    steps = sizes.size
    scratch = h0.copy()
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        o = offsets[t]
        copy_rows(state_rows(hs, h0, offsets, sizes, step, t, reverse, scratch),
                  out[o:o + sizes[t]])


@scan_jit(globals())
def rnn_scan_forward(xg, w_hh, h0, sizes, reverse, relu, fast, hs, h_n):
    """xg: (R, H), w_hh: (H, H) (the kernel makes W_hh^T), h0: (B, H), sizes: (T,) int64.
    Out: hs: (R, H), h_n: (B, H)."""
    rnn_forward_steps(xg, aligned_transpose(w_hh), h0, sizes, batch_offsets(sizes), reverse,
                      relu, fast, hs, h0.copy())
    final_rows(hs, sizes, reverse, h_n)


@scan_helper
def rnn_forward_steps(xg, whh_t, h0, sizes, offsets, reverse, relu, fast, hs, scratch):
    """rnn_scan_forward's loop over time (whh_t: (H, H) = W_hh^T; scratch: (B, H); every
    array unowned, see scan_memory.unowned)."""
    xg, whh_t, h0 = unowned(xg), unowned(whh_t), unowned(h0)
    hs, scratch = unowned(hs), unowned(scratch)
    steps = sizes.size
    nh = h0.shape[1]
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        nb = sizes[t]
        o = offsets[t]
        a = hs[o:o + nb]
        state_product(hs, h0, offsets, sizes, step, t, reverse, 0, h0.shape[0], scratch,
                      whh_t, a)
        af = a.reshape(nb * nh)
        xf = xg[o:o + nb].reshape(nb * nh)
        if relu:
            for i in range(nb * nh):
                v = af[i] + xf[i]
                af[i] = v if v > 0 else (v if v != v else 0)
        else:
            for i in range(nb * nh):
                af[i] = tanh_scalar(af[i] + xf[i], fast)


@scan_jit(globals())
def rnn_scan_backward(g_hs, whh, hs, sizes, reverse, relu, dh, da):
    """g_hs: (R, H) output gradients, whh: (H, H) = W_hh, hs: (R, H) saved outputs,
    dh: (B, H) in: gradient of the final states, out: gradient of the initial state,
    da: (R, H) out: gradients of the pre-activations."""
    rnn_backward_steps(g_hs, aligned_copy(whh), hs, sizes, batch_offsets(sizes), reverse, relu,
                       dh, da)


@scan_helper
def rnn_backward_steps(g_hs, whh, hs, sizes, offsets, reverse, relu, dh, da):
    """rnn_scan_backward's loop over time (every array unowned, see scan_memory.unowned)."""
    g_hs, whh, hs, dh, da = unowned(g_hs), unowned(whh), unowned(hs), unowned(dh), unowned(da)
    steps = sizes.size
    nh = dh.shape[1]
    for step in range(steps):
        t = step if reverse else steps - 1 - step
        nb = sizes[t]
        o = offsets[t]
        d = da[o:o + nb].reshape(nb * nh)
        y = hs[o:o + nb].reshape(nb * nh)
        g = g_hs[o:o + nb].reshape(nb * nh)
        dhf = dh[:nb].reshape(nb * nh)
        if relu:
            for i in range(nb * nh):
                d[i] = dhf[i] + g[i] if y[i] > 0 else 0
        else:
            for i in range(nb * nh):
                d[i] = (dhf[i] + g[i]) * (1 - y[i] * y[i])
        matmul_into(da[o:o + nb], whh, dh[:nb])
