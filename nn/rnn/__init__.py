"""Recurrent layers and cells (PyTorch's nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, ...).

    recurrence.py   what a layer computes per step: Recurrence and the RNN/LSTM/GRU ones
    loop.py         the loop over time: fused scan or composed cells; fused_scan(False)
    base.py         RNNBase: layers, directions, dropout, packed sequences, initial states
    layers.py       RNN, LSTM, GRU
    cells.py        RNNCell, LSTMCell, GRUCell
"""
from .base import RNNBase
from .cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from .layers import GRU, LSTM, RNN
from .loop import fused_scan, fused_scan_enabled
from .recurrence import (ElmanRecurrence, GRURecurrence, LSTMRecurrence, Recurrence,
                         recurrence_for)

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_extras = (fused_scan, fused_scan_enabled, Recurrence, ElmanRecurrence, LSTMRecurrence,
           GRURecurrence, recurrence_for)
