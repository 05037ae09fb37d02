# Source of notebooks/03-cnn.ipynb (build with `python notebooks/_build.py`).

# %% [markdown]
# # 03 · Convolutional networks
#
# A convolutional layer slides a small kernel $K$ over its input. What deep-learning libraries
# call convolution is the cross-correlation
#
# $$S(i, j) = (I \star K)(i, j) = \sum_m \sum_n I(i + m, j + n)\, K(m, n)$$
#
# (the convolution of the textbooks, $\sum_m \sum_n I(i - m, j - n) K(m, n)$, is the same with
# the kernel flipped). This notebook computes convolutions and their gradients by hand with
# numpy and checks tapegrad against them:
#
# 1. the definition, and convolution as one matrix product (im2col);
# 2. the gradients: $\nabla_K E = X \star \nabla_Y E$ and $\nabla_X E$ = the *full* convolution
#    of $\nabla_Y E$ with the flipped kernel (with strides: of the dilated $\nabla_Y E$);
# 3. every variant of the course (multi-channel, 3-D, 1x1, depthwise-separable, grouped,
#    dilated, transposed) with its output shape and number of parameters;
# 4. pooling and its gradient;
# 5. LeNet-5 on the 8x8 digits of scikit-learn, and a small ResNet on a subset of
#    Fashion-MNIST (when the data files are there), with learning curves and learned filters.
#
# `SCALE` makes the training runs larger; the defaults take seconds.

# %%
SCALE = 1                 # 2, 4, ...: more training data and epochs

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.datasets import FASHION_MNIST_CLASSES, load_digits, load_fashion_mnist
from nn.models import BasicBlock, LeNet5, ResNet

np.set_printoptions(precision=4, suppress=True, linewidth=110)
ag.manual_seed(0)
rng = np.random.default_rng(0)
DATA = Path(os.environ.get("TAPEGRAD_DATA")
            or Path(ag.__file__).resolve().parents[1].parent / "shared" / "data")


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# %% [markdown]
# ## 1. The definition, and im2col
#
# First the formula itself, as loops, for one channel: `corr2d(I, K)` is the "valid"
# cross-correlation (the kernel stays inside the image: output size $H - k + 1$).

# %%
def corr2d(image, kernel):
    """S(i, j) = sum_m sum_n I(i + m, j + n) K(m, n); image (H, W), kernel (kh, kw)."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(image[i + m, j + n] * kernel[m, n]
                            for m in range(kh) for n in range(kw))
    return out


image = rng.normal(size=(6, 7))
kernel = rng.normal(size=(3, 3))
engine = F.conv2d(t64(image[None, None]), t64(kernel[None, None]))[0, 0]
np.testing.assert_allclose(engine.data, corr2d(image, kernel), rtol=1e-12, atol=1e-14)
print("conv2d = cross-correlation, output", engine.shape)

# the textbook convolution: flip the kernel
flipped = kernel[::-1, ::-1]
true_conv = np.array([[sum(image[i - m + 2, j - n + 2] * kernel[m, n]
                           for m in range(3) for n in range(3)) for j in range(5)]
                      for i in range(4)])
np.testing.assert_allclose(corr2d(image, flipped), true_conv, rtol=1e-12)

# %% [markdown]
# **im2col.** Every output position reads one patch of $C \cdot k \cdot k$ input values.
# Laying the patches out as the columns of a matrix turns the whole layer into one matrix
# product, $Y = W_{mat}\, \text{cols}$ with $W_{mat}$ the $(C_{out}, C \cdot k \cdot k)$
# reshaped kernel, which is how the engine computes it (with a numba kernel for the
# unfolding and BLAS for the product). Here with a batch, several channels, stride 2 and
# zero padding 1.

# %%
def out_size(size, k, stride=1, padding=0, dilation=1):
    """floor((H + 2p - d(k - 1) - 1) / s) + 1"""
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def im2col(x, k, stride=1, padding=0):
    """x: (N, C, H, W) -> (N, C*k*k, H_out*W_out): column p is the patch under output p."""
    n, c, h, w = x.shape
    ho, wo = out_size(h, k, stride, padding), out_size(w, k, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, k, k, ho, wo))
    for m in range(k):
        for p in range(k):
            cols[:, :, m, p] = xp[:, :, m:m + stride * ho:stride, p:p + stride * wo:stride]
    return cols.reshape(n, c * k * k, ho * wo), (ho, wo)


def conv2d_im2col(x, weight, bias, stride=1, padding=0):
    cols, (ho, wo) = im2col(x, weight.shape[-1], stride, padding)
    y = weight.reshape(weight.shape[0], -1) @ cols + bias[:, None]     # (N, C_out, H_out*W_out)
    return y.reshape(x.shape[0], weight.shape[0], ho, wo)


X = rng.normal(size=(2, 3, 7, 7))
Kw = rng.normal(size=(4, 3, 3, 3))
b = rng.normal(size=4)
Y_hand = conv2d_im2col(X, Kw, b, stride=2, padding=1)
Y = F.conv2d(t64(X), t64(Kw), t64(b), stride=2, padding=1)
np.testing.assert_allclose(Y.data, Y_hand, rtol=1e-12, atol=1e-13)
cols, _ = im2col(X, 3, stride=2, padding=1)
print(f"x {X.shape} -> cols {cols.shape[1:]} per image; W_mat {(4, 27)} @ cols -> "
      f"y {Y.shape}: im2col product = F.conv2d")

fig, ax = plt.subplots(figsize=(8, 4))
ax.imshow(cols[0], cmap="RdBu_r", aspect="auto")
ax.set(title="im2col of one 3x7x7 image (stride 2, padding 1): one column per output pixel",
       xlabel="output position (4 x 4)", ylabel="(channel, m, n) of the 3x3 patch")
plt.show()

# %% [markdown]
# ## 2. The gradients
#
# With $G = \partial E / \partial Y$ arriving from above (stride 1, no padding, one image):
#
# * $\dfrac{\partial E}{\partial K_{oc}} = X_c \star G_o$: the input cross-correlated with the
#   output gradient;
# * $\dfrac{\partial E}{\partial X_c} = \sum_o \text{full}(G_o) \star \text{flip}(K_{oc})$:
#   the output gradient, zero-padded by $k - 1$ on every side ("full" convolution), cross-
#   correlated with the kernel rotated by 180 degrees, i.e. a true convolution with $K$;
# * $\dfrac{\partial E}{\partial b_o} = \sum_{i, j} G_o(i, j)$.
#
# With stride $s$ the output gradient is first *dilated* ($s - 1$ zeros between its
# entries), and padding is cropped from the input gradient. Below, both cases against the
# engine's `backward()` with a random $G$.

# %%
def dilate(g, s):
    """Insert s - 1 zeros between the entries of a 2-d array."""
    out = np.zeros(((g.shape[0] - 1) * s + 1, (g.shape[1] - 1) * s + 1))
    out[::s, ::s] = g
    return out


def conv_grads_by_hand(x, weight, g, stride, padding):
    """x (N, C, H, W), weight (O, C, k, k), g = dE/dY (N, O, Ho, Wo) -> (dX, dK, db)."""
    n, c, h, w = x.shape
    o, k = weight.shape[0], weight.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx_padded = np.zeros_like(xp)
    dk = np.zeros_like(weight)
    for i in range(n):
        for a in range(o):
            gd = dilate(g[i, a], stride)
            for ch in range(c):
                # dE/dK = X * G (cross-correlation with the dilated output gradient)
                dk[a, ch] += corr2d(xp[i, ch], gd)[:k, :k]
                # dE/dX = full(G) * flip(K)
                full = np.pad(gd, k - 1)
                grad_in = corr2d(full, weight[a, ch][::-1, ::-1])
                dx_padded[i, ch, :grad_in.shape[0], :grad_in.shape[1]] += grad_in
    dx = dx_padded[:, :, padding:padding + h, padding:padding + w]
    return dx, dk, g.sum(axis=(0, 2, 3))


for stride, padding in [(1, 0), (2, 1)]:
    x = t64(rng.normal(size=(2, 3, 7, 7)), requires_grad=True)
    weight = t64(rng.normal(size=(4, 3, 3, 3)), requires_grad=True)
    bias = t64(rng.normal(size=4), requires_grad=True)
    y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    g = rng.normal(size=y.shape)
    y.backward(t64(g))
    dx, dk, db = conv_grads_by_hand(x.data, weight.data, g, stride, padding)
    np.testing.assert_allclose(x.grad.data, dx, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(weight.grad.data, dk, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(bias.grad.data, db, rtol=1e-12)
    print(f"stride {stride}, padding {padding}: input, kernel and bias gradients agree "
          f"(y {tuple(y.shape)})")

# %% [markdown]
# In im2col terms the input gradient is the transpose of the forward product,
# $\partial E / \partial \text{cols} = W_{mat}^\top G_{mat}$, folded back onto the image by
# adding each column into its patch ("col2im", the adjoint of im2col). The same numbers:

# %%
def col2im(dcols, shape, k, stride, padding):
    n, c, h, w = shape
    ho, wo = out_size(h, k, stride, padding), out_size(w, k, stride, padding)
    dcols = dcols.reshape(n, c, k, k, ho, wo)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for m in range(k):
        for p in range(k):
            dxp[:, :, m:m + stride * ho:stride, p:p + stride * wo:stride] += dcols[:, :, m, p]
    return dxp[:, :, padding:padding + h, padding:padding + w]


dcols = weight.data.reshape(4, -1).T @ g.reshape(2, 4, -1)          # W_mat^T G_mat
np.testing.assert_allclose(col2im(dcols, x.shape, 3, 2, 1), x.grad.data, rtol=1e-11, atol=1e-12)
print("col2im(W_mat^T G) = input gradient")

# %% [markdown]
# ## 3. The variants of convolution
#
# For each: the engine's layer, its output shape against
# $H_{out} = \lfloor (H + 2p - d(k - 1) - 1) / s \rfloor + 1$ (transposed:
# $H_{out} = (H - 1)s - 2p + d(k - 1) + p_{out} + 1$) and its parameter count against
# $C_{out} \cdot (C_{in} / g) \cdot \prod k + C_{out}$ (bias). Then each variant's defining
# identity, checked numerically.

# %%
x4 = ag.randn(2, 16, 12, 12)
x5 = ag.randn(2, 4, 6, 12, 12)
separable = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.Conv2d(16, 32, 1))
VARIANTS = [
    # name, layer, input, expected output shape, expected parameter count
    ("2-D, 3x3", nn.Conv2d(16, 32, 3), x4, (2, 32, 10, 10), 32 * 16 * 9 + 32),
    ("2-D, stride 2, padding 1", nn.Conv2d(16, 32, 3, stride=2, padding=1), x4,
     (2, 32, out_size(12, 3, 2, 1), out_size(12, 3, 2, 1)), 32 * 16 * 9 + 32),
    ("3-D, 3x3x3", nn.Conv3d(4, 8, 3), x5, (2, 8, 4, 10, 10), 8 * 4 * 27 + 8),
    ("1x1 (pointwise)", nn.Conv2d(16, 32, 1), x4, (2, 32, 12, 12), 32 * 16 + 32),
    ("depthwise 3x3 (groups=C)", nn.Conv2d(16, 16, 3, padding=1, groups=16), x4,
     (2, 16, 12, 12), 16 * 1 * 9 + 16),
    ("depthwise-separable", separable, x4, (2, 32, 12, 12), (16 * 9 + 16) + (32 * 16 + 32)),
    ("grouped, 4 groups", nn.Conv2d(16, 32, 3, padding=1, groups=4), x4, (2, 32, 12, 12),
     32 * 4 * 9 + 32),
    ("dilated, d=2", nn.Conv2d(16, 32, 3, dilation=2), x4,
     (2, 32, out_size(12, 3, dilation=2), out_size(12, 3, dilation=2)), 32 * 16 * 9 + 32),
    ("transposed, stride 2", nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1,
                                                output_padding=1), x4,
     (2, 8, (12 - 1) * 2 - 2 + 2 + 1 + 1, (12 - 1) * 2 - 2 + 2 + 1 + 1), 16 * 8 * 9 + 8),
]
print(f"{'variant':28s} {'input':>18s} {'output':>18s} {'parameters':>10s}")
for name, layer, inp, shape, count in VARIANTS:
    out = layer(inp)
    params = sum(p.numel() for p in layer.parameters())
    assert tuple(out.shape) == shape, (name, out.shape, shape)
    assert params == count, (name, params, count)
    print(f"{name:28s} {str(tuple(inp.shape)):>18s} {str(tuple(out.shape)):>18s} {params:10d}")
standard = VARIANTS[0][4]                        # a full 3x3 conv 16 -> 32
print(f"\ndepthwise-separable uses {VARIANTS[5][4]} parameters where a full 3x3 conv uses "
      f"{standard}: {standard / VARIANTS[5][4]:.1f}x fewer")

# %% [markdown]
# The identities that define the variants:
#
# * multi-channel: $Y_o = b_o + \sum_c X_c \star K_{oc}$, a sum of single-channel correlations;
# * 3-D: a $k_d \times k \times k$ kernel sums $k_d$ 2-D convolutions over neighbouring slices;
# * 1x1: a matrix product over channels at every pixel, $Y_{o,ij} = \sum_c W_{oc} X_{c,ij}$;
# * grouped ($g$ groups): $g$ independent convolutions on slices of $C_{in}/g$ channels,
#   concatenated (depthwise: $g = C_{in}$, one filter per channel);
# * dilated ($d$): the kernel with $d - 1$ zeros inserted between its taps (receptive field
#   $d(k - 1) + 1$);
# * transposed: the adjoint of the convolution, i.e. the map that backpropagates through it:
#   `conv_transpose2d(G, K)` $= \partial \langle \text{conv2d}(X, K), G \rangle / \partial X$.

# %%
xs = rng.normal(size=(2, 4, 8, 8))
ws = rng.normal(size=(6, 4, 3, 3))
bs = rng.normal(size=6)
y = F.conv2d(t64(xs), t64(ws), t64(bs)).data

# multi-channel = sum over input channels of single-channel correlations
y_hand = np.array([[bs[o] + sum(corr2d(xs[n, c], ws[o, c]) for c in range(4))
                    for o in range(6)] for n in range(2)])
np.testing.assert_allclose(y, y_hand, rtol=1e-12, atol=1e-12)

# 3-D = sum of 2-D convolutions of neighbouring slices
x3 = rng.normal(size=(1, 2, 5, 6, 6))
w3 = rng.normal(size=(3, 2, 3, 3, 3))
y3 = F.conv3d(t64(x3), t64(w3)).data
for z in range(y3.shape[2]):
    slices = sum(F.conv2d(t64(x3[:, :, z + dz]), t64(w3[:, :, dz])).data for dz in range(3))
    np.testing.assert_allclose(y3[:, :, z], slices, rtol=1e-12, atol=1e-12)

# 1x1 = a channel mixing matrix at every pixel
w1 = rng.normal(size=(6, 4, 1, 1))
np.testing.assert_allclose(F.conv2d(t64(xs), t64(w1)).data,
                           np.einsum("oc,nchw->nohw", w1[:, :, 0, 0], xs), rtol=1e-12)

# grouped = independent convolutions of channel slices, concatenated
wg = rng.normal(size=(6, 2, 3, 3))                          # 2 groups: 4 -> 6 channels
grouped = F.conv2d(t64(xs), t64(wg), groups=2).data
halves = [F.conv2d(t64(xs[:, 2 * i:2 * i + 2]), t64(wg[3 * i:3 * i + 3])).data for i in range(2)]
np.testing.assert_allclose(grouped, np.concatenate(halves, 1), rtol=1e-12)

# depthwise = one filter per channel
wd = rng.normal(size=(4, 1, 3, 3))
depthwise = F.conv2d(t64(xs), t64(wd), groups=4).data
np.testing.assert_allclose(depthwise[1, 2], corr2d(xs[1, 2], wd[2, 0]), rtol=1e-12)

# dilated = the kernel with zeros between its taps
wz = np.zeros((6, 4, 5, 5))
wz[:, :, ::2, ::2] = ws
np.testing.assert_allclose(F.conv2d(t64(xs), t64(ws), dilation=2).data,
                           F.conv2d(t64(xs), t64(wz)).data, rtol=1e-12)

# transposed = the adjoint: the gradient of <conv2d(x, K), G> with respect to x
x_var = t64(rng.normal(size=(2, 4, 7, 7)), requires_grad=True)
y_var = F.conv2d(x_var, t64(ws), stride=2, padding=1)
g = rng.normal(size=y_var.shape)
(y_var * t64(g)).sum().backward()
np.testing.assert_allclose(F.conv_transpose2d(t64(g), t64(ws), stride=2, padding=1).data,
                           x_var.grad.data, rtol=1e-12, atol=1e-12)
print("multi-channel, 3-D, 1x1, grouped, depthwise, dilated and transposed identities hold")

# %% [markdown]
# ## 4. Pooling and its gradient
#
# Max pooling keeps the largest value of each window; its gradient sends each window's
# output gradient to the position of that maximum and zero elsewhere. Average pooling
# spreads it evenly, $1/k^2$ to each position. When windows overlap (3x3 windows, stride 2)
# the contributions add up.

# %%
def pool_by_hand(x, g, k, s, mode):
    """Loops over the windows of one (H, W) map: (output, input gradient)."""
    ho, wo = out_size(x.shape[0], k, s), out_size(x.shape[1], k, s)
    out, dx = np.zeros((ho, wo)), np.zeros_like(x)
    for i in range(ho):
        for j in range(wo):
            window = x[i * s:i * s + k, j * s:j * s + k]
            if mode == "max":
                m, n = np.unravel_index(np.argmax(window), window.shape)
                out[i, j] = window[m, n]
                dx[i * s + m, j * s + n] += g[i, j]
            else:
                out[i, j] = window.mean()
                dx[i * s:i * s + k, j * s:j * s + k] += g[i, j] / k ** 2
    return out, dx


xp = rng.normal(size=(1, 1, 9, 9))
for mode, pool in [("max", F.max_pool2d), ("avg", F.avg_pool2d)]:
    for k, s in [(2, 2), (3, 2)]:
        x = t64(xp, requires_grad=True)
        y = pool(x, k, s)
        g = rng.normal(size=y.shape)
        y.backward(t64(g))
        out, dx = pool_by_hand(xp[0, 0], g[0, 0], k, s, mode)
        np.testing.assert_allclose(y.data[0, 0], out, rtol=1e-12)
        np.testing.assert_allclose(x.grad.data[0, 0], dx, rtol=1e-12, atol=1e-14)
print("max and average pooling, 2x2/2 and overlapping 3x3/2: values and gradients agree")

# %%
x = t64(xp, requires_grad=True)
y = F.max_pool2d(x, 3, 2)
y.backward(ag.ones_like(y))
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
for ax, data, title in zip(axes, [xp[0, 0], y.data[0, 0], x.grad.data[0, 0]],
                           ["input", "max pool 3x3, stride 2", "gradient of sum(output)"]):
    im = ax.imshow(data, cmap="viridis")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8)
fig.suptitle("Overlapping max pooling: a value that is the maximum of several windows "
             "receives several gradients")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. LeNet-5 on handwritten digits
#
# `nn.models.LeNet5` is the classic network: conv 5x5 (6 maps) → pool → conv 5x5 (16 maps) →
# pool → 120 → 84 → 10 units, on 32x32 inputs. The scikit-learn digits are 8x8 images;
# we enlarge them 4x (each pixel a 4x4 block) to the paper's input size. The recorded graph of
# one forward and backward pass, grouped by module:

# %%
train, test = load_digits(seed=0)
n_train = min(len(train), 600 * SCALE)


def enlarge(images):
    return ag.tensor(np.kron(images.data, np.ones((1, 1, 4, 4), dtype=np.float32)))


x_train, y_train = enlarge(train.tensors[0][:n_train]), train.tensors[1][:n_train]
x_test, y_test = enlarge(test.tensors[0]), test.tensors[1]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")

lenet = LeNet5(padding=0, activation="relu", pool="max")
print(lenet)
with ag.viz.trace():
    loss = F.cross_entropy(lenet(x_train[:2]), y_train[:2])
    loss.backward()
ag.viz.draw(loss, params=lenet)


# %%
def accuracy(model, x, y, batch=500):
    model.eval()
    with ag.no_grad():
        pred = np.concatenate([model(x[i:i + batch]).data.argmax(1)
                               for i in range(0, x.shape[0], batch)])
    model.train()
    return float(np.mean(pred == y.data))


def train_classifier(model, x, y, x_val, y_val, epochs, lr, batch=32, seed=0):
    """Adam on shuffled mini-batches -> (loss per step, validation accuracy per epoch)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    order = np.random.default_rng(seed)
    losses, val_acc = [], [accuracy(model, x_val, y_val)]
    for _ in range(epochs):
        perm = order.permutation(x.shape[0])
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        val_acc.append(accuracy(model, x_val, y_val))
    return np.array(losses), np.array(val_acc)


ag.manual_seed(0)
lenet = LeNet5(padding=0, activation="relu", pool="max")
lenet_losses, lenet_acc = train_classifier(lenet, x_train, y_train, x_test, y_test,
                                           epochs=3 * SCALE, lr=2e-3)
print("test accuracy per epoch:", lenet_acc)
assert lenet_acc[-1] > 0.8


# %%
def show_curves(losses, acc, title):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax1.plot(losses, alpha=0.4, label="per step")
    smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
    ax1.plot(np.arange(9, len(losses)), smooth, label="moving average (10)")
    ax1.set(xlabel="step", ylabel="cross-entropy", title=f"{title}: training loss")
    ax1.legend()
    ax2.plot(np.arange(len(acc)), acc, "o-")
    ax2.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=f"{title}: test accuracy")
    fig.tight_layout()
    plt.show()


def show_filters(weight, title, cols=8):
    w = weight.data[:, 0] if weight.shape[1] == 1 else weight.data.mean(1)
    rows = -(-w.shape[0] // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.4 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, f in zip(axes.flat, w):
        ax.imshow(f, cmap="gray")
    fig.suptitle(title)
    plt.show()


show_curves(lenet_losses, lenet_acc, "LeNet-5 on digits")
show_filters(lenet.features[0].weight, "LeNet-5: the six learned 5x5 filters of C1")

# %% [markdown]
# The feature maps of the first layer for one test digit: each filter responds to strokes of
# one orientation or position.

# %%
with ag.no_grad():
    maps = lenet.features[1](lenet.features[0](x_test[:1])).data[0]
fig, axes = plt.subplots(1, 7, figsize=(13, 2.2))
axes[0].imshow(x_test.data[0, 0], cmap="gray")
axes[0].set_title(f"input ({int(y_test.data[0])})")
for i, ax in enumerate(axes[1:]):
    ax.imshow(maps[i], cmap="magma")
    ax.set_title(f"map {i}")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 6. A small ResNet on Fashion-MNIST
#
# A residual block adds its input to the output of two 3x3 convolutions,
# $y = \text{relu}(F(x) + x)$ with $F = \text{BN} \circ \text{conv} \circ \text{relu} \circ
# \text{BN} \circ \text{conv}$, so that the gradient reaches early layers through the identity
# path. First one `BasicBlock` recomputed by hand (im2col convolutions, batch normalisation
# with its running statistics in evaluation mode):

# %%
block = BasicBlock(8, 8).double()
for bn in (block.bn1, block.bn2):                # non-trivial statistics and affine parameters
    bn.running_mean.data[:] = rng.normal(size=8)
    bn.running_var.data[:] = rng.uniform(0.5, 2, size=8)
    bn.weight.data[:] = rng.uniform(0.5, 1.5, size=8)
    bn.bias.data[:] = rng.normal(size=8)
block.eval()


def batch_norm_eval(x, bn):
    scale = bn.weight.data / np.sqrt(bn.running_var.data + bn.eps)
    return (x - bn.running_mean.data[:, None, None]) * scale[:, None, None] \
        + bn.bias.data[:, None, None]


xb = rng.normal(size=(2, 8, 6, 6))
no_bias = np.zeros(8)
h = np.maximum(batch_norm_eval(conv2d_im2col(xb, block.conv1.weight.data, no_bias, padding=1),
                               block.bn1), 0)
f = batch_norm_eval(conv2d_im2col(h, block.conv2.weight.data, no_bias, padding=1), block.bn2)
with ag.no_grad():
    np.testing.assert_allclose(block(t64(xb)).data, np.maximum(f + xb, 0), rtol=1e-11,
                               atol=1e-12)
print("BasicBlock = relu(BN(conv(relu(BN(conv(x))))) + x)")

# %% [markdown]
# Then a ResNet with one block per stage (widths 8, 16, 32, 64) trained on a few hundred
# Fashion-MNIST images (the data files are read from `$TAPEGRAD_DATA`; without them this part
# is skipped).

# %%
try:
    images, labels = load_fashion_mnist(DATA, train=True)
except FileNotFoundError as exc:
    images = None
    print(f"Fashion-MNIST not found, skipping the ResNet run ({exc})")

if images is not None:
    pick = np.random.default_rng(1).permutation(len(labels))
    n_fit, n_val = 800 * SCALE, 200 * SCALE
    fx = ag.tensor(images[pick[:n_fit + n_val], None].astype(np.float32) / 255)
    fy = ag.tensor(labels[pick[:n_fit + n_val]])
    ag.manual_seed(0)
    resnet = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10, width=8, in_channels=1,
                    small_input=True)
    print(f"ResNet: {sum(p.numel() for p in resnet.parameters())} parameters, "
          f"{n_fit} training and {n_val} test images")
    resnet_losses, resnet_acc = train_classifier(
        resnet, fx[:n_fit], fy[:n_fit], fx[n_fit:], fy[n_fit:], epochs=5 * SCALE, lr=3e-3)
    print("test accuracy per epoch:", resnet_acc)
    assert resnet_acc[-1] > 0.5
    show_curves(resnet_losses, resnet_acc, "ResNet on Fashion-MNIST")
    show_filters(resnet.conv1.weight, "ResNet: the learned 3x3 filters of the stem")

# %%
if images is not None:
    resnet.eval()
    with ag.no_grad():
        pred = resnet(fx[n_fit:n_fit + 12]).data.argmax(1)
    fig, axes = plt.subplots(2, 6, figsize=(12, 4.5))
    for ax, img, p, t in zip(axes.flat, fx.data[n_fit:n_fit + 12, 0], pred,
                             fy.data[n_fit:n_fit + 12]):
        ax.imshow(img, cmap="gray_r")
        ax.set_title(f"{FASHION_MNIST_CLASSES[p]}\n(true: {FASHION_MNIST_CLASSES[t]})",
                     fontsize=8, color="k" if p == t else "r")
        ax.axis("off")
    fig.tight_layout()
    plt.show()
