"""RemovableHandle: what `register_forward_hook` and friends return; `handle.remove()` drops
the hook again (also usable as a context manager), as in PyTorch's torch.utils.hooks.

Also the global module hooks (PyTorch's `nn.modules.module.register_module_forward_hook`):
hooks that run around every module call, before the module's own hooks. `Module.__call__`
checks the two dicts below; while both are empty a call costs two truth tests more.
"""
import itertools
import weakref
from collections import OrderedDict

__all__ = ["RemovableHandle", "register_module_forward_pre_hook",
           "register_module_forward_hook"]

_next_id = itertools.count()


class RemovableHandle:
    """Holds weak references to the hook dicts a hook was registered in, under `self.id`."""

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.id = next(_next_id)
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        if extra_dict is None:
            extra_dict = ()
        elif not isinstance(extra_dict, (list, tuple)):
            extra_dict = (extra_dict,)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


# the global registries, keyed by handle id; mutated in place, never rebound (module.py
# holds references to these very dicts)
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()


def register_module_forward_pre_hook(hook):
    """hook(module, args) -> None or modified args, run before forward of every module,
    before the module's own pre-hooks. Returns a handle; `handle.remove()` drops it."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) -> None or modified output (with_kwargs: hook(module, args,
    kwargs, output)), run after forward of every module, before the module's own hooks;
    always_call: also when forward raised (output None)."""
    handle = RemovableHandle(_global_forward_hooks,
                             extra_dict=[_global_forward_hooks_with_kwargs,
                                         _global_forward_hooks_always_called])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle
