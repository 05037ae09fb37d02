"""DistributedDataParallel: data-parallel training over MPI (mpi4py), as PyTorch's DDP.

    ddp = DistributedDataParallel(model)            # rank 0's parameters and buffers everywhere
    opt = optim.SGD(ddp.parameters(), lr=0.1)        # optimizer state: local, stays identical
    loss = F.cross_entropy(ddp(x_shard), y_shard)    # each rank: its own shard of the batch
    opt.zero_grad(); loss.backward(); opt.step()     # gradients averaged during backward

Every process (rank) holds a replica of the model. At construction the replicas are checked to
have the same parameter and buffer names, shapes and dtypes, then rank 0's values are
broadcast. After backward every parameter's `.grad` is the average over the ranks,
    grad = (1 / world_size) * sum_r grad_r,
so with equal shards and a mean loss it equals the gradient of the whole batch, and identical
optimizers keep identical replicas.

Gradients travel in buckets: the trainable parameters, in reverse registration order (roughly
the order in which backward produces their gradients), are grouped by dtype into flat buffers
of at most `bucket_cap_mb` megabytes, and each bucket is averaged by one `Allreduce`.

When the averaging happens:
- auto_sync=True (default): a hook on every parameter (`Tensor.register_hook`) stages its
  gradient in its bucket; when the last gradient of a bucket arrives, the bucket is averaged,
  still inside `backward()`. Like PyTorch's DDP this needs every parameter to receive a
  gradient in every backward after a `ddp(...)` forward; otherwise call
  `ddp.allreduce_gradients()` (or use `DistributedOptimizer`) after backward: it averages the
  buckets left incomplete, counting a missing gradient as zero (a parameter without a gradient
  on every rank keeps `grad = None`). A forward run inside `ddp.no_sync()` is not averaged:
  gradients accumulate locally, and the next synchronised backward averages the accumulated
  sum. Only the first backward after a forward averages in backward; a later one through
  the same graph (retain_graph=True) leaves its buckets to `allreduce_gradients()`.
  `backward(create_graph=True)` and `ag.grad` on a `ddp(...)` output are not supported with
  auto_sync (as in PyTorch); use `no_sync()` and `allreduce_gradients()` there.
- auto_sync=False: nothing happens in backward; call `ddp.allreduce_gradients()` before the
  optimizer step, or wrap the optimizer in `DistributedOptimizer` (Horovod's pattern).

Buffers (BatchNorm's running statistics) are broadcast from rank 0 before every forward that
records a graph on a module in training mode (`broadcast_buffers=True`, as PyTorch's).
Convert the model's dtype before wrapping it: the buckets are laid out at construction.
All ranks must run the same sequence of forwards and backwards: every average is a collective
operation that all ranks enter. `abort_on_error` makes a failure on one rank end the job.
"""
import hashlib
import weakref
from contextlib import contextmanager

import numpy as np

from autograd.grad_mode import is_grad_enabled
from autograd.tensor import Tensor

from ..module import Module
from ._mpi import default_comm, get_mpi

__all__ = ["DistributedDataParallel"]

_REDUCIBLE = (np.dtype(np.float32), np.dtype(np.float64))


class _Bucket:
    """Parameters of one dtype whose gradients are averaged by one Allreduce.

    buffer: (numel + n,) the n gradients flattened one after another, then one flag per
    parameter (1 where this rank has a gradient); after the sum over ranks a flag of 0 means
    that no rank had a gradient for that parameter.
    """

    def __init__(self, names, params, dtype):
        self.names = names
        self.params = params
        self.dtype = dtype
        sizes = [p.data.size for p in params]
        self.offsets = [0]
        for size in sizes:
            self.offsets.append(self.offsets[-1] + size)
        self.numel = self.offsets[-1]
        self.buffer = np.zeros(self.numel + len(params), dtype)
        self.staged = [None] * len(params)   # gradient arrays staged by the hooks
        self.n_ready = 0
        self.reduced = False                 # averaged since the last iteration started

    def nbytes(self):
        return self.buffer.nbytes


def _make_buckets(named_params, cap_bytes):
    """Reverse registration order, one dtype per bucket, at most cap_bytes each (a parameter
    larger than the cap gets a bucket of its own)."""
    open_buckets = {}     # dtype -> (names, params, bytes)
    buckets = []
    for name, p in reversed(named_params):
        dtype = p.data.dtype
        names, params, size = open_buckets.get(dtype, ([], [], 0))
        if params and size + p.data.nbytes > cap_bytes:
            buckets.append(_Bucket(names, params, dtype))
            names, params, size = [], [], 0
        open_buckets[dtype] = (names + [name], params + [p], size + p.data.nbytes)
    for names, params, _ in open_buckets.values():
        buckets.append(_Bucket(names, params, params[0].data.dtype))
    return buckets


def _signature(named_tensors):
    """32 bytes identifying the names, shapes, dtypes and requires_grad of the tensors."""
    text = ";".join(f"{name}:{tuple(t.data.shape)}:{t.data.dtype.str}:{int(t.requires_grad)}"
                    for name, t in named_tensors)
    return np.frombuffer(hashlib.sha256(text.encode()).digest(), np.uint8).copy()


def broadcast_tensors(tensors, comm, root=0, cap_bytes=25 * 2**20):
    """Overwrite every tensor's array, in place, with root's; one Bcast per dtype and chunk of
    at most cap_bytes. Every rank passes tensors of the same shapes and dtypes, in order."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t.data.dtype, []).append(t)
    for dtype, group in by_dtype.items():
        chunk, size = [], 0
        for t in group + [None]:
            if t is None or (chunk and size + t.data.nbytes > cap_bytes):
                _broadcast_chunk(chunk, dtype, comm, root)
                chunk, size = [], 0
            if t is not None:
                chunk.append(t)
                size += t.data.nbytes


def _broadcast_chunk(chunk, dtype, comm, root):
    if not chunk:
        return
    flat = np.concatenate([t.data.reshape(-1) for t in chunk]).astype(dtype, copy=False)
    comm.Bcast(flat, root=root)
    offset = 0
    for t in chunk:
        n = t.data.size
        t.data[...] = flat[offset:offset + n].reshape(t.data.shape)
        t._vc[0] += 1          # an in-place write, as any other
        offset += n


class DistributedDataParallel(Module):
    """DistributedDataParallel(module, comm=None, bucket_cap_mb=25, broadcast_buffers=True,
    auto_sync=True): a replica of `module` per process; `ddp(*args)` runs `module(*args)`.

    comm: an mpi4py communicator (default MPI.COMM_WORLD). `rank`, `world_size`: this
    process's rank in comm and comm's size. The wrapped module is `ddp.module`, so the state
    dict keys start with "module." as in PyTorch. See the module docstring for when
    gradients are averaged.
    """

    def __init__(self, module, comm=None, bucket_cap_mb=25.0, broadcast_buffers=True,
                 auto_sync=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError("DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        self.module = module
        self.comm = default_comm(comm)
        self._MPI = get_mpi()
        self.rank = self.comm.Get_rank()
        self.world_size = self.comm.Get_size()
        self.broadcast_buffers = bool(broadcast_buffers)
        self.auto_sync = bool(auto_sync)
        self.bucket_cap_mb = float(bucket_cap_mb)
        self._sync_enabled = True
        self._armed = False
        self._next_bucket = 0        # the next bucket to average in this backward
        self.allreduce_calls = 0          # Allreduce calls made for gradients (a counter)

        named_params = list(module.named_parameters())
        named_buffers = list(module.named_buffers())
        trainable = [(n, p) for n, p in named_params if p.requires_grad]
        for name, p in trainable:
            if p.data.dtype not in _REDUCIBLE:
                raise TypeError(f"DistributedDataParallel: parameter '{name}' (shape "
                                f"{tuple(p.shape)}) has dtype {p.data.dtype}; gradients are "
                                "averaged for float32 and float64 parameters only")
        self._verify_replicas(named_params + named_buffers)
        self._buffer_list = [b for _, b in named_buffers]
        if self.world_size > 1:
            broadcast_tensors([p for _, p in named_params] + self._buffer_list, self.comm,
                              cap_bytes=self._cap_bytes())
        self.buckets = _make_buckets(trainable, self._cap_bytes())
        self._hook_handles = []
        if self.auto_sync and self.world_size > 1:
            self._register_hooks()

    def _cap_bytes(self):
        return max(1, int(self.bucket_cap_mb * 2**20))

    def _verify_replicas(self, named_tensors):
        """Every rank must hold the same model; otherwise every rank raises the same error."""
        if self.world_size == 1:
            return
        mine = _signature(named_tensors)
        everyone = np.empty((self.world_size, mine.size), np.uint8)
        self.comm.Allgather(mine, everyone)
        differ = [r for r in range(self.world_size) if not np.array_equal(everyone[r],
                                                                          everyone[0])]
        if differ:
            raise ValueError(
                f"DistributedDataParallel: the model on rank(s) {differ} differs from rank 0's "
                "in its parameter or buffer names, shapes, dtypes or requires_grad (this is "
                f"rank {self.rank}, with {len(named_tensors)} parameters and buffers); "
                "every process must build the same model")

    def _register_hooks(self):
        ref = weakref.ref(self)
        for bucket in self.buckets:
            for slot, p in enumerate(bucket.params):
                self._hook_handles.append(p.register_hook(_GradHook(ref, bucket, slot)))

    # -- forward -----------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self.world_size > 1 and is_grad_enabled():
            self._check_previous_iteration()
            if self.broadcast_buffers and self._buffer_list and self.module.training:
                broadcast_tensors(self._buffer_list, self.comm, cap_bytes=self._cap_bytes())
            for bucket in self.buckets:
                bucket.reduced = False
            self._next_bucket = 0
            self._armed = self.auto_sync and self._sync_enabled
        return self.module(*args, **kwargs)

    def _check_previous_iteration(self):
        waiting = [(b, slot) for b in self.buckets if b.n_ready
                   for slot in range(len(b.params)) if b.staged[slot] is None]
        if not waiting:
            return
        names = [b.names[slot] for b, slot in waiting]
        for b in self.buckets:
            b.staged = [None] * len(b.params)
            b.n_ready = 0
        raise RuntimeError(
            "DistributedDataParallel: in the previous backward pass the parameters "
            f"{names[:10]} received no gradient, so their buckets were never averaged. With "
            "auto_sync every parameter must take part in the loss; otherwise call "
            "ddp.allreduce_gradients() (or use DistributedOptimizer) after backward: it "
            "averages the remaining buckets, counting a missing gradient as zero")

    @contextmanager
    def no_sync(self):
        """Forwards run inside do not average their gradients in backward: they accumulate
        locally, and the next synchronised backward averages the accumulated sum."""
        prev = self._sync_enabled
        self._sync_enabled = False
        try:
            yield
        finally:
            self._sync_enabled = prev

    # -- averaging ---------------------------------------------------------------------------
    def _grad_ready(self, bucket, slot, g):
        """The hook of parameter `slot` of `bucket`: g is its summed gradient of this pass.

        The parameter's accumulated gradient (old .grad + g) is staged in a fresh array
        that the hook returns with .grad set to None, so the engine makes that array the new
        .grad; when the bucket is complete it is averaged and written back into those arrays.
        """
        if not self._armed:
            bucket.reduced = False    # a gradient changed: allreduce_gradients() averages it
            return None
        if g.requires_grad:
            raise RuntimeError(
                "DistributedDataParallel: backward(create_graph=True) is not supported with "
                "auto_sync; run the forward inside ddp.no_sync() and call "
                "ddp.allreduce_gradients() after backward")
        p = bucket.params[slot]
        if bucket.staged[slot] is not None:
            raise RuntimeError(f"DistributedDataParallel: parameter '{bucket.names[slot]}' "
                               "received a second gradient before its bucket was averaged")
        if p.grad is None:
            total = np.array(g.data, dtype=bucket.dtype, copy=True)
        else:
            total = np.add(p.grad.data, g.data, dtype=bucket.dtype)
        p.grad = None
        bucket.staged[slot] = total
        bucket.n_ready += 1
        # complete buckets are averaged in bucket order, the same on every rank: ranks whose
        # backward reaches the parameters in different orders must not pair one rank's
        # bucket A with another's bucket B in an Allreduce (PyTorch's Reducer does the same)
        buckets = self.buckets
        while self._next_bucket < len(buckets) and \
                buckets[self._next_bucket].n_ready == len(buckets[self._next_bucket].params):
            self._reduce(buckets[self._next_bucket])
            self._next_bucket += 1
        return Tensor._make(total, False, None, 0)

    def _reduce(self, bucket):
        """Average the bucket's gradients over the ranks: one Allreduce."""
        grads = bucket.buffer[:bucket.numel]
        flags = bucket.buffer[bucket.numel:]
        for slot, p in enumerate(bucket.params):
            lo, hi = bucket.offsets[slot], bucket.offsets[slot + 1]
            src = bucket.staged[slot]
            if src is None and p.grad is not None:
                src = p.grad.data
            if src is None:
                grads[lo:hi] = 0
                flags[slot] = 0
            else:
                grads[lo:hi] = src.reshape(-1)
                flags[slot] = 1
        self.comm.Allreduce(self._MPI.IN_PLACE, bucket.buffer, op=self._MPI.SUM)
        self.allreduce_calls += 1
        np.divide(grads, self.world_size, out=grads)
        for slot, p in enumerate(bucket.params):
            if flags[slot] == 0:
                continue
            avg = grads[bucket.offsets[slot]:bucket.offsets[slot + 1]].reshape(p.data.shape)
            staged = bucket.staged[slot]
            if staged is not None:
                staged[...] = avg
            grad = p.grad
            if grad is None:
                if staged is None:
                    p.grad = Tensor._make(avg.copy(), False, None, 0)
            elif grad.data is not staged:
                if grad.grad_fn is None and grad.data.shape == avg.shape and \
                        grad.data.flags.writeable:
                    grad.data[...] = avg
                else:
                    p.grad = Tensor._make(avg.copy(), False, None, 0)
        bucket.staged = [None] * len(bucket.params)
        bucket.n_ready = 0
        bucket.reduced = True
        if self._armed and all(b.reduced for b in self.buckets):
            self._armed = False       # this backward is done; later ones need a new forward

    def allreduce_gradients(self):
        """Average `.grad` over the ranks now, one Allreduce per bucket.

        With auto_sync, buckets averaged during backward and unchanged since are skipped (so
        calling it after every backward is free); without, every bucket is averaged. Every
        rank must call it at the same point.
        """
        if self.world_size == 1:
            return
        for bucket in self.buckets:
            if not self.auto_sync or not bucket.reduced or bucket.n_ready:
                self._reduce(bucket)

    # -- inspection --------------------------------------------------------------------------
    @property
    def bucket_names(self):
        """The parameter names of each bucket, in the order the buckets are laid out."""
        return [list(b.names) for b in self.buckets]

    def extra_repr(self):
        sizes = ", ".join(f"{b.nbytes() / 2**20:.2f}" for b in self.buckets)
        return (f"rank={self.rank}, world_size={self.world_size}, auto_sync={self.auto_sync}, "
                f"buckets_mb=[{sizes}]")


class _GradHook:
    """Parameter hook forwarding the gradient to its DDP wrapper while that wrapper lives."""

    __slots__ = ("ddp_ref", "bucket", "slot")

    def __init__(self, ddp_ref, bucket, slot):
        self.ddp_ref = ddp_ref
        self.bucket = bucket
        self.slot = slot

    def __call__(self, g):
        ddp = self.ddp_ref()
        if ddp is None:
            return None
        return ddp._grad_ready(self.bucket, self.slot, g)
