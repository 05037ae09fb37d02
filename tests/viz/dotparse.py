"""A small reader of the DOT text `ag.viz.draw` writes: nodes (id -> attribute text), edges,
and the stack of cluster labels each node sits in."""
import re

NODE = re.compile(r"^\s*([nl]\d+|omitted|legend) \[(.*)\]\s*$")
EDGE = re.compile(r"^\s*(\S+) -> (\S+)(?: \[(.*)\])?\s*$")
CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{")
LABEL = re.compile(r"^\s*.*\blabel=<(.*)>\s")


class Dot:
    def __init__(self, source):
        self.nodes, self.edges, self.cluster_of, self.cluster_labels = {}, [], {}, {}
        stack = []
        for line in source.splitlines():
            m = CLUSTER.match(line)
            if m:
                stack.append(m.group(1))
                continue
            if line.strip() == "}":
                if stack:
                    stack.pop()
                continue
            if stack and stack[-1] not in self.cluster_labels and "label=<" in line \
                    and " [" not in line:
                self.cluster_labels[stack[-1]] = line
                continue
            m = NODE.match(line)
            if m:
                self.nodes[m.group(1)] = m.group(2)
                self.cluster_of[m.group(1)] = [self.cluster_labels.get(c, "") for c in stack]
                continue
            m = EDGE.match(line)
            if m:
                self.edges.append((m.group(1), m.group(2), m.group(3) or ""))

    def ops(self):
        return {k: v for k, v in self.nodes.items() if k.startswith("n")}

    def leaves(self):
        return {k: v for k, v in self.nodes.items() if k.startswith("l")}

    def find(self, text):
        """Ids of nodes whose attributes contain text."""
        return [k for k, v in self.nodes.items() if text in v]
