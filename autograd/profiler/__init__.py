"""Where the time goes, per op type: forward and backward, kernel and Python overhead, JIT.

    with ag.profiler.profile() as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.table(sort_by="total"))
    prof.export_chrome_trace("trace.json")     # chrome://tracing, https://ui.perfetto.dev

Per op type (a Function subclass) it records calls, and for forward and backward:
    kernel   time inside the op's forward / backward (numpy, numba, the op's own code),
             less the JIT time and the Python overhead of ops it calls in turn
    overhead Python bookkeeping around it: recording the node in `Function.apply`
             (for nested ops too), and in backward the engine's work for that node
             (routing and summing gradients, reducing broadcasts) until the next node runs
    jit      numba compilation and cache loading that happened inside the op
Ops called inside another op's forward or backward count towards that op (they appear in the
chrome trace as nested events). The rows add up to at most the wall time; the rest is Python
outside any op (`prof.untracked`).

How: while the profile is active, `Function.apply`, the forward/backward of every Function
subclass and the engine's backward pass are wrapped; on exit the originals are restored, so
nothing costs anything once profiling stops. An `f = MyFn.apply` bound before the profile
started bypasses the wrapped apply: its forward is timed as a whole (no overhead split).
numba's compile events are listened to, and the kernels' dispatchers asked for cache hits.
"""
import json
import os
import time
from collections import defaultdict

from .. import engine as _engine
from ..function import Function
from ._numba import cache_hits as _cache_hits, listener as _numba_listener
from ._table import format_table as _format_table

__all__ = ["profile", "OpStats"]

_now = time.perf_counter
_MISSING = object()
_SORT_KEYS = {"total", "calls", "forward", "backward", "kernel", "overhead", "jit", "name"}


class _Frame:
    __slots__ = ("name", "cat", "start", "nested", "nested_overhead", "kernel", "jit",
                 "shapes", "in_forward", "via_apply")

    def __init__(self, name, cat, start, shapes=None, via_apply=False):
        self.name, self.cat, self.start, self.shapes = name, cat, start, shapes
        self.via_apply = via_apply
        self.nested = 0.0            # time in op events nested inside this one
        self.nested_overhead = 0.0   # of which Python overhead of those nested ops
        self.kernel = None           # time inside forward/backward (set by its wrapper)
        self.jit = 0.0
        self.in_forward = False


class OpStats:
    """Totals of one op type, in seconds."""
    __slots__ = ("name", "calls", "fwd_kernel", "fwd_overhead", "bwd_calls", "bwd_kernel",
                 "bwd_overhead", "jit")

    def __init__(self, name):
        self.name = name
        self.calls = self.bwd_calls = 0
        self.fwd_kernel = self.fwd_overhead = self.bwd_kernel = self.bwd_overhead = 0.0
        self.jit = 0.0

    @property
    def forward(self):
        return self.fwd_kernel + self.fwd_overhead

    @property
    def backward(self):
        return self.bwd_kernel + self.bwd_overhead

    @property
    def kernel(self):
        return self.fwd_kernel + self.bwd_kernel

    @property
    def overhead(self):
        return self.fwd_overhead + self.bwd_overhead

    @property
    def total(self):
        return self.forward + self.backward + self.jit

    def __repr__(self):
        return (f"<OpStats {self.name}: {self.calls} calls, fwd {self.forward:.3g}s, "
                f"bwd {self.backward:.3g}s>")


class profile:
    """Profile the ops run inside the `with` block (see the module docstring).

    record_shapes: keep input shapes of every forward event (chrome trace args).
    with_numba: listen to numba's compile events and count kernel cache hits."""

    def __init__(self, record_shapes=False, with_numba=True):
        self.record_shapes = record_shapes
        self.with_numba = with_numba
        self.events = []             # (name, cat, start, duration, args) relative to start
        self.stats = {}              # op name -> OpStats
        self.numba = {"compiles": 0, "compile_time": 0.0, "load_time": 0.0,
                      "cache_hits": 0, "kernels": defaultdict(lambda: [0, 0.0, 0])}
        self.wall = None
        self._stack = []
        self._patched = []
        self._listener = None
        self._last_bwd = None        # (OpStats, end time, top-level time at end) in a pass
        self._toplevel = 0.0         # total time of top-level op events so far
        self._active = False

    # -- install / uninstall -----------------------------------------------------------------
    def __enter__(self):
        if self.with_numba:
            self._start_numba()
        self._patch(Function, "apply", classmethod(self._wrap_apply(Function.apply.__func__)))
        self._patch(_engine, "_run", self._wrap_run(_engine._run))
        self._seen = set()
        for cls in _subclasses(Function):
            self._patch_op(cls)
        self._active = True
        self._t0 = _now()
        return self

    def __exit__(self, *exc):
        self.wall = _now() - self._t0
        self._active = False
        for owner, name, original, value in reversed(self._patched):
            current = owner.__dict__.get(name) if isinstance(owner, type) else \
                getattr(owner, name)
            if current is not value:
                continue          # patched again on top by someone else: ours stays inert
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._patched.clear()
        if self.with_numba:
            self._stop_numba()
        return False

    def _patch(self, owner, name, value):
        original = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else \
            getattr(owner, name)
        self._patched.append((owner, name, original, value))
        setattr(owner, name, value)

    def _patch_op(self, cls):
        """Wrap the forward and backward an op class defines (all classes on entry, later
        ones on their first apply)."""
        for klass in cls.__mro__:
            if klass in self._seen or not issubclass(klass, Function) or klass is Function:
                continue
            self._seen.add(klass)
            for name, wrap in (("forward", self._wrap_forward),
                               ("backward", self._wrap_backward)):
                if name in klass.__dict__:
                    fn = getattr(klass, name)
                    self._patch(klass, name, staticmethod(wrap(klass, fn)))

    # -- wrappers ----------------------------------------------------------------------------
    def _stat(self, name):
        s = self.stats.get(name)
        if s is None:
            s = self.stats[name] = OpStats(name)
        return s

    def _wrap_apply(self, apply):
        prof = self

        def profiled_apply(cls, *args):
            if not prof._active:
                return apply(cls, *args)
            if cls not in prof._seen:
                prof._patch_op(cls)
            shapes = [tuple(a.shape) if hasattr(a, "shape") else type(a).__name__
                      for a in args] if prof.record_shapes else None
            stack = prof._stack
            frame = _Frame(cls.__name__, "forward", _now(), shapes, via_apply=True)
            stack.append(frame)
            try:
                return apply(cls, *args)
            finally:
                end = _now()
                stack.pop()
                prof._close(frame, end, forward=True)
        return profiled_apply

    def _wrap_forward(self, cls, forward):
        prof = self

        def profiled_forward(ctx, *args):
            if not prof._active:
                return forward(ctx, *args)
            stack = prof._stack
            frame = stack[-1] if stack else None
            if frame is None or not frame.via_apply or frame.in_forward or \
                    frame.kernel is not None:
                return prof._standalone_forward(forward, cls, ctx, args)
            frame.in_forward = True
            before = frame.nested_overhead
            t0 = _now()
            try:
                return forward(ctx, *args)
            finally:
                frame.kernel = _now() - t0 - (frame.nested_overhead - before)
                frame.in_forward = False
        return profiled_forward

    def _standalone_forward(self, forward, cls, ctx, args):
        """A forward reached without the profiled Function.apply (an `f = MyFn.apply` bound
        before profiling started, or a direct call): timed as a whole, no overhead split."""
        name = getattr(ctx, "fn", cls).__name__
        shapes = [tuple(a.shape) if hasattr(a, "shape") else type(a).__name__
                  for a in args] if self.record_shapes else None
        frame = _Frame(name, "forward", _now(), shapes)
        self._stack.append(frame)
        try:
            return forward(ctx, *args)
        finally:
            end = _now()
            self._stack.pop()
            frame.kernel = end - frame.start - frame.nested_overhead
            self._close(frame, end, forward=True)

    def _wrap_backward(self, cls, backward):
        prof = self

        def profiled_backward(ctx, *grads):
            if not prof._active:
                return backward(ctx, *grads)
            name = getattr(ctx, "fn", cls).__name__
            stack = prof._stack
            start = _now()
            if not stack and prof._last_bwd is not None:
                prof._attribute_gap(start)
            frame = _Frame(name + "Backward", "backward", start)
            stack.append(frame)
            try:
                return backward(ctx, *grads)
            finally:
                end = _now()
                stack.pop()
                frame.kernel = end - start - frame.nested_overhead
                prof._close(frame, end, forward=False, op=name)
                if not stack:
                    prof._last_bwd = (prof._stat(name), end, prof._toplevel)
        return profiled_backward

    def _wrap_run(self, run):
        prof = self

        def profiled_run(*args, **kwargs):
            if not prof._active:
                return run(*args, **kwargs)
            prof._last_bwd = None
            try:
                return run(*args, **kwargs)
            finally:
                if prof._last_bwd is not None and not prof._stack:
                    prof._attribute_gap(_now())
                prof._last_bwd = None
        return profiled_run

    def _attribute_gap(self, now):
        """Engine time since the previous node's backward ended, less top-level ops run in
        between (summing gradients etc.), is that node's backward overhead."""
        stat, end, toplevel = self._last_bwd
        stat.bwd_overhead += max(0.0, (now - end) - (self._toplevel - toplevel))
        self._last_bwd = None

    def _close(self, frame, end, forward, op=None):
        duration = end - frame.start
        kernel = frame.kernel if frame.kernel is not None else duration - frame.nested
        overhead = duration - kernel
        stack = self._stack
        parent = stack[-1] if stack else None
        args = {"shapes": frame.shapes} if frame.shapes is not None else {}
        if parent is not None:                      # nested: counts towards the parent
            parent.nested += duration
            parent.nested_overhead += overhead
            parent.jit += frame.jit
            self.events.append((frame.name, "nested", frame.start - self._t0, duration, args))
            return
        self._toplevel += duration
        self.events.append((frame.name, frame.cat, frame.start - self._t0, duration, args))
        s = self._stat(op or frame.name)
        s.jit += frame.jit
        if forward:
            s.calls += 1
            s.fwd_kernel += kernel - frame.jit
            s.fwd_overhead += overhead
        else:
            s.bwd_calls += 1
            s.bwd_kernel += kernel - frame.jit
            s.bwd_overhead += overhead

    # -- numba -------------------------------------------------------------------------------
    def _start_numba(self):
        try:
            from numba.core import event
        except ImportError:
            self.with_numba = False
            return
        self._listener = _numba_listener(self)
        event.register("numba:compile", self._listener)
        event.register("numba:compiler_lock", self._listener)
        self._hits_before = _cache_hits()

    def _stop_numba(self):
        from numba.core import event
        event.unregister("numba:compile", self._listener)
        event.unregister("numba:compiler_lock", self._listener)
        for name, hits in _cache_hits().items():
            gained = hits - self._hits_before.get(name, 0)
            if gained:
                self.numba["cache_hits"] += gained
                self.numba["kernels"][name][2] += gained

    def _add_jit(self, seconds):
        if self._stack:
            self._stack[-1].jit += seconds

    # -- results -----------------------------------------------------------------------------
    def key_averages(self):
        """The per-op totals (OpStats), largest total first."""
        return sorted(self.stats.values(), key=lambda s: -s.total)

    @property
    def tracked(self):
        """Seconds accounted to ops (kernels, overhead, JIT)."""
        return sum(s.total for s in self.stats.values())

    @property
    def untracked(self):
        """Seconds of the wall time spent outside any op."""
        return None if self.wall is None else self.wall - self.tracked

    def table(self, sort_by="total", row_limit=None):
        """The per-op table as text; sort_by: total, calls, forward, backward, kernel,
        overhead, jit or name."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"profile.table: sort_by must be one of {sorted(_SORT_KEYS)}, "
                             f"got {sort_by!r}")
        return _format_table(self, sort_by, row_limit)

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace JSON (chrome://tracing, Perfetto): one complete
        event ("ph": "X") per op call, forward and backward; nested calls and numba
        compilations as their own categories. Times in microseconds."""
        pid = os.getpid()
        events = [{"name": name, "cat": cat, "ph": "X", "ts": round(start * 1e6, 3),
                   "dur": round(duration * 1e6, 3), "pid": pid, "tid": 0, "args": args}
                  for name, cat, start, duration, args in self.events]
        events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                       "args": {"name": "tapegrad"}})
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)
        return path


def _subclasses(cls):
    out, stack = [], list(cls.__subclasses__())
    while stack:
        sub = stack.pop()
        out.append(sub)
        stack.extend(sub.__subclasses__())
    return out
