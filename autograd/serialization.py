"""Checkpoints without pickle: `save(obj, path)` / `load(path)` on a safetensors file.

    ag.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.st")
    ckpt = ag.load("ckpt.st")             # the same nesting, Tensors where Tensors were saved

What can be saved: dicts (OrderedDicts stay OrderedDicts; keys may be str, int, float, bool,
None or tuples of these, and come back with their types, so an optimizer's int parameter
indices stay ints), lists, tuples, None, bool, int, float (nan and inf too), str, Tensors
(requires_grad kept; a Parameter comes back as a plain Tensor), numpy arrays and numpy scalars.
Dtypes: bool, int8/16/32/64, uint8/16/32/64, float16/32/64, complex64. Shared tensors are
stored once per reference and come back as separate copies; `.grad` is not saved (as PyTorch).

The file is a plain safetensors file. Every tensor, array and numpy scalar is one safetensors
tensor under its dotted path (`model.fc.weight`, `optim.state.0.exp_avg`); the rest of the
object is a JSON tree (autograd/_checkpoint_tree.py) in the string metadata under
"tapegrad.tree", next to the schema version under "tapegrad.schema". Plain safetensors tools
read our tensors; a file written by plain safetensors loads as a flat dict {name: Tensor}.

Loading reads the whole file and checks it twice: our own check of the header (length within
the file and within safetensors' 100 MB limit, UTF-8, JSON without duplicate keys) and then
safetensors' validating parser (dtypes, shapes against offsets, offsets contiguous and covering
the file exactly). Any problem with the contents raises `CheckpointError`; nothing in the file
is ever executed. A path that cannot be opened raises the usual OSError (FileNotFoundError...).

Saving is atomic: the bytes go to a temporary file in the target's directory, which is fsynced
and moved over the target with os.replace, then the directory is fsynced; on any error the
temporary file is removed, so a crash mid-save leaves the previous file intact. A symlink
target is followed (the link stays a link). A writable binary file object is written directly.
"""
import errno
import json
import os
import secrets
import stat

import numpy as np
import safetensors
import safetensors.numpy

from ._checkpoint_tree import DTYPES, TreeReader, TreeWriter
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_SCHEMA_KEY = "tapegrad.schema"
_TREE_KEY = "tapegrad.tree"
_MAX_HEADER = 100_000_000         # safetensors refuses longer headers


class CheckpointError(Exception):
    """A checkpoint file is malformed, truncated, hostile or of an unsupported version."""


# -- save --------------------------------------------------------------------------------------
def save(obj, f):
    """Write obj (a nested dict/list/tuple of tensors, arrays and plain values) to f.

    f: a path (written atomically, see the module docstring) or a writable binary file object.
    Raises TypeError naming the path inside obj of a value that cannot be stored.
    """
    writer = TreeWriter()
    tree = writer.encode(obj, (), 0)
    tree_json = json.dumps(tree, allow_nan=False, separators=(",", ":"))
    if len(tree_json) > _MAX_HEADER // 2:
        raise ValueError(f"save: the non-tensor part of the object takes {len(tree_json)} bytes "
                         "of JSON; store large lists of numbers as arrays instead")
    metadata = {_SCHEMA_KEY: str(SCHEMA_VERSION), _TREE_KEY: tree_json}
    payload = safetensors.numpy.save(writer.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(payload)
        return
    _atomic_write(os.fspath(f), payload)


def _atomic_write(path, payload):
    """Write payload to a temp file beside path, fsync it, os.replace it onto path, fsync dir."""
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory):
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# -- load --------------------------------------------------------------------------------------
def load(f):
    """Read a checkpoint written by `save` (the saved object) or by plain safetensors (a dict
    {name: Tensor}, names sorted). f: a path or a readable binary file object.

    Raises CheckpointError for any malformed, truncated or hostile contents.
    """
    name = repr(getattr(f, "name", "<file object>")) if hasattr(f, "read") else repr(
        os.fspath(f))
    data = _read_all(f, name)
    try:
        return _decode_file(data, name)
    except CheckpointError:
        raise
    except Exception as exc:   # anything else the contents provoke is still a bad file
        raise CheckpointError(f"load: {name}: invalid checkpoint ({type(exc).__name__}: "
                              f"{exc})") from exc


def _read_all(f, name):
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"load: {name} must be opened in binary mode")
        return bytes(data)
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is then rejected below
    path = os.fspath(f)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "load: is a directory", path)
        if not stat.S_ISREG(mode):
            raise CheckpointError(f"load: {name} is not a regular file")
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        return fh.read()


def _decode_file(data, name):
    header = _read_header(data, name)
    try:
        entries = safetensors.deserialize(data)
    except Exception as exc:   # SafetensorError and whatever else the parser raises
        raise CheckpointError(f"load: {name}: rejected by safetensors: {exc}") from exc
    arrays = {}
    for key, info in entries:
        arrays[key] = _to_array(key, info, name)
    if set(arrays) != set(header) - {"__metadata__"}:
        raise CheckpointError(f"load: {name}: tensor names disagree with the header")
    metadata = header.get("__metadata__") or {}
    if _SCHEMA_KEY not in metadata:      # a plain safetensors file: {name: Tensor}
        return {key: Tensor._make(arrays[key], False, None, 0) for key in sorted(arrays)}
    if metadata[_SCHEMA_KEY] != str(SCHEMA_VERSION):
        raise CheckpointError(f"load: {name}: unsupported checkpoint schema "
                              f"{metadata[_SCHEMA_KEY]!r} (this tapegrad reads "
                              f"{SCHEMA_VERSION})")
    if _TREE_KEY not in metadata:
        raise CheckpointError(f"load: {name}: schema {SCHEMA_VERSION} without '{_TREE_KEY}'")
    tree = json.loads(metadata[_TREE_KEY], parse_constant=_reject_constant)
    reader = TreeReader(arrays, name, CheckpointError)
    obj = reader.decode(tree, 0)
    unused = set(arrays) - reader.used
    if unused:
        raise CheckpointError(f"load: {name}: tensors not referenced by the tree: "
                              f"{sorted(unused)[:5]}")
    return obj


def _read_header(data, name):
    """Our own checks of the safetensors header: length, UTF-8, JSON object, no duplicates."""
    if len(data) < 8:
        raise CheckpointError(f"load: {name}: {len(data)} bytes is too short for a "
                              "safetensors file (8-byte header length missing)")
    n = int.from_bytes(data[:8], "little")
    if n > _MAX_HEADER:
        raise CheckpointError(f"load: {name}: header length {n} exceeds the limit "
                              f"{_MAX_HEADER} (not a safetensors file?)")
    if 8 + n > len(data):
        raise CheckpointError(f"load: {name}: header length {n} runs past the end of the "
                              f"file ({len(data)} bytes)")
    try:
        text = data[8:8 + n].decode("utf-8")
        header = json.loads(text, object_pairs_hook=_unique_keys,
                            parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"load: {name}: bad header: {exc}") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {name}: the header is not a JSON object")
    metadata = header.get("__metadata__")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise CheckpointError(f"load: {name}: __metadata__ must map strings to strings")
    return header


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r} in the JSON header")
    return dict(pairs)


def _reject_constant(token):
    raise ValueError(f"non-standard JSON constant {token}")


def _to_array(key, info, name):
    """One deserialized tensor as a writable, aligned ndarray of its dtype."""
    dtype = DTYPES.get(info["dtype"])
    if dtype is None:
        raise CheckpointError(f"load: {name}: tensor {key!r} has dtype {info['dtype']}, which "
                              f"tapegrad does not support ({', '.join(DTYPES)})")
    raw = info["data"]
    if dtype == np.bool_ and len(raw) and np.frombuffer(raw, np.uint8).max() > 1:
        raise CheckpointError(f"load: {name}: tensor {key!r} has bool bytes other than 0 or 1")
    arr = np.frombuffer(raw, dtype=dtype).reshape(tuple(info["shape"]))
    if not (arr.flags.writeable and arr.flags.aligned):
        arr = arr.copy()
    return arr
