"""Run by test_ddp.py under `mpiexec -n 2`: data-parallel training against one process.

    mpiexec -n 2 python tests/parallel/_ddp_train.py OUT.json CHECKPOINT.safetensors

Every scenario trains 20 steps in float64 with DistributedDataParallel: each rank reads its
DistributedSampler shard, and rank 0 then trains the same model (rank 0's initial weights)
alone on the concatenation of the ranks' batches. Rank 1 starts from different weights, so
the broadcast at construction is exercised. Rank 0 writes, per scenario, the largest
difference between the replicas and between replica and single-process model, the bucket
and Allreduce counts, and the losses; test_ddp.py asserts on them.
"""
import json
import sys

import numpy as np

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.data.distributed import DistributedSampler
from nn.parallel import (DistributedDataParallel, DistributedOptimizer, abort_on_error,
                         load_checkpoint, save_checkpoint)

STEPS = 20
N_DATA = 43                  # odd: the sampler pads it to 2 * 22 indices per epoch
BATCH = 4                    # per rank; the last 2 indices of an epoch are dropped


class Dense(nn.Module):
    """x: (N, fan_in) -> (N, fan_out), from Parameters and F.linear."""

    def __init__(self, fan_in, fan_out):
        super().__init__()
        bound = 1 / np.sqrt(fan_in)
        self.weight = nn.Parameter(ag.rand(fan_out, fan_in) * 2 * bound - bound)
        self.bias = nn.Parameter(ag.rand(fan_out) * 2 * bound - bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Conv(nn.Module):
    """x: (N, C_in, H, W) -> (N, C_out, H', W'), from Parameters and F.conv2d."""

    def __init__(self, c_in, c_out, k, padding=0):
        super().__init__()
        bound = 1 / np.sqrt(c_in * k * k)
        self.weight = nn.Parameter(ag.rand(c_out, c_in, k, k) * 2 * bound - bound)
        self.bias = nn.Parameter(ag.rand(c_out) * 2 * bound - bound)
        self.padding = padding

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)


class MLP(nn.Module):
    def __init__(self, with_unused=False):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = Dense(6, 16), Dense(16, 16), Dense(16, 3)
        if with_unused:
            self.unused = nn.Parameter(ag.ones(5))

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(ag.tanh(self.fc1(x)))))


class CNN(nn.Module):
    """x: (N, 1, 8, 8) -> conv 3x3 pad 1 -> relu -> maxpool 2 -> conv 3x3 -> relu -> linear."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2, self.fc = Conv(1, 4, 3, padding=1), Conv(4, 6, 3), Dense(24, 3)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.relu(self.conv2(h))
        return self.fc(h.reshape(h.shape[0], -1))


def make_data(kind):
    rng = np.random.default_rng(7)
    shape = (N_DATA, 6) if kind == "mlp" else (N_DATA, 1, 8, 8)
    x = rng.standard_normal(shape)
    y = rng.integers(0, 3, N_DATA)
    return x, y


def make_model(kind, seed, with_unused=False):
    ag.manual_seed(seed)
    return MLP(with_unused) if kind == "mlp" else CNN()


def make_optimizer(name, params):
    if name == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    return optim.Adam(params, lr=0.01)


def rank_batches(n_ranks, rank, n_steps, micro=1):
    """The full index batches of `rank`, epoch after epoch, as every rank computes them:
    equal sizes, so the mean of the ranks' mean losses is the mean over their union."""
    sampler = DistributedSampler(range(N_DATA), num_replicas=n_ranks, rank=rank, seed=3)
    batches, epoch = [], 0
    while len(batches) < n_steps * micro:
        sampler.set_epoch(epoch)
        order = list(sampler)
        batches += [order[i:i + BATCH] for i in range(0, len(order) - BATCH + 1, BATCH)]
        epoch += 1
    return batches[:n_steps * micro]


def loss_of(model, x, y, idx, scale=1.0):
    out = model(ag.tensor(x[idx]))
    return F.cross_entropy(out, ag.tensor(y[idx])) * scale


def flat_params(model):
    return np.concatenate([p.data.reshape(-1) for p in model.parameters()])


def train_reference(kind, opt_name, n_ranks, micro=1, with_unused=False):
    """One process on the concatenation of every rank's batch of each step."""
    x, y = make_data(kind)
    model = make_model(kind, 100, with_unused)
    opt = make_optimizer(opt_name, model.parameters())
    per_rank = [rank_batches(n_ranks, r, STEPS, micro) for r in range(n_ranks)]
    for step in range(STEPS):
        idx = [i for r in range(n_ranks) for m in range(micro)
               for i in per_rank[r][step * micro + m]]
        opt.zero_grad()
        loss_of(model, x, y, idx).backward()
        opt.step()
    return flat_params(model)


def train_ddp(comm, kind, opt_name, auto_sync=True, micro=1, with_unused=False,
              flush=False, save_path=None, resume_path=None):
    """Data-parallel training; rank r's initial weights use seed 100 + r. save_path: write a
    checkpoint after half the steps; resume_path: start from that checkpoint."""
    rank, size = comm.Get_rank(), comm.Get_size()
    x, y = make_data(kind)
    model = make_model(kind, 100 + rank, with_unused)
    ddp = DistributedDataParallel(model, comm, bucket_cap_mb=0.001, auto_sync=auto_sync)
    opt = make_optimizer(opt_name, ddp.parameters())
    if not auto_sync or flush:
        opt = DistributedOptimizer(opt, ddp)
    batches = rank_batches(size, rank, STEPS, micro)
    calls, losses, start = [], [], 0
    if resume_path is not None:
        start = STEPS // 2
        ckpt = load_checkpoint(resume_path, comm)
        ddp.module.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optim"])
        assert ckpt["step"] == start
    for step in range(start, STEPS):
        before = ddp.allreduce_calls
        opt.zero_grad()
        for m in range(micro):
            idx = batches[step * micro + m]
            if m < micro - 1:
                with ddp.no_sync():
                    loss = loss_of(ddp, x, y, idx, 1 / micro)
            else:
                loss = loss_of(ddp, x, y, idx, 1 / micro)
            loss.backward()
        opt.step()
        calls.append(ddp.allreduce_calls - before)
        losses.append(float(loss.item()) * micro)
        if save_path is not None and step == STEPS // 2 - 1:
            save_checkpoint({"model": ddp.module.state_dict(), "optim": opt.state_dict(),
                             "step": step + 1}, save_path, comm)
    return ddp, flat_params(model), calls, losses


def unused_without_flush(comm):
    """auto_sync, a parameter outside the loss, no allreduce_gradients(): the next forward
    raises on every rank."""
    x, y = make_data("mlp")
    ddp = DistributedDataParallel(make_model("mlp", 100, with_unused=True), comm,
                                  bucket_cap_mb=1)
    loss_of(ddp, x, y, [0, 1]).backward()
    try:
        loss_of(ddp, x, y, [0, 1])
    except RuntimeError as exc:
        return str(exc)
    return ""


def replica_checks(comm):
    """A model that differs on rank 1 is refused on every rank; buffers (BatchNorm's running
    statistics, set differently per rank here) are broadcast from rank 0. Returns, on rank 0,
    {"refused": [flag per rank], "mismatch_error": rank 0's message, "buffers": per rank}."""
    rank = comm.Get_rank()
    hidden = 8 if rank == 0 else 9
    message = ""
    try:
        DistributedDataParallel(nn.Sequential(nn.Linear(6, hidden), nn.Linear(hidden, 3)),
                                comm)
    except ValueError as exc:
        message = str(exc)
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    model[1].running_mean.data[...] = rank + 1.0
    model[1].num_batches_tracked.data[...] = 10 * rank
    DistributedDataParallel(model, comm)
    mine = np.array([float(bool(message)), model[1].running_mean.data[0],
                     float(model[1].num_batches_tracked.data)])
    gathered = _gather(comm, mine)
    if rank != 0:
        return {}
    return {"refused": gathered[:, 0].tolist(), "mismatch_error": message,
            "buffers": gathered[:, 1:].tolist()}


class SwapOrder(nn.Module):
    """Two weights used in an order that depends on the data (the rank here)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(ag.tensor(np.eye(3)))
        self.b = nn.Parameter(ag.tensor(2.0 * np.eye(3)))

    def forward(self, x, swap):
        return (x @ self.b) @ self.a if swap else (x @ self.a) @ self.b


def order_independent_buckets(comm):
    """One bucket per weight, backward reaching them in opposite orders on the two ranks:
    the averaged gradients must still be the average of each weight's own gradients.
    Returns the largest error against that average (on every rank)."""
    rank = comm.Get_rank()
    xs = [ag.tensor(np.arange(6.0).reshape(2, 3) + r) for r in range(comm.Get_size())]
    model = SwapOrder()
    ddp = DistributedDataParallel(model, comm, bucket_cap_mb=1e-6)
    (ddp(xs[rank], swap=rank % 2 == 1) ** 2).sum().backward()
    reference, local = SwapOrder(), []
    for r, x in enumerate(xs):
        reference.zero_grad()
        (reference(x, swap=r % 2 == 1) ** 2).sum().backward()
        local.append([reference.a.grad.data.copy(), reference.b.grad.data.copy()])
    want = [np.mean([g[i] for g in local], axis=0) for i in range(2)]
    return max(float(np.max(np.abs(model.a.grad.data - want[0]))),
               float(np.max(np.abs(model.b.grad.data - want[1]))))


SCENARIOS = {   # name: (kind, optimizer, options)
    "mlp_auto_sgd": ("mlp", "sgd", {}),
    "mlp_explicit_adam": ("mlp", "adam", {"auto_sync": False, "save_path": "CKPT"}),
    "cnn_auto_sgd": ("cnn", "sgd", {}),
    "cnn_auto_adam": ("cnn", "adam", {}),
    "mlp_no_sync_accumulation": ("mlp", "sgd", {"micro": 2}),
    "mlp_unused_param_flush": ("mlp", "sgd", {"with_unused": True, "flush": True}),
}


def main(out_path, checkpoint_path):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    ag.set_default_dtype(ag.float64)
    results = {}
    for name, (kind, opt_name, options) in SCENARIOS.items():
        if "save_path" in options:
            options = dict(options, save_path=checkpoint_path)
        ddp, params, calls, losses = train_ddp(comm, kind, opt_name, **options)
        results[name] = _compare(comm, params, kind, opt_name, options, size)
        results[name].update(buckets=len(ddp.buckets), allreduce_per_step=sorted(set(calls)),
                             n_params=len(list(ddp.parameters())), first_loss=losses[0],
                             last_loss=losses[-1])
        if name == "mlp_explicit_adam":
            full = params
    _, resumed, _, _ = train_ddp(comm, "mlp", "adam", auto_sync=False,
                                 resume_path=checkpoint_path)
    gathered = _gather(comm, resumed)
    if rank == 0:
        results["checkpoint_resume"] = {
            "resume_diff": float(np.max(np.abs(gathered - full))),
            "replica_diff": float(np.max(np.abs(gathered - gathered[0])))}
    message = unused_without_flush(comm)
    replicas = replica_checks(comm)
    swapped = _gather(comm, np.array([order_independent_buckets(comm)]))
    if rank == 0:
        results["order_independent_buckets"] = float(swapped.max())
        results["replica_checks"] = replicas
        results["unused_param_error"] = message
        with open(out_path, "w") as fh:
            json.dump(results, fh, indent=1)


def _gather(comm, flat):
    out = np.empty((comm.Get_size(), flat.size)) if comm.Get_rank() == 0 else None
    comm.Gather(np.ascontiguousarray(flat), out, root=0)
    return out


def _compare(comm, params, kind, opt_name, options, size):
    gathered = _gather(comm, params)
    if comm.Get_rank() != 0:
        return {}
    ref = train_reference(kind, opt_name, size, options.get("micro", 1),
                          options.get("with_unused", False))
    return {"replica_diff": float(np.max(np.abs(gathered - gathered[0]))),
            "ref_diff": float(np.max(np.abs(gathered - ref)))}


if __name__ == "__main__":
    with abort_on_error():
        main(sys.argv[1], sys.argv[2])
