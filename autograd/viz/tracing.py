"""What the drawing needs beyond the tape: the module call that created each node, and the
gradient that reached each node during backward.

Module calls. Every recorded node takes a sequence number from the tape's global counter
(`autograd.function._sequence`). While tracing, global module hooks take one number from the
same counter when a module call starts and one when it ends, so the nodes recorded inside the
call are exactly those with start < seq < end; calls made inside it give nested ranges.
Taking numbers leaves gaps in the tape's numbering, which only orders nodes.

Gradients. `watch(root)` walks the graph once and hangs a small hook on every node output;
in backward the engine calls it with the summed gradient of that output, and its norm and
NaN/Inf counts are kept (weakly, per node) for `draw` and `summary`. Inside `trace()` every
backward pass watches its graph automatically.
"""
import bisect
import weakref
from collections import deque

import numpy as np

from .. import engine as _engine
from .. import function as _function

__all__ = ["trace", "watch", "ModuleCall"]

MAX_CALLS = 200_000            # module calls kept (oldest dropped first)

_calls = deque(maxlen=MAX_CALLS)
_stack = []                    # the module calls in progress, innermost last
_grad_stats = weakref.WeakKeyDictionary()   # node -> [(norm, n_nan, n_inf) or None per output]
_watched = weakref.WeakSet()
_active = {"depth": 0, "handles": (), "run": None}


class ModuleCall:
    """One call of a module: the nodes with start < seq < end were recorded inside it."""
    __slots__ = ("module_ref", "module_type", "start", "end", "parent")

    def __init__(self, module, start, parent):
        self.module_ref = weakref.ref(module)
        self.module_type = type(module).__name__
        self.start = start
        self.end = None                  # None while the call runs
        self.parent = parent

    def contains(self, seq):
        return self.start < seq and (self.end is None or seq < self.end)

    def __repr__(self):
        return f"<ModuleCall {self.module_type} ({self.start}, {self.end})>"


def _next_seq():
    return next(_function._sequence)


def _enter(module, args):
    call = ModuleCall(module, _next_seq(), _stack[-1] if _stack else None)
    _stack.append(call)
    _calls.append(call)


def _exit(module, args, output):
    # always_call: also runs when forward raised, so the stack never stays unbalanced
    while _stack:
        call = _stack.pop()
        call.end = _next_seq()
        if call.module_ref() is module:
            break


class trace:
    """Record module calls and watch every backward pass while active:

        with ag.viz.trace():
            loss = loss_fn(model(x), y)
            loss.backward()
        ag.viz.draw(loss, params=model)       # clusters per module, gradients per node

    Usable as a context manager or with start()/stop(). Module calls are recorded through
    nn's global module hooks; backward passes are watched by wrapping the engine's pass
    (`autograd.engine._run`) for the duration. Both cost nothing once stopped."""

    def __init__(self, modules=True, grads=True):
        self.modules = modules
        self.grads = grads
        self._started = False

    def start(self):
        if self._started:
            return self
        self._started = True
        if _active["depth"] == 0:
            _install(self.modules, self.grads)
        _active["depth"] += 1
        return self

    def stop(self):
        if not self._started:
            return
        self._started = False
        _active["depth"] -= 1
        if _active["depth"] == 0:
            _uninstall()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _install(modules, grads):
    handles = []
    if modules:
        try:
            from nn.hooks import register_module_forward_hook, register_module_forward_pre_hook
        except ImportError:                          # the engine works without nn
            pass
        else:
            handles = [register_module_forward_pre_hook(_enter),
                       register_module_forward_hook(_exit, always_call=True)]
    _active["handles"] = handles
    if grads:
        original = _engine._run

        def _run_watched(roots, *args, **kwargs):
            if _active["run"] is _run_watched:      # inert once its trace has stopped
                watch(*roots)
            return original(roots, *args, **kwargs)

        _run_watched.original = original
        _engine._run = _run_watched
        _active["run"] = _run_watched


def _uninstall():
    for handle in _active["handles"]:
        handle.remove()
    _active["handles"] = ()
    run = _active["run"]
    if run is not None and _engine._run is run:
        _engine._run = run.original
    _active["run"] = None
    _stack.clear()


def calls_in(lo, hi):
    """The recorded module calls that overlap the sequence range [lo, hi], by start."""
    return sorted((c for c in _calls if c.start <= hi and (c.end is None or c.end >= lo)),
                  key=lambda c: c.start)


def innermost_calls(seqs, calls):
    """For each sequence number (any order), the innermost call containing it, or None.
    `calls` sorted by start; calls nest, so the innermost one is the last started call
    containing seq, found by walking up from the last call started before seq."""
    starts = [c.start for c in calls]
    out = []
    for s in seqs:
        i = bisect.bisect_left(starts, s) - 1
        call = calls[i] if i >= 0 else None
        while call is not None and not call.contains(s):
            call = call.parent
        out.append(call)
    return out


# -- gradients -------------------------------------------------------------------------------
class _GradRecorder:
    """A tensor hook on output `nr` of a node: keeps the gradient's norm and NaN/Inf counts."""
    __slots__ = ("node_ref", "nr")

    def __init__(self, node, nr):
        self.node_ref = weakref.ref(node)
        self.nr = nr

    def __call__(self, g):
        node = self.node_ref()
        if node is not None:
            stats = _grad_stats.get(node)
            if stats is None:
                stats = _grad_stats[node] = [None] * len(node.out_meta)
            stats[self.nr] = grad_stats(g.data)


def grad_stats(a):
    """(L2 norm of the finite entries, number of NaN, number of Inf) of an array."""
    a = np.asarray(a)
    if a.dtype.kind not in "fc":
        return (float(np.linalg.norm(a.astype(np.float64).ravel())), 0, 0)
    finite = np.isfinite(a)
    if finite.all():
        return (float(np.linalg.norm(a.ravel().astype(np.float64))), 0, 0)
    n_nan = int(np.isnan(a).sum())
    n_inf = int(a.size - finite.sum() - n_nan)
    return (float(np.linalg.norm(a[finite].astype(np.float64))), n_nan, n_inf)


def watch(*roots):
    """Record, in the next backward pass, the gradient reaching every node of the graph of
    `roots` (call before backward; `trace()` does it for you)."""
    from ._graph import walk
    nodes, _ = walk(_flatten(roots))
    for node in nodes:
        if node in _watched:
            continue
        _watched.add(node)
        hooks = node._tensor_hooks
        if hooks is None:
            hooks = node._tensor_hooks = {}
        for nr in range(len(node.out_meta)):
            hooks.setdefault(nr, []).append(_GradRecorder(node, nr))


def node_grad_stats(node):
    """[(norm, n_nan, n_inf) or None per output] recorded in backward, or None."""
    return _grad_stats.get(node)


def _flatten(roots):
    out = []
    for r in roots:
        if isinstance(r, (list, tuple)):
            out.extend(_flatten(r))
        elif r is not None:
            out.append(r)
    return out
