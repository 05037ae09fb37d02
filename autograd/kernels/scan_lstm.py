"""The LSTM scan (layout and conventions in scan.py), with PyTorch's gate order [i f g o] and
optional projection (proj_size P < H; without it P = H and h_t = m_t):

    [a_i a_f a_g a_o] = xg_t + b + h_{t-1} W_hh^T        W_hh: (4H, P), b = b_ih + b_hh
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
    db = sum_rows da               (accumulated in float64 while da is written)

The sequences of a batch are independent: the *_rows helpers run the recurrence of the
sequences lo <= s < hi only; the kernels here call them for all sequences, and
scan_threads.py calls them for runs of sequences on OpenBLAS's threads. (Runs on numba's
threads were tried first, H128 B32, git 0cb735b^: 0.80x the time of one thread back to
back, 0.65x after a 1 ms sleep, but 1.0x after 3 ms of work on the main thread: numba's idle
worker sleeps, and right after OpenBLAS's multithreaded calls its spinning worker holds the
other core for ~0.1 s. On OpenBLAS's own pool that worker takes the run at once.)
"""
import numpy as np

from .scan_math import (batch_offsets, final_rows, matmul_into, matmul_tiles, scan_helper,
                        scan_jit, sigmoid_scalar, state_product, tanh_scalar)
from .scan_memory import aligned_copy, aligned_transpose, unowned

__all__ = ["lstm_scan_forward", "lstm_scan_backward", "lstm_final_states"]


@scan_helper
def lstm_forward_rows(lo, hi, gates, whh_t, bias, whr_t, h0, c0, sizes, offsets, reverse,
                      fast, hs, cs, tanh_c, m, scratch, hw):
    """The forward of the sequences lo <= s < hi (arguments: lstm_scan_forward's, with the
    weights transposed: whh_t (P, 4H) = W_hh^T, whr_t (H, P) = W_hr^T or (0, 0); scratch:
    (hi - lo, P), hw: (hi - lo, 4H) scratch from the caller, see scan_memory.unowned)."""
    gates, whh_t, bias, whr_t = unowned(gates), unowned(whh_t), unowned(bias), unowned(whr_t)
    h0, c0, hs, cs = unowned(h0), unowned(c0), unowned(hs), unowned(cs)
    tanh_c, m, scratch, hw = unowned(tanh_c), unowned(m), unowned(scratch), unowned(hw)
    steps = sizes.size
    nh = c0.shape[1]
    proj = whr_t.shape[0] > 0
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        nb = min(sizes[t], hi) - lo
        if nb <= 0:
            continue
        o = offsets[t] + lo
        tp = t + 1 if reverse else t - 1
        po = offsets[tp] + lo if step > 0 else 0
        npv = max(min(sizes[tp], hi) - lo, 0) if step > 0 else 0
        state_product(hs, h0, offsets, sizes, step, t, reverse, lo, hi, scratch, whh_t,
                      hw[:nb])
        out = m[o:o + nb] if proj else hs[o:o + nb]
        for r in range(nb):
            row = gates[o + r]
            hw_r = hw[r]
            for k in range(4):           # gate block k: tanh for g (k = 2), else sigmoid
                a = row[k * nh:(k + 1) * nh]     # loops over views from 0 vectorise well
                a_h = hw_r[k * nh:(k + 1) * nh]
                a_b = bias[k * nh:(k + 1) * nh]
                if k == 2:
                    for j in range(nh):
                        a[j] = tanh_scalar(a[j] + a_b[j] + a_h[j], fast)
                else:
                    for j in range(nh):
                        a[j] = sigmoid_scalar(a[j] + a_b[j] + a_h[j], fast)
            c_r = cs[o + r]
            tc = tanh_c[o + r]
            cp = cs[po + r] if r < npv else c0[lo + r]
            out_r = out[r]
            # separate loops: few arrays per loop keep LLVM's aliasing checks (and so its
            # vectorisation) within bounds
            for j in range(nh):
                c_r[j] = row[nh + j] * cp[j] + row[j] * row[2 * nh + j]
            for j in range(nh):
                tc[j] = tanh_scalar(c_r[j], fast)
            for j in range(nh):
                out_r[j] = row[3 * nh + j] * tc[j]
        if proj:
            matmul_tiles(out, whr_t, hs[o:o + nb])


@scan_helper
def lstm_backward_rows(lo, hi, g_hs, whh, whr, c0, gates, cs, tanh_c, sizes, offsets, reverse,
                       dh, dc, da, dh_all, db, wih, dx, dm):
    """The backward of the sequences lo <= s < hi (arguments: lstm_scan_backward's); db:
    (4H,) float64, adds the sum of their rows of da; dm: (hi - lo, H) scratch with
    projection, else (0, 0) (from the caller, see scan_memory.unowned)."""
    g_hs, whh, whr, c0 = unowned(g_hs), unowned(whh), unowned(whr), unowned(c0)
    gates, cs, tanh_c, dh = unowned(gates), unowned(cs), unowned(tanh_c), unowned(dh)
    dc, da, dh_all, db = unowned(dc), unowned(da), unowned(dh_all), unowned(db)
    wih, dx, dm = unowned(wih), unowned(dx), unowned(dm)
    steps = sizes.size
    nh = dc.shape[1]
    proj = whr.shape[0] > 0
    for step in range(steps):
        t = step if reverse else steps - 1 - step
        nb = min(sizes[t], hi) - lo
        if nb <= 0:
            continue
        o = offsets[t] + lo
        first = step == steps - 1            # the step the forward visited first
        tp = t + 1 if reverse else t - 1
        po = 0 if first else offsets[tp] + lo
        npv = 0 if first else max(min(sizes[tp], hi) - lo, 0)
        dht = dh[lo:lo + nb]
        for r in range(nb):
            d_r = dht[r]
            g_r = g_hs[o + r]
            for j in range(dht.shape[1]):
                d_r[j] += g_r[j]
        if proj:
            dh_rows = dh_all[o:o + nb]
            for r in range(nb):
                dh_rows[r, :] = dht[r]
            dmt = dm[:nb]
            matmul_tiles(dht, whr, dmt)
        else:
            dmt = dht
        for r in range(nb):
            row = gates[o + r]
            d = da[o + r]
            tc = tanh_c[o + r]
            cp = cs[po + r] if r < npv else c0[lo + r]
            dc_r = dc[lo + r]
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
            for j in range(4 * nh):
                db[j] += d[j]
        matmul_into(da[o:o + nb], whh, dht)
        if dx.shape[0] > 0:
            matmul_tiles(da[o:o + nb], wih, dx[o:o + nb])


@scan_jit(globals())
def lstm_scan_forward(x, w_ih, gates, w_hh, bias, w_hr, h0, c0, sizes, reverse, fast, hs,
                      cs, tanh_c, m, h_n, c_n):
    """x: (R, I) the input rows and w_ih: (4H, I), or w_ih (0, 0) when gates already holds
    xg = x W_ih^T (a small product is cheaper here than a BLAS call); gates: (R, 4H) in: xg
    (or nothing), out: the activated gates [i f g o]; w_hh: (4H, P), bias: (4H,) b_ih + b_hh
    (zeros without), w_hr: (P, H) or (0, 0) without projection (the weights as the layer
    holds them: the kernel makes the transposes it reads), h0: (B, P), c0: (B, H), sizes:
    (T,) int64. Out: hs: (R, P); cs, tanh_c: (R, H) c_t and tanh(c_t); m: (R, H)
    o tanh(c_t) with projection ((0, 0) without); h_n, c_n: (B, P), (B, H) the final
    states."""
    if w_ih.shape[0] > 0:
        matmul_tiles(x, aligned_transpose(w_ih), gates)
    offsets = batch_offsets(sizes)
    batch = h0.shape[0]
    lstm_forward_rows(0, batch, gates, aligned_transpose(w_hh), bias, aligned_transpose(w_hr),
                      h0, c0, sizes, offsets, reverse, fast, hs, cs, tanh_c, m,
                      np.empty(h0.shape, h0.dtype), np.empty((batch, gates.shape[1]), h0.dtype))
    final_rows(hs, sizes, reverse, h_n)
    final_rows(cs, sizes, reverse, c_n)


@scan_jit(globals())
def lstm_scan_backward(g_hs, whh, whr, c0, gates, cs, tanh_c, sizes, reverse, dh, dc, da,
                       dh_all, db, wih, dx):
    """g_hs: (R, P) output gradients, whh: (4H, P) = W_hh, whr: (P, H) = W_hr or (0, 0),
    c0: (B, H); gates, cs, tanh_c: saved by the forward. dh: (B, P), dc: (B, H) in:
    gradients of the final states, out: of the initial states. Out: da: (R, 4H) gradients of
    the pre-activations; dh_all: (R, P) with projection, the gradient of each step's h_t;
    db: (4H,) float64 the sum of da's rows; dx: (R, I) the input gradient da W_ih, each
    step's rows while they are in cache (wih: (4H, I) = W_ih), or (0, 0): not wanted."""
    offsets = batch_offsets(sizes)
    db[:] = 0
    lstm_backward_rows(0, dc.shape[0], g_hs, aligned_copy(whh), whr, c0, gates, cs, tanh_c,
                       sizes, offsets, reverse, dh, dc, da, dh_all, db, wih, dx,
                       np.empty(dc.shape if whr.shape[0] > 0 else (0, 0), dc.dtype))


@scan_jit(globals())
def lstm_final_states(hs, cs, sizes, reverse, h_n, c_n):
    """h_n, c_n: (B, P), (B, H) = each sequence's last rows of hs and cs."""
    final_rows(hs, sizes, reverse, h_n)
    final_rows(cs, sizes, reverse, c_n)
