"""The leanest Python tape we could write, as a baseline for the engine-overhead rows: what
any engine built from Python objects and numpy arrays pays at least for
(a * b + a).sum().backward() on 4-element arrays. It has no version counters, hooks, dtype
or broadcast handling, no error checks and no double backward: a floor, not a rival."""
import numpy as np


class MinimalTensor:
    __slots__ = ("data", "grad", "parents", "backward_fn")

    def __init__(self, data, parents=(), backward_fn=None):
        self.data, self.grad = data, None
        self.parents, self.backward_fn = parents, backward_fn

    def __mul__(self, other):
        return MinimalTensor(self.data * other.data, (self, other),
                             lambda g: (g * other.data, g * self.data))

    def __add__(self, other):
        return MinimalTensor(self.data + other.data, (self, other), lambda g: (g, g))

    def sum(self):
        shape = self.data.shape
        return MinimalTensor(np.add.reduce(self.data), (self,),
                             lambda g: (np.broadcast_to(g, shape),))

    def backward(self):
        order, seen = [], set()

        def visit(t):                   # depth-first topological order (tiny graphs only)
            if id(t) not in seen:
                seen.add(id(t))
                for p in t.parents:
                    visit(p)
                order.append(t)
        visit(self)
        grads = {id(self): np.ones_like(self.data)}
        for t in reversed(order):
            g = grads.pop(id(t))
            if t.backward_fn is None:                         # a leaf
                t.grad = g if t.grad is None else t.grad + g
                continue
            for parent, gp in zip(t.parents, t.backward_fn(g)):
                key = id(parent)
                grads[key] = gp if key not in grads else grads[key] + gp


def setup_expr(a, b):
    """a zero-arg callable running the expression on copies of the arrays a and b."""
    ta, tb = MinimalTensor(a.copy()), MinimalTensor(b.copy())

    def run():
        (ta * tb + ta).sum().backward()
        return ta.grad, tb.grad
    return run
