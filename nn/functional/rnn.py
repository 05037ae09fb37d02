"""Recurrent cells composed from primitives: one time step each, PyTorch's gate layout.
The recurrent layers (nn.RNN, nn.LSTM, nn.GRU) loop these over time on their composed path;
their fused path (autograd.ops.scan) must agree with them.

    rnn_tanh_cell(x, h, W_ih, W_hh, b_ih, b_hh)   h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
    rnn_relu_cell(...)                            h' = relu(...)
    lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh)  [i f g o] = x W_ih^T + b_ih + h W_hh^T + b_hh
                                                  i, f, o = sigmoid, g = tanh
                                                  c' = f c + i g,  h' = o tanh(c')
    gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)        [a_r a_z a_n] = x W_ih^T + b_ih
                                                  [b_r b_z b_n] = h W_hh^T + b_hh
                                                  r = sigmoid(a_r + b_r), z = sigmoid(a_z + b_z)
                                                  n = tanh(a_n + r b_n)
                                                  h' = (1 - z) n + z h = n + z (h - n)

Shapes: x: (B, I), h, c: (B, H), W_ih: (G*H, I), W_hh: (G*H, H), b: (G*H,) or None, with
G = 1 (RNN), 4 (LSTM), 3 (GRU). The gradients come from the primitives' own rules, so these
cells support gradients of any order.
"""
import autograd as ag

from .linear import linear

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


def _check(op, gates, input, hx, w_ih, w_hh, hidden=None):
    """hidden: the size of the gate blocks (hx's size unless an LSTM projects h)."""
    for name, t in (("input", input), ("hx", hx), ("w_ih", w_ih), ("w_hh", w_hh)):
        if not isinstance(t, ag.Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim != 2 or hx.ndim != 2 or w_ih.ndim != 2 or w_hh.ndim != 2 or \
            input.shape[0] != hx.shape[0] or w_ih.shape[1] != input.shape[1] or \
            w_hh.shape[1] != hx.shape[1] or w_ih.shape[0] != w_hh.shape[0] or \
            w_ih.shape[0] != gates * (hx.shape[1] if hidden is None else hidden):
        raise RuntimeError(f"{op}: expected input (B, I), hx (B, H), w_ih ({gates}*H, I), "
                           f"w_hh ({gates}*H, H); got input {tuple(input.shape)}, hx "
                           f"{tuple(hx.shape)}, w_ih {tuple(w_ih.shape)}, w_hh "
                           f"{tuple(w_hh.shape)}")


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """input: (B, I), hx: (B, H) -> h': (B, H) = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    _check("rnn_tanh_cell", 1, input, hx, w_ih, w_hh)
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """input: (B, I), hx: (B, H) -> h': (B, H) = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    _check("rnn_relu_cell", 1, input, hx, w_ih, w_hh)
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """input: (B, I), hx = (h, c): (B, H) each -> (h', c'): (B, H) each.
    (h may be (B, P) with w_hh: (4H, P) when the caller projects h' to P, as nn.LSTM does.)"""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"lstm_cell: hx must be a pair (h, c), got {type(hx).__name__}")
    h, c = hx
    if not isinstance(c, ag.Tensor) or c.ndim != 2 or c.shape[0] != h.shape[0]:
        shape = tuple(c.shape) if isinstance(c, ag.Tensor) else type(c).__name__
        raise RuntimeError(f"lstm_cell: c of shape {shape} must be (B, H) with the B of h "
                           f"{tuple(h.shape)}")
    _check("lstm_cell", 4, input, h, w_ih, w_hh, hidden=c.shape[1])
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h_next = o.sigmoid() * c_next.tanh()
    return h_next, c_next


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """input: (B, I), hx: (B, H) -> h': (B, H)."""
    _check("gru_cell", 3, input, hx, w_ih, w_hh)
    a_r, a_z, a_n = linear(input, w_ih, b_ih).chunk(3, 1)
    b_r, b_z, b_n = linear(hx, w_hh, b_hh).chunk(3, 1)
    r = (a_r + b_r).sigmoid()
    z = (a_z + b_z).sigmoid()
    n = (a_n + r * b_n).tanh()
    return n + z * (hx - n)
