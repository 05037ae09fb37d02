"""DataLoader: batches of samples from a dataset, with PyTorch's arguments and rules.

    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
                        generator=np.random.default_rng(0))
    for xb, yb in loader:          # xb: (64, ...) Tensor, yb: (64,) Tensor; the last batch may
        ...                        # be shorter unless drop_last=True

Samples are loaded in the calling process: num_workers > 0 is accepted for compatibility and
runs in-process (with a warning). pin_memory, timeout, worker_init_fn, prefetch_factor and
persistent_workers have no effect on a CPU-only, single-process loader.

A TensorDataset with the default collate_fn is fetched with one fancy index per tensor instead
of one `dataset[i]` per sample; the batch is the same as default_collate's.
"""
import warnings

import numpy as np

from ..tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]


class DataLoader:
    """DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, multiprocessing_context=None, generator=None, *, prefetch_factor=None,
    persistent_workers=False).

    batch_size=None turns batching off (each sample goes through collate_fn, default
    default_convert). shuffle=True uses RandomSampler(dataset, generator=generator): the same
    generator seed gives the same order; generator=None draws each epoch's order from the
    global generator (`ag.manual_seed`). sampler yields indices; batch_sampler yields lists of
    indices and excludes batch_size, shuffle, sampler and drop_last.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             "num_workers=0 to disable multiprocessing")
        if num_workers > 0:
            warnings.warn(f"DataLoader: num_workers={num_workers} is not supported; samples "
                          "are loaded in the main process", stacklevel=2)
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if batch_size is not None and batch_sampler is None:
            if (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                    or batch_size <= 0):
                raise ValueError("DataLoader: batch_size should be a positive integer value, "
                                 f"but got batch_size={batch_size!r}")
            batch_size = int(batch_size)

        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            if self.drop_last:
                return n // self.batch_size
            return (n + self.batch_size - 1) // self.batch_size
        return len(self._index_sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if self._auto_collation:
            return self._iter_batches()
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    def _iter_batches(self):
        fast = (type(self.dataset) is TensorDataset and self.collate_fn is default_collate
                and all(t.dtype.kind in "biufc" and not (isinstance(t, Tensor) and t.requires_grad)
                        for t in self.dataset.tensors))
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if fast:
                yield _tensor_dataset_batch(self.dataset, indices)
                continue
            if callable(getitems):
                samples = getitems(indices)
            else:
                samples = [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)


def _tensor_dataset_batch(dataset, indices):
    """default_collate([dataset[i] for i in indices]) in one fancy index per tensor."""
    idx = np.asarray(indices, dtype=np.int64)
    n = len(dataset)
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx[(idx >= n) | (idx < -n)][0])
        raise IndexError(f"TensorDataset: index {bad} is out of bounds for size {n}")
    return [Tensor._make(np.asarray(t.data if isinstance(t, Tensor) else t)[idx], False, None, 0)
            for t in dataset.tensors]

