"""Data-parallel training of an MLP on Fashion-MNIST over MPI.

    python examples/train_ddp.py                        # one process
    mpiexec -n 2 python examples/train_ddp.py           # two processes on this host
    mpiexec -f hosts -n 8 python examples/train_ddp.py  # across the hosts in `hosts`

Each process trains a replica of the model on its DistributedSampler share of every epoch;
DistributedDataParallel averages the gradients in backward, so the replicas stay identical and
an epoch of N processes with --batch-size B per process equals one process with batch N * B.
An exception on any rank aborts the whole job. With --checkpoint PATH rank 0 saves after every
epoch and a rerun resumes from it on every rank.

Data: Fashion-MNIST from --data, $TAPEGRAD_DATA or ../shared/data (fashion-mnist/*.gz IDX
files); without it, a synthetic 10-class problem of the same shape.
Needs mpi4py for more than one process: pip install -e ".[dist]".
"""
import argparse
import gzip
import os
import time

import numpy as np

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.data import DataLoader, TensorDataset
from autograd.data.distributed import DistributedSampler
from nn.parallel import (DistributedDataParallel, abort_on_error, load_checkpoint,
                         mpi_available, save_checkpoint)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    """An IDX file (gzip): images (n, rows, cols) uint8 or labels (n,) uint8."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(data_dir, train_size):
    """(x_train, y_train, x_test, y_test): x float32 (n, 784) in [0, 1], y int64."""
    folder = os.path.join(data_dir, "fashion-mnist")
    files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    if all(os.path.exists(os.path.join(folder, f)) for f in files):
        xtr, ytr, xte, yte = (read_idx(os.path.join(folder, f)) for f in files)
        name = "Fashion-MNIST"
    else:
        rng = np.random.default_rng(0)     # the same on every rank
        centers = rng.normal(0.5, 0.2, (10, 784))
        ytr, yte = rng.integers(0, 10, train_size), rng.integers(0, 10, 2000)
        xtr = np.clip(centers[ytr] + rng.normal(0, 0.3, (train_size, 784)), 0, 1) * 255
        xte = np.clip(centers[yte] + rng.normal(0, 0.3, (2000, 784)), 0, 1) * 255
        name = f"synthetic data (no Fashion-MNIST in {folder})"
    prep = lambda x: (x.reshape(len(x), -1) / 255).astype(np.float32)   # noqa: E731
    return (prep(xtr[:train_size]), ytr[:train_size].astype(np.int64), prep(xte),
            yte.astype(np.int64), name)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.environ.get(
        "TAPEGRAD_DATA", os.path.join(REPO, "..", "shared", "data")))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-size", type=int, default=6000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None, help="save every epoch, resume if present")
    p.add_argument("--fail-on-rank", type=int, default=None,
                   help="raise on this rank in the first epoch (to see the job abort)")
    return p.parse_args()


def main():
    args = parse_args()
    if mpi_available():
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
    else:
        comm = None
        print('mpi4py is not installed (pip install -e ".[dist]"): training in one process')
    rank, world = (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)
    log = print if rank == 0 else (lambda *a, **k: None)

    x_train, y_train, x_test, y_test, name = load_data(args.data, args.train_size)
    log(f"{name}: {len(x_train)} training images, {world} process(es), batch "
        f"{args.batch_size} per process ({args.batch_size * world} in all)")

    ag.manual_seed(args.seed + rank)      # different on every rank: DDP broadcasts rank 0's
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    ddp = DistributedDataParallel(model, comm) if comm is not None else model
    opt = optim.Adam(ddp.parameters(), lr=args.lr)

    start_epoch = 0
    if args.checkpoint and os.path.exists(args.checkpoint):
        ckpt = load_checkpoint(args.checkpoint, comm)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optim"])
        start_epoch = ckpt["epoch"]
        log(f"resumed from {args.checkpoint} after epoch {start_epoch}")

    dataset = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    for epoch in range(start_epoch, args.epochs):
        sampler.set_epoch(epoch)
        t0, total, steps = time.perf_counter(), 0.0, 0
        for xb, yb in loader:
            if args.fail_on_rank == rank and steps == 10:
                raise RuntimeError(f"a deliberate failure on rank {rank} (--fail-on-rank)")
            loss = F.cross_entropy(ddp(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        with ag.no_grad():
            pred = model(ag.tensor(x_test)).data.argmax(1)
        accuracy = float((pred == y_test).mean())
        log(f"epoch {epoch + 1}: train loss {total / max(steps, 1):.4f} (rank 0), test "
            f"accuracy {accuracy:.4f}, {time.perf_counter() - t0:.1f} s")
        if args.checkpoint:
            save_checkpoint({"model": model.state_dict(), "optim": opt.state_dict(),
                             "epoch": epoch + 1}, args.checkpoint, comm)


if __name__ == "__main__":
    with abort_on_error():
        main()
