"""Checkpoints (autograd.serialization): bit-exact round trips, safetensors interoperability,
resumed training, atomic writes under crashes, and a corpus of malformed and hostile files."""
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.data import DataLoader, TensorDataset
from autograd.serialization import CheckpointError, load, save

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_identical(a, b, where="obj"):
    """Same types, structure, dtypes, shapes and bits (floats compared by their bytes)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, ag.Tensor):
        assert a.requires_grad == b.requires_grad, where
        a, b = a.data, b.data
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), where
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), where
    elif isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b], where
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def round_trip(obj, tmp_path, name="ckpt.safetensors"):
    path = tmp_path / name
    save(obj, path)
    return load(path)


# -- round trips ---------------------------------------------------------------------------------
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
          np.uint16, np.uint32, np.uint64, np.bool_, np.complex64]
SHAPES = [(), (0,), (3, 0, 2), (5,), (2, 3), (2, 3, 4)]


def sample_array(dtype, shape, rng):
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    arr = np.asarray(rng.standard_normal(shape) * 1e3).astype(dtype)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-40], dtype=dtype)[:arr.size]
    arr.reshape(-1)[:specials.size] = specials
    return arr


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_tensors_and_arrays_round_trip_bit_exact(tmp_path, dtype):
    rng = np.random.default_rng(0)
    obj = {}
    for shape in SHAPES:
        arr = sample_array(dtype, shape, rng)
        obj[f"t{shape}"] = ag.Tensor._make(arr, False, None, 0)
        obj[f"a{shape}"] = arr.copy()
    if np.dtype(dtype).kind == "f":
        obj["grad"] = ag.tensor(np.ones(2, dtype), requires_grad=True)
    obj["scalar"] = dtype(1) if dtype != np.bool_ else np.True_
    out = round_trip(obj, tmp_path)
    assert_identical(obj, out)
    for value in out.values():             # loaded arrays are writable and aligned
        arr = value.data if isinstance(value, ag.Tensor) else value
        if isinstance(arr, np.ndarray):
            assert arr.flags.writeable and arr.flags.aligned


def test_plain_values_round_trip(tmp_path):
    obj = {
        "ints": [0, -1, 2 ** 100, -(2 ** 70)], "floats": [0.1, -0.0, 1e-308, 5e-324,
                                                          float("nan"), float("inf"),
                                                          -float("inf")],
        "bools": (True, False), "none": None, "text": "αβγ \"quoted\" \n\u0000 end",
        "nested": [[(1, [2, (3,)])], {}], "empty": ([], (), {}, ""),
        "int_keys": {0: "a", 1: {2: "b"}, -5: None}, "odd_keys": {1.5: 1, None: 2, True: 3,
                                                                  ("a", 1): 4,
                                                                  float("inf"): 5},
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
        "np_scalars": [np.float32(1.25), np.float64(-0.5), np.int64(-3), np.bool_(True),
                       np.uint8(7)],
        "module.with.dots": {"x.y": 1},
    }
    assert_identical(obj, round_trip(obj, tmp_path))


def test_layouts_byte_orders_and_sharing(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    shared = ag.tensor([1.0, 2.0])
    obj = {"transposed": base.T, "strided": base[::2, ::-3], "big_endian": base.astype(">f8"),
           "a": shared, "b": shared}
    out = round_trip(obj, tmp_path)
    np.testing.assert_array_equal(out["transposed"], base.T)
    np.testing.assert_array_equal(out["strided"], base[::2, ::-3])
    np.testing.assert_array_equal(out["big_endian"], base)
    assert out["big_endian"].dtype == np.float64
    out["a"].data[0] = 5.0                      # loaded copies are independent
    assert out["b"].data[0] == 1.0 and shared.data[0] == 1.0


def test_top_level_tensor_list_and_scalar(tmp_path):
    t = ag.randn(3)
    assert_identical(round_trip(t, tmp_path), t)
    assert_identical(round_trip([t, 1], tmp_path), [t, 1])
    assert round_trip(7, tmp_path) == 7


@pytest.mark.parametrize("obj,error", [
    ({"a": {1, 2}}, TypeError), ({"a": np.array([{}], dtype=object)}, TypeError),
    ({"a": np.zeros(2, np.complex128)}, TypeError), ({"a": lambda: 0}, TypeError),
    ({(1, frozenset()): 1}, TypeError), ({"a": np.array(["s"])}, TypeError), ({"a": 1j}, TypeError),
])
def test_unsupported_values_raise_before_writing(tmp_path, obj, error):
    with pytest.raises(error, match="save"):
        save(obj, tmp_path / "x")
    assert os.listdir(tmp_path) == []


def test_cycles_are_rejected(tmp_path):
    obj = {"a": []}
    obj["a"].append(obj)
    with pytest.raises(ValueError, match="contains itself"):
        save(obj, tmp_path / "x")


class Tiny(nn.Module):
    """A two-layer net from Parameters and F.linear, with float, int and bool buffers."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(ag.randn(8, 4) * 0.5)
        self.b1 = nn.Parameter(ag.zeros(8))
        self.w2 = nn.Parameter(ag.randn(3, 8) * 0.5)
        self.b2 = nn.Parameter(ag.zeros(3))
        self.register_buffer("scale", ag.ones(4))
        self.register_buffer("calls", ag.tensor(0))
        self.register_buffer("mask", ag.tensor([True, False]))

    def forward(self, x):
        return F.linear(F.linear(x * self.scale, self.w1, self.b1).tanh(), self.w2, self.b2)


def test_module_state_dict_round_trip(tmp_path):
    ag.manual_seed(0)
    model = Tiny()
    sd = model.state_dict()
    out = round_trip({"model": sd}, tmp_path)["model"]
    assert isinstance(out, OrderedDict) and list(out) == list(sd)
    for key in sd:
        assert_identical(sd[key].detach(), out[key], key)
    ag.manual_seed(1)
    fresh = Tiny()
    fresh.load_state_dict(out)
    x = ag.randn(5, 4)
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=0.01),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "Adadelta": lambda p: optim.Adadelta(p),
    "Adamax": lambda p: optim.Adamax(p),
    "NAdam": lambda p: optim.NAdam(p),
}


def run_steps(opt, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = ag.tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_dict_round_trip_and_resume(tmp_path, name):
    ag.manual_seed(0)
    params = [nn.Parameter(ag.randn(3, 2)), nn.Parameter(ag.randn(4))]
    opt = OPTIMIZERS[name]([{"params": params[:1]}, {"params": params[1:], "lr": 0.003}])
    run_steps(opt, params, 3, seed=1)
    sd = opt.state_dict()
    out = round_trip({"optim": sd}, tmp_path)["optim"]
    assert_identical(sd, out)
    assert all(type(k) is int for k in out["state"])
    twins = [nn.Parameter(ag.tensor(p.data.copy())) for p in params]
    resumed = OPTIMIZERS[name]([{"params": twins[:1]}, {"params": twins[1:]}])
    resumed.load_state_dict(out)
    run_steps(opt, params, 2, seed=2)
    run_steps(resumed, twins, 2, seed=2)
    for p, q in zip(params, twins):
        assert p.data.tobytes() == q.data.tobytes()


def train(model, opt, sched, loader, epochs):
    losses = []
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sched.step()
    return losses


def test_resuming_from_checkpoint_gives_the_same_losses(tmp_path):
    rng = np.random.default_rng(0)
    data = TensorDataset(ag.tensor(rng.standard_normal((48, 4)).astype(np.float32)),
                         ag.tensor(rng.integers(0, 3, 48)))

    def setup(seed, generator):
        ag.manual_seed(seed)
        model = Tiny()
        opt = optim.Adam(model.parameters(), lr=0.05)
        sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        return model, opt, sched, DataLoader(data, batch_size=10, shuffle=True,
                                             generator=generator)

    model, opt, sched, loader = setup(0, np.random.default_rng(5))
    straight = train(model, opt, sched, loader, epochs=4)

    model, opt, sched, loader = setup(0, np.random.default_rng(5))
    first = train(model, opt, sched, loader, epochs=2)
    save({"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(),
          "epoch": 2, "rng": loader.generator.bit_generator.state}, tmp_path / "ck.st")
    del model, opt, sched, loader

    ckpt = load(tmp_path / "ck.st")
    generator = np.random.default_rng()
    generator.bit_generator.state = ckpt["rng"]
    model, opt, sched, loader = setup(123, generator)       # different init, then restored
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optim"])
    sched.load_state_dict(ckpt["sched"])
    rest = train(model, opt, sched, loader, epochs=4 - ckpt["epoch"])
    assert first + rest == straight
    assert len(straight) == 20 and straight[-1] < straight[0]


# -- interoperability with plain safetensors -----------------------------------------------------
def test_plain_safetensors_files_load(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(3, np.int64),
              "empty": np.zeros((0, 4), np.float64), "flag": np.array([True, False])}
    safetensors.numpy.save_file(arrays, tmp_path / "np.safetensors", metadata={"k": "v"})
    out = load(tmp_path / "np.safetensors")
    assert list(out) == sorted(arrays)
    for key, arr in arrays.items():
        assert_identical(ag.Tensor._make(arr, False, None, 0), out[key], key)
    tensors = {"a": torch.randn(3, 2), "b": torch.arange(4)}
    safetensors.torch.save_file(tensors, tmp_path / "pt.safetensors", metadata={"format": "pt"})
    out = load(tmp_path / "pt.safetensors")
    for key, t in tensors.items():
        np.testing.assert_array_equal(out[key].data, t.numpy())


def test_our_files_load_with_plain_safetensors(tmp_path):
    ag.manual_seed(0)
    model = Tiny()
    path = tmp_path / "ours.safetensors"
    save({"model": model.state_dict(), "epoch": 1, "arr": np.eye(2)}, path)
    plain = safetensors.numpy.load_file(path)
    assert set(plain) == {f"model.{k}" for k in model.state_dict()} | {"arr"}
    np.testing.assert_array_equal(plain["model.w1"], model.w1.data)
    pt = safetensors.torch.load_file(path)
    assert torch.equal(pt["model.calls"], torch.tensor(0))
    with safetensors.safe_open(path, framework="np") as f:
        assert f.metadata()["tapegrad.schema"] == "1"
        assert json.loads(f.metadata()["tapegrad.tree"])


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    save({"a": ag.ones(2)}, buf)
    buf.seek(0)
    assert load(buf)["a"].tolist() == [1.0, 1.0]
    with pytest.raises(CheckpointError):
        load(io.BytesIO(b"garbage!garbage!"))


# -- atomic writes -------------------------------------------------------------------------------
def test_save_replaces_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "model.st"
    save({"v": 1}, path)
    save({"v": 2}, str(path))
    assert load(path) == {"v": 2} and os.listdir(tmp_path) == ["model.st"]


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_failed_save_keeps_previous_file_and_removes_temp(tmp_path, monkeypatch, failing):
    path = tmp_path / "model.st"
    save({"v": ag.ones(3)}, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(f"injected {failing} failure")
    if failing == "write":
        real_fdopen = os.fdopen

        class FailingFile:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, data):
                self.f.write(data[:len(data) // 2])
                boom()
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: FailingFile(real_fdopen(fd, mode)))
    else:
        monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="injected"):
        save({"v": ag.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.st"]


def test_symlink_target_is_followed(tmp_path):
    real = tmp_path / "real.st"
    link = tmp_path / "link.st"
    save({"v": 1}, real)
    link.symlink_to(real)
    save({"v": 2}, link)
    assert link.is_symlink() and load(real) == {"v": 2}


def test_permissions_follow_umask(tmp_path):
    old = os.umask(0o027)
    try:
        save({"v": 1}, tmp_path / "m.st")
    finally:
        os.umask(old)
    assert (tmp_path / "m.st").stat().st_mode & 0o777 == 0o640


WRITER = r"""
import os, signal, sys
import numpy as np
import autograd.serialization as S

target, mode = sys.argv[1], sys.argv[2]


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def state(i):
    return {"i": i, "x": np.full(1_000_000, i, dtype=np.float64), "tail": [i] * 10}


if mode == "loop":
    i = 1
    while True:
        S.save(state(i), target)
        if i == 1:
            print("saved", flush=True)
        i += 1
real_fdopen = os.fdopen


class HalfThenDie:
    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, data):
        self.f.write(data[:len(data) // 2])
        self.f.flush()
        die()


if mode == "write":
    os.fdopen = lambda fd, m: HalfThenDie(real_fdopen(fd, m))
elif mode == "fsync":
    os.fsync = die
elif mode == "replace":
    os.replace = die
elif mode == "dirsync":
    S._fsync_dir = die
S.save(state(2), target)
"""


def writer(tmp_path, target, mode):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(script), str(target), mode], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def check_consistent(target):
    obj = load(target)
    i = obj["i"]
    assert obj["x"].shape == (1_000_000,) and (obj["x"] == i).all() and obj["tail"] == [i] * 10
    return i


def temp_files(directory):
    return [n for n in os.listdir(directory) if n.endswith(".tmp")]


@pytest.mark.parametrize("mode,expected", [("write", 1), ("fsync", 1), ("replace", 1),
                                           ("dirsync", 2)])
def test_writer_killed_at_each_stage_leaves_an_intact_target(tmp_path, mode, expected):
    target = tmp_path / "ckpt.st"
    save({"i": 1, "x": np.full(1_000_000, 1.0), "tail": [1] * 10}, target)
    proc = writer(tmp_path, target, mode)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert check_consistent(target) == expected
    # killed before the rename, the temporary file is left behind (nothing can remove it)
    assert len(temp_files(tmp_path)) == (1 if expected == 1 else 0)


def test_writer_killed_at_random_times_never_corrupts_the_target(tmp_path):
    target = tmp_path / "ckpt.st"
    rng = np.random.default_rng(0)
    for _ in range(8):
        proc = writer(tmp_path, target, "loop")
        line = proc.stdout.readline()
        assert line == b"saved\n", proc.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        assert check_consistent(target) >= 1
        for name in temp_files(tmp_path):
            os.remove(tmp_path / name)


# -- malformed and hostile files -----------------------------------------------------------------
def valid_file():
    buf = io.BytesIO()
    save({"w": ag.tensor([[1.0, 2.0], [3.0, 4.0]]), "b": np.arange(3), "flag": ag.tensor(
        [True, False]), "epoch": 3, "opt": {0: {"step": ag.tensor(2.0)}}}, buf)
    return buf.getvalue()


def split_file(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def compose(header, body=b""):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def with_tree(tree, tensors=None):
    """A file whose tapegrad tree is `tree` (JSON text or object) over `tensors`."""
    tensors = {"t": np.arange(2, dtype=np.float32)} if tensors is None else tensors
    text = tree if isinstance(tree, str) else json.dumps(tree)
    return safetensors.numpy.save(tensors, metadata={"tapegrad.schema": "1",
                                                     "tapegrad.tree": text})


def one_tensor(dtype="F32", shape=(2,), offsets=(0, 8), body=b"\0" * 8, **extra):
    return compose({"t": {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets),
                          **extra}}, body)


def malformed_corpus():
    data = valid_file()
    header, body = split_file(data)
    n = len(data) - len(body) - 8
    corpus = {}
    # truncations at every section: length prefix, header, each tensor's start and middle, end
    cuts = {0, 1, 7, 8, 9, 8 + n // 2, 8 + n - 1, 8 + n, len(data) - 1}
    for key, info in header.items():
        if key != "__metadata__":
            start, end = info["data_offsets"]
            cuts |= {8 + n + start, 8 + n + (start + end) // 2}
    for cut in sorted(c for c in cuts if c < len(data)):
        corpus[f"truncated_at_{cut}"] = data[:cut]
    meta = header["__metadata__"]
    tensors_only = {k: v for k, v in header.items() if k != "__metadata__"}
    first = sorted(tensors_only, key=lambda k: tensors_only[k]["data_offsets"][0])[0]

    def edit(**changes):
        h = json.loads(json.dumps(header))
        h[first].update(changes)
        return compose(h, body)

    corpus.update({
        "huge_header_length": struct.pack("<Q", 2 ** 63) + data[8:],
        "header_length_over_limit": struct.pack("<Q", 100_000_001) + data[8:],
        "header_length_past_end": struct.pack("<Q", len(data)) + data[8:],
        "zero_header_length": struct.pack("<Q", 0) + data[8:],
        "bad_json": compose(b'{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]'),
        "header_is_a_list": compose([1, 2]),
        "header_not_utf8": compose(b'{"\xff\xfe": 1}'),
        "duplicate_tensor_keys": compose(
            b'{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
            b'"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', b"\0" * 4),
        "duplicate_metadata_keys": compose(
            b'{"__metadata__": {"tapegrad.schema": "1", "tapegrad.schema": "1"}}'),
        "nan_literal_in_header": compose(b'{"__metadata__": {"a": NaN}}'),
        "unknown_dtype": edit(dtype="F99"),
        "unsupported_dtype_bf16": one_tensor(dtype="BF16", shape=(4,)),
        "negative_shape": edit(shape=[-1]),
        "shape_larger_than_offsets": edit(shape=[1000]),
        "shape_smaller_than_offsets": one_tensor(shape=(1,)),
        "shape_overflow": one_tensor(shape=(2 ** 62, 2 ** 62)),
        "float_shape": one_tensor(shape=(2.0,)),
        "overlapping_offsets": compose({
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12),
        "out_of_file_offsets": one_tensor(offsets=(0, 8), body=b"\0" * 4),
        "offsets_past_everything": one_tensor(offsets=(2 ** 40, 2 ** 40 + 8)),
        "reversed_offsets": one_tensor(shape=(0,), offsets=(8, 0)),
        "gap_between_tensors": one_tensor(offsets=(4, 12), body=b"\0" * 12),
        "three_offsets": one_tensor(offsets=(0, 4, 8)),
        "trailing_bytes": data + b"\0",
        "metadata_not_strings": compose({"__metadata__": {"tapegrad.schema": 1}}),
        "bool_byte_not_0_or_1": one_tensor(dtype="BOOL", shape=(2,), offsets=(0, 2),
                                           body=b"\x01\x02"),
        "future_schema": compose({**tensors_only, "__metadata__": {
            **meta, "tapegrad.schema": "999"}}, body),
        "schema_without_tree": compose({**tensors_only, "__metadata__": {
            "tapegrad.schema": "1"}}, body),
        "tree_bad_json": with_tree("{not json"),
        "tree_missing_tensor": with_tree({"tensor": "nope", "requires_grad": False}),
        "tree_tensor_twice": with_tree([{"ndarray": "t"}, {"ndarray": "t"}]),
        "tree_unreferenced_tensor": with_tree([1, 2]),
        "tree_unknown_tag": with_tree({"pickle": "cos\nsystem\n"}),
        "tree_extra_keys": with_tree({"ndarray": "t", "module": "os"}),
        "tree_int_requires_grad": with_tree({"tensor": "t", "requires_grad": True},
                                            {"t": np.arange(2)}),
        "tree_requires_grad_not_bool": with_tree({"tensor": "t", "requires_grad": "yes"}),
        "tree_deep_nesting": with_tree("[" * 100_000 + "]" * 100_000, {}),
        "tree_nested_past_limit": with_tree("[" * 150 + "]" * 150, {}),
        "tree_nan_constant": with_tree('{"float": NaN}', {}),
        "tree_bad_float_tag": with_tree({"float": "1e5"}, {}),
        "tree_dict_item_not_pair": with_tree({"dict": [[1, 2, 3]]}, {}),
        "tree_list_key": with_tree({"dict": [[[1], 2]]}, {}),
        "tree_duplicate_dict_key": with_tree({"dict": [[1, 2], [1, 3]]}, {}),
        "tree_scalar_not_0d": with_tree({"scalar": "t"}),
        "tree_huge_int_literal": with_tree("1" * 5000, {}),
        "pickle_file": b"cos\nsystem\n(S'touch PWNED'\ntR.",
        "random_bytes": np.random.default_rng(0).bytes(4096),
        "gzip_file": b"\x1f\x8b\x08\x00" + bytes(60),
        "empty": b"",
        "text": b"hello, I am not a checkpoint\n",
    })
    return corpus


CORPUS = malformed_corpus()


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_malformed_file_raises_checkpoint_error(tmp_path, case):
    path = tmp_path / f"{case}.st"
    path.write_bytes(CORPUS[case])
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert type(info.value) is CheckpointError and f"{case}.st" in str(info.value)
    assert not (tmp_path / "PWNED").exists()


def test_torch_zip_and_npz_object_files_are_rejected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"a": torch.zeros(2)}, tmp_path / "torch.pt")
    np.savez(tmp_path / "objects.npz", a=np.array([{"x": 1}, None], dtype=object))
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    for name in ("torch.pt", "objects.npz", "plain.npz"):
        with pytest.raises(CheckpointError, match=name):
            load(tmp_path / name)


def test_special_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.st")
    with pytest.raises(IsADirectoryError):
        load(tmp_path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(CheckpointError, match="not a regular file"):
            load("/dev/zero")
    os.mkfifo(tmp_path / "fifo")                   # must not block waiting for a writer
    with pytest.raises(CheckpointError, match="not a regular file"):
        load(tmp_path / "fifo")


def test_random_mutations_raise_only_checkpoint_error():
    data = valid_file()
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "rejected": 0}
    for _ in range(400):
        mutated = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, header_end)) if rng.random() < 0.8 else int(
                rng.integers(0, len(data)))
            mutated[pos] = int(rng.integers(0, 256))
        try:
            load(io.BytesIO(bytes(mutated)))
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 200
