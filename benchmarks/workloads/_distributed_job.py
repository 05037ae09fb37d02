"""The MPI side of the `distributed` workloads, run as `mpiexec -n N python this.py MODE ...`;
rank 0 prints one JSON line of seconds.

    allreduce NBYTES ITERS       Allreduce (sum, in place) of an NBYTES float32 buffer:
                                 {"seconds": mean time of one call, the slowest rank's}
    step GLOBAL_BATCH ITERS      one DistributedDataParallel training step of an MLP
                                 784-512-512-10 (float32, Adam) on GLOBAL_BATCH / N samples per
                                 process: {"seconds": median step, "allreduce": median time
                                 per step inside the gradient Allreduce calls}
"""
import json
import statistics
import sys
import time

import numpy as np


class TimedComm:
    """A communicator that adds the time spent in Allreduce to `seconds`."""

    def __init__(self, comm):
        self._comm = comm
        self.seconds = 0.0

    def Allreduce(self, *args, **kwargs):   # noqa: N802 - mpi4py's name
        start = time.perf_counter()
        self._comm.Allreduce(*args, **kwargs)
        self.seconds += time.perf_counter() - start

    def __getattr__(self, name):
        return getattr(self._comm, name)


def bench_allreduce(comm, nbytes, iters):
    from mpi4py import MPI
    buf = np.ones(nbytes // 4, np.float32)
    for _ in range(2):
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(iters):
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    mine = np.array([(time.perf_counter() - start) / iters])
    slowest = np.empty(1)
    comm.Allreduce(mine, slowest, op=MPI.MAX)
    return {"seconds": float(slowest[0])}


def bench_step(comm, global_batch, iters):
    import autograd as ag
    import nn
    import nn.functional as F
    import optim
    from nn.parallel import DistributedDataParallel
    rank, size = comm.Get_rank(), comm.Get_size()
    timed = TimedComm(comm)
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    ddp = DistributedDataParallel(model, timed)
    opt = optim.Adam(ddp.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    local = global_batch // size
    x = ag.tensor(rng.standard_normal((local, 784)).astype(np.float32))
    y = ag.tensor(rng.integers(0, 10, local))
    steps, comms = [], []
    for i in range(iters + 2):            # the first two steps are warm-up
        comm.Barrier()
        timed.seconds = 0.0
        start = time.perf_counter()
        loss = F.cross_entropy(ddp(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 2:
            steps.append(time.perf_counter() - start)
            comms.append(timed.seconds)
    return {"seconds": statistics.median(steps), "allreduce": statistics.median(comms)}


def main():
    from mpi4py import MPI
    from nn.parallel import abort_on_error
    comm = MPI.COMM_WORLD
    with abort_on_error(comm):
        mode, size, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        if mode == "allreduce":
            result = bench_allreduce(comm, size, iters)
        elif mode == "step":
            result = bench_step(comm, size, iters)
        else:
            raise ValueError(f"unknown mode {mode!r}: allreduce or step")
        if comm.Get_rank() == 0:
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
