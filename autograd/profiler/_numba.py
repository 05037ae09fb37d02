"""numba's side of the profile: compile and cache-load times from numba's event API, and
cache hits from the kernels' dispatchers."""
import importlib
import pkgutil
import sys
import time

_now = time.perf_counter


def listener(prof):
    """A numba.core.event listener timing compilations and compiler-lock sections (a
    section that compiles nothing is a cache load)."""
    from numba.core.event import Listener

    class NumbaListener(Listener):
        lock_depth = 0
        lock_start = 0.0
        compile_in_lock = 0.0

        def __init__(self):
            self.compile_starts = []

        def on_start(self, event):
            if event.kind == "numba:compiler_lock":
                if self.lock_depth == 0:
                    self.lock_start = _now()
                    self.compile_in_lock = 0.0
                self.lock_depth += 1
            else:
                self.compile_starts.append(_now())

        def on_end(self, event):
            numba = prof.numba
            if event.kind == "numba:compiler_lock":
                self.lock_depth -= 1
                if self.lock_depth == 0:
                    total = _now() - self.lock_start
                    numba["load_time"] += max(0.0, total - self.compile_in_lock)
                    prof._add_jit(total)
                return
            seconds = _now() - self.compile_starts.pop()
            if self.compile_starts:
                return                        # a nested compile is inside the outer one
            numba["compiles"] += 1
            numba["compile_time"] += seconds
            self.compile_in_lock += seconds
            dispatcher = (event.data or {}).get("dispatcher")
            name = getattr(getattr(dispatcher, "py_func", None), "__qualname__", "?")
            numba["kernels"][name][0] += 1
            numba["kernels"][name][1] += seconds
            prof.events.append((f"numba compile {name}", "numba",
                                _now() - seconds - prof._t0, seconds, {}))

    return NumbaListener()


def _kernels():
    """The jit kernels of autograd.kernels: (qualified name, kernel wrapper)."""
    from .. import kernels
    out = []
    for info in pkgutil.iter_modules(kernels.__path__):
        name = f"{kernels.__name__}.{info.name}"
        module = sys.modules.get(name) or importlib.import_module(name)
        for obj in vars(module).values():
            if callable(obj) and hasattr(obj, "py_func") and hasattr(obj, "dispatcher"):
                out.append((obj.py_func.__qualname__, obj))
    return out


def cache_hits():
    """{kernel name: numba cache hits so far} for the kernels of autograd.kernels that have a
    numba dispatcher already (created on their first call). Read-only: asking a kernel for
    its dispatcher would create one, and for some kernels rebind helpers, so the dispatcher
    is looked up in the wrapper's closures instead."""
    hits = {}
    for name, kernel in _kernels():
        dispatcher = _find_dispatcher(kernel, 4)
        if dispatcher is not None:
            hits[name] = sum(dispatcher.stats.cache_hits.values())
    return hits


def _find_dispatcher(fn, depth):
    """A numba dispatcher held in the closure of fn (or of functions it closes over)."""
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:                 # an empty cell
            continue
        if hasattr(value, "stats") and hasattr(value, "py_func"):
            return value
        if depth > 1 and callable(value) and getattr(value, "__closure__", None):
            found = _find_dispatcher(value, depth - 1)
            if found is not None:
                return found
    return None
