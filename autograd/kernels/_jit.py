"""Lazy numba compilation with an on-disk cache that works from a read-only install.

    @jit()                         # numba.njit(cache=True) on first call
    def spmm_csr(indptr, indices, values, x, out): ...

    @jit(parallel=True)            # options pass through to numba.njit (never fastmath:
    def ...                        # NaN and Inf must propagate; REASSOC alone is allowed)

The wrapped Python function stays reachable as `kernel.py_func` (the plain reference the
tests compare against), and the numba dispatcher as `kernel.dispatcher()` (compiling it).
Kernels call other kernels through `other.dispatcher()` resolved at first compile, or keep
their helpers inside one function. numba keys a cached function on its own file only:
`flush_stale_cache(cache, name, paths, salt)` empties the cache of one that inlines code of
other files when those (or the salt) changed (a stamp file named by their digest).
"""
import functools
import hashlib
import os
import sys
import tempfile

__all__ = ["jit", "cache_dir", "flush_stale_cache", "REASSOC"]

REASSOC = {"reassoc"}


def cache_dir():
    """Where numba's cache goes: beside the package when writable (numba's default), else a
    user cache directory ($NUMBA_CACHE_DIR wins when set)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    here = os.path.dirname(os.path.abspath(__file__))
    if os.access(here, os.W_OK):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.access(os.path.dirname(base) if not os.path.exists(base) else base, os.W_OK):
        base = tempfile.gettempdir()
    return os.path.join(base, "tapegrad", "numba")


def _numba():
    if "numba" not in sys.modules:
        path = cache_dir()
        if path is not None:
            os.makedirs(path, exist_ok=True)
            os.environ.setdefault("NUMBA_CACHE_DIR", path)
        # Parallel kernels run on numba's own "workqueue" thread pool, whose idle workers
        # sleep. The OpenMP layer's workers spin after each parallel region and fought
        # OpenBLAS's (and PyTorch's) threads for the cores: a small-CNN training run on 2
        # cores took 2.05 s with it against 0.28 s with workqueue. NUMBA_THREADING_LAYER
        # set by the user wins.
        os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    import numba
    return numba


def jit(prepare=None, finish=None, **options):
    """numba.njit(cache=True, error_model='numpy', **options), compiled on first call; before
    that, prepare() runs (binding names the kernel reads, say), and finish(dispatcher) after
    numba's dispatcher is made (checking its cache, say). fastmath=REASSOC (LLVM's `reassoc`
    flag alone: sums may be reordered, e.g. into vector partial sums, while NaN and Inf
    propagate as without it) is the only fast-math option accepted."""
    if options.get("fastmath") and options["fastmath"] != REASSOC:
        raise ValueError("jit: fastmath is not allowed (NaN and Inf must propagate); only "
                         "fastmath=REASSOC (reordered sums) is")
    options.setdefault("cache", True)
    options.setdefault("error_model", "numpy")

    def wrap(py_func):
        compiled = None

        def dispatcher():
            nonlocal compiled
            if compiled is None:
                if prepare is not None:
                    prepare()
                made = _numba().njit(**options)(py_func)
                if finish is not None:
                    finish(made)
                compiled = made
            return compiled

        @functools.wraps(py_func)
        def kernel(*args):
            return (compiled or dispatcher())(*args)

        kernel.py_func = py_func
        kernel.dispatcher = dispatcher
        return kernel
    return wrap


def flush_stale_cache(cache, name, paths, salt=""):
    """Empty numba's cache of the function `name` unless a stamp file (in the cache, named by
    the digest of the files at `paths` and of `salt`) says it was compiled since they last
    changed; then write the stamp. For code that inlines other files' functions (salt: any
    other input of its code, such as register_tile's vector width)."""
    try:
        digest = hashlib.sha1(salt.encode())
        for path in paths:
            with open(path, "rb") as f:
                digest.update(f.read())
        stamp = os.path.join(cache._cache_path, f"{name}.sources-{digest.hexdigest()[:12]}")
        if not os.path.exists(stamp):
            cache.flush()
            open(stamp, "w").close()
    except (AttributeError, OSError):        # no cache (or another numba): nothing stale
        pass
