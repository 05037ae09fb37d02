"""autograd.datasets: the course's real and generated data sets.

    train, test = datasets.load_digits()               # scikit-learn's 8x8 digits
    train, test = datasets.load_mnist1d()              # MNIST-1D, generated locally
    images, labels = datasets.load_fashion_mnist()     # IDX files under $TAPEGRAD_DATA
    corpus = datasets.load_tiny_shakespeare()          # character tokens
    x, y = datasets.adding_problem(256, 100, seed=0)   # long-memory tasks
    x, y = datasets.copy_memory(256, 50, seed=0)

File-based loaders take `root` (default: the TAPEGRAD_DATA environment variable), validate
what they read and raise FileNotFoundError or DatasetError naming the missing or bad file.
"""
from ._files import DatasetError
from .babi_synthetic import BABI_VOCAB, BabiTask, babi_synthetic
from .digits import load_digits
from .fashion_mnist import FASHION_MNIST_CLASSES, FashionMNIST, load_fashion_mnist, read_idx
from .mnist1d import load_mnist1d
from .sequence_tasks import adding_problem, copy_memory, copy_memory_baseline
from .shakespeare import (CharCorpus, CharSequenceDataset, CharTokenizer,
                          load_tiny_shakespeare, random_batch)

from .planetoid import (PLANETOID, load_citeseer, load_cora, load_karate_club, load_planetoid,
                        make_sbm_graphs, sbm_graph)

__all__ = ["DatasetError", "load_digits", "load_mnist1d", "read_idx", "load_fashion_mnist",
           "FashionMNIST", "FASHION_MNIST_CLASSES", "load_tiny_shakespeare", "CharTokenizer",
           "CharCorpus", "CharSequenceDataset", "random_batch", "adding_problem",
           "copy_memory", "copy_memory_baseline", "PLANETOID", "load_cora", "load_citeseer",
           "load_planetoid", "load_karate_club", "sbm_graph", "make_sbm_graphs", "BABI_VOCAB",
           "BabiTask", "babi_synthetic"]
