"""The recorded graph as plain data for draw() and summary(): nodes in tape order, leaves,
names, the module call that created each node, bytes held for backward, gradient stats."""
import numpy as np

from ..tensor import Tensor
from . import tracing

__all__ = ["walk", "Tape"]


def walk(roots):
    """(nodes sorted by sequence number, leaves in discovery order) reachable from the
    tensors `roots` through the edges of the tape. Iterative: any depth."""
    nodes, leaves, seen = [], [], set()
    stack = []
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"viz: expected Tensors as roots, got {type(r).__name__}")
        if r.grad_fn is not None:
            stack.append(r.grad_fn)
        elif r.requires_grad and id(r) not in seen:
            seen.add(id(r))
            leaves.append(r)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for edge in node.edges:
            if edge is None:
                continue
            target, nr = edge
            if id(target) in seen:
                continue
            if nr < 0:
                seen.add(id(target))
                leaves.append(target)
            else:
                stack.append(target)
    nodes.sort(key=lambda n: n.seq)
    return nodes, leaves


def param_names(params):
    """{id(tensor): name} from a Module (parameters and buffers) or a dict of tensors."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        named = list(params.named_parameters())
        if hasattr(params, "named_buffers"):
            named += list(params.named_buffers())
        return {id(t): name for name, t in named}
    if isinstance(params, dict):
        return {id(t): str(name) for name, t in params.items() if isinstance(t, Tensor)}
    raise TypeError(f"viz: params must be a Module or a dict of name -> Tensor, got "
                    f"{type(params).__name__}")


def held_bytes(node):
    """Bytes of the arrays a node keeps for backward: saved tensors, saved arrays and arrays
    set on ctx."""
    total = 0
    for entry in node._saved or ():
        if entry is not None:
            obj = entry[0]
            total += (obj.data if isinstance(obj, Tensor) else obj).nbytes
    for arr in node._arrays or ():
        if arr is not None:                      # an optional saved array left out
            total += arr.nbytes
    for value in node.__dict__.values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, Tensor):
            total += value.data.nbytes
    return total


def held_arrays(node):
    """The arrays a node holds (for a deduplicated total across nodes)."""
    out = []
    for entry in node._saved or ():
        if entry is not None:
            obj = entry[0]
            out.append(obj.data if isinstance(obj, Tensor) else obj)
    out.extend(arr for arr in node._arrays or () if arr is not None)
    for value in node.__dict__.values():
        if isinstance(value, np.ndarray):
            out.append(value)
        elif isinstance(value, Tensor):
            out.append(value.data)
    return out


def dedup_bytes(arrays):
    """Total bytes of arrays, counting memory shared by views once (by base buffer)."""
    seen = {}
    for a in arrays:
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        seen[id(base)] = max(seen.get(id(base), 0), base.nbytes)
    return sum(seen.values())


class Tape:
    """The graph of `roots`: nodes (tape order), leaves with names, module calls."""

    def __init__(self, roots, params=None, modules=True):
        self.roots = roots
        self.nodes, self.leaves = walk(roots)
        self.index = {id(n): i for i, n in enumerate(self.nodes)}
        self.names = param_names(params)
        self.module_paths = _module_paths(params)
        self.call_of = {}            # id(node) -> innermost ModuleCall (only when known)
        self.calls = []
        if modules and self.nodes:
            lo, hi = self.nodes[0].seq, self.nodes[-1].seq
            calls = tracing.calls_in(lo, hi)
            if calls:
                owners = tracing.innermost_calls([n.seq for n in self.nodes], calls)
                used = set()
                for node, call in zip(self.nodes, owners):
                    if call is not None:
                        self.call_of[id(node)] = call
                        while call is not None and id(call) not in used:
                            used.add(id(call))
                            call = call.parent
                self.calls = [c for c in calls if id(c) in used]
        roots = [c for c in self.calls if c.parent is None]
        first = roots[0].module_ref() if roots else None
        # the model: the first module called at top level, when called there once
        once = sum(1 for c in roots if c.module_ref() is first) == 1
        self._root_module = first if once else None
        self._paths = {}

    def leaf_name(self, leaf):
        return self.names.get(id(leaf))

    def call_path(self, call):
        """The dotted module path of a call ("" for the root model): from `params` when it is
        a Module containing the callee, else relative to the calling module."""
        key = id(call)
        if key in self._paths:
            return self._paths[key]
        module = call.module_ref()
        path = None
        if module is not None and id(module) in self.module_paths:
            path = self.module_paths[id(module)]
        elif call.parent is not None:
            parent = call.parent.module_ref()
            sub = _child_name(parent, module) if parent is not None else None
            if sub is not None:
                base = self.call_path(call.parent)
                path = f"{base}.{sub}" if base else sub
        if path is None:
            # without params, the first top-level module called is taken as the model
            is_model = (call.parent is None and not self.module_paths
                        and module is not None and module is self._root_module)
            path = "" if is_model else f"({call.module_type})"
        self._paths[key] = path
        return path

    def node_path(self, node):
        call = self.call_of.get(id(node))
        return self.call_path(call) if call is not None else ""


def _module_paths(params):
    if params is None or not hasattr(params, "named_modules"):
        return {}
    return {id(m): name for name, m in params.named_modules()}


def _child_name(parent, child):
    if child is None or not hasattr(parent, "named_modules"):
        return None
    for name, m in parent.named_modules():
        if m is child and name:
            return name
    return None


def describe_outputs(node):
    """["(64, 10) float32", ...] for each output of a node."""
    return [f"{_shape(shape)} {np.dtype(dtype).name}" for shape, dtype in node.out_meta]


def describe_tensor(t):
    return f"{_shape(t.shape)} {t.dtype.name}"


def _shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def op_name(node):
    return node.fn.__name__


def format_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
