"""Running a kernel on OpenBLAS's own threads: one thread pool for the GEMMs and our loops.

Our numba loops cannot use a second core inside a training step: after every multithreaded
call OpenBLAS's idle worker spins on the other core for ~0.1 s (48 ms of CPU during a 50 ms
sleep after one 1024^2 GEMM here; openblas_set_num_threads does not park it), and a thread of
ours started there gets half of that core. PyTorch avoids this with one OpenMP pool for
everything. This module hands the work to OpenBLAS's pool instead, so the spinning worker
takes it at once:

    split(job, count, context)    the job over [0, count) in chunks, one per OpenBLAS
                                  thread (the caller runs one); serial where the pool is
                                  missing
    threads()                     how many chunks split makes (1 without the pool)
    job_type()                    the numba signature of a job
    compile_job(py_func)          a module-level function compiled as a job (disk-cached)
    build_job(namespace, name, bindings, inline, files)
                                  a module's job compiled with its kernels bound (below)
    address_pointer()             a numba intrinsic: an int64 address as a void pointer
    numpy_openblas(paths, ...)    which loaded OpenBLAS is numpy's (the pool split uses)

A job is a numba @cfunc of signature job_type(), the form in which numpy's OpenBLAS calls its
level-1 routines (`blas_level1_thread`, exported by OpenBLAS since GotoBLAS; not a documented
API): job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb). We pass a = NULL and lda = 1, so that
each chunk's `a` is its start shifted left by a build-dependent amount (probed once: `n`
carries it), and c = the address of an int64 context array from which the job rebuilds its
arrays (carray(address_pointer()(ctx[i]), shape, dtype)). mode = 3 selects the real
double-precision calling form in OpenBLAS 0.3.x (mode 0 is int8 there and calls nothing);
alpha is unused.

Measured here (a compute-bound loop of 1 ms on one thread): 0.50 ms on two, the same right
after a GEMM (numba's own threads: no faster there), 0.79 ms when the pool had slept (0.2 s
idle). Without numpy's OpenBLAS (MKL, Accelerate, another platform) or with one BLAS thread,
split calls the job once on the calling thread. The pool must be numpy's (numpy_openblas):
with scipy's wheel loaded there are two OpenBLAS copies, and a job on scipy's pool while
numpy's worker spins after our GEMMs ran the LSTM step at 14-33 ms instead of 7-8 (the
"slow runs" of session 5, when a set's order picked scipy's copy).
"""
import ctypes
import os
import threading

import numpy as np

__all__ = ["job_type", "address_pointer", "compile_job", "build_job", "by_item", "split",
           "worth_splitting", "threads", "available", "numpy_openblas"]

ENABLED = os.environ.get("TAPEGRAD_BLAS_THREADS", "1") != "0"   # read at import; "0": serial
_state = {}
_lock = threading.Lock()


def _numba():
    from ._jit import _numba as load
    return load()


def job_type():
    """The numba signature of a job (see the module docstring)."""
    types = _numba().types
    return types.void(types.int64, types.int64, types.int64, types.float64, types.int64,
                      types.int64, types.voidptr, types.int64, types.voidptr, types.int64,
                      types.voidptr)


def address_pointer():
    """A numba intrinsic: address_pointer()(a) is the int64 address a as a void pointer."""
    if "ptr" not in _state:
        numba = _numba()
        from numba.core import cgutils
        from numba.extending import intrinsic

        @intrinsic
        def ptr(typingctx, address):
            def codegen(context, builder, signature, args):
                return builder.inttoptr(args[0], cgutils.voidptr_t)
            return numba.types.voidptr(address), codegen
        _state["ptr"] = ptr
    return _state["ptr"]


def numpy_openblas(paths, numpy_dir, numpy_uses_openblas):
    """Which of the OpenBLAS libraries at `paths` is numpy's: one in numpy's package directory
    or its wheel's `numpy.libs` beside it (scipy's wheel brings a second copy with a pool
    of its own: splitting on it while numpy's worker spins after our GEMMs puts three busy
    threads on two cores); else the only one loaded, if numpy's build says it uses OpenBLAS;
    else None."""
    own = [p for p in paths
           if p.startswith(numpy_dir + os.sep) or p.startswith(numpy_dir + ".libs" + os.sep)]
    if own:
        return sorted(own)[0]
    return paths[0] if len(paths) == 1 and numpy_uses_openblas else None


def _numpy_uses_openblas():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return "openblas" in str(blas.get("name", "")).lower()
    except Exception:      # an older numpy (no mode=) or another layout of its build record
        return False


def _find_library():
    """numpy's OpenBLAS, from the libraries this process has loaded (Linux), or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return None
    path = numpy_openblas(paths, os.path.dirname(os.path.abspath(np.__file__)),
                          _numpy_uses_openblas())
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        run = lib.blas_level1_thread
        count = ctypes.c_int.in_dll(lib, "blas_cpu_number")
    except (OSError, AttributeError, ValueError):
        return None
    run.restype = ctypes.c_int
    run.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                    ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                    ctypes.c_int]
    _state["path"] = path
    return run, count


def _record(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    """The probe job: chunk 0 writes (a, m) to c[0:2], the other chunk to c[2:4]."""
    rec = carray(c, (4,), np.int64)
    slot = 0 if a == 0 else 2
    rec[slot] = a
    rec[slot + 1] = m


carray = None                        # numba.carray, bound before _record compiles


def compile_job(py_func):
    """py_func (a module-level function of the job's arguments) as a job: a numba cfunc of
    signature job_type(), cached on disk."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc
    job = CFunc(py_func, sigutils.normalize_signature(job_type()), {},
                {"error_model": "numpy"})
    job.enable_caching()
    return job


def by_item(run, ctx, lo, count, item):
    """run(ctx, lo, lo + count, dtype) with dtype float32 for item size 4, else float64 (a
    job's body; inlined)."""
    if item == 4:
        run(ctx, lo, lo + count, np.float32)
    else:
        run(ctx, lo, lo + count, np.float64)


def build_job(namespace, name, bindings, inline, files):
    """namespace[name] (a job function of a module whose globals are `namespace`) compiled,
    from numba's disk cache unless one of `files` (beside this one) changed since: first
    `carray`, `_ptr` (address_pointer()), `by_item` and `bindings` (compiled kernels by name)
    are bound in the namespace and the functions named in `inline` compiled to be inlined."""
    from ._jit import flush_stale_cache
    numba = _numba()
    if "by_item" not in _state:
        _state["by_item"] = numba.njit(inline="always", error_model="numpy")(by_item)
    namespace.update(carray=numba.carray, _ptr=address_pointer(), by_item=_state["by_item"],
                     **bindings)
    for helper in inline:
        if not hasattr(namespace[helper], "py_func"):
            namespace[helper] = numba.njit(inline="always", error_model="numpy")(
                namespace[helper])
    job = compile_job(namespace[name])
    folder = os.path.dirname(os.path.abspath(__file__))
    salt = ""
    if "register_tile.py" in files:               # the tiles' vector width is in the code
        from .register_tile import cache_salt
        salt = cache_salt()
    flush_stale_cache(getattr(job, "_cache", None), f"{namespace['__name__']}.{name}",
                      [os.path.join(folder, f) for f in files], salt)
    job.compile()
    return job


def _probe(run):
    """The shift of a chunk's start in `a`, read from the chunks of a probe job (None when
    the chunks do not come back as expected)."""
    global carray
    carray = _numba().carray
    record = compile_job(_record)
    record.compile()
    rec = np.full(4, -1, np.int64)
    alpha = np.zeros(2)
    run(3, 1024, 0, 0, alpha.ctypes.data, None, 1, None, 0, rec.ctypes.data, 0,
        record.address, 2)
    if rec[1] != 512 or rec[3] != 512 or rec[2] <= 0 or rec[2] % 512:
        return None
    shift = int(rec[2] // 512).bit_length() - 1
    return shift if 1 << shift == rec[2] // 512 else None


def available():
    """(run, thread count) of numpy's OpenBLAS pool, or None."""
    if "pool" not in _state:
        with _lock:
            if "pool" not in _state:
                _state["pool"] = _find_library()
    return _state["pool"]


def threads():
    """How many chunks `split` makes: OpenBLAS's thread count now, 1 without the pool."""
    pool = available()
    return max(1, pool[1].value) if pool is not None else 1


def _shift():
    """The probed shift (None: the pool does not split as expected; split stays serial). Only
    probed with two threads or more: with one, OpenBLAS has no worker to take a chunk."""
    if "shift" not in _state:
        with _lock:
            if "shift" not in _state:
                _state["shift"] = _probe(available()[0])
    return _state["shift"]


_ALPHA = np.zeros(2)


def worth_splitting(force, work, least, arrays=()):
    """The callers' one rule: split when `force` says so (True / False, tests), else when
    turned on (ENABLED) and `work` >= `least`; and only with two threads or more and every
    array C-contiguous (the jobs rebuild them as such)."""
    enabled = force if force is not None else ENABLED and work >= least
    return enabled and threads() > 1 and all(a.flags.c_contiguous for a in arrays)


def split(job, count, context):
    """job over [0, count): chunks of consecutive indices, one per OpenBLAS thread (the
    calling thread runs one of them; the call returns when all are done). job: a @cfunc of
    signature job_type(); context: a C-contiguous int64 array it reads (the caller keeps it
    and the arrays it points to alive)."""
    parts = min(threads(), count)
    address = context.ctypes.data
    shift = _shift() if parts > 1 else None      # parts > 1: the pool exists
    if shift is None:
        job.ctypes(count, 0, 0, 0.0, 0, 1, None, 0, address, 0, None)
        return
    run = available()[0]
    run(3, count, shift, 0, _ALPHA.ctypes.data, None, 1, None, 0, address, 0, job.address,
        parts)
