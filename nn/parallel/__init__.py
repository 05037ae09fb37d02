"""nn.parallel: data-parallel training over MPI (mpi4py, the optional extra ".[dist]").

    mpiexec -n 4 python train.py                      # one host, 4 processes
    mpiexec -f hosts -n 8 python train.py             # across the hosts listed in `hosts`

    from nn.parallel import DistributedDataParallel, abort_on_error
    with abort_on_error():
        ddp = DistributedDataParallel(model)
        ...

Importing this package does not import mpi4py or start MPI; constructing a
DistributedDataParallel (or calling a helper without an explicit comm) does.
"""
from ._mpi import mpi_available, rank_and_size
from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import DistributedDataParallel, broadcast_tensors
from .failure import abort_job, abort_on_error, run_or_abort
from .optimizer import DistributedOptimizer

__all__ = ["DistributedDataParallel", "DistributedOptimizer", "abort_on_error", "run_or_abort",
           "abort_job", "save_checkpoint", "load_checkpoint", "broadcast_tensors",
           "mpi_available", "rank_and_size"]
