"""RNNBase: the layers shared by nn.RNN, nn.LSTM and nn.GRU (PyTorch's RNNBase).

    RNNBase(mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
            dropout=0.0, bidirectional=False, proj_size=0)
    input: (T, B, I) (batch_first: (B, T, I)), (T, I) unbatched, or a PackedSequence
    states: each (L*D, B, size) (unbatched: (L*D, size)), zeros when not given
    -> output (T, B, D*size_0) (same layout as the input; a PackedSequence for one), and the
       final states (L*D, B, size); D = 2 when bidirectional. Index k = layer*D + direction.

Layer l > 0 reads the concatenated outputs of both directions of layer l - 1, after dropout
(training only, not after the last layer). Parameters per layer and direction, in
PyTorch's order: weight_ih_l{k}{_reverse}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}
(weight_hr_l{k} for a projected LSTM), each ~ U(-1/sqrt(H), 1/sqrt(H)).
Each layer and direction runs on the fused scan unless `self.fused` is False or
`nn.rnn.fused_scan(False)` is active (see loop.py).
"""
import math
import numbers
import warnings

import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..linear import empty_parameter, factory_dtype
from ..module import Module
from ..utils.rnn import PackedSequence
from .loop import run_direction
from .recurrence import recurrence_for

__all__ = ["RNNBase"]


class RNNBase(Module):
    """Stacked, optionally bidirectional recurrent layers over a Recurrence."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        self.recurrence = recurrence_for(mode)
        self.mode = self.recurrence.name
        name = type(self).__name__
        dtype = factory_dtype(name, device, dtype)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        for arg, value, low in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1),
                                ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"{name}: {arg} should be of type int, got: "
                                f"{type(value).__name__}")
            if value < low:
                raise ValueError(f"{name}: {arg} must be >= {low}, got {value}")
        if proj_size and not self.recurrence.supports_proj:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), int(proj_size)
        self.fused = True
        directions = 2 if bidirectional else 1
        out_size = self.recurrence.state_sizes(hidden_size, proj_size)[0]
        self._flat_weights_names = []
        self._weight_stems = []          # [(layer, direction)] -> {stem: parameter name}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                stems = {}
                for stem, shape in self.recurrence.weight_shapes(layer_input, hidden_size,
                                                                 proj_size, bias):
                    setattr(self, stem + suffix, empty_parameter(shape, dtype))
                    stems[stem] = stem + suffix
                    self._flat_weights_names.append(stem + suffix)
                self._weight_stems.append(stems)
        self.reset_parameters()

    def reset_parameters(self):
        # every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op (PyTorch compacts cuDNN weights here)."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in stems.values()] for stems in self._weight_stems]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward -----------------------------------------------------------------------------
    def _sizes(self):
        return self.recurrence.state_sizes(self.hidden_size, self.proj_size)

    def _check_input(self, input):
        name = type(self).__name__
        if not isinstance(input, ag.Tensor):
            raise TypeError(f"{name}: expected a Tensor or a PackedSequence input, got "
                            f"{type(input).__name__}")
        if input.dtype not in (ag.float32, ag.float64):
            raise TypeError(f"{name}: expected a float32 or float64 input, got {input.dtype}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]} (input of shape "
                               f"{tuple(input.shape)})")
        weight = self._parameters[self._flat_weights_names[0]]
        if input.dtype != weight.dtype:
            raise RuntimeError(f"{name}: input dtype {input.dtype} does not match the "
                               f"parameters' dtype {weight.dtype}")

    def _initial_states(self, hx, batch, dtype, batched, sorted_indices):
        """hx (a Tensor, or a tuple for several states, or None) -> tuple of (L*D, B, size)
        Tensors, or None (zeros)."""
        name = type(self).__name__
        sizes = self._sizes()
        layers = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return None
        states = (hx,) if len(sizes) == 1 and isinstance(hx, ag.Tensor) else hx
        if not isinstance(states, (tuple, list)) or len(states) != len(sizes) or \
                not all(isinstance(s, ag.Tensor) for s in states):
            want = "a Tensor" if len(sizes) == 1 else f"a tuple of {len(sizes)} Tensors"
            raise TypeError(f"{name}: hx must be {want}, got {type(hx).__name__}")
        out = []
        for k, (state, size) in enumerate(zip(states, sizes)):
            dims = 3 if batched else 2
            if state.ndim != dims:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"{name}: for {kind} input, hx should also be {dims}-D but "
                                   f"got {state.ndim}-D tensor (shape {tuple(state.shape)})")
            if not batched:
                state = state.unsqueeze(1)
            want = (layers, batch, size)
            if tuple(state.shape) != want:
                label = "hidden size" if k == 0 else "hidden[1] size"
                raise RuntimeError(f"{name}: Expected {label} {want}, got "
                                   f"{list(state.shape)}")
            if state.dtype != dtype:
                raise RuntimeError(f"{name}: hx dtype {state.dtype} does not match the input "
                                   f"dtype {dtype}")
            if sorted_indices is not None:
                state = state.index_select(1, sorted_indices)
            out.append(state)
        return tuple(out)

    def forward(self, input, hx=None):
        """input: (T, B, I) / (B, T, I) / (T, I) / PackedSequence, hx: initial state(s)
        -> (output, h_n) or, for several states, (output, (h_n, c_n))."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            x, sizes = input.data, np.asarray(input.batch_sizes.data, np.int64)
            self._check_input(x)
            if x.ndim != 2:
                raise RuntimeError(f"{name}: packed data must be 2-D (rows, input_size), got "
                                   f"shape {tuple(x.shape)}")
            batch, batched, sorted_indices = int(sizes[0]), True, input.sorted_indices
        else:
            self._check_input(input)
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 f"instead (shape {tuple(input.shape)})")
            batched, sorted_indices = input.ndim == 3, None
            x = input.unsqueeze(1) if not batched else \
                input.transpose(0, 1) if self.batch_first else input
            steps, batch = x.shape[0], x.shape[1]
            if steps == 0 or batch == 0:
                raise RuntimeError(f"{name}: expected at least one step and one sequence, got "
                                   f"input of shape {tuple(input.shape)}")
            sizes = np.empty(steps, np.int64)      # (np.full: twice the time)
            sizes.fill(batch)
        states = self._initial_states(hx, batch, x.dtype, batched, sorted_indices)
        out, finals = self._run_layers(x, states, sizes)
        if packed:
            output = PackedSequence(out, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
            if input.unsorted_indices is not None:
                finals = tuple(f.index_select(1, input.unsorted_indices) for f in finals)
        else:
            output = out
            if not batched:
                output = output.squeeze(1)
                finals = tuple(f.squeeze(1) for f in finals)
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (finals[0] if len(finals) == 1 else finals)

    def _run_layers(self, x, states, sizes):
        """x: (T, B, I) or packed rows (R, I), states: tuple of (L*D, B, size) or None
        -> (out (T, B, D*size_0) or (R, D*size_0), final states tuple of (L*D, B, size))."""
        directions = 2 if self.bidirectional else 1
        state_sizes = self._sizes()
        finals = []                   # per layer and direction: its final states (1, B, size)
        params = self._parameters
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                w = {stem: params[name] for stem, name in self._weight_stems[k].items()}
                state = (None,) * len(state_sizes) if states is None else \
                    tuple(s[k] for s in states)
                out, final = run_direction(self.recurrence, x, state, w, sizes,
                                           direction == 1, self.fused, state_sizes)
                outs.append(out)
                finals.append(final)
            x = outs[0] if directions == 1 else ag.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if len(finals) == 1:
            return x, finals[0]
        return x, tuple(ag.cat(list(f), 0) for f in zip(*finals))
