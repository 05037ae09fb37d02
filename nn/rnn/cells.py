"""nn.RNNCell, nn.LSTMCell, nn.GRUCell: one step, PyTorch's parameters and signatures.

    RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')   (x, h) -> h'
    LSTMCell(input_size, hidden_size, bias=True)                        (x, (h, c)) -> (h', c')
    GRUCell(input_size, hidden_size, bias=True)                         (x, h) -> h'
    x: (B, I) or (I,) unbatched; states (B, H) or (H,), zeros when not given.
    weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh (G*H,), G = 1, 4, 3, all
    ~ U(-1/sqrt(H), 1/sqrt(H)). The math is nn.functional.rnn's cells (composed primitives).
"""
import math

import autograd as ag

from .. import init
from ..functional import rnn as cells
from ..linear import empty_parameter, factory_dtype
from ..module import Module

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """The parameters shared by the cells: num_chunks gate blocks of hidden_size."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype(type(self).__name__, device, dtype)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = empty_parameter((num_chunks * hidden_size, input_size), dtype)
        self.weight_hh = empty_parameter((num_chunks * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = empty_parameter((num_chunks * hidden_size,), dtype)
            self.bias_hh = empty_parameter((num_chunks * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        # every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, states):
        """input: (B, I) or (I,), states: tensors (B, H) / (H,) or None -> batched versions
        and whether the input was batched."""
        name = type(self).__name__
        if not isinstance(input, ag.Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             "instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[1]} expected {self.input_size} (input of shape "
                               f"{tuple(input.shape)})")
        out = []
        for s in states:
            if s is None:
                s = ag.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            else:
                if not isinstance(s, ag.Tensor) or s.ndim != (2 if batched else 1):
                    got = f"{s.ndim}D" if isinstance(s, ag.Tensor) else type(s).__name__
                    raise ValueError(f"{name}: Expected hidden to be {2 if batched else 1}D "
                                     f"for {2 if batched else 1}D input, got {got} instead")
                if not batched:
                    s = s.unsqueeze(0)
                if tuple(s.shape) != (input.shape[0], self.hidden_size):
                    raise RuntimeError(f"{name}: hidden of shape {tuple(s.shape)} does not "
                                       f"match (batch, hidden_size) = ({input.shape[0]}, "
                                       f"{self.hidden_size})")
            out.append(s)
        return input, out, batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). x: (B, I) -> (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, [hx])
        cell = cells.rnn_tanh_cell if self.nonlinearity == "tanh" else cells.rnn_relu_cell
        h = cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') from x: (B, I) and (h, c): (B, H) each."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        input, (h, c), batched = self._prepare(input, [None, None] if hx is None else hx)
        h, c = cells.lstm_cell(input, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                               self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """h' from x: (B, I) and h: (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, [hx])
        h = cells.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh)
        return h if batched else h.squeeze(0)
