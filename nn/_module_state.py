"""The state half of nn.Module: state_dict / load_state_dict and dtype conversion (to, float,
double), with PyTorch's key names, error messages and in-place semantics.

    sd = model.state_dict()             # OrderedDict: "fc.weight" -> detached Tensor
    model.load_state_dict(sd)           # copies in place; values may be Tensors or ndarrays
    model.to(ag.float64)                # parameters keep their identity (their array swaps)
"""
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from autograd import dtypes
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

__all__ = ["ModuleStateMixin"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys the module lacked and the extra keys it got."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_tensor(value):
    """A state-dict value as a Tensor (ndarrays and array-likes are wrapped, not copied);
    None when the value is not tensor-like."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor._make(np.asarray(value), False, None, 0)
    if hasattr(value, "__array__") and hasattr(value, "shape"):
        return Tensor._make(np.asarray(value), False, None, 0)
    return None


def _parse_to(args, kwargs):
    """to(dtype), to(device), to(device, dtype), to(tensor), keyword forms: -> dtype or None."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta"):
            device = arg
        elif isinstance(arg, bool):      # non_blocking
            continue
        else:
            dtype = arg
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"to(): tapegrad runs on the CPU only, got device {device!r}")
    dtype = dtypes.to_dtype(dtype)
    if dtype is not None and dtype.kind not in "fc":
        raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                        f"desired dtype={dtype}")
    return dtype


class ModuleStateMixin:
    """state_dict, load_state_dict, _apply and the dtype conversions of nn.Module."""

    # -- dtype conversion --------------------------------------------------------------------
    def _apply(self, fn, recurse=True):
        """fn on every parameter, gradient and buffer (children first). A Parameter keeps its
        identity: its array is replaced by fn's result (PyTorch's `param.data = ...`), so
        optimizers holding it stay valid; buffers are replaced by fn's result."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        with no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                param.data = fn(param).data
                if param.grad is not None:
                    param.grad.data = fn(param.grad).data
            for key, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        """to(dtype) / to(tensor) / to("cpu"): cast floating parameters and buffers in place
        (integer buffers such as num_batches_tracked keep their dtype)."""
        dtype = _parse_to(args, kwargs)
        if dtype is None:
            return self

        def convert(t):
            return t.to(dtype) if t.data.dtype.kind in "fc" else t
        return self._apply(convert)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def cpu(self):
        return self

    def type(self, dst_type):
        """Cast all parameters and buffers (integer ones too) to dst_type."""
        dst_type = dtypes.to_dtype(dst_type)
        return self._apply(lambda t: t.to(dst_type))

    # -- saving ------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own parameters and persistent buffers (not its children's)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An OrderedDict of every parameter and persistent buffer under its dotted name,
        detached (sharing memory) unless keep_vars=True. A module reachable under two names
        appears under both, as in PyTorch."""
        if args:    # PyTorch's old positional form: (destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = {"version": self._version}
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    # -- loading -----------------------------------------------------------------------------
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copy this module's own entries of state_dict in place; record missing keys,
        unexpected keys and errors (size mismatches) in the lists passed in."""
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in [*self._parameters.items(), *persistent.items()]
                       if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            raw = state_dict[key]
            value = _as_tensor(raw)
            if value is None:
                error_msgs.append(f'While copying the parameter named "{key}", expected Tensor '
                                  f"or array from checkpoint but received {type(raw)}")
                continue
            if param.ndim == 0 and value.shape == (1,):   # 1-element checkpoints of scalars
                value = Tensor._make(value.data.reshape(()), False, None, 0)
            if tuple(value.shape) != tuple(param.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{tuple(value.shape)} from checkpoint, the shape in current model is "
                    f"{tuple(param.shape)}.")
                continue
            try:
                with no_grad():
                    if assign:
                        self._assign_loaded(name, param, value)
                    else:
                        param.copy_(value)
            except Exception as ex:  # noqa: BLE001 - reported like PyTorch, with the key
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the '
                    f"model are {tuple(param.shape)} and whose dimensions in the checkpoint "
                    f"are {tuple(value.shape)}, an exception occurred : {ex.args}.")
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                input_name = key[len(prefix):].split(".", 1)
                if len(input_name) > 1:     # a key with a dot must belong to a child
                    if input_name[0] not in self._modules:
                        unexpected_keys.append(key)
                elif input_name[0] not in local_state:
                    unexpected_keys.append(key)

    def _assign_loaded(self, name, param, value):
        """load_state_dict(assign=True): the loaded tensor replaces the module's own."""
        from .parameter import Parameter
        if isinstance(param, Parameter):
            if not isinstance(value, Parameter):
                value = Parameter(value, requires_grad=param.requires_grad)
            else:
                value.requires_grad_(param.requires_grad)
        setattr(self, name, value)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from state_dict (Tensors, ndarrays or array-likes)
        into this module, in place. strict=True raises on missing or unexpected keys; a size
        mismatch always raises. Returns (missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)

        def load(module, local_state_dict, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state_dict.items()
                                   if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                keys = ", ".join(f'"{k}"' for k in unexpected_keys)
                error_msgs.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing_keys:
                keys = ", ".join(f'"{k}"' for k in missing_keys)
                error_msgs.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)
