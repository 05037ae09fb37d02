"""Module: the base class of every layer and model, with PyTorch's semantics.

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)                 # a submodule    -> children()
            self.scale = nn.Parameter(ag.ones(2))     # a parameter    -> parameters()
            self.register_buffer("count", ag.zeros(())) # a buffer     -> buffers(), state_dict()

        def forward(self, x):
            return self.fc(x) * self.scale

Assigning a Parameter, a Module or a Buffer to an attribute registers it (in `_parameters`,
`_modules`, `_buffers`, insertion-ordered); traversal (`named_parameters`, `named_modules`,
`state_dict`) visits a module's own members first, then its children depth-first, with
dotted names ("fc.weight"). Calling a module runs its forward pre-hooks, `forward`, and its
forward hooks. State dicts, loading and dtype conversion live in `nn._module_state`, the
traversal (parameters, named_modules, get_submodule, ...) in `nn._module_traversal`.
"""
from collections import OrderedDict

from autograd.tensor import Tensor

from ._module_state import ModuleStateMixin, _IncompatibleKeys  # noqa: F401 - re-exported
from ._module_traversal import ModuleTraversalMixin
from ._backward_hooks import BackwardHookCall
from .hooks import (RemovableHandle, register_module_forward_hook,  # noqa: F401
                    register_module_forward_pre_hook, _global_forward_hooks,
                    _global_forward_hooks_always_called as _global_always_called,
                    _global_forward_hooks_with_kwargs as _global_with_kwargs,
                    _global_forward_pre_hooks)
from .parameter import Buffer, Parameter

__all__ = ["Module"]


def _typename(obj):
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def _addindent(s, num_spaces):
    """Indent every line of a multi-line repr but the first (blank lines stay empty)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    rest = [(num_spaces * " ") + line if line.strip() else "" for line in lines[1:]]
    return lines[0] + "\n" + "\n".join(rest)


def _register(hooks, hook, prepend):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _check_name(kind, name):
    """The shared checks of register_parameter / register_buffer / add_module."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\", got: {name}")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")


class Module(ModuleStateMixin, ModuleTraversalMixin):
    """Base class for all neural network modules; subclasses define `forward`."""

    training: bool
    _version = 1   # stored in state_dict metadata, as PyTorch's

    def __init__(self):
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks_always_called", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_backward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # -- calling -----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if (self._forward_pre_hooks or self._forward_hooks or _global_forward_pre_hooks
                or _global_forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        """pre-hook(module, args) -> None or new args (a non-tuple is wrapped in a tuple);
        with_kwargs: pre-hook(module, args, kwargs) -> None or (args, kwargs).
        hook(module, args, output) -> None or a new output (with_kwargs: also kwargs).
        Global hooks (nn.hooks.register_module_forward_*hook) run before the module's own."""
        pre_hooks = [*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()]
        hooks = [*_global_forward_hooks.items(), *self._forward_hooks.items()]
        with_kwargs = self._forward_hooks_with_kwargs
        always = self._forward_hooks_always_called
        if _global_forward_hooks:
            with_kwargs = {**_global_with_kwargs, **with_kwargs}
            always = {**_global_always_called, **always}
        for hook_id, hook in pre_hooks:
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        called = set()
        backward = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward = BackwardHookCall(self, self._backward_hooks, self._backward_pre_hooks)
            args = backward.wrap_args(args)
        try:
            output = self.forward(*args, **kwargs)
            for hook_id, hook in hooks:
                called.add(hook_id)
                if hook_id in with_kwargs:
                    result = hook(self, args, kwargs, output)
                else:
                    result = hook(self, args, output)
                if result is not None:
                    output = result
            return output if backward is None else backward.wrap_output(output)
        except Exception:
            # always_call hooks run even when forward (or an earlier hook) raised
            for hook_id, hook in hooks:
                if hook_id in always and hook_id not in called:
                    try:
                        if hook_id in with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:
                        pass
            raise

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or modified args, run before forward."""
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """hook(module, args, output) -> None or modified output, run after forward."""
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs,
                                             self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, *, prepend=False):
        """hook(module, grad_output) -> None or a new grad_output, run when the gradients of
        the module's outputs are computed (nn/_backward_hooks.py)."""
        return _register(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, *, prepend=False):
        """hook(module, grad_input, grad_output) -> None or a new grad_input, run when the
        gradients of the module's positional arguments are computed."""
        return _register(self._backward_hooks, hook, prepend)

    # -- registration ------------------------------------------------------------------------
    def register_parameter(self, name, param):
        """Add a Parameter (or None: a declared but absent parameter, e.g. bias=False)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                f"be created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: module state that is not a parameter (e.g. BatchNorm's running_mean).
        Persistent buffers are part of state_dict(); tensor may be None."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None), reachable as the attribute `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(name, d, self._parameters, self._buffers,
                         self._non_persistent_buffers_set)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(nn.Buffer, Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            members = d.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters)
                + list(self._modules) + list(self._buffers))
        return sorted(k for k in keys if not k[0].isdigit())

    # -- modes and gradients -----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on this module and all below it (Dropout, BatchNorm read it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    def apply(self, fn):
        """fn(module) on every submodule (children first, then self); returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- printing ----------------------------------------------------------------------------
    def _get_name(self):
        return self.__class__.__name__

    def extra_repr(self):
        """The module's own settings, printed inside its parentheses; override in layers."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:   # a one-liner, as most layers
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _remove_from(name, *dicts_or_sets):
    for d in dicts_or_sets:
        if name in d:
            if isinstance(d, dict):
                del d[name]
            else:
                d.discard(name)

