"""The loop of a recurrent layer over time, for one layer and direction.

The input is a padded batch (T, B, I), or the rows of a PackedSequence (R, I) ordered by time
(see nn.utils.rnn): step t is rows offsets[t] : offsets[t] + sizes[t], the sizes[t]
sequences still running. A sequence that has ended keeps its state: its final state.

Two paths that agree to float tolerance:
  fused     the Recurrence's scan: one primitive runs the whole sequence forward and backward
            in numba (the default where a scan exists). Its kernels are once-differentiable:
            a backward with create_graph=True recomputes the forward on the composed path
            and differentiates that instead, so higher-order gradients work on either path
  composed  the Recurrence's step (a cell built from primitives) called once per step in
            Python; any order of gradients. Used when there is no scan, when the layer has
            `fused = False`, or inside `with fused_scan(False):`.
"""
import functools

import autograd as ag

__all__ = ["fused_scan", "fused_scan_enabled", "run_direction", "composed_direction"]

_FUSED = {"enabled": True}


class fused_scan:
    """fused_scan(False) as a context manager (or a decorator) runs every recurrent layer on
    its composed path (the fused path's create_graph=True backward does so by itself)."""

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)
        self._prev = []

    def __enter__(self):
        self._prev.append(_FUSED["enabled"])
        _FUSED["enabled"] = self.enabled
        return self

    def __exit__(self, *exc):
        _FUSED["enabled"] = self._prev.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with fused_scan(self.enabled):
                return fn(*args, **kwargs)
        return wrapper


def fused_scan_enabled():
    return _FUSED["enabled"]


def run_direction(recurrence, x, state, w, sizes, reverse, fused, state_sizes):
    """x: (T, B, I) or packed rows (R, I), state: tuple of (B, size) Tensors or Nones (zeros),
    sizes: (T,) int64 array -> (out (T, B, size_0) or (R, size_0), final states: a tuple of
    (1, B, size), as the scans return them)."""
    def composed(x, state, w):
        batch = int(sizes[0])
        full = tuple(ag.zeros(batch, n, dtype=x.dtype) if s is None else s
                     for s, n in zip(state, state_sizes))
        out, finals = composed_direction(recurrence.step, x, full, w, sizes.tolist(), reverse)
        return out, tuple(f.unsqueeze(0) for f in finals)

    if fused and _FUSED["enabled"]:
        # the scan differentiates `composed` when its backward runs with create_graph=True
        result = recurrence.scan(x, state, w, sizes, reverse, composed)
        if result is not None:
            for f in result[1]:
                if f.ndim != 3 or f.shape[0] != 1:
                    raise RuntimeError(
                        f"{type(recurrence).__name__}.scan must return final states of "
                        f"shape (1, B, size), got {tuple(f.shape)}")
            return result
    return composed(x, state, w)


def composed_direction(step, x, state, w, sizes, reverse):
    """The Python loop: state_t = step(x_t, state_{t-1}, w) on the running sequences.
    x: (T, B, I) padded or (R, I) packed rows with step sizes `sizes` (a list).
    Forward, sequences leave the batch as it shrinks (their rows of the state are final);
    in reverse they join it as it grows, starting from their rows of the initial state."""
    steps = len(sizes)
    padded = x.ndim == 3
    offsets = [0]
    for n in sizes:
        offsets.append(offsets[-1] + n)
    outs = [None] * steps
    finished = []                 # forward: state rows of sequences that ended, latest last
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    running = sizes[-1] if reverse else sizes[0]
    live = state if running == state[0].shape[0] else tuple(s[:running] for s in state)
    for t in order:
        n = sizes[t]
        if n < running:
            finished.append(tuple(s[n:running] for s in live))
            live = tuple(s[:n] for s in live)
        elif n > running:
            live = tuple(ag.cat([s, s0[running:n]], 0) for s, s0 in zip(live, state))
        running = n
        live = step(x[t] if padded else x[offsets[t]:offsets[t + 1]], live, w)
        outs[t] = live[0]
    if finished:
        live = tuple(ag.cat([s] + [f[k] for f in reversed(finished)], 0)
                     for k, s in enumerate(live))
    return (ag.stack(outs, 0) if padded else ag.cat(outs, 0)), live
