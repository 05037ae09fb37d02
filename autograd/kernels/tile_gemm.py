"""Long products by register tiles (register_tile.py): the recurrent scans' weight gradients,
sums over the rows of every step,

    dW_hh = dA^T . H_prev        dW_ih = dA^T . X          dA: (R, G*H), R = T*B rows

in the form out = at^T . b with at: (K, M), b: (K, N) and K long. The rows are taken in
chunks of CHUNK: a chunk's rows of at and b stay in L2 while every tile of out adds its
product to it (accumulating tiles; at^T is a transposed view, whose entries the tiles only
broadcast: at's row p holds the M entries one step of the sum needs). Measured on two
threads, float32, dA (3168, 512), H_prev (3168, 128) (an LSTM(32, 128) on (100, 32, 32)):
0.88-1.0 ms (one thread 1.74-1.85), OpenBLAS's dA.T @ H_prev 1.03-1.06 ms alone and
1.1-1.2 ms after the scan kernel; dA (3200, 512) with X (3200, 32): 0.23-0.26 ms against
0.36.

    matmul_tn(at, b, lo, hi, out)   out[lo:hi] = (at^T . b)[lo:hi]: the rows lo <= i < hi
                                    of out (M, N); at, b, out C-contiguous, one dtype
    linear_grads(d_in, rows, w_ih, d_hid, hprev, dx, dw_ih, dw_hh)
                                    a small scan's dx = d_in W_ih, dW_ih and dW_hh in one
                                    call: three BLAS calls and two of matmul_tn cost more
                                    than the products (LSTM(32, 32) on (100, 1, 32): ~25 us)

Each element of out is one sum in a fixed order (chunks in turn, rows in order within one;
fused multiply-adds in the tiles, a plain loop for the columns past the last whole tile),
whichever tile computes it: scan_threads.weight_product splits runs of 8 rows of out over
OpenBLAS's threads without changing a bit.
"""
from .register_tile import tile_jit

__all__ = ["matmul_tn", "linear_grads", "CHUNK"]

CHUNK = 64                  # rows of at and b per pass (64 was faster than 128-512 here)
# bound by tile_jit before its kernels compile
VECTOR_BYTES = 64
accumulate_ladder = None


def product_rows(a, b, lo, hi, out):
    """out[lo:hi] = a[lo:hi] @ b for a: (M, K) of any strides (at.T: broadcast entries),
    b: (K, N), out: (M, N) C-contiguous: K in chunks (see the module docstring)."""
    total, n = b.shape
    width = 2 * VECTOR_BYTES // out.itemsize
    tiled = n - n % width
    out[lo:hi] = 0
    for q0 in range(0, total, CHUNK):
        q1 = min(total, q0 + CHUNK)
        a_chunk = a[:, q0:q1]
        rows = b[q0:q1]
        for j in range(0, tiled, width):     # a block of b's columns stays in L1
            accumulate_ladder(lo, hi, j, (a_chunk, rows, out))
        for i in range(lo, hi):              # the columns past the last whole tile
            for j in range(tiled, n):
                s = out[i, j]
                for p in range(q1 - q0):
                    s += a_chunk[i, p] * rows[p, j]
                out[i, j] = s


@tile_jit(globals(), helpers=("product_rows",), nogil=True)
def matmul_tn(at, b, lo, hi, out):
    """out[lo:hi] = at[:, lo:hi]^T @ b (see the module docstring)."""
    product_rows(at.T, b, lo, hi, out)


@tile_jit(globals(), helpers=("product_rows",))
def linear_grads(d_in, rows, w_ih, d_hid, hprev, dx, dw_ih, dw_hh):
    """A small scan's input and weight gradients in one call (one thread): dx = d_in W_ih,
    dW_ih = d_in^T X, dW_hh = d_hid^T H_prev, for d_in: (R, G*H), rows X: (R, I), w_ih:
    (G*H, I), d_hid, hprev: (R', G*H), (R', P); an output of shape (0, 0) is skipped."""
    if dx.shape[0] > 0:
        product_rows(d_in, w_ih, 0, dx.shape[0], dx)
    if dw_ih.shape[0] > 0:
        product_rows(d_in.T, rows, 0, dw_ih.shape[0], dw_ih)
    if dw_hh.shape[0] > 0:
        product_rows(d_hid.T, hprev, 0, dw_hh.shape[0], dw_hh)
