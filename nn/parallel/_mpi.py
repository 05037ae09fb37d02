"""mpi4py, imported on first use: `import nn` and `import nn.parallel` never start MPI.

mpi4py and an MPI library come from the optional extra: `pip install -e ".[dist]"`.
"""

__all__ = ["mpi_available", "get_mpi", "default_comm", "rank_and_size"]

_INSTALL_HINT = ('data-parallel training needs mpi4py and an MPI library: '
                 'pip install -e ".[dist]" (mpi4py and the mpich wheel)')


def mpi_available():
    """True when mpi4py can be imported (it is not imported, and MPI not started, by this)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def get_mpi():
    """The `mpi4py.MPI` module (importing it initialises MPI); ImportError with a hint if
    mpi4py is missing."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return MPI


def default_comm(comm=None):
    """comm, or MPI.COMM_WORLD when comm is None."""
    if comm is not None:
        return comm
    return get_mpi().COMM_WORLD


def rank_and_size(comm=None):
    """(rank, world size) of comm (COMM_WORLD when None); (0, 1) without mpi4py and comm."""
    if comm is None and not mpi_available():
        return 0, 1
    comm = default_comm(comm)
    return comm.Get_rank(), comm.Get_size()
