"""autograd.data against torch.utils.data: collate rules, batching, samplers, splits."""
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import autograd as ag
from autograd.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset,
                           RandomSampler, Sampler, SequentialSampler, Subset,
                           SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                           default_collate, default_convert, random_split)

Point = namedtuple("Point", ["x", "label"])


def assert_same(ours, ref):
    """ours (tapegrad) equals ref (torch): same structure, container types, values, dtypes."""
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, ag.Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.data, ref.numpy())
    elif isinstance(ref, (list, tuple)):
        assert type(ours) is type(ref) and len(ours) == len(ref)
        for o, r in zip(ours, ref):
            assert_same(o, r)
    elif isinstance(ref, dict):
        assert type(ours) is type(ref) and list(ours) == list(ref)
        for key in ref:
            assert_same(ours[key], ref[key])
    else:
        assert ours == ref and type(ours) is type(ref)


def to_torch(sample):
    """The same sample with tapegrad Tensors replaced by torch tensors."""
    if isinstance(sample, ag.Tensor):
        return torch.from_numpy(sample.data.copy())
    if isinstance(sample, Point):
        return Point(*(to_torch(s) for s in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(to_torch(s) for s in sample)
    if isinstance(sample, dict):
        return type(sample)((k, to_torch(v)) for k, v in sample.items())
    return sample


def batch_of(make, n=3):
    return [make(i) for i in range(n)]


COLLATE_CASES = {
    "tensor_int_tuples": lambda i: (ag.full((2, 3), float(i)), i),
    "dict_floats_strings": lambda i: {"x": 0.5 * i, "name": f"s{i}", "n": i},
    "ndarrays": lambda i: (np.full(2, i, np.float32), np.full((2, 2), i, np.float64),
                           np.arange(i, i + 3, dtype=np.int32)),
    "numpy_scalars": lambda i: (np.float32(i), np.int16(i), np.bool_(i % 2), np.float64(i)),
    "bools": lambda i: [bool(i % 2), i],
    "nested": lambda i: {"a": [ag.tensor([i, i + 1]), {"b": (1.5, "t")}], "c": OrderedDict(
        d=np.int64(i))},
    "namedtuple": lambda i: Point(ag.tensor([float(i)]), i),
    "int_then_float": lambda i: i if i == 0 else i + 0.5,
    "bytes": lambda i: bytes([65 + i]),
    "float64_tensor": lambda i: ag.tensor(np.arange(3.0) + i),
    "zero_d": lambda i: (ag.tensor(float(i)), ag.tensor(i)),
    "size_zero": lambda i: ag.zeros(0, 2),
}


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    batch = batch_of(COLLATE_CASES[case])
    assert_same(default_collate(batch), tud.default_collate([to_torch(s) for s in batch]))


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_convert_matches_torch(case):
    sample = COLLATE_CASES[case](1)
    assert_same(default_convert(sample), tud.default_convert(to_torch(sample)))


@pytest.mark.parametrize("batch", [
    [None, None],                                   # unsupported element
    [[1, 2], [3]],                                  # unequal lengths
    [np.array(["a"]), np.array(["b"])],             # string arrays
    [np.array([1], dtype=object)] * 2,              # object arrays
    [object(), object()],
])
def test_default_collate_errors_match_torch(batch):
    with pytest.raises(Exception) as theirs:
        tud.default_collate(batch)
    with pytest.raises(type(theirs.value)):
        default_collate(batch)


def test_default_collate_unequal_shapes_names_both():
    with pytest.raises(RuntimeError, match=r"\[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([ag.zeros(2), ag.zeros(3)])


def test_default_collate_keeps_graph_when_samples_require_grad():
    xs = [ag.randn(3, requires_grad=True) for _ in range(2)]
    out = default_collate(xs)
    (out * ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(xs[1].grad.data, [4.0, 5.0, 6.0])


def test_float32_stays_float32():
    x = ag.randn(10, 3)
    xb, = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    assert xb.dtype == np.float32


# -- DataLoader ----------------------------------------------------------------------------------
def make_xy(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return ag.tensor(rng.standard_normal((n, 3)).astype(np.float32)), ag.arange(n)


@pytest.mark.parametrize("n,bs,drop_last", [(10, 4, False), (10, 4, True), (10, 5, False),
                                            (10, 5, True), (3, 8, False), (3, 8, True),
                                            (1, 1, False), (0, 2, False)])
def test_sequential_batches_and_length_match_torch(n, bs, drop_last):
    x, y = make_xy(max(n, 1))
    x, y = x[:n], y[:n]
    ours = list(DataLoader(TensorDataset(x, y), batch_size=bs, drop_last=drop_last))
    ref = list(tud.DataLoader(tud.TensorDataset(torch.from_numpy(x.data),
                                                torch.from_numpy(y.data)),
                              batch_size=bs, drop_last=drop_last))
    assert len(DataLoader(TensorDataset(x, y), batch_size=bs, drop_last=drop_last)) == len(ref)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert_same(o, r)


def test_last_batch_is_short_unless_drop_last():
    x, y = make_xy(10)
    sizes = [len(yb) for _, yb in DataLoader(TensorDataset(x, y), batch_size=4)]
    assert sizes == [4, 4, 2]
    sizes = [len(yb) for _, yb in DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)]
    assert sizes == [4, 4]


def test_fast_tensor_dataset_path_equals_per_sample_collate():
    x, y = make_xy(23)
    fast = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True,
                      generator=np.random.default_rng(3))
    slow = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True,
                      generator=np.random.default_rng(3), collate_fn=lambda b: default_collate(b))
    for (xa, ya), (xb, yb) in zip(fast, slow):
        assert xa.dtype == xb.dtype and ya.dtype == yb.dtype
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)


def epoch_orders(loader, epochs=2):
    return [np.concatenate([yb.data for _, yb in loader]).tolist() for _ in range(epochs)]


def test_shuffle_reproducible_with_seeded_generator():
    x, y = make_xy(50)
    a = epoch_orders(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,
                                generator=np.random.default_rng(7)))
    b = epoch_orders(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,
                                generator=np.random.default_rng(7)))
    c = epoch_orders(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,
                                generator=np.random.default_rng(8)))
    assert a == b
    assert a != c
    assert a[0] != a[1]                       # a new permutation each epoch
    for order in a + c:
        assert sorted(order) == list(range(50))


def test_shuffle_without_generator_follows_manual_seed():
    x, y = make_xy(30)
    loader = DataLoader(TensorDataset(x, y), batch_size=7, shuffle=True)
    ag.manual_seed(11)
    first = epoch_orders(loader)
    ag.manual_seed(11)
    assert epoch_orders(loader) == first


def test_generator_must_be_numpy_generator():
    x, y = make_xy()
    with pytest.raises(TypeError, match="numpy Generator"):
        list(DataLoader(TensorDataset(x, y), shuffle=True, generator=0))


def test_custom_sampler_and_batch_sampler():
    x, y = make_xy(10)

    class Reverse(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    loader = DataLoader(TensorDataset(x, y), batch_size=3, sampler=Reverse(10))
    assert [yb.tolist() for _, yb in loader] == [[9, 8, 7], [6, 5, 4], [3, 2, 1], [0]]
    loader = DataLoader(TensorDataset(x, y), batch_sampler=[[1, 2], [0], [5, 5, 5]])
    assert [yb.tolist() for _, yb in loader] == [[1, 2], [0], [5, 5, 5]]


@pytest.mark.parametrize("kwargs", [
    dict(shuffle=True, sampler=SequentialSampler(range(10))),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(batch_size=0),
    dict(batch_size=-1),
    dict(num_workers=-1),
])
def test_invalid_option_combinations_raise_value_error(kwargs):
    x, y = make_xy(10)
    tkw = {k: (tud.SequentialSampler(range(10)) if k == "sampler" else v)
           for k, v in kwargs.items()}
    with pytest.raises(ValueError):
        tud.DataLoader(tud.TensorDataset(torch.zeros(10)), **tkw)
    with pytest.raises(ValueError):
        DataLoader(TensorDataset(x, y), **kwargs)


def test_batch_size_none_yields_converted_samples():
    class Arrays(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i, np.float32), i

    out = list(DataLoader(Arrays(), batch_size=None))
    ref = list(tud.DataLoader(Arrays(), batch_size=None))
    assert len(out) == 3
    for o, r in zip(out, ref):
        assert_same(o, r)


def test_getitems_is_used_for_batches():
    class Batched(Dataset):
        calls = []

        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("per-sample access not expected")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [(float(i), i) for i in indices]

    ds = Batched()
    batches = list(DataLoader(ds, batch_size=4))
    assert ds.calls == [[0, 1, 2, 3], [4, 5]]
    assert batches[1][0].dtype == np.float64 and batches[1][1].tolist() == [4, 5]


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("bs,drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_matches_torch(bs, drop_last):
    ours = DataLoader(Stream(7), batch_size=bs, drop_last=drop_last)
    ref = tud.DataLoader(TorchStream(7), batch_size=bs, drop_last=drop_last)
    assert len(ours) == len(ref)
    assert_same(list(ours), list(ref))


def test_iterable_dataset_rejects_shuffle_and_samplers():
    for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="IterableDataset"):
            DataLoader(Stream(3), **kwargs)


def test_num_workers_runs_in_process_with_warning():
    x, y = make_xy(4)
    with pytest.warns(UserWarning, match="main process"):
        loader = DataLoader(TensorDataset(x, y), batch_size=2, num_workers=2)
    assert len(list(loader)) == 2


# -- datasets and samplers -----------------------------------------------------------------------
def test_tensor_dataset_items_and_errors():
    x, y = make_xy(5)
    ds = TensorDataset(x, y)
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.data, x.data[2])
    assert yi.item() == 2 and len(ds) == 5
    with pytest.raises(ValueError, match=r"\(5, 3\), \(4,\)"):
        TensorDataset(x, y[:4])
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(ag.tensor(1.0))
    with pytest.raises(TypeError):
        TensorDataset([1, 2, 3])


def test_concat_and_subset():
    a, b = TensorDataset(ag.arange(3)), TensorDataset(ag.arange(10, 14))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert [both[i][0].item() for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert both[-1][0].item() == 13 and both[-7][0].item() == 0
    with pytest.raises(IndexError):
        both[7]
    with pytest.raises(ValueError):
        both[-8]
    sub = Subset(both, [6, 0, 3])
    assert len(sub) == 3 and [sub[i][0].item() for i in range(3)] == [13, 0, 10]
    assert [t.tolist() for t in next(iter(DataLoader(sub, batch_size=3)))] == [[13, 0, 10]]
    with pytest.raises(TypeError):
        Stream(2) + Stream(2)


@pytest.mark.parametrize("lengths", [[0.3, 0.3, 0.4], [0.5, 0.5], [0.1, 0.2, 0.3, 0.4],
                                     [1 / 3] * 3, [3, 4, 3], [10, 0], [1.0]])
def test_random_split_lengths_match_torch_and_partition(lengths):
    ds = TensorDataset(ag.arange(10))
    parts = random_split(ds, lengths, generator=np.random.default_rng(0))
    ref = tud.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(r) for r in ref]
    indices = sorted(i for p in parts for i in p.indices)
    assert indices == list(range(10))


def test_random_split_warns_on_empty_split_as_torch():
    lengths = [0.1, 0.1, 0.1, 0.7]
    with pytest.warns(UserWarning) as theirs:
        ref = tud.random_split(range(3), lengths)
    with pytest.warns(UserWarning) as ours:
        parts = random_split(TensorDataset(ag.arange(3)), lengths)
    assert len(ours) == len(theirs) == 2
    assert "index 1" in str(ours[0].message) and "index 2" in str(ours[1].message)
    assert [len(p) for p in parts] == [len(r) for r in ref] == [1, 0, 0, 2]


def test_random_split_reproducible_and_checked():
    ds = TensorDataset(ag.arange(20))
    a = [p.indices for p in random_split(ds, [0.5, 0.5], generator=np.random.default_rng(1))]
    b = [p.indices for p in random_split(ds, [0.5, 0.5], generator=np.random.default_rng(1))]
    c = [p.indices for p in random_split(ds, [0.5, 0.5], generator=np.random.default_rng(2))]
    assert a == b and a != c
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [5, 5])
    with pytest.raises(ValueError):
        random_split(ds, [1.5, -0.5])


def test_random_sampler_variants():
    ds = range(6)
    gen = np.random.default_rng(0)
    assert sorted(RandomSampler(ds, generator=gen)) == list(range(6))
    longer = list(RandomSampler(ds, num_samples=14, generator=gen))
    assert len(longer) == 14 and sorted(longer[:6]) == list(range(6))
    drawn = list(RandomSampler(ds, replacement=True, num_samples=200, generator=gen))
    assert len(drawn) == 200 and set(drawn) == set(range(6))
    with pytest.raises(ValueError):
        RandomSampler(range(0))
    with pytest.raises(TypeError):
        RandomSampler(ds, replacement=1)


def test_subset_and_weighted_samplers():
    gen = np.random.default_rng(0)
    assert sorted(SubsetRandomSampler([5, 7, 9], generator=gen)) == [5, 7, 9]
    draws = list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=gen))
    counts = np.bincount(draws, minlength=3)
    assert counts[0] == 0 and 2.6 < counts[2] / counts[1] < 3.4
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False, generator=gen)) == [
        0, 1, 2]
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                            (2, 5, False), (2, 5, True)])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop_last)
    ref = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop_last)
    assert list(ours) == list(ref) and len(ours) == len(ref)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError):
            BatchSampler(range(n), bad, drop_last)
