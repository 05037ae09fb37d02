"""Fashion-MNIST from IDX files (gzip or plain) in a data directory, and the IDX reader.

    images, labels = load_fashion_mnist(train=True)     # uint8 (60000, 28, 28), int64 (60000,)
    ds = FashionMNIST(train=False)                       # ds[i] = (float32 (1, 28, 28), int)

Files: `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`, looked up in `<root>/fashion-mnist/`
and then in `<root>` (root defaults to $TAPEGRAD_DATA).

IDX format (big-endian): bytes 0-1 zero, byte 2 the element type (0x08 ubyte, 0x09 byte,
0x0B short, 0x0C int, 0x0D float, 0x0E double), byte 3 the number of dimensions d, then d
4-byte sizes, then the data in C order. The reader checks all of it: the magic number, the
expected type and rank, and that the data fills the file exactly.
"""
import gzip
import math
import struct
import zlib

import numpy as np

from ..data.dataset import Dataset
from ..tensor import Tensor
from ._files import DatasetError, data_dir, find_file

__all__ = ["read_idx", "load_fashion_mnist", "FashionMNIST", "FASHION_MNIST_CLASSES"]

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]
_IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_MAX_BYTES = 1 << 32          # refuse headers that announce more than 4 GiB of data


def _read_exact(f, n, path, what):
    data = f.read(n)
    if len(data) != n:
        raise DatasetError(f"read_idx: {path!r} is truncated: expected {n} bytes of {what}, "
                           f"got {len(data)}")
    return data


def read_idx(path, dtype_code=None, ndim=None):
    """Read an IDX file (gzip-compressed or plain, detected from its first bytes).

    dtype_code, ndim: when given, the magic number must announce exactly this element type and
    rank (e.g. 0x08, 3 for `idx3-ubyte`). Returns an ndarray of the file's shape with the
    native-endian version of its dtype. Raises DatasetError naming the file on any mismatch.
    """
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            magic = _read_exact(f, 4, path, "magic number")
            if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
                raise DatasetError(f"read_idx: {path!r} has a bad magic number 0x{magic.hex()} "
                                   "(an IDX file starts with 00 00, a type byte and a rank)")
            code, rank = magic[2], magic[3]
            if (dtype_code is not None and code != dtype_code) or (ndim is not None
                                                                   and rank != ndim):
                raise DatasetError(f"read_idx: {path!r} has magic number 0x{magic.hex()}, "
                                   f"expected type 0x{dtype_code or code:02x} and rank "
                                   f"{ndim if ndim is not None else rank}")
            dims = struct.unpack(f">{rank}I", _read_exact(f, 4 * rank, path, "dimensions"))
            dtype = _IDX_DTYPES[code]
            nbytes = math.prod(dims) * dtype.itemsize
            if nbytes > _MAX_BYTES:
                raise DatasetError(f"read_idx: {path!r} announces shape {dims}, more than "
                                   f"{_MAX_BYTES} bytes")
            data = _read_exact(f, nbytes, path, f"data for shape {dims}")
            if f.read(1):
                raise DatasetError(f"read_idx: {path!r} has trailing bytes after the data of "
                                   f"shape {dims}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"read_idx: {path!r} is not a valid gzip file ({exc})") from exc
    return np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("=")).reshape(dims)


def load_fashion_mnist(root=None, train=True):
    """(images, labels): uint8 (N, 28, 28) and int64 (N,) in 0..9; N = 60000 for train,
    10000 for test with the official files."""
    root = data_dir(root)
    split = "train" if train else "t10k"
    found = {}
    for kind, code_rank in (("images-idx3", 3), ("labels-idx1", 1)):
        name = f"{split}-{kind}-ubyte"
        candidates = [f"fashion-mnist/{name}.gz", f"fashion-mnist/{name}", f"{name}.gz", name]
        path = find_file(root, candidates, f"Fashion-MNIST {split} {kind.split('-')[0]}")
        found[kind] = (path, read_idx(path, dtype_code=0x08, ndim=code_rank))
    img_path, images = found["images-idx3"]
    lbl_path, labels = found["labels-idx1"]
    if images.shape[1:] != (28, 28):
        raise DatasetError(f"load_fashion_mnist: {img_path!r} holds images of shape "
                           f"{images.shape[1:]}, expected (28, 28)")
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(f"load_fashion_mnist: {img_path!r} has {images.shape[0]} images "
                           f"but {lbl_path!r} has {labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"load_fashion_mnist: {lbl_path!r} has label {labels.max()} "
                           "outside 0..9")
    return images, labels.astype(np.int64)


class FashionMNIST(Dataset):
    """FashionMNIST(root=None, train=True, transform=None, target_transform=None).

    Sample i: (image, label) with image a float32 Tensor (1, 28, 28) in [0, 1] (torchvision's
    ToTensor applied), then `transform(image)` if given; label an int, then
    `target_transform(label)` if given. `.data` is the uint8 (N, 28, 28) array, `.targets`
    the int64 (N,) labels, `.classes` the class names.
    """

    classes = FASHION_MNIST_CLASSES

    def __init__(self, root=None, train=True, transform=None, target_transform=None):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data, self.targets = load_fashion_mnist(root, train)

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        image = Tensor._make(self.data[index][None].astype(np.float32) / np.float32(255.0),
                             False, None, 0)
        label = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label
