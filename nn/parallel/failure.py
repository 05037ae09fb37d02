"""Failure handling: an exception on one rank ends the whole MPI job.

A rank that dies while the others wait in a collective (an Allreduce in backward) would leave
them waiting forever. These helpers print the rank and the traceback, then call
`comm.Abort(1)`, which makes `mpiexec` kill every process and exit non-zero:

    with abort_on_error():
        train()

    run_or_abort(train, epochs=3)

Without mpi4py, or in a job of one process, the exception propagates as usual.
"""
import sys
import time
import traceback
from contextlib import contextmanager

from ._mpi import default_comm, mpi_available

__all__ = ["abort_on_error", "run_or_abort", "abort_job"]

ABORT_GRACE = 0.5       # seconds between printing the error and comm.Abort


def abort_job(exc, comm=None, errorcode=1):
    """Print '[rank r/n] ...' and exc's traceback to stderr, then comm.Abort(errorcode)."""
    comm = default_comm(comm)
    rank, size = comm.Get_rank(), comm.Get_size()
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    sys.stdout.flush()
    sys.stderr.write(f"[rank {rank}/{size}] {type(exc).__name__}: {exc}\n"
                     f"[rank {rank}/{size}] aborting the MPI job (comm.Abort({errorcode}))\n"
                     + "".join(f"[rank {rank}/{size}] {line}\n"
                               for line in text.rstrip("\n").split("\n")))
    sys.stderr.flush()
    # mpiexec forwards a rank's output asynchronously and Abort kills the job at once: on a
    # busy machine the message above was lost (seen once in CI); give the forwarder a moment
    time.sleep(ABORT_GRACE)
    comm.Abort(errorcode)


def _aborts(exc):
    """Exceptions that end the job: all but a successful SystemExit (exit code 0 or None)."""
    if isinstance(exc, SystemExit):
        return exc.code not in (None, 0)
    return True


@contextmanager
def abort_on_error(comm=None, errorcode=1):
    """Context manager: an exception escaping the block aborts the job (see the module
    docstring); comm defaults to MPI.COMM_WORLD."""
    try:
        yield
    except BaseException as exc:
        if comm is None and not mpi_available():
            raise
        if not _aborts(exc):
            raise
        comm = default_comm(comm)
        if comm.Get_size() == 1:
            raise    # nobody waits on this process: the usual traceback and exit status
        abort_job(exc, comm, errorcode)
        raise        # not reached when Abort ends the process


def run_or_abort(fn, *args, comm=None, errorcode=1, **kwargs):
    """fn(*args, **kwargs); an exception aborts the job (see abort_on_error)."""
    with abort_on_error(comm, errorcode):
        return fn(*args, **kwargs)
