"""The workload registry.

A workload is one row of the benchmark table: something of ours to time, optionally the same
thing in PyTorch (and in other baselines, e.g. raw numpy), and optionally a check that the
results agree before anything is timed. To add one, drop a module in this package that calls
`register(Workload(...))`; every module here is imported by `load()`:

    # benchmarks/workloads/mlp.py
    from . import Workload, allclose_check, pick, register

    def setup_ours(quick):          # quick: FULL (0), QUICK (1) or TINY (2); truthy if quick
        n = pick(quick, full=1024, quick=256, tiny=16)
        ...build model and data from a seeded numpy generator...
        return step                 # zero-arg callable; one call is one timed unit of work

    def setup_torch(quick):
        ...same sizes, same seed, same weights...
        return step

    register(Workload(
        name="mlp_train_step", sizes=lambda q: f"batch {pick(q, 256, 64, 4)}, 784-512-10",
        setup_ours=setup_ours, setup_torch=setup_torch,
        check=allclose_check(rtol=1e-4),   # compares the first call's return values
    ))

A setup that cannot run (a missing op, a missing library) raises `Skip("why")`; the row is
reported as skipped with that message and the other sides still run.
"""
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

__all__ = ["Workload", "Skip", "register", "registry", "load", "pick", "to_numpy",
           "allclose_check", "FULL", "QUICK", "TINY"]

FULL, QUICK, TINY = 0, 1, 2

# modules run first, in this order; any other module in the package follows, by name
ORDER = ["overhead", "gemm", "import_time"]


class Skip(Exception):
    """Raised by a setup function that cannot run here; the message says why."""


@dataclass
class Workload:
    """One benchmark row.

    name          unique id, used by --only
    sizes         a str or a function quick -> str describing the sizes (printed)
    setup_ours    quick -> zero-arg callable to time (ours)
    setup_torch   quick -> zero-arg callable doing the same in PyTorch (optional)
    check         (ours_result, other_result) -> bool | (bool, str) | str | None, run on the
                  first call's return values before timing (optional). A str or None return
                  means agreement (the str is a detail such as the max error); a False return
                  or an AssertionError means disagreement.
    baselines     {"numpy": setup} extra sides timed alongside (optional)
    description   one line about what is timed
    flops         quick -> floating point operations per call, to report GFLOP/s (optional)
    ops           primitive ops per call, to report a per-op cost in µs (optional)
    self_timed    the callable returns its own measured time in seconds (e.g. a subprocess)
    repeats       quick -> number of timed repeats, overriding the runner's default
    target        (label, predicate(row) -> bool or None if unknown), reported (optional)
    quick         included in --quick runs
    threaded      uses thread pools (BLAS, OpenMP): with several threads the runner pauses
                  between sides so one library's spinning workers do not slow the other
    meta          free-form facts for the report, e.g. {"dtype": "float32"} (GFLOP/s rows are
                  compared with the machine's peak for that dtype)
    """
    name: str
    sizes: Any
    setup_ours: Callable
    setup_torch: Optional[Callable] = None
    check: Optional[Callable] = None
    baselines: dict = field(default_factory=dict)
    description: str = ""
    flops: Optional[Callable] = None
    ops: Optional[int] = None
    self_timed: bool = False
    repeats: Optional[Callable] = None
    target: Optional[tuple] = None
    quick: bool = True
    threaded: bool = True
    meta: dict = field(default_factory=dict)

    def sizes_text(self, quick):
        return self.sizes(quick) if callable(self.sizes) else str(self.sizes)


_REGISTRY = {}
_loaded = False


def register(workload):
    """Add a workload to the registry (a second one with the same name replaces it)."""
    _REGISTRY[workload.name] = workload
    return workload


def load():
    """Import every workload module once; return the registered workloads in order."""
    global _loaded
    if not _loaded:
        names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
        for name in [n for n in ORDER if n in names] + sorted(set(names) - set(ORDER)):
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True
    return registry()


def registry():
    return list(_REGISTRY.values())


def pick(level, full, quick=None, tiny=None):
    """The value for a size level: pick(quick, full=1024, quick=256, tiny=16); quick defaults
    to full and tiny to quick."""
    if quick is None:
        quick = full
    if tiny is None:
        tiny = quick
    return tiny if level >= TINY else quick if level else full


def to_numpy(x):
    """A result (our Tensor, a torch tensor, an ndarray, a number, a tuple of them) as numpy."""
    import numpy as np
    if isinstance(x, (tuple, list)):
        return [to_numpy(v) for v in x]
    if hasattr(x, "detach") and hasattr(x, "numpy") and type(x).__module__.startswith("torch"):
        return x.detach().cpu().numpy()
    if hasattr(x, "data") and isinstance(x.data, np.ndarray):
        return x.data
    return np.asarray(x)


def allclose_check(rtol=1e-5, atol=1e-6):
    """A check comparing two results elementwise (tuples compared item by item)."""
    def check(ours, other):
        import numpy as np
        a, b = to_numpy(ours), to_numpy(other)
        if not isinstance(a, list):
            a, b = [a], [b]
        if len(a) != len(b):
            return False, f"{len(a)} results vs {len(b)}"
        worst = 0.0
        for i, (x, y) in enumerate(zip(a, b)):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape:
                return False, f"result {i}: shape {x.shape} vs {y.shape}"
            if x.size == 0:
                continue
            x64, y64 = x.astype(np.float64), y.astype(np.float64)
            if not np.allclose(x64, y64, rtol=rtol, atol=atol, equal_nan=True):
                err = np.max(np.abs(x64 - y64))
                return False, f"result {i}: max abs diff {err:.3g} (rtol {rtol}, atol {atol})"
            worst = max(worst, float(np.max(np.abs(x64 - y64))))
        return True, f"max abs diff {worst:.2g}"
    return check
