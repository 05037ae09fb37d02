"""Module backward hooks, as PyTorch's `register_full_backward_hook` and
`register_full_backward_pre_hook`:

    pre_hook(module, grad_output) -> None or a new grad_output
    hook(module, grad_input, grad_output) -> None or a new grad_input

grad_output holds d loss / d (each output of forward), grad_input d loss / d (each positional
argument of forward): None for one that is not a floating Tensor; zeros for a floating
Tensor that does not require grad while another argument does (as in PyTorch). A call of a
module with such hooks passes its Tensor arguments and outputs through identity ops whose
backward sees those gradients (PyTorch's BackwardHookFunction): the outputs' one runs the
pre-hooks and keeps grad_output; the arguments' one runs the hooks (or, when no argument
requires grad, the outputs' one does, with grad_input all None).
"""
import warnings

from autograd.function import Function
from autograd.grad_mode import is_grad_enabled
from autograd.tensor import Tensor

__all__ = ["BackwardHookCall"]


class _PassThrough(Function):
    """(callback, *tensors) -> the same tensors; backward hands their gradients to
    callback(grads) and returns what it gives back."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tuple(t.data for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


def _pack(positions, values, size):
    """A tuple of `size` entries: values at positions, None elsewhere."""
    packed = [None] * size
    for at, value in zip(positions, values):
        packed[at] = value
    return tuple(packed)


def _check(kind, module, result, size):
    if not isinstance(result, (tuple, list)) or len(result) != size:
        got = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise RuntimeError(f"{type(module).__name__}: backward {kind} returned an invalid "
                           f"number of grad_{'output' if kind == 'pre-hook' else 'input'}, "
                           f"got {got}, but expected {size}")
    return tuple(result)


class BackwardHookCall:
    """One call of a module with backward hooks: wrap its arguments (wrap_args), then its
    output (wrap_output)."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.n_args, self.arg_positions = 0, []        # wrap_args: positional arguments
        self.n_outputs, self.output_positions = 0, []  # wrap_output: outputs
        self.grad_output = None

    def wrap_args(self, args):
        """Every floating Tensor argument goes through, when one of them requires grad (as
        PyTorch: the others then get a grad_input entry too)."""
        self.n_args = len(args)
        self.arg_positions = [i for i, a in enumerate(args)
                              if isinstance(a, Tensor) and a.dtype.kind == "f"]
        if not is_grad_enabled() or not any(args[i].requires_grad for i in self.arg_positions):
            self.arg_positions = []
            return args
        passed = _PassThrough.apply(self._on_args, *[args[i] for i in self.arg_positions])
        args = list(args)
        for at, tensor in zip(self.arg_positions, passed):
            if not args[at].requires_grad:        # non-differentiable, as PyTorch marks it:
                tensor.grad_fn, tensor._requires_grad = None, False   # its entry is zeros
            args[at] = tensor
        return tuple(args)

    def wrap_output(self, output):
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple) or not is_grad_enabled():
            return output
        self.n_outputs = len(outputs)
        self.output_positions = [i for i, o in enumerate(outputs)
                                 if isinstance(o, Tensor) and o.requires_grad]
        if not self.output_positions:
            return output
        passed = _PassThrough.apply(self._on_outputs,
                                    *[outputs[i] for i in self.output_positions])
        outputs = list(outputs)
        for at, tensor in zip(self.output_positions, passed):
            outputs[at] = tensor
        return outputs[0] if single else tuple(outputs)

    def _on_outputs(self, grads):
        grad_output = _pack(self.output_positions, grads, self.n_outputs)
        for hook in self.pre_hooks.values():
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _check("pre-hook", self.module, result, self.n_outputs)
        self.grad_output = grad_output
        if not self.arg_positions and self.hooks:    # no argument needs a gradient
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients.",
                          stacklevel=2)
            self._run_hooks(_pack((), (), self.n_args))
        return [grad_output[i] for i in self.output_positions]

    def _on_args(self, grads):
        grad_input = self._run_hooks(_pack(self.arg_positions, grads, self.n_args))
        return [grad_input[i] for i in self.arg_positions]

    def _run_hooks(self, grad_input):
        for hook in self.hooks.values():
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _check("hook", self.module, result, self.n_args)
        return grad_input
