"""The neural Turing machine (Graves, Wayne & Danihelka 2014) and its copy task.

    ntm = NTM(input_size=9, output_size=8, controller_size=100, memory_slots=128,
              memory_width=20)
    x, target = copy_task(16, length=5, seed=0)      # x (2L + 1, B, 9), target (L, B, 8)
    logits = ntm(x)[-5:]                              # the recall phase
    loss = F.binary_cross_entropy_with_logits(logits, target)

One step (batch B, memory N x M, R read heads, W write heads):
    h, c   = LSTMCell([x_t, r_1 .. r_R], (h, c))            the controller
    w_h    = address(M, w_h(t-1), k, beta, g, s, gamma)     each head, from h (nn.memory)
    M      = M prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T      the write heads, erase then add
    r_h    = w_h^T M                                         the read heads, on the new memory
    y_t    = Linear([h, r_1 .. r_R])                         logits
Initial state: memory filled with the constant 1e-6 (Collier & Beel 2018 found a constant
initialisation learns fastest), every head's weighting one-hot on slot 0 (so location-based
addressing has a start and the slots' symmetry is broken), learned initial read vectors.
"""
import numpy as np

import autograd as ag

from .. import init
from ..containers import ModuleList
from ..linear import Linear
from ..memory import NTMHead, memory_read, memory_write
from ..module import Module
from ..parameter import Parameter
from ..rnn import LSTMCell

__all__ = ["NTM", "copy_task", "copy_bit_errors"]


class NTM(Module):
    """NTM(input_size, output_size, controller_size=100, memory_slots=128, memory_width=20,
    read_heads=1, write_heads=1, shift_range=1, batch_first=False)
    forward(x (T, B, input_size), state=None, return_state=False) -> logits
    (T, B, output_size) [, state]. step(x_t (B, input_size), state) -> (y_t, state);
    weightings(x) -> {'read': (T, B, R, N), 'write': (T, B, W, N)} (no graph)."""

    def __init__(self, input_size, output_size, controller_size=100, memory_slots=128,
                 memory_width=20, read_heads=1, write_heads=1, shift_range=1,
                 batch_first=False):
        super().__init__()
        for name, value, minimum in (("input_size", input_size, 1), ("output_size", output_size, 1),
                                     ("controller_size", controller_size, 1),
                                     ("memory_slots", memory_slots, 1),
                                     ("memory_width", memory_width, 1),
                                     ("read_heads", read_heads, 1),
                                     ("write_heads", write_heads, 0),
                                     ("shift_range", shift_range, 0)):
            if not isinstance(value, int) or value < minimum:
                raise ValueError(f"NTM: {name} must be an integer >= {minimum}, got {value!r}")
        if 2 * shift_range + 1 > memory_slots:
            raise ValueError(f"NTM: 2 * shift_range + 1 = {2 * shift_range + 1} shifts exceed "
                             f"memory_slots = {memory_slots}")
        self.input_size, self.output_size = input_size, output_size
        self.memory_slots, self.memory_width = memory_slots, memory_width
        self.batch_first = batch_first
        read_width = read_heads * memory_width
        self.controller = LSTMCell(input_size + read_width, controller_size)
        self.read_heads = ModuleList([NTMHead(controller_size, memory_width, shift_range)
                                      for _ in range(read_heads)])
        self.write_heads = ModuleList([NTMHead(controller_size, memory_width, shift_range,
                                               write=True) for _ in range(write_heads)])
        self.output = Linear(controller_size + read_width, output_size)
        self.read_init = Parameter(ag.zeros(read_heads, memory_width))
        init.normal_(self.read_init, std=0.01)
        self.register_buffer("memory_init", ag.full((memory_slots, memory_width), 1e-6))
        first_slot = np.zeros(memory_slots, dtype=ag.get_default_dtype())
        first_slot[0] = 1.0
        self.register_buffer("weighting_init", ag.tensor(first_slot))

    def initial_state(self, batch_size):
        """A dict: h, c (B, controller_size), memory (B, N, M), reads: R tensors (B, M),
        read_w: R tensors (B, N), write_w: W tensors (B, N)."""
        dtype = self.read_init.dtype
        hidden = self.controller.hidden_size
        weighting = self.weighting_init.unsqueeze(0).expand(batch_size, self.memory_slots)
        return {"h": ag.zeros(batch_size, hidden, dtype=dtype),
                "c": ag.zeros(batch_size, hidden, dtype=dtype),
                "memory": self.memory_init.unsqueeze(0).expand(batch_size, self.memory_slots,
                                                               self.memory_width),
                "reads": [self.read_init[i].unsqueeze(0).expand(batch_size, self.memory_width)
                          for i in range(len(self.read_heads))],
                "read_w": [weighting] * len(self.read_heads),
                "write_w": [weighting] * len(self.write_heads)}

    def step(self, x_t, state):
        """x_t: (B, input_size) -> (logits (B, output_size), the next state)."""
        controller_in = ag.cat([x_t] + state["reads"], dim=1)
        h, c = self.controller(controller_in, (state["h"], state["c"]))
        memory = state["memory"]
        write_w = []
        if len(self.write_heads):
            erases, adds = [], []
            for head, w_prev in zip(self.write_heads, state["write_w"]):
                w, params = head(h, memory, w_prev)
                write_w.append(w)
                erases.append(params["erase"])
                adds.append(params["add"])
            memory = memory_write(memory, ag.stack(write_w, dim=1), ag.stack(erases, dim=1),
                                  ag.stack(adds, dim=1))
        read_w, reads = [], []
        for head, w_prev in zip(self.read_heads, state["read_w"]):
            w, _ = head(h, memory, w_prev)
            read_w.append(w)
            reads.append(memory_read(memory, w))
        y = self.output(ag.cat([h] + reads, dim=1))
        return y, {"h": h, "c": c, "memory": memory, "reads": reads, "read_w": read_w,
                   "write_w": write_w}

    def _check_input(self, x):
        if not isinstance(x, ag.Tensor):
            raise TypeError(f"NTM: expected a Tensor input, got {type(x).__name__}")
        if x.ndim != 3 or x.shape[2] != self.input_size:
            layout = "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"
            raise ValueError(f"NTM: expected input {layout} with input_size={self.input_size}, "
                             f"got shape {tuple(x.shape)}")
        return x.transpose(0, 1) if self.batch_first else x

    def _run(self, x, state, record):
        x = self._check_input(x)
        state = self.initial_state(x.shape[1]) if state is None else state
        outputs, trace = [], {"read": [], "write": []}
        for t in range(x.shape[0]):
            y, state = self.step(x[t], state)
            outputs.append(y)
            if record:
                trace["read"].append(ag.stack(state["read_w"], dim=1))
                if state["write_w"]:
                    trace["write"].append(ag.stack(state["write_w"], dim=1))
        y = ag.stack(outputs, dim=0)
        return (y.transpose(0, 1) if self.batch_first else y), state, trace

    def forward(self, x, state=None, return_state=False):
        y, state, _ = self._run(x, state, record=False)
        return (y, state) if return_state else y

    def weightings(self, x, state=None):
        """The heads' weightings at every step (T, B, H, N) (time first), without a graph."""
        with ag.no_grad():
            _, _, trace = self._run(x, state, record=True)
        return {kind: ag.stack(ws, dim=0) for kind, ws in trace.items() if ws}

    def extra_repr(self):
        return (f"memory_slots={self.memory_slots}, memory_width={self.memory_width}, "
                f"batch_first={self.batch_first}")


def copy_task(batch_size, length, width=8, seed=None, dtype=None):
    """The copy task of Graves et al. (2014): (x, target).
    x: (2 * length + 1, B, width + 1): `length` random bit vectors (last channel 0), one
    delimiter step (only the last channel is 1), then `length` blank steps.
    target: (length, B, width), the bit vectors, to be emitted during the blank steps.
    seed: an int, a numpy Generator or None (numpy's fresh entropy)."""
    if not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"copy_task: length must be an integer >= 1, got {length!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"copy_task: batch_size must be an integer >= 1, got {batch_size!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    dtype = ag.get_default_dtype() if dtype is None else dtype
    bits = rng.integers(0, 2, size=(length, batch_size, width))
    x = np.zeros((2 * length + 1, batch_size, width + 1))
    x[:length, :, :width] = bits
    x[length, :, width] = 1.0
    return ag.tensor(x, dtype=dtype), ag.tensor(bits, dtype=dtype)


def copy_bit_errors(logits, target):
    """logits, target: (L, B, width) -> ndarray (B,): the number of wrong bits per sequence
    when each output bit is thresholded at probability 0.5 (logit 0)."""
    if tuple(logits.shape) != tuple(target.shape):
        raise ValueError(f"copy_bit_errors: logits {tuple(logits.shape)} and target "
                         f"{tuple(target.shape)} must have one shape")
    predicted = np.asarray(logits.data) > 0
    return np.abs(predicted - np.asarray(target.data)).sum(axis=(0, 2))
