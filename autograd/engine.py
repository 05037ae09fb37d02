"""The backward pass: replay the tape in decreasing sequence number.

Every recorded node has a sequence number from a global counter, and a node is always
recorded after the nodes that produced its inputs. Popping reachable nodes from a max-heap
on that number is therefore a topological order: no recursion, no dependency counting.
Gradients arriving at a node are summed before it runs; the engine (not each rule) sums a
gradient back to its input's shape when the op broadcast it.
"""
from heapq import heappop, heappush

import numpy as np

from .grad_mode import _State
from .tensor import Tensor

__all__ = ["backward", "grad"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into the `.grad` of the leaves (or of `inputs` only)."""
    tensors = _as_tuple(tensors)
    grads = _root_grads(tensors, grad_tensors, "backward")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
    _run(tensors, grads, retain_graph, create_graph, inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """d(outputs)/d(inputs), returned as a tuple; `.grad` fields are left untouched."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the differentiated Tensors (shape "
                               f"{tuple(t.shape)}) does not require grad")
    grads = _root_grads(outputs, grad_outputs, "grad")
    result = _run(outputs, grads, retain_graph, create_graph, inputs, accumulate=False)
    out = []
    for t, g in zip(inputs, result):
        if g is None:
            if materialize_grads:
                g = Tensor._make(np.zeros_like(t.data), False, None, 0)
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: one of the differentiated Tensors (shape {tuple(t.shape)}) appears "
                    "to not have been used in the graph. Set allow_unused=True if this is the "
                    "desired behavior.")
        out.append(g)
    return tuple(out)


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(tensors, grad_tensors, op_name):
    if grad_tensors is None and len(tensors) == 1:
        t = tensors[0]
        if t._requires_grad and t.data.ndim == 0:   # the common loss.backward()
            return [Tensor._make(np.array(1, t.data.dtype), False, None, 0)]
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    else:
        grad_tensors = _as_tuple(grad_tensors) if not isinstance(grad_tensors, list) else \
            tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{op_name}: got {len(grad_tensors)} gradients for "
                           f"{len(tensors)} tensors")
    out = []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"{op_name}: element {len(out)} of tensors does not require grad and does not "
                "have a grad_fn")
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"{op_name}: grad can be implicitly created only for scalar outputs; "
                    f"got an output of shape {tuple(t.shape)}: pass `gradient`")
            g = Tensor._make(np.ones_like(t.data), False, None, 0)
        elif not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=t.dtype), False, None, 0)
        if g.shape != t.shape:
            raise RuntimeError(f"{op_name}: mismatch in shape: grad_output has shape "
                               f"{tuple(g.shape)} and output has shape {tuple(t.shape)}")
        out.append(g)
    return out


def _run(roots, root_grads, retain_graph, create_graph, inputs, accumulate):
    """The pass. Returns the gradients captured for `inputs` (None when not reached)."""
    if retain_graph is None:
        retain_graph = create_graph
    # what to capture: leaves by identity, non-leaf inputs by (node, output_nr)
    capture_leaf, capture_node, captured = _NO_CAPTURE, _NO_CAPTURE, []
    if inputs:
        capture_leaf, capture_node = {}, {}
        for i, t in enumerate(inputs):
            captured.append(None)
            if t.grad_fn is None:
                capture_leaf[id(t)] = i
            else:
                capture_node[(t.grad_fn, t._output_nr)] = i

    pending = {}          # node -> list of summed gradients, one per output
    heap = []             # (-seq, node): the latest-recorded pending node pops first
    leaf_grads = {}       # id(leaf) -> [leaf, summed gradient]
    handed_out = {id(g.data) for g in root_grads}   # arrays a leaf's .grad must not alias
    add = _add_recorded if create_graph else _add_arrays
    for t, g in zip(roots, root_grads):
        if t.grad_fn is None:
            _send_leaf(leaf_grads, t, g, add)
        else:
            _send(pending, heap, t.grad_fn, t._output_nr, g, add)

    anomaly = _State.anomaly
    prev = _State.enabled
    _State.enabled = create_graph
    try:
        while heap:
            node = heappop(heap)[1]
            grads = pending.pop(node)
            if node._tensor_hooks or node._retained or capture_node:
                _output_hooks(node, grads, capture_node, captured, handed_out)
            if len(grads) > 1 and node.materialize_grads:
                _fill_missing(node, grads)
            grad_inputs = node.fn.backward(node, *grads)
            if type(grad_inputs) is not tuple:
                grad_inputs = (grad_inputs,)
            edges = node.edges
            if len(grad_inputs) != len(edges):
                grad_inputs = _check_count(node, grad_inputs, edges)
            for edge, gi in zip(edges, grad_inputs):
                if edge is None or gi is None:
                    continue
                target, nr = edge
                if gi.__class__ is not Tensor:
                    _check_is_tensor(node, gi)
                if nr < 0:
                    shape, dtype = target.data.shape, target.data.dtype
                else:
                    shape, dtype = target.out_meta[nr]
                data = gi.data
                if data.shape != shape or (data.dtype is not dtype and data.dtype != dtype):
                    gi = _fit_to_input(node, gi, shape, dtype)
                if anomaly:
                    _check_finite(node, gi)
                if nr < 0:
                    _send_leaf(leaf_grads, target, gi, add)
                    continue
                slots = pending.get(target)          # _send, inlined: the hottest loop
                if slots is None:
                    slots = pending[target] = [None] * len(target.out_meta)
                    heappush(heap, (-target.seq, target))
                prev_g = slots[nr]
                slots[nr] = gi if prev_g is None else add(prev_g, gi)
            if not retain_graph:
                node._saved = node._arrays = None
                node._freed = True
    finally:
        _State.enabled = prev

    for leaf, g in leaf_grads.values():
        if leaf._hooks:
            for hook in leaf._hooks:
                new = hook(g)
                if new is not None:
                    _check_hook_result(hook, g, new)
                    g = new
        i = capture_leaf.get(id(leaf)) if capture_leaf else None
        if i is not None:
            captured[i] = g
        elif accumulate and inputs is None:
            _accumulate(leaf, g, create_graph, handed_out)
    if accumulate and inputs is not None:
        for t, g in zip(inputs, captured):
            if g is not None:
                _accumulate(t, g, create_graph, handed_out)
    return captured


_NO_CAPTURE = {}


def _add_arrays(x, y):
    """Sum of two gradient contributions, off the tape (an ndarray also for 0-d ones: numpy
    returns a scalar there)."""
    total = x.data + y.data
    if type(total) is not np.ndarray:
        total = np.asarray(total)
    return Tensor._make(total, False, None, 0)


def _add_recorded(x, y):
    """Sum of two gradient contributions, recorded (create_graph=True)."""
    return x + y


def _send(pending, heap, node, nr, g, add):
    """Add gradient g to output `nr` of `node`, scheduling the node on first arrival."""
    slots = pending.get(node)
    if slots is None:
        slots = pending[node] = [None] * len(node.out_meta)
        heappush(heap, (-node.seq, node))
    prev = slots[nr]
    slots[nr] = g if prev is None else add(prev, g)


def _send_leaf(leaf_grads, leaf, g, add):
    slot = leaf_grads.get(id(leaf))
    if slot is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        slot[1] = add(slot[1], g)


def _output_hooks(node, grads, capture_node, captured, handed_out):
    """Tensor hooks and retain_grad of the node's outputs; capture for grad()."""
    if node._tensor_hooks:
        for nr, hooks in node._tensor_hooks.items():
            if grads[nr] is not None:
                for hook in hooks:
                    new = hook(grads[nr])
                    if new is not None:
                        _check_hook_result(hook, grads[nr], new)
                        grads[nr] = new
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                g = grads[nr]
                if not _State.enabled:
                    g = g.detach()
                t.grad = g if t.grad is None else t.grad + g
                handed_out.add(id(g.data))
    if capture_node:
        for nr in range(len(grads)):
            i = capture_node.get((node, nr))
            if i is not None and grads[nr] is not None:
                captured[i] = grads[nr]


def _fill_missing(node, grads):
    """An output that received no gradient gets zeros (PyTorch's materialize_grads)."""
    for nr, g in enumerate(grads):
        if g is None:
            shape, dtype = node.out_meta[nr]
            grads[nr] = Tensor._make(np.zeros(shape, dtype), False, None, 0)


def _check_count(node, grad_inputs, edges):
    """backward returned a number of gradients other than one per forward input: accept
    trailing Nones beyond the inputs (as PyTorch does) and missing gradients for inputs that
    need none; anything else raises. Returns the gradients trimmed to the inputs."""
    n, expected = len(grad_inputs), len(edges)
    if n > expected:
        ok = all(g is None for g in grad_inputs[expected:])
    else:
        ok = all(e is None for e in edges[n:])
    if not ok:
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {expected}, got {n})")
    return grad_inputs[:expected]


def _check_hook_result(hook, g, new):
    """A tensor hook may replace the gradient only by one of the same shape."""
    if not isinstance(new, Tensor):
        raise TypeError(f"hook {_hook_name(hook)!r} must return a Tensor or None, got "
                        f"{type(new).__name__}")
    if new.data.shape != g.data.shape:
        raise RuntimeError(f"hook {_hook_name(hook)!r} has changed the size of value: it "
                           f"returned a gradient of shape {tuple(new.shape)} for a tensor of "
                           f"shape {tuple(g.shape)}")


def _hook_name(hook):
    return getattr(hook, "__name__", type(hook).__name__)


def _check_is_tensor(node, g):
    if not isinstance(g, Tensor):
        raise TypeError(f"{node.name()}: backward must return Tensors or None, got "
                        f"{type(g).__name__}")


def _fit_to_input(node, g, shape, dtype):
    """Sum a broadcast gradient back to the input's shape and cast it to the input's dtype."""
    if g.data.shape != shape:
        from .ops.reduce import sum_to_shape
        try:
            g = sum_to_shape(g, shape)
        except ValueError:
            raise RuntimeError(f"{node.name()}: function returned a gradient of shape "
                               f"{tuple(g.shape)} for an input of shape {tuple(shape)}") from None
    if g.data.dtype != dtype:
        g = g.to(dtype)
    return g


def _accumulate(leaf, g, create_graph, handed_out):
    """leaf.grad += g. A gradient array that is a view, or already handed to another tensor
    in this pass, is copied so that in-place edits of one .grad never show in another."""
    if leaf._grad is None:
        if not create_graph:
            if id(g.data) in handed_out or not g.data.flags.owndata:
                g = Tensor._make(g.data.copy(), False, None, 0)
            elif g._requires_grad:
                g = g.detach()
            handed_out.add(id(g.data))
        leaf._grad = g                  # shape and dtype are the leaf's (_fit_to_input)
    elif create_graph or leaf._grad._requires_grad:
        leaf._grad = leaf._grad + g
    else:
        np.add(leaf._grad.data, g.data, out=leaf._grad.data, casting="unsafe")


def _check_finite(node, g):
    data = g.data
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        where = ""
        if node._trace:
            frame = _user_frame(node._trace)
            where = f"\nThe forward call that created it:\n  File \"{frame.filename}\", " \
                    f"line {frame.lineno}, in {frame.name}\n    {frame.line}"
        bad = "nan" if np.isnan(data).any() else "inf"
        raise RuntimeError(f"Function '{node.name()}' returned {bad} values in its gradient "
                           f"(shape {tuple(data.shape)}).{where}")


def _user_frame(trace):
    """The last frame of the forward traceback outside the autograd/nn/optim packages."""
    import os
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    inside = tuple(os.path.join(pkg_root, p) + os.sep for p in ("autograd", "nn", "optim"))
    for frame in reversed(trace):
        if not os.path.abspath(frame.filename).startswith(inside):
            return frame
    return trace[-1]
