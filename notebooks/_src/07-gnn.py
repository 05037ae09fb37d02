# Source of notebooks/07-gnn.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 07 · Graph neural networks
#
# A graph with $N$ nodes and symmetric non-negative edge weights $W_{ij}$ has the degree matrix
# $D = \text{diag}(\sum_j W_{ij})$ and the Laplacian
#
# $$L = D - W, \qquad L_{sym} = I - D^{-1/2} W D^{-1/2}, \qquad L_{rw} = I - D^{-1} W .$$
#
# $L$ is symmetric positive semi-definite, $L = U \Lambda U^\top$; its eigenvectors are the
# graph's Fourier modes. Spectral graph convolution filters a signal $x$ on the nodes in that
# basis, $x \star_G g_\theta = U g_\theta(\Lambda) U^\top x$; ChebConv makes $g_\theta$ a
# polynomial of order $K - 1$ in $L$ (so the filter reaches $K - 1$ hops and needs no
# eigendecomposition), and GCN keeps the first order with one weight and renormalised
# adjacency $\hat A = \tilde D^{-1/2} (A + I) \tilde D^{-1/2}$:
# $X' = \hat A X W^\top + b$.
#
# This notebook checks each formula by hand with numpy against tapegrad's `nn.graph`:
#
# 1. the Laplacians of a small weighted graph;
# 2. spectral convolution by eigendecomposition against `SpectralConv`, `ChebConv` and
#    `GCNConv`, and how GCN follows from Chebyshev filters;
# 3. GCN on Zachary's karate club (two labelled members; the node embeddings over training)
#    and on Cora (the data file is read from `$TAPEGRAD_DATA`; skipped when absent);
# 4. graph pooling (global pooling, SortPooling, DiffPool) and graph classification;
# 5. the graph autoencoder and the links it reconstructs.
#
# `SCALE` makes the training runs longer.

# %%
SCALE = 1                 # 2, 4, ...: more epochs and more graphs

import os
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from scipy.sparse.csgraph import shortest_path

import autograd as ag
import nn
import nn.functional as F
import nn.graph as G
import optim
from autograd.datasets import load_cora, load_karate_club, make_sbm_graphs
from nn.models.gnn import GAE, GCN, GraphClassifier

np.set_printoptions(precision=4, suppress=True, linewidth=110)
ag.manual_seed(0)
rng = np.random.default_rng(0)
DATA = Path(os.environ.get("TAPEGRAD_DATA")
            or Path(ag.__file__).resolve().parents[1].parent / "shared" / "data")


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def dense(sparse_matrix):
    return sparse_matrix.to_dense().data


# %% [markdown]
# ## 1. The Laplacians of a weighted graph
#
# A weighted graph of five nodes. (The course slides' exact example could not be retrieved
# here, so this is a graph of our own of the same size; every check below holds for any
# weighted undirected graph.) The engine takes the graph as an edge list, both directions of
# each undirected edge, with one weight per directed edge.

# %%
EDGES = [(0, 1, 1.0), (0, 2, 0.5), (1, 2, 2.0), (1, 3, 0.5), (2, 3, 1.0), (3, 4, 3.0)]
N5 = 5
W = np.zeros((N5, N5))
for u, v, w in EDGES:
    W[u, v] = W[v, u] = w
edge_index = np.array([[u for u, v, _ in EDGES] + [v for u, v, _ in EDGES],
                       [v for u, v, _ in EDGES] + [u for u, v, _ in EDGES]])
edge_weight = t64([w for *_, w in EDGES] * 2)

# by hand
deg = W.sum(1)
D = np.diag(deg)
L = D - W
D_isqrt = np.diag(deg ** -0.5)
L_sym = np.eye(N5) - D_isqrt @ W @ D_isqrt
L_rw = np.eye(N5) - np.diag(1 / deg) @ W
print("W =\n", W, "\nD = diag", deg, "\nL = D - W =\n", L)

# the engine (sparse matrices, shown dense)
np.testing.assert_allclose(dense(G.adjacency(edge_index, edge_weight, N5)), W)
np.testing.assert_allclose(G.degree(edge_index[0], N5, weight=edge_weight).data, deg)
for normalization, hand in [(None, L), ("sym", L_sym), ("rw", L_rw)]:
    engine = dense(G.laplacian(edge_index, edge_weight, N5, normalization))
    np.testing.assert_allclose(engine, hand, rtol=1e-13, atol=1e-15)
print("engine: L, L_sym and L_rw equal the hand formulas")

# %% [markdown]
# The properties that make $L$ a Laplacian, checked numerically: the rows sum to zero
# ($L \mathbf 1 = 0$, the constant signal has frequency 0); the quadratic form measures how
# much a signal varies across edges,
# $x^\top L x = \tfrac12 \sum_{i,j} W_{ij} (x_i - x_j)^2 \ge 0$;
# one zero eigenvalue per connected component; the eigenvalues of $L_{sym}$ lie in $[0, 2]$.

# %%
x = rng.normal(size=N5)
np.testing.assert_allclose(L @ np.ones(N5), 0, atol=1e-15)
np.testing.assert_allclose(x @ L @ x, 0.5 * np.sum(W * (x[:, None] - x[None, :]) ** 2))
lam, U = np.linalg.eigh(L)
lam_sym, U_sym = np.linalg.eigh(L_sym)
assert lam.min() > -1e-12 and np.sum(np.abs(lam) < 1e-12) == 1       # one component
assert -1e-12 < lam_sym.min() and lam_sym.max() <= 2 + 1e-12
print("eigenvalues of L:    ", lam, "\neigenvalues of L_sym:", lam_sym)

# %%
graph5 = nx.Graph()
graph5.add_weighted_edges_from(EDGES)
pos5 = nx.spring_layout(graph5, seed=3, weight=None)
fig, axes = plt.subplots(1, N5 + 1, figsize=(16, 3))
nx.draw_networkx(graph5, pos5, ax=axes[0], node_color="#dbe9f6", edgecolors="k",
                 width=[1.5 * w for *_, w in EDGES])
nx.draw_networkx_edge_labels(graph5, pos5, ax=axes[0],
                             edge_labels={(u, v): w for u, v, w in EDGES}, font_size=8)
axes[0].set_title("the weighted graph")
for k, ax in enumerate(axes[1:]):
    nx.draw_networkx(graph5, pos5, ax=ax, node_color=U_sym[:, k], cmap="RdBu_r",
                     vmin=-0.8, vmax=0.8, edgecolors="k", with_labels=False)
    ax.set_title(f"u_{k}, lambda = {lam_sym[k]:.2f}")
for ax in axes:
    ax.axis("off")
fig.suptitle("Fourier modes of L_sym: the higher the eigenvalue, the more the mode changes "
             "sign across edges", y=1.04)
plt.show()

# %% [markdown]
# ## 2. Spectral convolution, ChebConv and GCNConv
#
# **Spectral convolution.** With $U$ from the eigendecomposition of $L_{sym}$, the graph
# Fourier transform is $\hat x = U^\top x$, and a filter multiplies each frequency by its own
# value: $y = U \text{diag}(\theta) U^\top x$. `SpectralConv` holds one such filter for every
# pair of input and output channels, $y_o = \sum_c U \text{diag}(\theta_{co}) U^\top x_c$.

# %%
lam_e, U_e = G.graph_fourier_basis(edge_index, edge_weight, N5, "sym", dtype=ag.float64)
np.testing.assert_allclose(lam_e.data, lam_sym, atol=1e-12)
np.testing.assert_allclose(U_e.data @ np.diag(lam_e.data) @ U_e.data.T, L_sym, atol=1e-12)

C_in, C_out = 3, 2
X5 = rng.normal(size=(N5, C_in))
spectral = G.SpectralConv(C_in, C_out, N5).double()
theta = spectral.theta.data                                  # (C_in, C_out, N)
y_hand = sum(np.outer(U_sym @ np.diag(theta[c, o]) @ U_sym.T @ X5[:, c], np.eye(C_out)[o])
             for c in range(C_in) for o in range(C_out))
np.testing.assert_allclose(spectral(t64(X5), edge_index, edge_weight).data, y_hand,
                           rtol=1e-10, atol=1e-12)
print("SpectralConv = sum_c U diag(theta_co) U^T x_c")

# %% [markdown]
# **Chebyshev filters.** With $\tilde L = 2 L_{sym} / \lambda_{max} - I$ (spectrum in
# $[-1, 1]$; `ChebConv` takes $\lambda_{max} = 2$ for $L_{sym}$ by default) and the Chebyshev
# recursion $T_0 = x$, $T_1 = \tilde L x$, $T_k = 2 \tilde L T_{k-1} - T_{k-2}$:
#
# $$X' = \sum_{k=0}^{K-1} T_k(\tilde L) X\, W_k^\top + b .$$
#
# In the spectral view this is $U \,\text{diag}\big(\sum_k \theta_k T_k(\tilde\lambda)\big)
# U^\top x$: a polynomial filter of the eigenvalues, computed without them. A polynomial of
# order $K - 1$ in $L$ mixes only nodes at most $K - 1$ hops apart.

# %%
K = 3
cheb = G.ChebConv(C_in, C_out, K).double()
with ag.no_grad():
    cheb.bias.copy_(t64(rng.normal(size=C_out)))
L_tilde = 2 * L_sym / 2.0 - np.eye(N5)
T = [X5, L_tilde @ X5]
for _ in range(2, K):
    T.append(2 * L_tilde @ T[-1] - T[-2])
y_hand = sum(T[k] @ cheb.lins[k].weight.data.T for k in range(K)) + cheb.bias.data
np.testing.assert_allclose(cheb(t64(X5), edge_index, edge_weight).data, y_hand, rtol=1e-12,
                           atol=1e-13)

# one channel: the same filter as a polynomial of the eigenvalues
cheb1 = G.ChebConv(1, 1, K, bias=False).double()
coeffs = [cheb1.lins[k].weight.data.item() for k in range(K)]
lam_tilde = lam_sym - 1.0
response = sum(c * np.polynomial.chebyshev.chebval(lam_tilde, np.eye(K)[k])
               for k, c in enumerate(coeffs))
signal = rng.normal(size=(N5, 1))
np.testing.assert_allclose(cheb1(t64(signal), edge_index, edge_weight).data,
                           U_sym @ np.diag(response) @ U_sym.T @ signal, rtol=1e-10, atol=1e-12)

# localisation: the response to an impulse at node 0 vanishes beyond K - 1 hops
hops = shortest_path(W > 0, unweighted=True)[0]
impulse = np.eye(N5)[:, :1]
reach = cheb1(t64(impulse), edge_index, edge_weight).data[:, 0]
assert np.all(reach[hops > K - 1] == 0) and np.all(reach[hops <= K - 1] != 0)
print(f"ChebConv (K={K}) = sum_k T_k(L~) X W_k^T + b = U g(Lambda) U^T x; impulse at node 0 "
      f"reaches the nodes within {K - 1} hops: {np.flatnonzero(reach)}")

# %% [markdown]
# **From ChebConv to GCN.** Take $K = 2$, $\lambda_{max} = 2$ and one weight
# $\theta = \theta_0 = -\theta_1$: the layer is $(I + D^{-1/2} W D^{-1/2}) X \theta$. The
# eigenvalues of $I + D^{-1/2} W D^{-1/2}$ lie in $[0, 2]$, so stacking layers can blow up or
# vanish; the renormalisation trick adds the self-loops first,
# $\hat A = \tilde D^{-1/2} (W + I) \tilde D^{-1/2}$ with $\tilde D$ the degrees of $W + I$,
# whose eigenvalues lie in $(-1, 1]$. That is `GCNConv`: $X' = \hat A X W^\top + b$.

# %%
cheb2 = G.ChebConv(C_in, C_out, 2, bias=False).double()
theta1 = rng.normal(size=(C_out, C_in))
with ag.no_grad():
    cheb2.lins[0].weight.copy_(t64(theta1))
    cheb2.lins[1].weight.copy_(t64(-theta1))
first_order = np.eye(N5) + D_isqrt @ W @ D_isqrt
np.testing.assert_allclose(cheb2(t64(X5), edge_index, edge_weight).data,
                           first_order @ X5 @ theta1.T, rtol=1e-12, atol=1e-13)

W_loops = W + np.eye(N5)
D_tilde_isqrt = np.diag(W_loops.sum(1) ** -0.5)
A_hat = D_tilde_isqrt @ W_loops @ D_tilde_isqrt
np.testing.assert_allclose(dense(G.gcn_adjacency(edge_index, edge_weight, N5,
                                                 dtype=ag.float64)), A_hat, rtol=1e-13)
gcn_layer = G.GCNConv(C_in, C_out).double()
with ag.no_grad():
    gcn_layer.bias.copy_(t64(rng.normal(size=C_out)))
np.testing.assert_allclose(gcn_layer(t64(X5), edge_index, edge_weight).data,
                           A_hat @ X5 @ gcn_layer.lin.weight.data.T + gcn_layer.bias.data,
                           rtol=1e-12, atol=1e-13)
eig_first, eig_hat = np.linalg.eigvalsh(first_order), np.linalg.eigvalsh(A_hat)
assert eig_first.min() > -1e-12 and abs(eig_first.max() - 2) < 1e-12
assert eig_hat.min() > -1 and abs(eig_hat.max() - 1) < 1e-12
print("eigenvalues of I + D^-1/2 W D^-1/2:", eig_first)
print("eigenvalues of A_hat:              ", eig_hat)
print("GCNConv = A_hat X W^T + b")

# %% [markdown]
# ## 3. GCN on the karate club
#
# Zachary's karate club: 34 members, 78 friendships, and the club split in two after a
# dispute (the colours below). The input features are the identity matrix (each node only
# knows who it is); only the two leaders, nodes 0 and 33, are labelled. A GCN with a
# two-dimensional last layer (tanh) and a linear classifier on top is trained on those two
# labels; since each layer averages over neighbours, the embeddings of the whole graph move,
# and the other 32 members are classified through the structure.

# %%
club = load_karate_club(dtype=ag.float64)
karate = nx.karate_club_graph()
pos_k = nx.spring_layout(karate, seed=1)
labels_k = club.y.data
train_k = club.train_idx.data


class KarateGCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = G.GCNConv(34, 4)
        self.conv2 = G.GCNConv(4, 2)
        self.classifier = nn.Linear(2, 2)

    def forward(self, x, edge_index):
        h = self.conv1(x, edge_index).tanh()
        z = self.conv2(h, edge_index).tanh()              # the 2-d node embeddings
        return z, self.classifier(z)


ag.manual_seed(0)
model_k = KarateGCN().double()
opt = optim.Adam(model_k.parameters(), lr=0.02)
snapshots, epochs_k = {}, 200 * SCALE
for epoch in range(epochs_k + 1):
    z, logits = model_k(club.x, club.edge_index)
    if epoch in (0, 10, 30, 60, 100, epochs_k):
        snapshots[epoch] = z.data.copy()
    if epoch == epochs_k:
        break
    loss = F.cross_entropy(logits[train_k], club.y[train_k])
    opt.zero_grad()
    loss.backward()
    opt.step()
pred_k = logits.data.argmax(1)
acc_k = np.mean(pred_k[club.test_idx.data] == labels_k[club.test_idx.data])
print(f"accuracy on the 32 unlabelled members: {acc_k:.1%}")
assert acc_k >= 0.8

# %%
fig, axes = plt.subplots(1, len(snapshots) + 1, figsize=(19, 3.3))
nx.draw_networkx(karate, pos_k, ax=axes[0], node_color=labels_k, cmap="coolwarm",
                 node_size=[250 if i in train_k else 80 for i in range(34)], with_labels=False,
                 edgecolors="k", width=0.4)
axes[0].set_title("the club (large: labelled)")
axes[0].axis("off")
for ax, (epoch, z) in zip(axes[1:], snapshots.items()):
    ax.scatter(z[:, 0], z[:, 1], c=labels_k, cmap="coolwarm", edgecolors="k", s=40)
    ax.scatter(z[train_k, 0], z[train_k, 1], c="none", edgecolors="k", s=200, marker="s")
    ax.set_title(f"embeddings, epoch {epoch}")
fig.tight_layout()
plt.show()

# %% [markdown]
# The recorded graph of the two GCN layers: each `GCNConv` is a dense product with the weight
# and a sparse product with $\hat A$.

# %%
probe = GCN(34, 4, 2, dropout=0.0).double()
with ag.viz.trace():
    out = F.cross_entropy(probe(club.x, club.edge_index)[train_k], club.y[train_k])
    out.backward()
ag.viz.draw(out, params=probe)

# %% [markdown]
# **Cora.** 2708 papers, 7 topics, citation links; bag-of-words features (row-normalised),
# 140 labelled nodes for training, 500 for validation, 1000 for testing. Kipf & Welling's
# setup: two layers, 16 hidden units, dropout 0.5, weight decay $5 \cdot 10^{-4}$ on the first
# layer, Adam with learning rate 0.01, 200 epochs. The paper reports 81.5 % test accuracy.

# %%
try:
    cora = load_cora(DATA, normalize_features=True, sparse_features=True)
except FileNotFoundError as exc:
    cora = None
    print(f"Cora not found, skipping ({exc})")

if cora is not None:
    ag.manual_seed(0)
    model_c = GCN(cora.x.shape[1], 16, cora.num_classes, dropout=0.5, cached=True)
    opt = optim.Adam([dict(params=model_c.convs[0].parameters(), weight_decay=5e-4),
                      dict(params=model_c.convs[1].parameters(), weight_decay=0.0)], lr=0.01)
    train_c, val_c, test_c = cora.train_idx.data, cora.val_idx.data, cora.test_idx.data
    y_c = cora.y.data
    history = []
    for _ in range(200):
        model_c.train()
        loss = F.cross_entropy(model_c(cora.x, cora.edge_index)[train_c], cora.y[train_c])
        opt.zero_grad()
        loss.backward()
        opt.step()
        model_c.eval()
        with ag.no_grad():
            pred = model_c(cora.x, cora.edge_index).data.argmax(1)
        history.append((loss.item(), np.mean(pred[val_c] == y_c[val_c])))
    test_acc = np.mean(pred[test_c] == y_c[test_c])
    print(f"Cora: validation {history[-1][1]:.1%}, test {test_acc:.1%} (paper: 81.5 %)")
    assert test_acc > 0.75

# %%
if cora is not None:
    with ag.no_grad():
        hidden_c = F.relu(model_c.convs[0](cora.x, cora.edge_index)).data
    centred = hidden_c - hidden_c.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ vt[:2].T
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax1.plot([h[0] for h in history], label="training loss")
    ax1.plot([h[1] for h in history], label="validation accuracy")
    ax1.set(xlabel="epoch", title="GCN on Cora")
    ax1.legend()
    ax2.scatter(proj[:, 0], proj[:, 1], c=y_c, cmap="tab10", s=3)
    ax2.set_title("hidden layer (16 units), first two principal components")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## 4. Graph pooling and graph classification
#
# To classify whole graphs, several graphs are batched as one block-diagonal graph (node ids
# shifted, a `batch` vector naming each node's graph), node states are computed by message
# passing, and a readout pools each graph's nodes into one vector:
#
# * global pooling: $r_b = \sum_{i \in b} x_i$, the mean, or the channel-wise max;
# * SortPooling: sort each graph's nodes by their last channel, keep the first $k$ (zero rows
#   if fewer), flatten;
# * DiffPool: a soft assignment $S = \text{softmax}(s)$ of nodes to $K$ clusters gives the
#   pooled graph $X' = S^\top X$, $A' = S^\top A S$, with a link loss
#   $\lVert A - S S^\top \rVert_F$ and an entropy loss pushing assignments towards one cluster.

# %%
sizes = [4, 6, 3]
graphs = []
for n in sizes:
    e = np.array([(i, j) for i in range(n) for j in range(n) if i != j and rng.random() < 0.5])
    graphs.append(G.Data(x=t64(rng.normal(size=(n, 3))), edge_index=e.T.reshape(2, -1)))
batch = G.Batch.from_data_list(graphs)
offsets = np.cumsum([0] + sizes[:-1])
np.testing.assert_array_equal(batch.batch.data, np.repeat(np.arange(3), sizes))
np.testing.assert_array_equal(batch.edge_index.data, np.concatenate(
    [g.edge_index.data + o for g, o in zip(graphs, offsets)], axis=1))

xb = batch.x.data
parts = [xb[o:o + n] for o, n in zip(offsets, sizes)]
for pool, reduce in [(G.global_add_pool, np.sum), (G.global_mean_pool, np.mean),
                     (G.global_max_pool, np.max)]:
    np.testing.assert_allclose(pool(batch.x, batch.batch).data,
                               np.stack([reduce(p, axis=0) for p in parts]), rtol=1e-13)

k_sort = 5
sort_hand = np.zeros((3, k_sort, 3))
for b, p in enumerate(parts):
    kept = p[np.argsort(-p[:, -1], kind="stable")][:k_sort]
    sort_hand[b, :len(kept)] = kept
np.testing.assert_allclose(G.global_sort_pool(batch.x, batch.batch, k_sort).data,
                           sort_hand.reshape(3, -1), rtol=1e-13)

# DiffPool on one dense graph of 6 nodes, 2 clusters
x_d, s_d = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
a_d = (rng.random((6, 6)) < 0.5).astype(float)
a_d = np.triu(a_d, 1) + np.triu(a_d, 1).T
S = np.exp(s_d) / np.exp(s_d).sum(1, keepdims=True)
x_pool, a_pool, link, ent = G.dense_diff_pool(t64(x_d), t64(a_d), t64(s_d))
np.testing.assert_allclose(x_pool.data[0], S.T @ x_d, rtol=1e-12)
np.testing.assert_allclose(a_pool.data[0], S.T @ a_d @ S, rtol=1e-12)
np.testing.assert_allclose(link.item(), np.linalg.norm(a_d - S @ S.T) / a_d.size, rtol=1e-12)
np.testing.assert_allclose(ent.item(), np.mean(-np.sum(S * np.log(S), 1)), rtol=1e-12)
print("batching, global add/mean/max pooling, SortPooling and DiffPool agree with the formulas")

# %% [markdown]
# **Graph classification.** Two kinds of random graphs from a two-block stochastic block
# model with the same expected degree: in class 0 edges are dense *within* the blocks, in
# class 1 *across* them. Each node's feature is its block (one-hot) plus Gaussian noise, so
# no single node reveals the class: the model must see whether neighbours share a block.
# Two message-passing layers (the original GNN layer, `GraphConv`), mean pooling, an MLP.

# %%
sbm = make_sbm_graphs(200 * SCALE, seed=0)
train_g, test_g = sbm[:150 * SCALE], G.Batch.from_data_list(sbm[150 * SCALE:])
fig, axes = plt.subplots(1, 4, figsize=(13, 3))
for ax, g in zip(axes, sbm[:4]):
    nxg = G.to_networkx(g, to_undirected=True)
    nx.draw_networkx(nxg, nx.spring_layout(nxg, seed=0), ax=ax, node_size=40,
                     with_labels=False, width=0.5, node_color=g.x.data[:, 0] > g.x.data[:, 1],
                     cmap="coolwarm")
    kind = "assortative" if g.y.data[0] == 0 else "disassortative"
    ax.set_title(f"class {int(g.y.data[0])} ({kind})")
    ax.axis("off")
plt.show()

ag.manual_seed(0)
classifier = GraphClassifier(2, 32, 2, num_layers=2, conv="graph", pool="mean")
opt = optim.Adam(classifier.parameters(), lr=0.01)
curve = []
for epoch in range(12 * SCALE):
    for graph_batch in G.DataLoader(train_g, batch_size=32, shuffle=True, seed=epoch):
        loss = F.cross_entropy(classifier(graph_batch.x, graph_batch.edge_index,
                                          graph_batch.batch), graph_batch.y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    classifier.eval()
    with ag.no_grad():
        pred = classifier(test_g.x, test_g.edge_index, test_g.batch).data.argmax(1)
    classifier.train()
    curve.append((loss.item(), np.mean(pred == test_g.y.data)))
print(f"test accuracy after {len(curve)} epochs: {curve[-1][1]:.1%}")
assert curve[-1][1] >= 0.85

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot([c[0] for c in curve], "o-", label="last training batch loss")
ax.plot([c[1] for c in curve], "s-", label="test accuracy")
ax.set(xlabel="epoch", title="graph classification")
ax.legend()
plt.show()

# %% [markdown]
# ## 5. The graph autoencoder
#
# The graph autoencoder (Kipf & Welling, 2016) encodes the nodes with a GCN, $Z = \text{GCN}(X,
# A)$, and decodes a link probability from two embeddings, $p(u \sim v) = \sigma(z_u^\top
# z_v)$. It is trained to give high probability to the observed edges and low probability to
# sampled non-edges (binary cross-entropy), with some edges held out; after training the held-
# out edges should score higher than random non-edges (ROC AUC, average precision). On the
# karate club: 15 % of the friendships are hidden from the encoder during training.

# %%
ag.manual_seed(0)
split_k = G.train_test_split_edges(club, 0.05, 0.15, generator=np.random.default_rng(0))
gae = GAE(GCN(34, 16, 8, dropout=0.0)).double()

# the decoder and the loss by hand, on given negative pairs
z = gae.encode(club.x, split_k.train_pos_edge_index)
pos, neg = split_k.train_pos_edge_index.data, split_k.test_neg_edge_index.data


def log_sigmoid(s):
    return -np.logaddexp(0, -s)


scores = lambda pairs: np.sum(z.data[pairs[0]] * z.data[pairs[1]], 1)      # noqa: E731
np.testing.assert_allclose(gae.decode(z, pos).data, 1 / (1 + np.exp(-scores(pos))), rtol=1e-12)
np.testing.assert_allclose(gae.recon_loss(z, pos, neg).item(),
                           -log_sigmoid(scores(pos)).mean() - log_sigmoid(-scores(neg)).mean(),
                           rtol=1e-12)

opt = optim.Adam(gae.parameters(), lr=0.01)
for _ in range(200 * SCALE):
    z = gae.encode(club.x, split_k.train_pos_edge_index)
    loss = gae.recon_loss(z, split_k.train_pos_edge_index)
    opt.zero_grad()
    loss.backward()
    opt.step()
with ag.no_grad():
    z = gae.encode(club.x, split_k.train_pos_edge_index)
auc, ap = gae.test(z, split_k.test_pos_edge_index, split_k.test_neg_edge_index)
print(f"karate club, {split_k.test_pos_edge_index.shape[1]} held-out edges: AUC {auc:.3f}, "
      f"AP {ap:.3f}")
assert auc > 0.6

# %%
with ag.no_grad():
    recon = gae.decoder.forward_all(z).data
held_out = split_k.test_pos_edge_index.data
train_pairs = split_k.train_pos_edge_index.data
candidates = np.argwhere(np.triu(np.ones((34, 34)), 1) > 0)
observed = set(map(tuple, np.sort(train_pairs.T, 1)))
unseen = [tuple(p) for p in candidates if tuple(p) not in observed]
top = sorted(unseen, key=lambda p: -recon[p])[:len(held_out.T)]
hits = len(set(top) & set(map(tuple, np.sort(held_out.T, 1))))

fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
axes[0].imshow(club.adj.data, cmap="Greys")
axes[0].set_title("adjacency A")
axes[1].imshow(recon, cmap="Greys", vmin=0, vmax=1)
axes[1].set_title("reconstruction sigmoid(Z Z^T)")
nx.draw_networkx_edges(karate, pos_k, ax=axes[2], edgelist=[tuple(e) for e in train_pairs.T],
                       alpha=0.25)
nx.draw_networkx_edges(karate, pos_k, ax=axes[2], edgelist=[tuple(e) for e in held_out.T],
                       edge_color="tab:green", width=2.5, label="held-out edges")
nx.draw_networkx_edges(karate, pos_k, ax=axes[2], edgelist=top, edge_color="tab:red",
                       style="dashed", width=1.5, label="top predicted unseen pairs")
nx.draw_networkx_nodes(karate, pos_k, ax=axes[2], node_color=labels_k, cmap="coolwarm",
                       node_size=60, edgecolors="k")
axes[2].set_title(f"{hits} of the top {len(top)} predicted unseen pairs are held-out edges")
axes[2].legend(loc="lower left", fontsize=8)
axes[2].axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# On Cora (when the data file is there) the same model, 32 hidden units and 16-dimensional
# embeddings, 100 epochs; the paper reports an AUC of 91 % and an AP of 92 %.

# %%
if cora is not None:
    ag.manual_seed(0)
    split_c = G.train_test_split_edges(cora, 0.05, 0.1, generator=np.random.default_rng(0))
    gae_c = GAE(GCN(cora.x.shape[1], 32, 16, dropout=0.0, cached=True))
    opt = optim.Adam(gae_c.parameters(), lr=0.01)
    for _ in range(100 * SCALE):
        z = gae_c.encode(split_c.x, split_c.train_pos_edge_index)
        loss = gae_c.recon_loss(z, split_c.train_pos_edge_index)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with ag.no_grad():
        z = gae_c.encode(split_c.x, split_c.train_pos_edge_index)
    auc, ap = gae_c.test(z, split_c.test_pos_edge_index, split_c.test_neg_edge_index)
    print(f"Cora link prediction: AUC {auc:.3f}, AP {ap:.3f}")
    assert auc > 0.85
