"""A recursive network: one composition applied bottom-up over each input's own binary tree.

    p = tanh(W [c1; c2] + b)       (Goodfellow et al. 2016, 10.6; Socher et al. 2011)

Leaves are embedded tokens; the same W, b compose every pair of children, so the recorded
graph has the shape of the input's tree and changes with every input.

    RecursiveNet(num_tokens, hidden_size, num_outputs)
        encode(tree) -> (H,)                 the recursion over one tree (the math as written)
        forward(trees) -> (N, num_outputs)   every tree of a batch at once, level by level:
                                             all nodes of the same height are one batched
                                             composition (same values as encode)

A tree is a leaf (an int token) or a pair (left, right) of trees.

The arithmetic task: expressions over digits with + and -, nested at random, e.g.
(3 - (4 + 1)) - 7. An expression (a op b) becomes the binary tree (a, (op, b)): the operator is
a leaf token (PLUS = 10, MINUS = 11) that the subtree (op, b) composes with b.
"""
import numpy as np

import autograd as ag

from ..linear import Linear
from ..module import Module
from ..sparse import Embedding

__all__ = ["PLUS", "MINUS", "NUM_TOKENS", "random_expression", "evaluate", "expression_string",
           "expression_tree", "arithmetic_trees", "RecursiveNet"]

PLUS, MINUS = 10, 11
NUM_TOKENS = 12


def random_expression(rng, num_ops):
    """A random expression with num_ops operators: a digit (int) or a triple (a, op, b)."""
    if num_ops == 0:
        return int(rng.integers(10))
    left = int(rng.integers(num_ops))
    op = PLUS if rng.random() < 0.5 else MINUS
    return (random_expression(rng, left), op, random_expression(rng, num_ops - 1 - left))


def evaluate(expr):
    if isinstance(expr, int):
        return expr
    a, op, b = expr
    return evaluate(a) + evaluate(b) if op == PLUS else evaluate(a) - evaluate(b)


def expression_string(expr, top=True):
    if isinstance(expr, int):
        return str(expr)
    a, op, b = expr
    text = f"{expression_string(a, False)} {'+' if op == PLUS else '-'} " \
           f"{expression_string(b, False)}"
    return text if top else f"({text})"


def expression_tree(expr):
    """(a, op, b) -> the binary tree (tree(a), (op, tree(b)))."""
    if isinstance(expr, int):
        return expr
    a, op, b = expr
    return (expression_tree(a), (op, expression_tree(b)))


def arithmetic_trees(num_samples, min_ops=1, max_ops=3, seed=None):
    """(trees, values, expressions): num_samples random expressions with min_ops..max_ops
    operators (uniform), their binary trees and their int64 values (N,)."""
    if not 0 <= min_ops <= max_ops or num_samples < 1:
        raise ValueError(f"arithmetic_trees: need num_samples >= 1 and 0 <= min_ops <= max_ops, "
                         f"got {num_samples}, {min_ops}, {max_ops}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    exprs = [random_expression(rng, int(rng.integers(min_ops, max_ops + 1)))
             for _ in range(num_samples)]
    values = np.array([evaluate(e) for e in exprs], np.int64)
    return [expression_tree(e) for e in exprs], values, exprs


class RecursiveNet(Module):
    """embedding (num_tokens, H), compose: Linear(2H, H) (W, b), head: Linear(H, num_outputs).
    trees: a list of N trees -> (N, num_outputs) logits of the roots' vectors."""

    def __init__(self, num_tokens, hidden_size, num_outputs, dtype=None):
        super().__init__()
        self.num_tokens, self.hidden_size = num_tokens, hidden_size
        self.embedding = Embedding(num_tokens, hidden_size, dtype=dtype)
        self.compose = Linear(2 * hidden_size, hidden_size, dtype=dtype)
        self.head = Linear(hidden_size, num_outputs, dtype=dtype)

    def _token(self, leaf):
        if isinstance(leaf, bool) or not isinstance(leaf, (int, np.integer)) or \
                not 0 <= leaf < self.num_tokens:
            raise TypeError(f"RecursiveNet: a leaf must be an int token in [0, "
                            f"{self.num_tokens}), got {leaf!r}")
        return int(leaf)

    def _children(self, node):
        if not isinstance(node, (tuple, list)) or len(node) != 2:
            raise TypeError(f"RecursiveNet: a node must be a pair (left, right) or an int leaf, "
                            f"got {type(node).__name__}"
                            + (f" of {len(node)}" if isinstance(node, (tuple, list)) else ""))
        return node

    def encode(self, tree):
        """One tree -> its root vector (H,): p = tanh(W [c1; c2] + b) at every node."""
        if isinstance(tree, (tuple, list)):
            left, right = self._children(tree)
            return self.compose(ag.cat([self.encode(left), self.encode(right)], 0)).tanh()
        return self.embedding(ag.tensor(self._token(tree)))

    def encode_batch(self, trees):
        """N trees -> (N, H) root vectors, one composition per tree height."""
        leaves, levels = [], []          # levels[h - 1]: [(left ref, right ref)] of height h

        def visit(node):                 # -> (height, position in its level)
            if not isinstance(node, (tuple, list)):
                leaves.append(self._token(node))
                return 0, len(leaves) - 1
            left, right = (visit(child) for child in self._children(node))
            height = max(left[0], right[0]) + 1
            if len(levels) < height:
                levels.append([])
            levels[height - 1].append((left, right))
            return height, len(levels[height - 1]) - 1
        if not isinstance(trees, (list, tuple)) or not trees:
            raise TypeError("RecursiveNet: expected a non-empty list of trees")
        roots = [visit(t) for t in trees]
        # node ids: leaves first, then the nodes of height 1, 2, ... in order
        offsets = np.cumsum([0, len(leaves)] + [len(level) for level in levels])

        def ids(refs):
            return ag.tensor(np.array([offsets[h] + k for h, k in refs], np.int64))
        table = self.embedding(ag.tensor(np.array(leaves, np.int64)))       # (nodes so far, H)
        for level in levels:
            left = table.index_select(0, ids([a for a, _ in level]))
            right = table.index_select(0, ids([b for _, b in level]))
            parents = self.compose(ag.cat([left, right], 1)).tanh()
            table = ag.cat([table, parents], 0)
        return table.index_select(0, ids(roots))

    def forward(self, trees):
        return self.head(self.encode_batch(trees))
