"""Checkpoints in data-parallel training: rank 0 writes, every rank resumes identically.

    save_checkpoint({"model": ddp.module.state_dict(), "optim": opt.state_dict(),
                     "step": step}, "ckpt.safetensors")          # all ranks call it
    ckpt = load_checkpoint("ckpt.safetensors")                   # the same object everywhere
    ddp.module.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optim"])

The format is `ag.save` / `ag.load` (autograd.serialization: safetensors, no pickle). Only
rank 0 touches the file: it writes it (atomically), and for loading it reads the bytes and
broadcasts them, so the other ranks need no shared file system (hosts from a hostfile) and
all ranks decode the same bytes. Success or failure is broadcast too: when rank 0 cannot
write or read the file, every rank raises, instead of the others waiting forever.
"""
import io

import numpy as np

from autograd import serialization

from ._mpi import default_comm, mpi_available

__all__ = ["save_checkpoint", "load_checkpoint"]

_CHUNK = 2**30          # bytes per Bcast (MPI counts are C ints)


def _comm_or_none(comm):
    if comm is None and not mpi_available():
        return None
    return default_comm(comm)


def save_checkpoint(obj, path, comm=None, root=0):
    """Rank `root` writes obj to path with ag.save; every rank returns once it is on disk.

    Every rank must call it (it is a collective). Raises RuntimeError on every rank when the
    write fails on root (root raises its own error).
    """
    comm = _comm_or_none(comm)
    if comm is None or comm.Get_size() == 1:
        serialization.save(obj, path)
        return
    status = np.zeros(1, np.int64)
    error = None
    if comm.Get_rank() == root:
        try:
            serialization.save(obj, path)
        except Exception as exc:           # reported to every rank below
            error = exc
            status[0] = 1
    comm.Bcast(status, root=root)
    if error is not None:
        raise error
    if status[0]:
        raise RuntimeError(f"save_checkpoint: rank {root} failed to write {path!r} (see its "
                           "error)")


def load_checkpoint(path, comm=None, root=0):
    """The object saved in path, identical on every rank: rank `root` reads the file and
    broadcasts its bytes; every rank decodes them with ag.load.

    Every rank must call it. Raises on every rank when root cannot read the file
    (RuntimeError; root raises its own OSError) or the contents are invalid (CheckpointError).
    """
    comm = _comm_or_none(comm)
    if comm is None or comm.Get_size() == 1:
        return serialization.load(path)
    header = np.zeros(2, np.int64)        # [failed, number of bytes]
    payload, error = None, None
    if comm.Get_rank() == root:
        try:
            with open(path, "rb") as fh:
                payload = fh.read()
            header[1] = len(payload)
        except OSError as exc:
            error = exc
            header[0] = 1
    comm.Bcast(header, root=root)
    if error is not None:
        raise error
    if header[0]:
        raise RuntimeError(f"load_checkpoint: rank {root} could not read {path!r} (see its "
                           "error)")
    if payload is None:
        buf = np.empty(int(header[1]), np.uint8)
    else:
        buf = np.frombuffer(payload, np.uint8).copy()
    for start in range(0, buf.size, _CHUNK):
        comm.Bcast(buf[start:start + _CHUNK], root=root)
    data = io.BytesIO(buf.tobytes())
    data.name = path
    return serialization.load(data)
