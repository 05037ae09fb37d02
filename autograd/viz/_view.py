"""What draw() shows of a Tape: which nodes stand for which (collapsed repeats), the module
clusters, the edges, and which nodes fit under max_nodes.

Collapsing repeats. Sibling module calls that repeat -- the same module called again (an RNN
cell over time steps) or a chain of modules of one class where each consumes the previous
one's output (12 identical layers) -- with the same ops and shapes inside are drawn once:
node k of every repeat maps to node k of the first call, and the cluster says how many calls
it stands for. Then nodes outside such calls that do the same op on the same (mapped) inputs
inside the same cluster (the per-step `x[:, t]` of an unrolled loop) map to one node too.
"""
import bisect
from collections import Counter, defaultdict, deque

import numpy as np

from ._graph import op_name

__all__ = ["View"]


class View:
    def __init__(self, tape, collapse, max_nodes):
        self.tape = tape
        self._rep = {}                 # id(node) -> the node it is drawn as
        self._leaf_rep = {}            # id(leaf) -> the leaf it is drawn as
        self.group = {}                # id(call) -> the calls a drawn call stands for
        self._dropped = set()          # id(call) of repeats folded into their first call
        self._seqs = [n.seq for n in tape.nodes]
        self.collapsed = bool(collapse)
        if collapse:
            self._collapse_calls()
            self._merge_equal_nodes()
        self.members = defaultdict(list)
        for n in tape.nodes:
            self.members[id(self.rep(n))].append(n)
        self.leaf_members = defaultdict(list)
        for leaf in tape.leaves:
            self.leaf_members[id(self.leaf_rep(leaf))].append(leaf)
        self.nodes = [n for n in tape.nodes if self.rep(n) is n]
        self.leaves = [t for t in tape.leaves if self.leaf_rep(t) is t]
        self.edges = self._edges()
        self._cap(max_nodes)

    # -- representatives -------------------------------------------------------------------
    def rep(self, node):
        seen = node
        while id(seen) in self._rep:
            seen = self._rep[id(seen)]
        return seen

    def leaf_rep(self, leaf):
        return self._leaf_rep.get(id(leaf), leaf)

    def count(self, node):
        return len(self.members[id(node)])

    def _nodes_in(self, call):
        lo = bisect.bisect_right(self._seqs, call.start)
        hi = len(self._seqs) if call.end is None else bisect.bisect_left(self._seqs, call.end)
        return self.tape.nodes[lo:hi]

    def _signature(self, call):
        return (call.module_type, tuple(
            (op_name(n), tuple((tuple(s), np.dtype(d).str) for s, d in n.out_meta))
            for n in self._nodes_in(call)))

    def _chained(self, prev, cur):
        """Does call `cur` take as input something computed since call `prev` began (its
        output, or ops applied to it in between)? Parallel branches (q, k, v of one x) do
        not."""
        for n in self._nodes_in(cur):
            for edge in n.edges:
                if edge is not None and edge[1] >= 0 and prev.start < edge[0].seq < cur.start:
                    return True
        return False

    def _collapse_calls(self):
        children = defaultdict(list)
        for call in self.tape.calls:
            children[id(call.parent) if call.parent is not None else None].append(call)
        pending = [None]
        while pending:
            kids = children.get(pending.pop(), [])
            sigs = [self._signature(c) for c in kids]
            i = 0
            while i < len(kids):
                j = i + 1
                while j < len(kids) and sigs[j] == sigs[i] and (
                        kids[j].module_ref() is kids[j - 1].module_ref()
                        or self._chained(kids[j - 1], kids[j])):
                    j += 1
                if j - i > 1 and sigs[i][1]:
                    self._fold(kids[i], kids[i + 1:j], children)
                pending.append(id(kids[i]))
                i = j

    def _fold(self, first, repeats, children):
        self.group[id(first)] = [first, *repeats]
        rep_nodes = self._nodes_in(first)
        for call in repeats:
            stack = [call]
            while stack:
                c = stack.pop()
                self._dropped.add(id(c))
                stack.extend(children.get(id(c), []))
            for a, b in zip(self._nodes_in(call), rep_nodes):
                self._rep[id(a)] = b
                for ea, eb in zip(a.edges, b.edges):
                    if (ea is not None and eb is not None and ea[1] < 0 and eb[1] < 0
                            and ea[0] is not eb[0] and id(ea[0]) not in self._leaf_rep):
                        self._leaf_rep[id(ea[0])] = eb[0]

    def _merge_equal_nodes(self):
        seen = {}
        for n in self.tape.nodes:
            if id(n) in self._rep:
                continue
            inputs = []
            for edge in n.edges:
                if edge is None:
                    inputs.append(None)
                elif edge[1] < 0:
                    inputs.append(("leaf", id(self.leaf_rep(edge[0]))))
                else:
                    inputs.append(("node", id(self.rep(edge[0])), edge[1]))
            call = self.cluster_of(n)
            key = (op_name(n), tuple((tuple(s), np.dtype(d).str) for s, d in n.out_meta),
                   id(call) if call is not None else None, tuple(inputs))
            first = seen.setdefault(key, n)
            if first is not n:
                self._rep[id(n)] = first

    # -- clusters ----------------------------------------------------------------------------
    def cluster_of(self, node):
        """The innermost drawn module call of a node (None: outside any module cluster)."""
        call = self.tape.call_of.get(id(node))
        while call is not None and (id(call) in self._dropped
                                    or self.tape.call_path(call) == ""):
            call = call.parent
        return call

    def drawn_calls(self):
        """Calls holding at least one kept node, outermost first (parents before children)."""
        used = {}
        for n in self.kept_nodes:
            call = self.cluster_of(n)
            while call is not None:
                if id(call) in self._dropped or self.tape.call_path(call) == "":
                    call = call.parent
                    continue
                used[id(call)] = call
                call = call.parent
        return sorted(used.values(), key=lambda c: c.start)

    # -- edges and the cap -------------------------------------------------------------------
    def _edges(self):
        """[(source, target node, output_nr)] between drawn items, deduplicated, in tape
        order; a source is a node or a leaf."""
        out, seen = [], set()
        for n in self.tape.nodes:
            dst = self.rep(n)
            for edge in n.edges:
                if edge is None:
                    continue
                target, nr = edge
                src = self.leaf_rep(target) if nr < 0 else self.rep(target)
                key = (id(src), id(dst), nr)
                if key not in seen:
                    seen.add(key)
                    out.append((src, dst, nr))
        return out

    def _cap(self, max_nodes):
        """Keep at most max_nodes items (ops and leaves), the ones nearest the roots."""
        items = len(self.nodes) + len(self.leaves)
        self.omitted = Counter()
        if max_nodes is None or items <= max_nodes:
            self.kept_nodes, self.kept_leaves = self.nodes, self.leaves
            return
        inputs = defaultdict(list)
        for src, dst, _ in self.edges:
            inputs[id(dst)].append(src)
        order, seen = [], set()
        queue = deque(self.rep(r.grad_fn) if r.grad_fn is not None else self.leaf_rep(r)
                      for r in self.tape.roots)
        while queue and len(order) < max_nodes:
            item = queue.popleft()
            if id(item) in seen:
                continue
            seen.add(id(item))
            order.append(item)
            queue.extend(inputs.get(id(item), ()))
        self.kept_nodes = [n for n in self.nodes if id(n) in seen]
        self.kept_leaves = [t for t in self.leaves if id(t) in seen]
        for n in self.nodes:
            if id(n) not in seen:
                self.omitted[op_name(n)] += self.count(n)
        for t in self.leaves:
            if id(t) not in seen:
                self.omitted["leaf tensor"] += 1
        self._kept_ids = seen

    def is_kept(self, item):
        return not self.omitted or id(item) in self._kept_ids
