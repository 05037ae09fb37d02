"""The LSTM scan (layout and conventions in scan.py), with PyTorch's gate order [i f g o] and
optional projection (proj_size P < H; without it P = H and h_t = m_t):

    [a_i a_f a_g a_o] = xg_t + h_{t-1} W_hh^T            W_hh: (4H, P)
    i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g)
    c_t = f c_{t-1} + i g
    m_t = o tanh(c_t)
    h_t = m_t W_hr^T                                     W_hr: (P, H)

Backward through time, dh_t = dh (from t + 1) + g_hs_t and dc_t = dc (from t + 1):
    dm = dh_t W_hr                      (dW_hr = sum_t dh_t^T m_t, a GEMM by the caller)
    dc_t += dm o (1 - tanh(c_t)^2)
    da_i = dc_t g i (1 - i)        da_f = dc_t c_{t-1} f (1 - f)
    da_g = dc_t i (1 - g^2)        da_o = dm tanh(c_t) o (1 - o)
    dc_{t-1} = dc_t f,             dh_{t-1} = da W_hh
"""
import numpy as np

from .scan_math import (batch_offsets, copy_rows, final_rows, gate_scalar, matmul_into,
                        scan_jit, state_rows, tanh_into)

__all__ = ["lstm_scan_forward", "lstm_scan_backward"]


@scan_jit(globals())
def lstm_scan_forward(gates, whh_t, whr_t, h0, c0, sizes, reverse, fast, hs, cs, tanh_c, m,
                      h_n, c_n):
    """gates: (R, 4H) in: xg, out: the activated gates [i f g o]; whh_t: (P, 4H) = W_hh^T,
    whr_t: (H, P) = W_hr^T or (0, 0) without projection, h0: (B, P), c0: (B, H), sizes: (T,)
    int64. Out: hs: (R, P); cs, tanh_c: (R, H) c_t and tanh(c_t); m: (R, H) o tanh(c_t)
    with projection ((0, 0) without); h_n, c_n: (B, P), (B, H) the final states."""
    steps = sizes.size
    nh = c0.shape[1]
    proj = whr_t.shape[0] > 0
    offsets = batch_offsets(sizes)
    scratch = h0.copy()
    hw = np.empty((h0.shape[0], 4 * nh), gates.dtype)
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        nb = sizes[t]
        o = offsets[t]
        tp = t + 1 if reverse else t - 1
        po = offsets[tp] if step > 0 else 0
        npv = sizes[tp] if step > 0 else 0
        g = gates[o:o + nb]
        matmul_into(state_rows(hs, h0, offsets, sizes, step, t, reverse, scratch), whh_t,
                    hw[:nb])
        for r in range(nb):
            row = g[r]
            hw_r = hw[r]
            for j in range(4 * nh):                  # tanh for g, sigmoid for i, f, o
                row[j] = gate_scalar(row[j] + hw_r[j], (j >= 2 * nh) & (j < 3 * nh), fast)
            c_r = cs[o + r]
            cp = cs[po + r] if r < npv else c0[r]
            for j in range(nh):
                c_r[j] = row[nh + j] * cp[j] + row[j] * row[2 * nh + j]
        tanh_into(cs[o:o + nb].reshape(nb * nh), tanh_c[o:o + nb].reshape(nb * nh), fast)
        out = m[o:o + nb] if proj else hs[o:o + nb]
        for r in range(nb):
            row = g[r]
            tc = tanh_c[o + r]
            out_r = out[r]
            for j in range(nh):
                out_r[j] = row[3 * nh + j] * tc[j]
        if proj:
            matmul_into(out, whr_t, hs[o:o + nb])
    final_rows(hs, sizes, reverse, h_n)
    final_rows(cs, sizes, reverse, c_n)


@scan_jit(globals())
def lstm_scan_backward(g_hs, whh, whr, c0, gates, cs, tanh_c, sizes, reverse, dh, dc, da,
                       dh_all):
    """g_hs: (R, P) output gradients, whh: (4H, P) = W_hh, whr: (P, H) = W_hr or (0, 0),
    c0: (B, H); gates, cs, tanh_c: saved by the forward. dh: (B, P), dc: (B, H) in:
    gradients of the final states, out: of the initial states. Out: da: (R, 4H) gradients of
    the pre-activations; dh_all: (R, P) with projection, the gradient of each step's h_t."""
    steps = sizes.size
    nh = dc.shape[1]
    proj = whr.shape[0] > 0
    offsets = batch_offsets(sizes)
    dm = np.empty(dc.shape if proj else (0, 0), dc.dtype)
    for step in range(steps):
        t = step if reverse else steps - 1 - step
        nb = sizes[t]
        o = offsets[t]
        first = step == steps - 1            # the step the forward visited first
        tp = t + 1 if reverse else t - 1
        po = 0 if first else offsets[tp]
        npv = 0 if first else sizes[tp]
        dht = dh[:nb]
        dhf = dht.reshape(nb * dht.shape[1])
        gf = g_hs[o:o + nb].reshape(nb * dht.shape[1])
        for i in range(dhf.size):
            dhf[i] += gf[i]
        if proj:
            copy_rows(dht, dh_all[o:o + nb])
            dmt = dm[:nb]
            matmul_into(dht, whr, dmt)
        else:
            dmt = dht
        for r in range(nb):
            row = gates[o + r]
            d = da[o + r]
            tc = tanh_c[o + r]
            cp = cs[po + r] if r < npv else c0[r]
            dc_r = dc[r]
            dm_r = dmt[r]
            for j in range(nh):
                i = row[j]
                f = row[nh + j]
                gg = row[2 * nh + j]
                og = row[3 * nh + j]
                tcj = tc[j]
                dmj = dm_r[j]
                dct = dc_r[j] + dmj * og * (1 - tcj * tcj)
                d[j] = dct * gg * i * (1 - i)
                d[nh + j] = dct * cp[j] * f * (1 - f)
                d[2 * nh + j] = dct * i * (1 - gg * gg)
                d[3 * nh + j] = dmj * tcj * og * (1 - og)
                dc_r[j] = dct * f
        matmul_into(da[o:o + nb], whh, dht)
