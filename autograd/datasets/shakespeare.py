"""Tiny Shakespeare (char-rnn's 1,115,394 characters, 65 symbols) as character tokens.

    corpus = load_tiny_shakespeare()                # train/val int64 arrays, a tokenizer
    corpus.tokenizer.decode(corpus.train[:20])      # 'First Citizen:\nBefor'
    xb, yb = random_batch(corpus.train, block_size=64, batch_size=12, seed=rng)

The vocabulary is the sorted set of the file's characters and the split is the first
(1 - val_fraction) of the text for training, the rest for validation (nanoGPT's char setup).
"""
import os
from collections import namedtuple

import numpy as np

from ..data.dataset import Dataset
from ..tensor import Tensor
from ._files import DatasetError, data_dir, find_file
from ._rng import make_rng

__all__ = ["CharTokenizer", "CharCorpus", "CharSequenceDataset", "load_tiny_shakespeare",
           "random_batch"]

CharCorpus = namedtuple("CharCorpus", ["train", "val", "tokenizer"])


class CharTokenizer:
    """Characters <-> integer ids 0..vocab_size-1, ids in the sorted order of the characters.

    text: the text whose distinct characters form the vocabulary.
    """

    def __init__(self, text):
        self.itos = sorted(set(text))
        if not self.itos:
            raise ValueError("CharTokenizer: the text is empty")
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}

    @property
    def vocab_size(self):
        return len(self.itos)

    def __len__(self):
        return len(self.itos)

    def encode(self, text):
        """text -> list of ids; ValueError for a character outside the vocabulary."""
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as exc:
            raise ValueError(f"CharTokenizer.encode: character {exc.args[0]!r} is not in the "
                             f"vocabulary of {self.vocab_size} characters") from None

    def decode(self, ids):
        """ids (a list, ndarray or Tensor of ints) -> text."""
        arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
        if arr.dtype.kind not in "iu" and arr.size:
            raise TypeError(f"CharTokenizer.decode: ids must be integers, got {arr.dtype}")
        flat = arr.reshape(-1).tolist()
        bad = [i for i in flat if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"CharTokenizer.decode: id {bad[0]} is outside 0.."
                             f"{self.vocab_size - 1}")
        return "".join(self.itos[i] for i in flat)


def load_tiny_shakespeare(root=None, val_fraction=0.1):
    """CharCorpus(train, val, tokenizer) from `<root>/tinyshakespeare.txt` (UTF-8).

    train, val: int64 arrays of token ids, the first and last parts of the text.
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"load_tiny_shakespeare: val_fraction must be in [0, 1), got "
                         f"{val_fraction}")
    root = data_dir(root)
    path = find_file(root, ["tinyshakespeare.txt", os.path.join("tinyshakespeare", "input.txt")],
                     "tiny Shakespeare")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"load_tiny_shakespeare: {path!r} is not UTF-8 text ({exc})") from exc
    if len(text) < 2:
        raise DatasetError(f"load_tiny_shakespeare: {path!r} holds {len(text)} characters; "
                           "too few to split")
    tokenizer = CharTokenizer(text)
    tokens = np.array(tokenizer.encode(text), dtype=np.int64)
    n_train = int(len(tokens) * (1 - val_fraction))
    return CharCorpus(tokens[:n_train], tokens[n_train:], tokenizer)


class CharSequenceDataset(Dataset):
    """Every window of a token array: sample i = (tokens[i:i+block], tokens[i+1:i+1+block]),
    two int64 Tensors (block_size,), the input and its next-token targets."""

    def __init__(self, tokens, block_size):
        self.tokens = np.asarray(tokens.data if isinstance(tokens, Tensor) else tokens)
        if self.tokens.ndim != 1 or self.tokens.dtype.kind not in "iu":
            raise ValueError(f"CharSequenceDataset: tokens must be a 1-d integer array, got "
                             f"shape {self.tokens.shape} dtype {self.tokens.dtype}")
        if not 0 < block_size < len(self.tokens):
            raise ValueError(f"CharSequenceDataset: block_size {block_size} must be in "
                             f"1..{len(self.tokens) - 1} for {len(self.tokens)} tokens")
        self.block_size = int(block_size)

    def __len__(self):
        return len(self.tokens) - self.block_size

    def __getitem__(self, i):
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"CharSequenceDataset: index {i} out of range for length "
                             f"{len(self)}")
        x = self.tokens[i:i + self.block_size].astype(np.int64)
        y = self.tokens[i + 1:i + 1 + self.block_size].astype(np.int64)
        return Tensor._make(x, False, None, 0), Tensor._make(y, False, None, 0)


def random_batch(tokens, block_size, batch_size, seed=None):
    """(x, y): int64 Tensors (batch_size, block_size) of windows starting at uniform random
    offsets, y shifted by one token (nanoGPT's get_batch). seed: int, Generator or None."""
    data = np.asarray(tokens.data if isinstance(tokens, Tensor) else tokens)
    if data.ndim != 1 or not 0 < block_size < len(data):
        raise ValueError(f"random_batch: need a 1-d token array longer than block_size "
                         f"{block_size}, got shape {data.shape}")
    starts = make_rng(seed).integers(0, len(data) - block_size, size=batch_size)
    offsets = starts[:, None] + np.arange(block_size)
    x = data[offsets].astype(np.int64)
    y = data[offsets + 1].astype(np.int64)
    return Tensor._make(x, False, None, 0), Tensor._make(y, False, None, 0)
