"""Layers for the variants: on nn.RNNBase through a Recurrence, or any cell on a Python loop.

    PeepholeLSTM, CoupledLSTM, LeakyRNN, SkipRNN   nn.RNNBase layers (as nn.LSTM): num_layers,
        bidirectional, batch_first, dropout, packed sequences, initial states; parameters
        weight_ih_l{k}{_reverse}, ... plus the variant's own (weight_ci_l0, mu_logit_l0, ...).
        They have no fused scan: every step runs the variant's cell (cells.py).
    RecurrentLayer(cell, ...)   loops any cell module over time (PyTorch's cells, the variants,
        a user's own): stacked layers and both directions, on padded batches.
    unroll_cells(steps, x, states, ...)   the loop itself, shared with nn.utils.bptt.
"""
import numbers

import numpy as np

import autograd as ag

from .. import functional as F
from ..containers import ModuleList
from ..module import Module
from ..rnn import Recurrence, RNNBase
from .cells import (_check_mu, coupled_lstm_cell, leaky_rnn_cell, peephole_lstm_cell,
                    skip_rnn_cell)

__all__ = ["PeepholeLSTMRecurrence", "CoupledLSTMRecurrence", "LeakyRecurrence",
           "SkipRecurrence", "PeepholeLSTM", "CoupledLSTM", "LeakyRNN", "SkipRNN",
           "RecurrentLayer", "unroll_cells"]


class PeepholeLSTMRecurrence(Recurrence):
    """The peephole LSTM step; extra weights weight_ci, weight_cf, weight_co (H,)."""
    gates = 4
    name = "PEEPHOLE_LSTM"

    def weight_shapes(self, input_size, hidden_size, proj_size, bias):
        peepholes = [(stem, (hidden_size,)) for stem in ("weight_ci", "weight_cf", "weight_co")]
        return super().weight_shapes(input_size, hidden_size, proj_size, bias) + peepholes

    def state_sizes(self, hidden_size, proj_size):
        return (hidden_size, hidden_size)

    def step(self, x, state, w):
        return peephole_lstm_cell(x, state, w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                                  w.get("bias_hh"), w["weight_ci"], w["weight_cf"],
                                  w["weight_co"])


class CoupledLSTMRecurrence(Recurrence):
    """The coupled-gates LSTM step (i = 1 - f); gate blocks [f g o]."""
    gates = 3
    name = "COUPLED_LSTM"

    def state_sizes(self, hidden_size, proj_size):
        return (hidden_size, hidden_size)

    def step(self, x, state, w):
        return coupled_lstm_cell(x, state, w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                                 w.get("bias_hh"))


class LeakyRecurrence(Recurrence):
    """The leaky unit; mu fixed (held here, float64 array (H,)) or learned (weight mu_logit
    (H,), mu = sigmoid(mu_logit))."""
    name = "LEAKY_RNN"

    def __init__(self, mu=0.5, learn_mu=False):
        self.mu, self.learn_mu = mu, bool(learn_mu)
        self._fixed = {}

    def weight_shapes(self, input_size, hidden_size, proj_size, bias):
        shapes = super().weight_shapes(input_size, hidden_size, proj_size, bias)
        return shapes + ([("mu_logit", (hidden_size,))] if self.learn_mu else [])

    def step(self, x, state, w):
        if self.learn_mu:
            mu = w["mu_logit"].sigmoid()
        else:
            key = (np.dtype(x.dtype), state[0].shape[1])
            if key not in self._fixed:
                values = _check_mu("LeakyRNN", self.mu, key[1], False)
                self._fixed[key] = ag.from_numpy(values.astype(key[0]))
            mu = self._fixed[key]
        return (leaky_rnn_cell(x, state[0], w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                               w.get("bias_hh"), mu),)


class SkipRecurrence(Recurrence):
    """The skip RNN step; states (h_{t-1}, ..., h_{t-d}), extra weight weight_hs (H, H)."""
    name = "SKIP_RNN"

    def __init__(self, skip=2):
        if isinstance(skip, bool) or not isinstance(skip, numbers.Integral) or skip < 1:
            raise ValueError(f"SkipRNN: skip must be an integer >= 1, got {skip!r}")
        self.skip = int(skip)

    def weight_shapes(self, input_size, hidden_size, proj_size, bias):
        shapes = super().weight_shapes(input_size, hidden_size, proj_size, bias)
        return shapes + [("weight_hs", (hidden_size, hidden_size))]

    def state_sizes(self, hidden_size, proj_size):
        return (hidden_size,) * self.skip

    def step(self, x, state, w):
        return skip_rnn_cell(x, state, w["weight_ih"], w["weight_hh"], w["weight_hs"],
                             w.get("bias_ih"), w.get("bias_hh"))


class PeepholeLSTM(RNNBase):
    """input: (T, B, I) -> output (T, B, D*H), (h_n, c_n) (L*D, B, H) each."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(PeepholeLSTMRecurrence(), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)


class CoupledLSTM(RNNBase):
    """input: (T, B, I) -> output (T, B, D*H), (h_n, c_n) (L*D, B, H) each."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__(CoupledLSTMRecurrence(), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LeakyRNN(RNNBase):
    """input: (T, B, I) -> output (T, B, D*H), h_n (L*D, B, H). mu as in LeakyRNNCell; a
    learned mu starts at `mu` in every layer (mu_logit_l{k} = logit(mu))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, mu=0.5, learn_mu=False, device=None,
                 dtype=None):
        self._mu0 = _check_mu("LeakyRNN", mu, hidden_size, learn_mu)
        super().__init__(LeakyRecurrence(mu, learn_mu), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def reset_parameters(self):
        # as nn.RNN, then mu_logit = logit(mu)
        super().reset_parameters()
        logit = np.log(self._mu0 / (1 - self._mu0)) if self.recurrence.learn_mu else None
        for name, weight in self.named_parameters():
            if name.startswith("mu_logit"):
                with ag.no_grad():
                    weight.copy_(ag.from_numpy(logit.astype(weight.dtype)))


class SkipRNN(RNNBase):
    """input: (T, B, I) -> output (T, B, D*H) and the final states (h_T, ..., h_{T-d+1}),
    each (L*D, B, H) (a single h_n when skip=1)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, skip=2, device=None, dtype=None):
        super().__init__(SkipRecurrence(skip), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)


# -- any cell over time ----------------------------------------------------------------------
def _output(state):
    return state if isinstance(state, ag.Tensor) else state[0]


def unroll_cells(steps, x, states, bidirectional=False, dropout=0.0, training=False,
                 on_state=None):
    """The loop over layers, directions and time, in Python (any order of gradients).

    steps: one callable per layer and direction (index k = layer * D + direction),
        step(x_t, state) -> new state (a Tensor, or a tuple whose first entry is the output);
    x: (T, B, I); states: the initial state per k (None: the step's default, zeros);
    on_state(k, t, state) is called with every new state (nn.utils.bptt keeps them).
    Layer l > 0 reads both directions of layer l - 1 concatenated, after dropout (training).
    -> (output (T, B, D*H), [final state per k])."""
    directions = 2 if bidirectional else 1
    layers = len(steps) // directions
    steps_t = x.shape[0]
    finals = []
    for layer in range(layers):
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            state = states[k]
            seq = [None] * steps_t
            for t in (range(steps_t - 1, -1, -1) if direction else range(steps_t)):
                state = steps[k](x[t], state)
                if on_state is not None:
                    on_state(k, t, state)
                seq[t] = _output(state)
            outs.append(ag.stack(seq, 0))
            finals.append(state)
        x = outs[0] if directions == 1 else ag.cat(outs, -1)
        if dropout and training and layer < layers - 1:
            x = F.dropout(x, dropout, True)
    return x, finals


def stack_states(finals):
    """[state per k] -> a Tensor (K, B, H), or a tuple of them for tuple states."""
    if isinstance(finals[0], ag.Tensor):
        return ag.stack(finals, 0)
    return tuple(ag.stack([f[i] for f in finals], 0) for i in range(len(finals[0])))


def split_states(hx, count, name):
    """A Tensor (K, B, H) or a tuple of them (or None) -> [state per k]."""
    if hx is None:
        return [None] * count
    parts = (hx,) if isinstance(hx, ag.Tensor) else tuple(hx)
    for p in parts:
        if not isinstance(p, ag.Tensor) or p.ndim < 1 or p.shape[0] != count:
            got = tuple(p.shape) if isinstance(p, ag.Tensor) else type(p).__name__
            raise RuntimeError(f"{name}: each initial state must be a Tensor of shape "
                               f"(num_layers * num_directions = {count}, B, H), got {got}")
    if isinstance(hx, ag.Tensor):
        return [hx[k] for k in range(count)]
    return [tuple(p[k] for p in parts) for k in range(count)]


class RecurrentLayer(Module):
    """Any cell looped over time on the composed path.

    RecurrentLayer(cell, input_size=None, hidden_size=None, num_layers=1, batch_first=False,
                   dropout=0.0, bidirectional=False, **cell_kwargs)
      cell: a cell module (one layer, one direction; sizes taken from it), or a cell class or
            callable cell(layer_input_size, hidden_size, **cell_kwargs) building one cell per
            layer and direction (layer l > 0 reads D * hidden_size features).
    Cells follow PyTorch's protocol cell(x_t, state=None) -> state (nn.RNNCell, nn.LSTMCell,
    nn.GRUCell and the variants); they are `cells.{k}`, k = layer * D + direction.
    input: (T, B, I) ((B, T, I) with batch_first, (T, I) unbatched); state: None or the cells'
    state stacked over k: (L*D, B, H), or a tuple of them (LSTM (h, c)) -> (output (T, B, D*H)
    in the input's layout, final state stacked the same way). Sequences in a batch share T.
    """

    def __init__(self, cell, input_size=None, hidden_size=None, num_layers=1, batch_first=False,
                 dropout=0.0, bidirectional=False, **cell_kwargs):
        super().__init__()
        self.num_layers, self.bidirectional = int(num_layers), bool(bidirectional)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        if not 0 <= self.dropout <= 1:
            raise ValueError(f"RecurrentLayer: dropout must be in [0, 1], got {dropout}")
        directions = 2 if bidirectional else 1
        if isinstance(cell, Module):
            if num_layers != 1 or bidirectional or cell_kwargs:
                raise ValueError("RecurrentLayer: a cell instance makes one layer and one "
                                 "direction; pass the cell class (or a callable) for "
                                 "num_layers > 1, bidirectional or cell arguments")
            self.input_size = getattr(cell, "input_size", input_size)
            self.hidden_size = getattr(cell, "hidden_size", hidden_size)
            self.cells = ModuleList([cell])
            return
        if not callable(cell) or input_size is None or hidden_size is None:
            raise TypeError("RecurrentLayer: cell must be a cell module, or a callable "
                            "cell(input_size, hidden_size, **kwargs) with input_size and "
                            "hidden_size given")
        if self.num_layers < 1:
            raise ValueError(f"RecurrentLayer: num_layers must be >= 1, got {num_layers}")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.cells = ModuleList([
            cell(input_size if k < directions else directions * hidden_size, hidden_size,
                 **cell_kwargs) for k in range(self.num_layers * directions)])

    def extra_repr(self):
        return (f"num_layers={self.num_layers}, batch_first={self.batch_first}, "
                f"dropout={self.dropout}, bidirectional={self.bidirectional}")

    def forward(self, input, state=None):
        if not isinstance(input, ag.Tensor) or input.ndim not in (2, 3) or \
                input.dtype not in (ag.float32, ag.float64) or 0 in input.shape:
            got = f"{input.dtype} of shape {tuple(input.shape)}" \
                if isinstance(input, ag.Tensor) else type(input).__name__
            raise RuntimeError(f"RecurrentLayer: expected a float input (T, B, I) ((B, T, I) "
                               f"with batch_first, (T, I) unbatched) of nonzero sizes, got "
                               f"{got}")
        batched = input.ndim == 3
        x = input.unsqueeze(1) if not batched else \
            input.transpose(0, 1) if self.batch_first else input
        states = split_states(state, len(self.cells), "RecurrentLayer")
        if not batched:
            states = [s if s is None else s.unsqueeze(0) if isinstance(s, ag.Tensor)
                      else tuple(p.unsqueeze(0) for p in s) for s in states]
        out, finals = unroll_cells(list(self.cells), x, states, self.bidirectional,
                                   self.dropout, self.training)
        final = stack_states(finals)
        if not batched:
            out = out.squeeze(1)
            final = final.squeeze(1) if isinstance(final, ag.Tensor) else \
                tuple(f.squeeze(1) for f in final)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, final
