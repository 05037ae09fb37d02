"""nn.RNN, nn.LSTM and nn.GRU: RNNBase with PyTorch's signatures (see base.py).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
        batch_first=False, dropout=0.0, bidirectional=False)
        h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)        -> output, h_n
    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
         bidirectional=False, proj_size=0)
        i, f, g, o gates; c_t = f c_{t-1} + i g; h_t = o tanh(c_t) (W_hr projects it to
        proj_size when > 0)                                       -> output, (h_n, c_n)
    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False)
        r, z, n gates; h_t = (1 - z) n + z h_{t-1}                  -> output, h_n
"""
from .base import RNNBase

__all__ = ["RNN", "LSTM", "GRU"]


class RNN(RNNBase):
    """Elman RNN with tanh or relu. input: (T, B, I) -> output (T, B, D*H), h_n (L*D, B, H)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """input: (T, B, I) -> output (T, B, D*P), (h_n (L*D, B, P), c_n (L*D, B, H)),
    P = proj_size or H."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """input: (T, B, I) -> output (T, B, D*H), h_n (L*D, B, H)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)
