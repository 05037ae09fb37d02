"""The course's recurrent variants, and a layer that loops any cell over time.

    cells.py    peephole LSTM, coupled-gates LSTM, leaky unit, skip connections in time:
                functional steps and cell modules (PyTorch's cell protocol)
    layers.py   the same variants as nn.RNNBase layers (via a Recurrence), and RecurrentLayer,
                which loops any cell (PyTorch's or a user's) over layers, directions and time

    cell = PeepholeLSTMCell(8, 16); h, c = cell(x_t, (h, c))
    lstm = PeepholeLSTM(8, 16, num_layers=2, bidirectional=True); out, (h_n, c_n) = lstm(x)
    layer = RecurrentLayer(LeakyRNNCell, 8, 16, num_layers=2, mu=0.9, learn_mu=True)
"""
from .cells import (CoupledLSTMCell, LeakyRNNCell, PeepholeLSTMCell, SkipRNNCell,
                    coupled_lstm_cell, leaky_rnn_cell, peephole_lstm_cell, skip_rnn_cell)
from .layers import (CoupledLSTM, CoupledLSTMRecurrence, LeakyRecurrence, LeakyRNN,
                     PeepholeLSTM, PeepholeLSTMRecurrence, RecurrentLayer, SkipRecurrence,
                     SkipRNN, unroll_cells)

# exported into nn (the modules and their Recurrences); the functional steps and
# unroll_cells stay here: nn.rnn_variants.peephole_lstm_cell, ...
__all__ = ["PeepholeLSTMCell", "CoupledLSTMCell", "LeakyRNNCell", "SkipRNNCell",
           "PeepholeLSTM", "CoupledLSTM", "LeakyRNN", "SkipRNN", "RecurrentLayer",
           "PeepholeLSTMRecurrence", "CoupledLSTMRecurrence", "LeakyRecurrence",
           "SkipRecurrence"]
_functional = (peephole_lstm_cell, coupled_lstm_cell, leaky_rnn_cell, skip_rnn_cell,
               unroll_cells)
