"""Training health in two lines of user code:

    monitor = ag.health.Monitor(model)           # once, before training
    ...
    loss.backward(); opt.step(); monitor.step()  # every step, after the optimizer step

Each `step()` records, per parameter, the gradient norm and the update-to-weight ratio
||w_t - w_{t-1}|| / ||w_{t-1}|| (healthy training is often near 1e-3); per ReLU (an nn.ReLU
module or an F.relu / .relu() inside a module's forward), the fraction of dead units: units
(all positions but the batch axis 0) that output 0 for every sample of the step's batches;
and, for a module called several times per forward (an RNN cell over time steps), the norm
of the gradient reaching each call's output. It warns (HealthWarning) when gradients vanish
or explode: a norm below `vanish` or above `explode`, NaN/Inf, a spread of more than `spread`
between the largest and smallest gradient norm across layers (weights with ndim >= 2) or
across the calls of one module (time steps). `monitor.history` keeps every value for plotting
(`monitor.plot()` draws them with matplotlib).

How: forward pre/post hooks on the model's modules. Module calls are bracketed by sequence
numbers of the tape (as in ag.viz), so the ReLU nodes recorded inside a call are found by
walking the call's own nodes back from its outputs; their saved masks (output <= 0) give the
dead units. Gradients at call outputs come from hooks on the producing nodes.
"""
import warnings
from collections import defaultdict

import numpy as np

from . import function as _function
from .tensor import Tensor

__all__ = ["Monitor", "HealthWarning"]


class HealthWarning(UserWarning):
    pass


class Monitor:
    """Watch a model's training health (see the module docstring).

    model: the nn.Module; vanish / explode: absolute gradient-norm thresholds; spread: the
    largest tolerated ratio between gradient norms across layers or time steps; warn: emit
    HealthWarning (they are also kept in `monitor.warnings` as (step, message))."""

    def __init__(self, model, *, vanish=1e-7, explode=1e3, spread=1e4, track_updates=True,
                 warn=True):
        self.model = model
        self.vanish, self.explode, self.spread = vanish, explode, spread
        self.warn = warn
        self.params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.paths = {id(m): name or type(m).__name__ for name, m in model.named_modules()}
        self.history = {"step": [], "grad_norm": defaultdict(list),
                        "update_ratio": defaultdict(list), "dead_relu": defaultdict(list),
                        "time_grad_norm": defaultdict(list)}
        self.warnings = []
        self.steps = 0
        self._prev = {n: p.data.copy() for n, p in self.params} if track_updates else None
        self._stack = []
        self._calls = {}                      # path -> [calls this step, first node, nr]
        self._call_grads = {}                 # (path, index) -> grad norm
        self._dead = {}                       # relu site -> bool mask of dead units
        self._claimed = set()
        self._handles = []
        for module in model.modules():
            self._handles.append(module.register_forward_pre_hook(self._enter))
            self._handles.append(module.register_forward_hook(self._exit, always_call=True))

    # -- forward hooks -----------------------------------------------------------------------
    def _enter(self, module, args):
        self._stack.append(next(_function._sequence))

    def _exit(self, module, args, output):
        if not self._stack:
            return
        start = self._stack.pop()
        if output is None:
            return
        outputs = [t for t in _tensors(output) if t.grad_fn is not None]
        if not outputs:
            return
        path = self.paths.get(id(module), type(module).__name__)
        self._find_relus(path, outputs, start)
        node, nr = outputs[0].grad_fn, outputs[0]._output_nr
        calls = self._calls.get(path)
        if calls is None:                     # first call this step: remember its output
            self._calls[path] = [1, node, nr]
            return
        if calls[0] == 1:                     # called again: time steps; watch the first too
            self._watch(path, 0, calls[1], calls[2])
            calls[1] = calls[2] = None
        self._watch(path, calls[0], node, nr)
        calls[0] += 1

    def _watch(self, path, index, node, nr):
        grads = self._call_grads

        def record(g):
            grads[(path, index)] = float(np.linalg.norm(g.data.astype(np.float64).ravel()))
        hooks = node._tensor_hooks
        if hooks is None:
            hooks = node._tensor_hooks = {}
        hooks.setdefault(nr, []).append(record)

    def _find_relus(self, path, outputs, start):
        """The ReLU nodes recorded inside this call (seq > start), not already claimed by
        a call inside it: fold their dead-unit masks into the step's."""
        from .ops.unary import Relu
        stack = [t.grad_fn for t in outputs]
        seen = set()
        found = []
        while stack:
            node = stack.pop()
            if id(node) in seen or node.seq <= start:
                continue
            seen.add(id(node))
            if node.fn is Relu and id(node) not in self._claimed:
                found.append(node)
            for edge in node.edges:
                if edge is not None and edge[1] >= 0:
                    stack.append(edge[0])
        found.sort(key=lambda n: n.seq)
        for k, node in enumerate(found):
            self._claimed.add(id(node))
            saved = node.saved_tensors
            if not saved:
                continue
            site = path if len(found) == 1 else f"{path}#{k}"
            dead = saved[0].data
            units = dead.all(axis=0) if dead.ndim >= 2 else dead
            prev = self._dead.get(site)
            self._dead[site] = units if prev is None or prev.shape != units.shape \
                else prev & units

    # -- per step ----------------------------------------------------------------------------
    def step(self):
        """Record this step's health (call after optimizer.step()); returns its values."""
        self.steps += 1
        h = self.history
        h["step"].append(self.steps)
        record = {"grad_norm": {}, "update_ratio": {}, "dead_relu": {}, "time_grad_norm": {}}
        bad = []
        for name, p in self.params:
            if p.grad is None:
                continue
            g = p.grad.data
            finite = np.isfinite(g)
            if not finite.all():
                bad.append(f"{name}: {int(g.size - finite.sum())} NaN/Inf gradient values")
            norm = float(np.linalg.norm(g[finite].astype(np.float64)))
            record["grad_norm"][name] = norm
        if self._prev is not None:
            for name, p in self.params:
                prev = self._prev[name]
                denom = float(np.linalg.norm(prev.astype(np.float64)))
                change = float(np.linalg.norm((p.data - prev).astype(np.float64)))
                record["update_ratio"][name] = change / denom if denom > 0 else float("nan")
                self._prev[name] = p.data.copy()
        for site, units in self._dead.items():
            record["dead_relu"][site] = float(units.mean()) if units.size else 0.0
        by_path = defaultdict(dict)
        for (path, index), norm in self._call_grads.items():
            by_path[path][index] = norm
        for path, norms in by_path.items():
            record["time_grad_norm"][path] = [norms[i] for i in sorted(norms)]
        for key in ("grad_norm", "update_ratio", "dead_relu", "time_grad_norm"):
            for name, value in record[key].items():
                h[key][name].append(value)
        self._check(record, bad)
        self._dead, self._call_grads, self._claimed = {}, {}, set()
        self._calls = {}
        self._stack.clear()
        return record

    def _check(self, record, bad):
        messages = list(bad)
        norms = record["grad_norm"]
        for name, norm in norms.items():
            if norm > self.explode:
                messages.append(f"exploding gradient: {name} has gradient norm {norm:.3g} "
                                f"(> {self.explode:g})")
            elif norm < self.vanish:
                messages.append(f"vanishing gradient: {name} has gradient norm {norm:.3g} "
                                f"(< {self.vanish:g})")
        weights = {n: norms[n] for n, p in self.params if n in norms and p.ndim >= 2}
        if len(weights) >= 2:
            lo = min(weights, key=weights.get)
            hi = max(weights, key=weights.get)
            if weights[lo] == 0 or weights[hi] / weights[lo] > self.spread:
                messages.append(
                    f"gradient norms across layers span {weights[lo]:.3g} ({lo}) to "
                    f"{weights[hi]:.3g} ({hi}): they vanish or explode through the depth")
        series_of = record["time_grad_norm"]
        for path, series in series_of.items():
            if any(path.startswith(other + ".") for other in series_of):
                continue                      # reported for the enclosing repeated module
            lo, hi = min(series), max(series)
            if hi > 0 and (lo == 0 or hi / lo > self.spread):
                first, last = series[0], series[-1]
                trend = "vanish" if first < last else "explode"
                messages.append(
                    f"gradients {trend} over the {len(series)} calls (time steps) of {path}: "
                    f"norm {first:.3g} at the first call, {last:.3g} at the last")
        for msg in messages:
            self.warnings.append((self.steps, msg))
            if self.warn:
                warnings.warn(f"step {self.steps}: {msg}", HealthWarning, stacklevel=3)

    # -- output ------------------------------------------------------------------------------
    def plot(self, axes=None):
        """Plot gradient norms, update ratios and dead-ReLU fractions against steps (log
        scale where it helps); returns the matplotlib axes."""
        import matplotlib.pyplot as plt
        if axes is None:
            _, axes = plt.subplots(1, 3, figsize=(15, 4))
        steps = self.history["step"]
        panels = (("grad_norm", "gradient norm", True), ("update_ratio", "update / weight",
                                                         True), ("dead_relu", "dead ReLU units",
                                                                 False))
        for ax, (key, title, log) in zip(axes, panels):
            for name, values in self.history[key].items():
                ax.plot(steps[-len(values):], values, label=name)
            ax.set_title(title)
            ax.set_xlabel("step")
            if log and self.history[key]:
                ax.set_yscale("log")
            if self.history[key]:
                ax.legend(fontsize="small")
        return axes

    def close(self):
        """Remove the hooks from the model."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _tensors(obj):
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []
