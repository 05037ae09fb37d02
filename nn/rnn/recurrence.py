"""Recurrences: what one recurrent layer computes per step, for the layer loop (loop.py).

A Recurrence names its weights (registered per layer and direction with the suffixes
_l{k} and _reverse, as PyTorch), its states, one step on the composed path, and optionally a
fused scan over the whole sequence:

    weight_shapes(input_size, hidden_size, proj_size, bias) -> [(stem, shape), ...]
    state_sizes(hidden_size, proj_size)  -> sizes of the states; state 0 is the output
    step(x_t, state, w) -> new state     x_t: (b, I), states (b, size); w: {stem: Tensor}
    scan(x, state, w, sizes, reverse, recompute=None)
                                      -> (out, final states each (1, B, size)), or None
                                         when there is no fused path (the loop then
                                         steps); x: (T, B, I) or packed rows (R, I),
                                         sizes: (T,) int64 step sizes, state entries may
                                         be None (zeros); recompute: recompute(x, state,
                                         w), the same on the composed path, which the
                                         scan's backward differentiates under
                                         create_graph=True

A new cell (peephole LSTM, leaky unit, ...) is a Recurrence with its own weights and step;
nn.RNNBase(recurrence, input_size, hidden_size, ...) then gives it layers, directions,
dropout between layers, packed sequences and initial states.
"""
from autograd.ops.scan import GRUScan, LSTMScan, RNNScan

from .. import functional as F
from ..functional import rnn as cells

__all__ = ["Recurrence", "ElmanRecurrence", "LSTMRecurrence", "GRURecurrence", "recurrence_for"]


class Recurrence:
    """The default: G gate blocks of the hidden size, W_ih, W_hh and two biases."""
    gates = 1
    name = "RNN"
    supports_proj = False           # proj_size > 0 allowed (weight_shapes handles it)

    def weight_shapes(self, input_size, hidden_size, proj_size, bias):
        rows = self.gates * hidden_size
        shapes = [("weight_ih", (rows, input_size)), ("weight_hh", (rows, hidden_size))]
        if bias:
            shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
        return shapes

    def state_sizes(self, hidden_size, proj_size):
        return (hidden_size,)

    def step(self, x, state, w):
        raise NotImplementedError

    def scan(self, x, state, w, sizes, reverse, recompute=None):
        """The fused path: (out, final states each (1, B, size)), or None where there is
        none (the layer then runs the composed path: `step` in a Python loop)."""
        return None


class ElmanRecurrence(Recurrence):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu."""

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        self.name = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self._cell = cells.rnn_tanh_cell if nonlinearity == "tanh" else cells.rnn_relu_cell

    def step(self, x, state, w):
        return (self._cell(x, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                           w.get("bias_hh")),)

    def scan(self, x, state, w, sizes, reverse, recompute=None):
        out, h = RNNScan.apply(x, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                               w.get("bias_hh"), sizes, reverse, self.nonlinearity == "relu",
                               recompute)
        return out, (h,)


class LSTMRecurrence(Recurrence):
    """The LSTM cell; with proj_size P > 0, h_t = (o tanh(c_t)) W_hr^T is (b, P)."""
    gates = 4
    name = "LSTM"
    supports_proj = True

    def weight_shapes(self, input_size, hidden_size, proj_size, bias):
        rows = 4 * hidden_size
        shapes = [("weight_ih", (rows, input_size)),
                  ("weight_hh", (rows, proj_size or hidden_size))]
        if bias:
            shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
        if proj_size:
            shapes.append(("weight_hr", (proj_size, hidden_size)))
        return shapes

    def state_sizes(self, hidden_size, proj_size):
        return (proj_size or hidden_size, hidden_size)

    def step(self, x, state, w):
        h, c = cells.lstm_cell(x, state, w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                               w.get("bias_hh"))
        if w.get("weight_hr") is not None:
            h = F.linear(h, w["weight_hr"])
        return h, c

    def scan(self, x, state, w, sizes, reverse, recompute=None):
        out, h, c = LSTMScan.apply(x, state[0], state[1], w["weight_ih"], w["weight_hh"],
                                   w.get("bias_ih"), w.get("bias_hh"), w.get("weight_hr"),
                                   sizes, reverse, recompute)
        return out, (h, c)


class GRURecurrence(Recurrence):
    """The GRU cell (gates r, z, n)."""
    gates = 3
    name = "GRU"

    def step(self, x, state, w):
        return (cells.gru_cell(x, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                               w.get("bias_hh")),)

    def scan(self, x, state, w, sizes, reverse, recompute=None):
        out, h = GRUScan.apply(x, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                               w.get("bias_hh"), sizes, reverse, recompute)
        return out, (h,)


def recurrence_for(mode):
    """PyTorch's mode names ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU') or a Recurrence."""
    if isinstance(mode, Recurrence):
        return mode
    table = {"RNN_TANH": lambda: ElmanRecurrence("tanh"),
             "RNN_RELU": lambda: ElmanRecurrence("relu"),
             "LSTM": LSTMRecurrence, "GRU": GRURecurrence}
    if mode not in table:
        raise ValueError(f"Unrecognized RNN mode: {mode!r} (expected one of {list(table)} or a "
                         "Recurrence)")
    return table[mode]()
