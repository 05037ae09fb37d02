"""Backpropagation through time, made visible: the norm of dL/dh_t at every step, and
truncated BPTT.

    trace = unroll(model, x)                  # nn.RNN/LSTM/GRU (or any nn.RNNBase layer), a
    loss = loss_fn(trace.output)              # RecurrentLayer, or a single cell; composed
    loss.backward()                           # path, every state h_t kept (retain_grad)
    norms = trace.grad_norms()                # (T,) numpy: ||dL/dh_t|| in the last layer
    norms = hidden_grad_norms(model, x, lambda out, state: ...)    # the same in one call

dL/dh_t is the total derivative: through the output at t and through every later step.
For a loss on the last step only it is dL/dh_T prod_{s>t} dh_s/dh_{s-1}: each factor
W_hh^T diag(act'(a_s)) shrinks or grows it by about gamma, the largest singular value of the
Jacobian, so ||dL/dh_t|| ~ gamma^(T-t) ||dL/dh_T|| (vanishing for gamma < 1, exploding for
gamma > 1). The LSTM's cell c_t and the GRU's update gate carry f_t (or z_t) ~ 1 instead.

    losses, state = truncated_bptt(model, x, chunk, loss_fn, optimizer)
runs the model over chunks of `chunk` steps, backpropagates each chunk's loss and detaches the
state between chunks (detach_state): gradients never cross a chunk boundary.
"""
import numpy as np

import autograd as ag

from ..module import Module
from ..rnn import RNNBase
from ..rnn_variants.layers import RecurrentLayer, split_states, stack_states, unroll_cells

__all__ = ["StateTrace", "unroll", "hidden_grad_norms", "detach_state", "truncated_bptt"]


class StateTrace:
    """The result of `unroll`: output, final state, and every state of every step.

    states[k][t]: the state after step t of layer/direction k (k = layer * D + direction), a
    tuple of (B, size) Tensors ((h,), (h, c) for an LSTM, (h_t, ..., h_{t-d+1}) skip RNN)."""

    def __init__(self, output, state, states, directions):
        self.output, self.state, self.states = output, state, states
        self.directions = directions

    def grads(self, layer=-1, direction=0, which=0):
        """[dL/dstate_t for t in 0..T-1] as numpy arrays (B, size) (zeros when the loss does
        not depend on it); which=1 picks c_t of an LSTM."""
        layers = len(self.states) // self.directions
        k = (layer % layers) * self.directions + direction
        out = []
        for state in self.states[k]:
            s = state[which]
            out.append(np.zeros(s.shape, s.dtype) if s.grad is None else s.grad.data)
        return out

    def grad_norms(self, layer=-1, direction=0, which=0, per_sample=False):
        """||dL/dh_t|| for t = 0..T-1: (T,) (the norm over the batch and the units), or
        (T, B) with per_sample=True."""
        grads = np.stack(self.grads(layer, direction, which), 0)
        if per_sample:
            return np.sqrt((grads.astype(np.float64) ** 2).sum(-1))
        return np.sqrt((grads.astype(np.float64) ** 2).reshape(len(grads), -1).sum(-1))


def _rnnbase_steps(model, dtype):
    """One step function per layer and direction of an nn.RNNBase: the Recurrence's step on
    the layer's weights (the composed path), zeros when the state is None."""
    directions = 2 if model.bidirectional else 1
    sizes = model.recurrence.state_sizes(model.hidden_size, model.proj_size)
    stems = [s for s, _ in model.recurrence.weight_shapes(1, model.hidden_size,
                                                          model.proj_size, model.bias)]
    steps = []
    for k in range(model.num_layers * directions):
        suffix = f"_l{k // directions}" + ("_reverse" if k % directions else "")
        w = {stem: getattr(model, stem + suffix) for stem in stems}

        def step(x_t, state, w=w):
            if state is None:
                state = tuple(ag.zeros(x_t.shape[0], n, dtype=dtype) for n in sizes)
            return model.recurrence.step(x_t, state, w)
        steps.append(step)
    return steps


def unroll(model, x, hx=None, batch_first=None):
    """Run model over x on the composed path, keeping every state's gradient.

    model: an nn.RNNBase layer (nn.RNN, nn.LSTM, nn.GRU, the variants), a RecurrentLayer, or a
    single cell (cell(x_t, state) -> state); x: (T, B, I) or (B, T, I) (batch_first: the
    model's, or given here for a cell); hx: as the model takes it.
    -> StateTrace; .output and .state as model(x, hx) returns them (the output time-major
    (T, B, D*H) unless batch_first)."""
    if not isinstance(x, ag.Tensor) or x.ndim != 3:
        got = tuple(x.shape) if isinstance(x, ag.Tensor) else type(x).__name__
        raise RuntimeError(f"unroll: expected a padded batch (T, B, I) or (B, T, I), got {got}"
                           " (packed sequences are not supported)")
    if isinstance(model, RNNBase):
        steps, directions = _rnnbase_steps(model, x.dtype), 2 if model.bidirectional else 1
        dropout, first = model.dropout, model.batch_first
        if hx is not None and not isinstance(hx, ag.Tensor) and len(hx) == 1:
            hx = hx[0]
    elif isinstance(model, RecurrentLayer):
        steps, directions = list(model.cells), 2 if model.bidirectional else 1
        dropout, first = model.dropout, model.batch_first
    elif isinstance(model, Module):
        steps, directions, dropout, first = [model], 1, 0.0, bool(batch_first)
    else:
        raise TypeError(f"unroll: expected an nn.RNNBase layer, a RecurrentLayer or a cell "
                        f"module, got {type(model).__name__}")
    if batch_first is not None:
        first = bool(batch_first)
    states = split_states(hx, len(steps), "unroll")
    if isinstance(model, RNNBase):
        states = [s if s is None or isinstance(s, tuple) else (s,) for s in states]
    kept = [[] for _ in steps]

    def keep(k, t, state):
        state = (state,) if isinstance(state, ag.Tensor) else tuple(state)
        for s in state:
            if s.requires_grad:
                s.retain_grad()
        kept[k].append((t, state))

    xt = x.transpose(0, 1) if first else x
    out, finals = unroll_cells(steps, xt, states, directions == 2, dropout,
                               getattr(model, "training", False), keep)
    by_time = [[s for _, s in sorted(k, key=lambda p: p[0])] for k in kept]
    final = stack_states(finals)
    if isinstance(model, RNNBase) and len(final) == 1:
        final = final[0]
    if len(steps) == 1 and not isinstance(model, (RNNBase, RecurrentLayer)):
        final = finals[0]
    return StateTrace(out.transpose(0, 1) if first else out, final, by_time, directions)


def hidden_grad_norms(model, x, loss_fn, hx=None, batch_first=None, **which):
    """unroll, loss = loss_fn(output, state), backward -> ||dL/dh_t|| per step (T,).
    which: layer, direction, which (0: h, 1: c), per_sample (see StateTrace.grad_norms).
    The backward also accumulates into the parameters' .grad, as any backward does."""
    trace = unroll(model, x, hx, batch_first)
    loss = loss_fn(trace.output, trace.state)
    loss.backward()
    return trace.grad_norms(**which)


def detach_state(state):
    """A Tensor, a tuple/list of them (nested) or None, cut from the graph."""
    if state is None:
        return None
    if isinstance(state, ag.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, a tuple of Tensors or None, got "
                    f"{type(state).__name__}")


def truncated_bptt(model, x, chunk, loss_fn, optimizer=None, state=None, batch_first=False):
    """Truncated backpropagation through time (k1 = k2 = chunk).

    model(x_chunk, state) -> (output, state); x: (T, B, I) ((B, T, I) with batch_first);
    loss_fn(output, steps) -> scalar loss of that chunk, steps: the slice of time it covers.
    Each chunk: forward from the (detached) state, loss.backward(), then optimizer.step() and
    optimizer.zero_grad() when an optimizer is given (otherwise gradients accumulate over the
    chunks). -> (list of the chunks' losses as floats, final state, detached)."""
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"truncated_bptt: chunk must be an integer >= 1, got {chunk!r}")
    axis = 1 if batch_first else 0
    steps = x.shape[axis]
    losses = []
    for start in range(0, steps, chunk):
        span = slice(start, min(start + chunk, steps))
        piece = x[:, span] if batch_first else x[span]
        output, state = model(piece, state)
        loss = loss_fn(output, span)
        loss.backward()
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad()
        losses.append(float(loss.item()))
        state = detach_state(state)
    return losses, state
