"""Optimizer: the base class of every optimizer, with PyTorch's semantics.

    opt = optim.SGD([{"params": body.parameters()},
                     {"params": head.parameters(), "lr": 1e-2}], lr=1e-3, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()

`param_groups` is a list of dicts, each holding its `params` and its own copy of every option
(missing options are filled from `defaults`); `state` maps a parameter to its dict of state
tensors (momentum buffers, moment estimates, step counts). Subclasses implement `step` by
calling their functional core (`adam_step`, ...) on the arrays: `p.data` is updated in place,
so views and the identity of the array survive, and the parameter's version counter is bumped
as for any in-place write.

`state_dict()` has PyTorch's format: parameters are referenced by their index (counted over all
groups in order), `{"state": {0: {"step": tensor(3.), "exp_avg": ...}, ...},
"param_groups": [{"lr": 0.001, ..., "params": [0, 1, 2]}]}`.
"""
import functools
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from autograd import dtypes
from autograd.grad_mode import _State
from autograd.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option that has no default and must be given (PyTorch's `required`)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _scalar_dtype():
    """dtype of the scalar state (step counts, NAdam's mu product), as PyTorch's."""
    return np.float64 if dtypes.get_default_dtype() == np.float64 else np.float32


def scalar_state(value):
    """A 0-d state tensor (e.g. `step`), float32 unless the default dtype is float64."""
    return Tensor._make(np.array(value, dtype=_scalar_dtype()), False, None, 0)


def zeros_state(p, fill=0.0):
    """A state tensor shaped and typed like parameter p, filled with `fill`."""
    return Tensor._make(np.full_like(p.data, fill), False, None, 0)


def check_implementation_flags(name, capturable=False, differentiable=False):
    """PyTorch's implementation switches: the optimizers accept them so that PyTorch code
    runs. foreach and fused choose how PyTorch loops over the parameters (ignored: here one
    fused pass per parameter where a kernel exists); capturable (CUDA graphs) and
    differentiable (the update on the tape) are not supported."""
    if capturable:
        raise NotImplementedError(f"{name}: capturable=True (CUDA graph capture) is not "
                                  "supported on this CPU library")
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True (recording the update) is "
                                  "not supported")


def fusable(arrays):
    """Whether a fused kernel (autograd.kernels.optim) takes these arrays: C-contiguous float
    arrays of one dtype and shape."""
    dtype, shape = arrays[0].dtype, arrays[0].shape
    if dtype.kind != "f":
        return False
    for a in arrays:
        if a.dtype != dtype or a.shape != shape or not a.flags.c_contiguous:
            return False
    return True


def _wrap_step(step):
    """Run an optimizer's step off the tape and record that it was called (for schedulers)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        prev = _State.enabled
        _State.enabled = False
        try:
            return step(self, *args, **kwargs)
        finally:
            _State.enabled = prev
    return wrapper


class Optimizer:
    """Optimizer(params, defaults).

    params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (param groups with
    per-group options, e.g. `{"params": [...], "lr": 0.1}`).
    defaults: the options (lr, momentum, ...) used by groups that do not set them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _wrap_step(cls.__dict__["step"])

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(dict(group))

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # -- param groups ------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (defaults fill the missing ones)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        # named parameters: (name, tensor) pairs, as from module.named_parameters()
        if params and isinstance(params[0], tuple):
            if "param_names" in param_group:
                raise ValueError("add_param_group: param_names given both in the group and "
                                 "as (name, param) pairs")
            param_group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (shape {tuple(p.shape)})")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(params) != len(set(map(id, params))):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(map(id, group["params"]))
        if not seen.isdisjoint(map(id, params)):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: drop them (set_to_none=True) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None or not g.data.flags.writeable:
                    # a recorded (create_graph) or read-only gradient: a fresh zero leaf
                    p.grad = Tensor._make(np.zeros_like(g.data), False, None, 0)
                    continue
                g.requires_grad = False
                g.data[...] = 0
                g._vc[0] += 1

    def step(self, closure=None):
        """Update the parameters once; `closure` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    @staticmethod
    def _eval_closure(closure):
        """closure() with recording on (step itself runs off the tape), or None."""
        if closure is None:
            return None
        prev = _State.enabled
        _State.enabled = True
        try:
            return closure()
        finally:
            _State.enabled = prev

    # -- state dict --------------------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: {name: tensor}}, "param_groups": [{options, "params": [index]}]}.

        The state tensors are the optimizer's own (not copies), as in PyTorch.
        """
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load options and state saved by `state_dict()` (or PyTorch's, converted to arrays).

        The parameters stay this optimizer's own; state tensors are copied (PyTorch may share
        them) and cast to their parameter's dtype, except the scalar `step` and `mu_product`,
        which keep their saved dtype (PyTorch casts `mu_product` too).
        """
        saved_groups = deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)} saved, {len(groups)} in the optimizer)")
        for g, s in zip(groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group ({len(s['params'])} "
                                 f"saved parameters, {len(g['params'])} in the optimizer)")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if isinstance(key, str) and key.isdigit():   # indices that went through a file
                key = int(key)
            if key in id_map:
                param = id_map[key]
                state[param] = _cast_state(param, value)
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups


def _cast_state(param, value, key=None):
    """A copy of a saved state value for `param`: tensors take param's dtype, except `step`."""
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (Tensor, np.ndarray)):
        arr = np.array(value.data if isinstance(value, Tensor) else value)
        if key not in ("step", "mu_product") and param.data.dtype.kind == "f":
            arr = arr.astype(param.data.dtype, copy=False)
        return Tensor._make(arr, False, None, 0)
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value
