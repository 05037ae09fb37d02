"""autograd.datasets: generated sets, file readers on synthetic files, and the real files of
$TAPEGRAD_DATA (default <repo>/../shared/data) when they are present."""
import gzip
import os
import random
import struct

import numpy as np
import pytest

import autograd as ag
from autograd import datasets
from autograd.data import DataLoader, TensorDataset
from autograd.datasets import DatasetError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("TAPEGRAD_DATA", os.path.join(ROOT, "..", "shared", "data"))


def needs(*names):
    missing = [n for n in names if not os.path.exists(os.path.join(DATA, n))]
    return pytest.mark.skipif(bool(missing), reason=f"data files {missing} not found in {DATA} "
                              "(set TAPEGRAD_DATA)")


# -- digits and MNIST-1D -------------------------------------------------------------------------
def test_digits_split_shapes_ranges_and_stratification():
    train, test = datasets.load_digits(test_size=0.2, seed=0)
    x, y = train.tensors
    xt, yt = test.tensors
    assert len(train) + len(test) == 1797
    assert x.shape[1:] == (1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= x.data.min() and x.data.max() == 1.0
    counts = np.bincount(yt.data, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37          # ~20 % of each ~180-image class
    flat, _ = datasets.load_digits(seed=0, flatten=True)
    np.testing.assert_array_equal(flat.tensors[0].data, x.data.reshape(-1, 64))
    again, _ = datasets.load_digits(seed=0)
    other, _ = datasets.load_digits(seed=1)
    np.testing.assert_array_equal(again.tensors[1].data, y.data)
    assert not np.array_equal(other.tensors[1].data, y.data)
    # train and test are disjoint: no test image appears in train
    seen = {row.tobytes() for row in x.data.reshape(len(x.data), -1)}
    assert not any(row.tobytes() in seen for row in xt.data.reshape(len(xt.data), -1))
    with pytest.raises(ValueError):
        datasets.load_digits(test_size=1.0)


def test_mnist1d_matches_package_and_leaves_global_state(tmp_path, monkeypatch):
    from mnist1d.data import get_dataset_args, make_dataset
    monkeypatch.chdir(tmp_path)
    np.random.seed(5)
    random.seed(5)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(5)
    random.seed(5)
    train, test = datasets.load_mnist1d()
    assert np.random.rand() == expected_np and random.random() == expected_py
    assert os.listdir(tmp_path) == []                    # nothing written into the cwd
    ref = make_dataset(get_dataset_args())
    x, y = train.tensors
    assert x.shape == (4000, 40) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.data, ref["x"].astype(np.float32))
    np.testing.assert_array_equal(y.data, ref["y"])
    np.testing.assert_array_equal(test.tensors[0].data, ref["x_test"].astype(np.float32))
    assert len(test) == 1000
    small, _ = datasets.load_mnist1d(num_samples=100, seed=3)
    assert len(small) == 80
    with pytest.raises(TypeError, match="unknown"):
        datasets.load_mnist1d(url="http://example.invalid")


# -- IDX files and Fashion-MNIST -----------------------------------------------------------------
def idx_bytes(arr, code=0x08):
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + np.asarray(arr, dtype=dtype).tobytes()


def write(path, data, compress):
    path.write_bytes(gzip.compress(data) if compress else data)
    return str(path)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("code,dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                        (0x0C, np.int32), (0x0D, np.float32),
                                        (0x0E, np.float64)])
def test_read_idx_round_trip(tmp_path, compress, code, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = datasets.read_idx(write(tmp_path / "a.idx", idx_bytes(arr, code), compress))
    assert out.dtype == dtype and out.dtype.isnative and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)


GOOD = idx_bytes(np.zeros((2, 28, 28), np.uint8))
BAD_IDX = {
    "bad_magic": b"\x08\x03" + GOOD[2:],
    "unknown_type": GOOD[:2] + b"\x07" + GOOD[3:],
    "wrong_rank": GOOD[:3] + b"\x02" + GOOD[4:],
    "truncated_header": GOOD[:10],
    "truncated_data": GOOD[:-1],
    "trailing_bytes": GOOD + b"\x00",
    "empty": b"",
    "huge_dims": bytes([0, 0, 8, 3]) + struct.pack(">3I", 2 ** 31, 2 ** 31, 4),
}


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("case", sorted(BAD_IDX))
def test_read_idx_rejects_bad_files_naming_them(tmp_path, case, compress):
    path = write(tmp_path / f"{case}.idx", BAD_IDX[case], compress)
    with pytest.raises(DatasetError, match=case):
        datasets.read_idx(path, dtype_code=0x08, ndim=3)


def test_read_idx_rejects_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(GOOD)[:-12])
    with pytest.raises(DatasetError, match="cut.gz"):
        datasets.read_idx(str(path))


def make_fashion_dir(root, n=5, n_labels=None, label=3, image_shape=(28, 28), compress=True):
    sub = root / "fashion-mnist"
    sub.mkdir()
    images = np.random.default_rng(0).integers(0, 256, (n,) + image_shape).astype(np.uint8)
    labels = np.full(n if n_labels is None else n_labels, label, np.uint8)
    suffix = ".gz" if compress else ""
    for split in ("train", "t10k"):
        write(sub / f"{split}-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
        write(sub / f"{split}-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
    return images


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_from_synthetic_dir(tmp_path, compress):
    images = make_fashion_dir(tmp_path, compress=compress)
    x, y = datasets.load_fashion_mnist(tmp_path, train=False)
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64 and y.tolist() == [3] * 5
    ds = datasets.FashionMNIST(tmp_path, transform=lambda t: t * 2, target_transform=str)
    img, label = ds[1]
    assert img.shape == (1, 28, 28) and img.dtype == np.float32 and label == "3"
    np.testing.assert_allclose(img.data[0], images[1] / 255.0 * 2, rtol=1e-6)


def test_fashion_mnist_uses_environment_variable(tmp_path, monkeypatch):
    make_fashion_dir(tmp_path)
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path))
    assert len(datasets.FashionMNIST()) == 5
    monkeypatch.delenv("TAPEGRAD_DATA")
    with pytest.raises(FileNotFoundError, match="TAPEGRAD_DATA"):
        datasets.load_fashion_mnist()


@pytest.mark.parametrize("kwargs,match", [(dict(n_labels=4), "labels"),
                                          (dict(label=10), "label 10"),
                                          (dict(image_shape=(28, 27)), r"\(28, 27\)")])
def test_fashion_mnist_validates_contents(tmp_path, kwargs, match):
    make_fashion_dir(tmp_path, **kwargs)
    with pytest.raises(DatasetError, match=match):
        datasets.load_fashion_mnist(tmp_path)


def test_fashion_mnist_missing_file_is_named(tmp_path):
    make_fashion_dir(tmp_path)
    os.remove(tmp_path / "fashion-mnist" / "train-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        datasets.load_fashion_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load_fashion_mnist(tmp_path / "nowhere")


@needs("fashion-mnist/train-images-idx3-ubyte.gz", "fashion-mnist/t10k-labels-idx1-ubyte.gz")
def test_fashion_mnist_real_files():
    x, y = datasets.load_fashion_mnist(DATA, train=True)
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [6000] * 10
    xt, yt = datasets.load_fashion_mnist(DATA, train=False)
    assert xt.shape == (10000, 28, 28) and np.bincount(yt).tolist() == [1000] * 10
    assert len(datasets.FashionMNIST.classes) == 10


# -- tiny Shakespeare ----------------------------------------------------------------------------
def test_char_tokenizer_round_trip_and_errors():
    tok = datasets.CharTokenizer("hello world")
    assert tok.itos == sorted(set("hello world")) and tok.vocab_size == 8 == len(tok)
    ids = tok.encode("low")
    assert tok.decode(ids) == "low" and tok.decode(np.array(ids)) == "low"
    assert tok.decode(ag.tensor(ids)) == "low"
    with pytest.raises(ValueError, match="'z'"):
        tok.encode("lz")
    with pytest.raises(ValueError, match="8"):
        tok.decode([8])


def test_tiny_shakespeare_synthetic(tmp_path):
    (tmp_path / "tinyshakespeare.txt").write_text("abcabcabcd", encoding="utf-8")
    corpus = datasets.load_tiny_shakespeare(tmp_path, val_fraction=0.2)
    assert corpus.train.tolist() == [0, 1, 2, 0, 1, 2, 0, 1] and corpus.val.tolist() == [2, 3]
    assert corpus.train.dtype == np.int64 and corpus.tokenizer.vocab_size == 4
    (tmp_path / "tinyshakespeare.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(DatasetError, match="UTF-8"):
        datasets.load_tiny_shakespeare(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="tinyshakespeare.txt"):
        datasets.load_tiny_shakespeare(empty)


@needs("tinyshakespeare.txt")
def test_tiny_shakespeare_real_file():
    corpus = datasets.load_tiny_shakespeare(DATA)
    n = len(corpus.train) + len(corpus.val)
    assert n == 1115394 and corpus.tokenizer.vocab_size == 65
    assert len(corpus.train) == int(n * 0.9)
    assert corpus.tokenizer.decode(corpus.train[:14]) == "First Citizen:"


def test_char_windows_and_random_batches():
    tokens = np.arange(20, dtype=np.int64)
    ds = datasets.CharSequenceDataset(tokens, block_size=4)
    assert len(ds) == 16
    x, y = ds[3]
    assert x.tolist() == [3, 4, 5, 6] and y.tolist() == [4, 5, 6, 7]
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 4) and xb.dtype == np.int64
    xb, yb = datasets.random_batch(tokens, 4, 8, seed=0)
    assert xb.shape == yb.shape == (8, 4)
    np.testing.assert_array_equal(yb.data, xb.data + 1)
    np.testing.assert_array_equal(datasets.random_batch(tokens, 4, 8, seed=0)[0].data, xb.data)
    with pytest.raises(ValueError):
        datasets.CharSequenceDataset(tokens, block_size=20)


# -- adding and copy-memory problems -------------------------------------------------------------
def test_adding_problem_arjovsky_definition():
    x, y = datasets.adding_problem(4000, 30, seed=0)
    assert x.shape == (4000, 30, 2) and y.shape == (4000, 1) and x.dtype == np.float32
    values, marks = x.data[..., 0], x.data[..., 1]
    assert ((0 <= values) & (values <= 1)).all()
    assert (marks[:, :15].sum(1) == 1).all() and (marks[:, 15:].sum(1) == 1).all()
    assert set(np.unique(marks)) == {0.0, 1.0}
    np.testing.assert_allclose(y.data[:, 0], (values * marks).sum(1), rtol=1e-6)
    # predicting the mean (1) has MSE Var(X1 + X2) = 1/6
    assert abs(((y.data - 1.0) ** 2).mean() - 1 / 6) < 0.01
    again = datasets.adding_problem(4000, 30, seed=0)[0]
    np.testing.assert_array_equal(again.data, x.data)
    tm, _ = datasets.adding_problem(4000, 30, seed=0, batch_first=False)
    np.testing.assert_array_equal(tm.data, x.data.transpose(1, 0, 2))
    x64, _ = datasets.adding_problem(2, 4, seed=0, dtype=ag.float64)
    assert x64.dtype == np.float64


def test_adding_problem_hochreiter_definition():
    t = 40
    x, y = datasets.adding_problem(3000, t, seed=1, variant="hochreiter")
    values, marks = x.data[..., 0].astype(np.float64), x.data[..., 1]
    assert ((-1 <= values) & (values <= 1)).all()
    ones = marks == 1.0
    assert (ones.sum(1) == 2).all()
    first = ones.argmax(1)
    assert (first < 10).all() and (ones[:, t // 2:].sum(1) == 0).all()
    # first and last steps carry -1 unless marked; a marked first step has value 0
    assert ((marks[:, 0] == -1) | ones[:, 0]).all() and (marks[:, -1] == -1).all()
    assert (values[ones[:, 0], 0] == 0).all() and ones[:, 0].any()
    np.testing.assert_allclose(y.data[:, 0], 0.5 + (values * ones).sum(1) / 4, rtol=1e-6)
    assert abs(((y.data - 0.5) ** 2).mean() - 1 / 24) < 0.004
    with pytest.raises(ValueError):
        datasets.adding_problem(2, 10, variant="hochreiter")
    with pytest.raises(ValueError, match="variant"):
        datasets.adding_problem(2, 10, variant="other")


def test_copy_memory_layout():
    t, k = 7, 4
    x, y = datasets.copy_memory(50, delay=t, seed=0, copy_length=k, num_symbols=5)
    assert x.shape == y.shape == (50, t + 2 * k) and x.dtype == np.int64
    data = x.data[:, :k]
    assert ((1 <= data) & (data <= 5)).all()
    assert (x.data[:, k:k + t - 1] == 0).all() and (x.data[:, k + t - 1] == 6).all()
    assert (x.data[:, k + t:] == 0).all()
    assert (y.data[:, :t + k] == 0).all()
    np.testing.assert_array_equal(y.data[:, t + k:], data)
    np.testing.assert_array_equal(datasets.copy_memory(50, t, seed=0, copy_length=k,
                                                       num_symbols=5)[0].data, x.data)
    default_x, _ = datasets.copy_memory(3, delay=100, seed=0)
    assert default_x.shape == (3, 120)                       # T + 20 (Arjovsky et al.)
    assert datasets.copy_memory_baseline(100) == pytest.approx(10 * np.log(8) / 120)
    xt, _ = datasets.copy_memory(3, delay=100, seed=0, batch_first=False)
    np.testing.assert_array_equal(xt.data, default_x.data.T)


def test_generated_sets_follow_manual_seed():
    ag.manual_seed(4)
    a = datasets.copy_memory(5, 10)[0].data
    ag.manual_seed(4)
    np.testing.assert_array_equal(datasets.copy_memory(5, 10)[0].data, a)


def test_generated_sets_feed_a_dataloader():
    x, y = datasets.adding_problem(10, 6, seed=0)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    assert xb.shape == (4, 6, 2) and yb.shape == (4, 1)
