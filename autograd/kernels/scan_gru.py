"""The GRU scan (layout and conventions in scan.py), with PyTorch's gate order [r z n]:

    [b_r b_z b_n] = h_{t-1} W_hh^T (+ b_hh)                W_hh: (3H, H)
    r = sigmoid(xg_r + b_r),  z = sigmoid(xg_z + b_z)      (xg holds b_ih, and b_hh's r, z)
    hn = b_n (+ b_hn),        n = tanh(xg_n + r hn)
    h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n)

Backward through time, dh_t = dh (from t + 1) + g_hs_t:
    dn = dh_t (1 - z) (1 - n^2)     dz = dh_t (h_{t-1} - n) z (1 - z)
    dr = dn hn r (1 - r)
    input side  dgi = [dr, dz, dn]          (dW_ih = dgi^T x, db_ih = sum dgi)
    hidden side dgh = [dr, dz, dn r]        (dW_hh = dgh^T hprev, db_hh = sum dgh)
    dh_{t-1} = dh_t z + dgh W_hh
"""
import numpy as np

from .scan_math import (batch_offsets, final_rows, matmul_into, scan_helper, scan_jit,
                        sigmoid_scalar, state_product, tanh_scalar)
from .scan_memory import aligned_copy, aligned_transpose, unowned

__all__ = ["gru_scan_forward", "gru_scan_backward"]


@scan_jit(globals())
def gru_scan_forward(gates, w_hh, bhn, h0, sizes, reverse, fast, hs, hn, h_n):
    """gates: (R, 3H) in: xg = x W_ih^T + b_ih + [b_hr, b_hz, 0], out: the activated gates
    [r z n]; w_hh: (3H, H) (the kernel makes W_hh^T), bhn: (H,) (zeros without bias), h0:
    (B, H), sizes: (T,) int64. Out: hs: (R, H); hn: (R, H) h_{t-1} W_hn^T + b_hn; h_n:
    (B, H) final states."""
    scratch, gh = h0.copy(), np.empty((h0.shape[0], gates.shape[1]), h0.dtype)
    gru_forward_steps(gates, aligned_transpose(w_hh), bhn, h0, sizes, batch_offsets(sizes),
                      reverse, fast, hs, hn, scratch, gh)
    final_rows(hs, sizes, reverse, h_n)


@scan_helper
def gru_forward_steps(gates, whh_t, bhn, h0, sizes, offsets, reverse, fast, hs, hn, scratch,
                      gh):
    """gru_scan_forward's loop over time (whh_t: (H, 3H) = W_hh^T; scratch: (B, H), gh:
    (B, 3H); every array unowned, see scan_memory.unowned)."""
    gates, whh_t, bhn, h0 = unowned(gates), unowned(whh_t), unowned(bhn), unowned(h0)
    hs, hn, scratch, gh = unowned(hs), unowned(hn), unowned(scratch), unowned(gh)
    steps = sizes.size
    nh = h0.shape[1]
    for step in range(steps):
        t = steps - 1 - step if reverse else step
        nb = sizes[t]
        o = offsets[t]
        tp = t + 1 if reverse else t - 1
        po = offsets[tp] if step > 0 else 0
        npv = sizes[tp] if step > 0 else 0
        ght = gh[:nb]
        state_product(hs, h0, offsets, sizes, step, t, reverse, 0, h0.shape[0], scratch,
                      whh_t, ght)
        for r in range(nb):
            row = gates[o + r]
            gh_r = ght[r]
            hn_r = hn[o + r]
            for j in range(2 * nh):
                row[j] = sigmoid_scalar(row[j] + gh_r[j], fast)
            for j in range(nh):
                v = gh_r[2 * nh + j] + bhn[j]
                hn_r[j] = v
                row[2 * nh + j] = tanh_scalar(row[2 * nh + j] + row[j] * v, fast)
            out = hs[o + r]
            hp = hs[po + r] if r < npv else h0[r]
            for j in range(nh):
                n = row[2 * nh + j]
                out[j] = n + row[nh + j] * (hp[j] - n)


@scan_jit(globals())
def gru_scan_backward(g_hs, whh, h0, gates, hn, hs, sizes, reverse, dh, dgi, dgh):
    """g_hs: (R, H) output gradients, whh: (3H, H) = W_hh, h0: (B, H); gates, hn, hs saved
    by the forward. dh: (B, H) in: gradient of the final states, out: of the initial state.
    Out: dgi, dgh: (R, 3H) gradients of the input-side and hidden-side pre-activations."""
    gru_backward_steps(g_hs, aligned_copy(whh), h0, gates, hn, hs, sizes, batch_offsets(sizes),
                       reverse, dh, dgi, dgh, np.empty(dh.shape, dh.dtype))


@scan_helper
def gru_backward_steps(g_hs, whh, h0, gates, hn, hs, sizes, offsets, reverse, dh, dgi, dgh,
                       direct):
    """gru_scan_backward's loop over time (direct: (B, H) scratch; every array unowned, see
    scan_memory.unowned)."""
    g_hs, whh, h0, gates = unowned(g_hs), unowned(whh), unowned(h0), unowned(gates)
    hn, hs, dh, dgi = unowned(hn), unowned(hs), unowned(dh), unowned(dgi)
    dgh, direct = unowned(dgh), unowned(direct)
    steps = sizes.size
    nh = dh.shape[1]
    for step in range(steps):
        t = step if reverse else steps - 1 - step
        nb = sizes[t]
        o = offsets[t]
        first = step == steps - 1
        tp = t + 1 if reverse else t - 1
        po = 0 if first else offsets[tp]
        npv = 0 if first else sizes[tp]
        dht = dh[:nb]
        for r in range(nb):
            row = gates[o + r]
            gi = dgi[o + r]
            gh = dgh[o + r]
            hp = hs[po + r] if r < npv else h0[r]
            hn_r = hn[o + r]
            g = g_hs[o + r]
            d = dht[r]
            dd = direct[r]
            for j in range(nh):
                rg = row[j]
                z = row[nh + j]
                n = row[2 * nh + j]
                dj = d[j] + g[j]
                dn = dj * (1 - z) * (1 - n * n)
                dz = dj * (hp[j] - n) * z * (1 - z)
                dr = dn * hn_r[j] * rg * (1 - rg)
                gi[j] = dr
                gi[nh + j] = dz
                gi[2 * nh + j] = dn
                gh[j] = dr
                gh[nh + j] = dz
                gh[2 * nh + j] = dn * rg
                dd[j] = dj * z
        matmul_into(dgh[o:o + nb], whh, dht)
        for r in range(nb):
            d = dht[r]
            dd = direct[r]
            for j in range(nh):
                d[j] += dd[j]
