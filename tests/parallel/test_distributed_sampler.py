"""DistributedSampler: PyTorch's split and padding, coverage once per epoch (no MPI needed)."""
import sys
from collections import Counter

import numpy as np
import pytest

from autograd.data.distributed import DistributedSampler

SIZES = [0, 1, 2, 3, 5, 7, 10, 11, 43, 100]
REPLICAS = [1, 2, 3, 4, 7]


def _torch_sampler():
    pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed")
    from torch.utils.data import DistributedSampler as TorchDistributedSampler
    return TorchDistributedSampler


def shares(n, replicas, **kwargs):
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kwargs))
            for r in range(replicas)]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("n", SIZES)
def test_indices_equal_torch_without_shuffle(n, replicas, drop_last):
    TorchDistributedSampler = _torch_sampler()
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchDistributedSampler(range(n), replicas, rank, shuffle=False,
                                         drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("replicas", [2, 3, 4])
@pytest.mark.parametrize("n", [5, 10, 11, 43])
def test_split_of_a_shuffled_order_equals_torch(n, replicas, drop_last, monkeypatch):
    TorchDistributedSampler = _torch_sampler()
    import torch
    # only the permutation's source differs from PyTorch: give both torch's randperm
    def torch_order(self, size):
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        return torch.randperm(size, generator=g).tolist()
    monkeypatch.setattr(DistributedSampler, "_epoch_order", torch_order)
    for epoch in (0, 3):
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, seed=5, drop_last=drop_last)
            theirs = TorchDistributedSampler(range(n), replicas, rank, seed=5,
                                             drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("n", [n for n in SIZES if n > 0])
def test_ranks_cover_the_data_once_per_epoch(n, replicas, shuffle):
    for epoch in range(3):
        per_rank = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=1)
            s.set_epoch(epoch)
            per_rank.append(list(s))
        num_samples = -(-n // replicas)
        assert all(len(share) == num_samples for share in per_rank)
        counts = Counter(i for share in per_rank for i in share)
        assert set(counts) == set(range(n))               # every index, none invented
        padding = num_samples * replicas - n
        assert sum(c - 1 for c in counts.values()) == padding   # repeats: the padding only


@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("n", SIZES)
def test_drop_last_gives_disjoint_equal_shares(n, replicas):
    per_rank = shares(n, replicas, drop_last=True)
    flat = [i for share in per_rank for i in share]
    assert len(flat) == len(set(flat))                    # no index twice
    assert len({len(share) for share in per_rank}) <= 1   # the same count on every rank
    assert len(flat) == (n // replicas) * replicas        # only the remainder is dropped


def test_shuffle_is_numpy_seeded_by_seed_plus_epoch():
    s = DistributedSampler(range(20), num_replicas=2, rank=1, seed=4)
    s.set_epoch(3)
    order = np.random.default_rng(7).permutation(20).tolist()
    assert list(s) == order[1::2]
    assert list(s) == list(s)                             # same epoch, same order
    first = list(s)
    s.set_epoch(4)
    assert list(s) != first                               # a new epoch, a new order


def test_bad_arguments_raise_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(5), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(5), num_replicas=2, rank=-1)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="epoch"):
        DistributedSampler(range(5), num_replicas=1, rank=0).set_epoch(1.5)
    monkeypatch.setitem(sys.modules, "mpi4py", None)      # as if mpi4py were not installed
    with pytest.raises(RuntimeError, match="mpi4py"):
        DistributedSampler(range(5))


def test_a_dataset_changing_size_is_reported():
    data = list(range(10))
    s = DistributedSampler(data, num_replicas=2, rank=0)
    data.append(10)
    with pytest.raises(RuntimeError, match="constant size"):
        list(s)


def test_works_as_a_dataloader_sampler():
    from autograd.data import DataLoader, TensorDataset
    x = np.arange(22, dtype=np.float32).reshape(11, 2)
    seen = []
    for rank in range(3):
        sampler = DistributedSampler(TensorDataset(x), num_replicas=3, rank=rank, seed=2)
        sampler.set_epoch(1)
        for (xb,) in DataLoader(TensorDataset(x), batch_size=2, sampler=sampler):
            seen += (xb.data[:, 0] / 2).astype(int).tolist()
    assert sorted(set(seen)) == list(range(11)) and len(seen) == 12   # 11 + 1 padding
