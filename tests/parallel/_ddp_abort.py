"""Run by test_ddp.py under `mpiexec -n 2`: rank 1 raises at step 5 of a training loop while
rank 0 goes on into the gradient Allreduce; the job must end, not hang.

    mpiexec -n 2 python tests/parallel/_ddp_abort.py context|function
"""
import sys

import numpy as np

import autograd as ag
import nn
import nn.functional as F
import optim
from nn.parallel import DistributedDataParallel, abort_on_error, run_or_abort


def train():
    from mpi4py import MPI
    rank = MPI.COMM_WORLD.Get_rank()
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    ddp = DistributedDataParallel(model)
    opt = optim.SGD(ddp.parameters(), lr=0.1)
    rng = np.random.default_rng(rank)
    for step in range(1000):
        if rank == 1 and step == 5:
            raise ValueError("injected failure on rank 1 at step 5")
        x = ag.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        loss = F.mse_loss(ddp(x), ag.zeros(8, 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    print("finished all steps: the failure did not stop the job")


if __name__ == "__main__":
    if sys.argv[1] == "context":
        with abort_on_error():
            train()
    else:
        run_or_abort(train)
