"""DistributedSampler: each of num_replicas processes reads its own share of a data set.

    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, seed=0)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)          # a new shuffle per epoch, the same on every rank
        for x, y in loader: ...

The split is PyTorch's: an epoch's order of the N indices (shuffled, or 0..N-1) is padded to
total_size = num_replicas * num_samples by repeating its first indices (or, with
drop_last=True, cut to total_size), and rank r takes the positions r, r + num_replicas, ...
So the ranks together cover every index once per epoch, plus the padding repeats when N is
not a multiple of num_replicas.

    num_samples = ceil(N / num_replicas)                         (drop_last=False)
    num_samples = ceil((N - num_replicas) / num_replicas)        (drop_last=True, N % R != 0)

The one difference: the shuffle is `np.random.default_rng(seed + epoch).permutation(N)`,
where PyTorch draws `torch.randperm(N)` from a generator seeded with seed + epoch. Without
torch that stream cannot be reproduced, so shuffled orders differ from PyTorch's; with
shuffle=False the indices are exactly PyTorch's. Every rank must use the same seed.
"""
import math

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _world_default(num_replicas, rank):
    """num_replicas and rank from MPI.COMM_WORLD where not given (as PyTorch takes them from
    the default process group)."""
    if num_replicas is not None and rank is not None:
        return num_replicas, rank
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise RuntimeError(
            "DistributedSampler: num_replicas and rank default to MPI.COMM_WORLD's size and "
            "rank, which needs mpi4py (pip install -e \".[dist]\"); pass num_replicas and "
            "rank explicitly otherwise") from exc
    comm = MPI.COMM_WORLD
    if num_replicas is None:
        num_replicas = comm.Get_size()
    if rank is None:
        rank = comm.Get_rank()
    return num_replicas, rank


def _check_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"DistributedSampler: {name} must be an int, got "
                        f"{type(value).__name__}")


class DistributedSampler(Sampler):
    """DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
    drop_last=False): the indices of rank `rank`'s share of `dataset` (any object with
    len), num_samples of them per epoch; see the module docstring."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        num_replicas, rank = _world_default(num_replicas, rank)
        _check_int("num_replicas", num_replicas)
        _check_int("rank", rank)
        _check_int("seed", seed)
        if num_replicas <= 0:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got "
                             f"{num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        self._length = n
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = bool(shuffle)
        self.seed = int(seed)

    def _epoch_order(self, n):
        """The epoch's order of all n indices, before padding and splitting."""
        if self.shuffle:
            return np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        return list(range(n))

    def __iter__(self):
        n = len(self.dataset)
        if n != self._length:
            raise RuntimeError(f"DistributedSampler: the data set had {self._length} items "
                               f"when the sampler was built and has {n} now; the split "
                               "assumes a data set of constant size")
        indices = self._epoch_order(n)
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:   # fewer indices than padding: repeat the whole order
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use the shuffle of `epoch` (seed + epoch) in the next iteration; call it at the
        start of every epoch, with the same epoch on every rank."""
        _check_int("epoch", epoch)
        self.epoch = int(epoch)
