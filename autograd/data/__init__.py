"""autograd.data: datasets, samplers and the DataLoader, laid out as `torch.utils.data`.

    from autograd.data import DataLoader, TensorDataset, random_split
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True,
                        generator=np.random.default_rng(0))

Random generators are numpy Generators (`np.random.default_rng(seed)`); without one, the
randomness is drawn from tapegrad's global generator, which `ag.manual_seed` resets.
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .distributed import DistributedSampler
from .dataset import (ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "Subset",
           "random_split", "DataLoader", "default_collate", "default_convert", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler"]
