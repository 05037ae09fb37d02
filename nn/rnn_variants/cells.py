"""The course's recurrent variants, one time step each: functional forms and cell modules.

    peephole_lstm_cell   i = s(a_i + V_i * c), f = s(a_f + V_f * c), o = s(a_o + V_o * c)
                         c' = f c + i tanh(a_g),  h' = o tanh(c')
    coupled_lstm_cell    f = s(a_f), o = s(a_o),  c' = f c + (1 - f) tanh(a_g)   (i = 1 - f)
                         h' = o tanh(c')
    leaky_rnn_cell       h' = mu h + (1 - mu) g(x, h),  g = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
    skip_rnn_cell        h_t = tanh(x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh + h_{t-d} W_hs^T)

a = x W_ih^T + b_ih + h W_hh^T + b_hh split into gate blocks in PyTorch's order (i, f, g, o for
the LSTM; f, g, o for the coupled LSTM); s = sigmoid; c = c_{t-1}. The peepholes V are
diagonal (vectors of H, as Gers & Schmidhuber 2000), and all three look at c_{t-1} (Gers &
Schmidhuber feed o from c_t; here the course's form). The skip RNN's state is the tuple
(h_{t-1}, ..., h_{t-d}) of its last d outputs, newest first.

The modules follow PyTorch's cell protocol, cell(x, state=None) -> new state, with x: (B, I)
or (I,) and states (B, H) or (H,) (zeros when not given), so they plug into RecurrentLayer
and, through their Recurrence (layers.py), into nn.RNNBase. Built from primitives only:
gradients of any order.
"""
import math

import numpy as np

import autograd as ag

from .. import init
from ..functional.linear import linear
from ..linear import empty_parameter
from ..parameter import Parameter
from ..rnn import RNNCellBase

__all__ = ["peephole_lstm_cell", "coupled_lstm_cell", "leaky_rnn_cell", "skip_rnn_cell",
           "PeepholeLSTMCell", "CoupledLSTMCell", "LeakyRNNCell", "SkipRNNCell"]


def _gates(op, blocks, input, h, w_ih, w_hh, b_ih, b_hh):
    """a = x W_ih^T + b_ih + h W_hh^T + b_hh: (B, blocks*H), after checking the shapes."""
    tensors = (("input", input), ("h", h), ("w_ih", w_ih), ("w_hh", w_hh))
    for name, t in tensors:
        if not isinstance(t, ag.Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    hidden = h.shape[-1]
    if input.ndim != 2 or h.ndim != 2 or input.shape[0] != h.shape[0] or \
            tuple(w_ih.shape) != (blocks * hidden, input.shape[1]) or \
            tuple(w_hh.shape) != (blocks * hidden, hidden):
        raise RuntimeError(f"{op}: expected input (B, I), h (B, H), w_ih ({blocks}*H, I), w_hh "
                           f"({blocks}*H, H); got input {tuple(input.shape)}, h "
                           f"{tuple(h.shape)}, w_ih {tuple(w_ih.shape)}, w_hh "
                           f"{tuple(w_hh.shape)}")
    return linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)


def _pair(op, hx):
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{op}: hx must be a pair (h, c), got {type(hx).__name__}")
    h, c = hx
    if not isinstance(c, ag.Tensor) or tuple(c.shape) != tuple(h.shape):
        shape = tuple(c.shape) if isinstance(c, ag.Tensor) else type(c).__name__
        raise RuntimeError(f"{op}: c of shape {shape} must match h {tuple(h.shape)}")
    return h, c


def peephole_lstm_cell(input, hx, w_ih, w_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    """input: (B, I), hx = (h, c): (B, H) each, w_c*: (H,) -> (h', c'): (B, H) each."""
    h, c = _pair("peephole_lstm_cell", hx)
    a_i, a_f, a_g, a_o = _gates("peephole_lstm_cell", 4, input, h, w_ih, w_hh, b_ih,
                                b_hh).chunk(4, 1)
    i = (a_i + w_ci * c).sigmoid()
    f = (a_f + w_cf * c).sigmoid()
    o = (a_o + w_co * c).sigmoid()
    c_next = f * c + i * a_g.tanh()
    return o * c_next.tanh(), c_next


def coupled_lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """input: (B, I), hx = (h, c): (B, H) each, w_ih: (3H, I) [f g o] -> (h', c')."""
    h, c = _pair("coupled_lstm_cell", hx)
    a_f, a_g, a_o = _gates("coupled_lstm_cell", 3, input, h, w_ih, w_hh, b_ih, b_hh).chunk(3, 1)
    f = a_f.sigmoid()
    g = a_g.tanh()
    c_next = g + f * (c - g)                 # f c + (1 - f) g
    return a_o.sigmoid() * c_next.tanh(), c_next


def leaky_rnn_cell(input, hx, w_ih, w_hh, b_ih, b_hh, mu):
    """input: (B, I), hx: (B, H), mu: a float, or a Tensor (H,) of values in [0, 1]
    -> h': (B, H) = mu h + (1 - mu) tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    g = _gates("leaky_rnn_cell", 1, input, hx, w_ih, w_hh, b_ih, b_hh).tanh()
    return g + mu * (hx - g)


def skip_rnn_cell(input, hx, w_ih, w_hh, w_hs, b_ih=None, b_hh=None):
    """input: (B, I), hx = (h_{t-1}, ..., h_{t-d}): d tensors (B, H), w_hs: (H, H)
    -> (h_t, h_{t-1}, ..., h_{t-d+1})."""
    if not isinstance(hx, (tuple, list)) or not hx:
        raise TypeError(f"skip_rnn_cell: hx must be a non-empty tuple (h_(t-1), ..., h_(t-d)), "
                        f"got {type(hx).__name__}")
    h, far = hx[0], hx[-1]
    if tuple(w_hs.shape) != tuple(w_hh.shape) or tuple(far.shape) != tuple(h.shape):
        raise RuntimeError(f"skip_rnn_cell: expected w_hs of w_hh's shape {tuple(w_hh.shape)} "
                           f"and h_(t-d) of h's shape {tuple(h.shape)}, got w_hs "
                           f"{tuple(w_hs.shape)} and h_(t-d) {tuple(far.shape)}")
    a = _gates("skip_rnn_cell", 1, input, h, w_ih, w_hh, b_ih, b_hh)
    h_next = (a + linear(far, w_hs)).tanh()
    return (h_next,) + tuple(hx[:-1])


class PeepholeLSTMCell(RNNCellBase):
    """LSTMCell with peepholes: weight_ih (4H, I), weight_hh (4H, H), bias_ih, bias_hh (4H,),
    weight_ci, weight_cf, weight_co (H,), all ~ U(-1/sqrt(H), 1/sqrt(H)).
    (x: (B, I), (h, c): (B, H) each) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)
        for name in ("weight_ci", "weight_cf", "weight_co"):
            setattr(self, name, empty_parameter((hidden_size,), self.weight_ih.dtype))
        self.reset_parameters()

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"PeepholeLSTMCell: hx must be a tuple (h, c), got "
                            f"{type(hx).__name__}")
        input, (h, c), batched = self._prepare(input, [None, None] if hx is None else hx)
        h, c = peephole_lstm_cell(input, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                                  self.bias_hh, self.weight_ci, self.weight_cf, self.weight_co)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class CoupledLSTMCell(RNNCellBase):
    """LSTM with coupled input and forget gates (i = 1 - f): weight_ih (3H, I),
    weight_hh (3H, H), biases (3H,), gate blocks [f g o]. (x, (h, c)) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"CoupledLSTMCell: hx must be a tuple (h, c), got "
                            f"{type(hx).__name__}")
        input, (h, c), batched = self._prepare(input, [None, None] if hx is None else hx)
        h, c = coupled_lstm_cell(input, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                                 self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


def _check_mu(name, mu, hidden_size, learn_mu):
    """mu: a float or H values in [0, 1] ((0, 1) when learned) -> float64 array (H,)."""
    values = np.broadcast_to(np.asarray(mu, dtype=np.float64), (hidden_size,)) \
        if np.ndim(mu) == 0 else np.asarray(mu, dtype=np.float64)
    if values.shape != (hidden_size,):
        raise ValueError(f"{name}: mu must be a number or {hidden_size} values (one per "
                         f"unit), got shape {values.shape}")
    low_ok = values > 0 if learn_mu else values >= 0
    high_ok = values < 1 if learn_mu else values <= 1
    if not (low_ok & high_ok).all():
        span = "(0, 1) when learned" if learn_mu else "[0, 1]"
        raise ValueError(f"{name}: mu must lie in {span}, got {mu!r}")
    return values


class LeakyRNNCell(RNNCellBase):
    """The leaky unit h' = mu h + (1 - mu) tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    mu: a number or one value per unit (time constants). learn_mu=False keeps it fixed (a
    buffer `mu`); learn_mu=True learns mu = sigmoid(mu_logit), a parameter (H,) starting at
    logit(mu). weight_ih (H, I), weight_hh (H, H), biases (H,). x: (B, I), h: (B, H) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, mu=0.5, learn_mu=False,
                 device=None, dtype=None):
        self._mu0 = _check_mu("LeakyRNNCell", mu, hidden_size, learn_mu)
        self.learn_mu = bool(learn_mu)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        values = self._mu0.astype(self.weight_ih.dtype)
        if learn_mu:
            self.mu_logit = Parameter(ag.from_numpy(np.log(values / (1 - values))))
        else:
            self.register_buffer("mu", ag.from_numpy(values))

    def reset_parameters(self):
        # weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)); mu_logit = logit(mu)
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for name, weight in self.named_parameters():
            if name == "mu_logit":
                with ag.no_grad():
                    weight.copy_(ag.from_numpy(np.log(self._mu0 / (1 - self._mu0))
                                               .astype(weight.dtype)))
            else:
                init.uniform_(weight, -stdv, stdv)

    def current_mu(self):
        """mu: (H,), sigmoid(mu_logit) when learned."""
        return self.mu_logit.sigmoid() if self.learn_mu else self.mu

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, [hx])
        h = leaky_rnn_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh, self.current_mu())
        return h if batched else h.squeeze(0)

    def extra_repr(self):
        return super().extra_repr() + f", learn_mu={self.learn_mu}"


class SkipRNNCell(RNNCellBase):
    """A tanh RNN with a skip connection of d steps in time:
    h_t = tanh(x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh + h_{t-d} W_hs^T).
    weight_ih (H, I), weight_hh (H, H), weight_hs (H, H), biases (H,).
    state: the tuple (h_{t-1}, ..., h_{t-d}) (each (B, H), zeros when not given) -> the next
    such tuple, whose first entry h_t is the output."""

    def __init__(self, input_size, hidden_size, skip=2, bias=True, device=None, dtype=None):
        if isinstance(skip, bool) or not isinstance(skip, (int, np.integer)) or skip < 1:
            raise ValueError(f"SkipRNNCell: skip must be an integer >= 1, got {skip!r}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.skip = int(skip)
        self.weight_hs = empty_parameter((hidden_size, hidden_size), self.weight_ih.dtype)
        self.reset_parameters()

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != self.skip):
            raise TypeError(f"SkipRNNCell: hx must be a tuple of skip={self.skip} tensors "
                            f"(h_(t-1), ..., h_(t-{self.skip})), got {type(hx).__name__}"
                            + (f" of {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
        input, states, batched = self._prepare(input, [None] * self.skip if hx is None else hx)
        out = skip_rnn_cell(input, tuple(states), self.weight_ih, self.weight_hh,
                            self.weight_hs, self.bias_ih, self.bias_hh)
        return out if batched else tuple(s.squeeze(0) for s in out)

    def extra_repr(self):
        return super().extra_repr() + f", skip={self.skip}"
