"""nanoGPT's small CPU configuration on tiny Shakespeare, ours and PyTorch's, same model.

    python -m benchmarks.nanogpt [--iters 2000] [--sides ours torch] [--threads 2]
                                 [--data DIR] [--json FILE]

The configuration of nanoGPT's README CPU run (config/train_shakespeare_char.py with
--block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
--lr_decay_iters=2000 --dropout=0.0): character tokens with a 90/10 train/val split, no
biases, AdamW (lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on the matrices), 100 warm-up
iterations then cosine decay to 1e-4, gradient clipping at 1.0. nanoGPT reports a validation
loss of 1.88 there. Both sides start from the same weights and see the same batches; the
validation loss is the mean over `--eval-batches` random validation batches. Prints one line
per side: final val loss, train loss, wall time of the training loop (evaluation excluded).
"""
import argparse
import functools
import json
import math
import os
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = dict(block_size=64, batch_size=12, n_layer=4, n_head=4, n_embd=128, lr=1e-3,
              min_lr=1e-4, warmup=100, weight_decay=0.1, betas=(0.9, 0.99), grad_clip=1.0)


def lr_at(it, iters, cfg=CONFIG):
    """nanoGPT's get_lr: linear warm-up, then cosine from lr down to min_lr at `iters`."""
    if it < cfg["warmup"]:
        return cfg["lr"] * (it + 1) / (cfg["warmup"] + 1)
    if it > iters:
        return cfg["min_lr"]
    ratio = (it - cfg["warmup"]) / max(1, iters - cfg["warmup"])
    return cfg["min_lr"] + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg["lr"] - cfg["min_lr"])


@functools.lru_cache(maxsize=1)
def _torch_model_classes():
    import torch
    import torch.nn.functional as TF

    class CausalSelfAttention(torch.nn.Module):
        def __init__(self, n_embd, n_head, bias):
            super().__init__()
            self.c_attn = torch.nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = torch.nn.Linear(n_embd, n_embd, bias=bias)
            self.n_head = n_head

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(x).split(c, dim=2)
            q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
                       for z in (q, k, v))
            y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))

    class MLP(torch.nn.Module):
        def __init__(self, n_embd, bias):
            super().__init__()
            self.c_fc = torch.nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.c_proj = torch.nn.Linear(4 * n_embd, n_embd, bias=bias)

        def forward(self, x):
            return self.c_proj(TF.gelu(self.c_fc(x)))

    class Block(torch.nn.Module):
        def __init__(self, n_embd, n_head, bias):
            super().__init__()
            self.ln_1 = torch.nn.LayerNorm(n_embd, bias=bias)
            self.attn = CausalSelfAttention(n_embd, n_head, bias)
            self.ln_2 = torch.nn.LayerNorm(n_embd, bias=bias)
            self.mlp = MLP(n_embd, bias)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(torch.nn.Module):
        """nanoGPT's model (no dropout), with our GPT's parameter names."""

        def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias=False):
            super().__init__()
            self.vocab_size = vocab_size
            self.wte = torch.nn.Embedding(vocab_size, n_embd)
            self.wpe = torch.nn.Embedding(block_size, n_embd)
            self.blocks = torch.nn.ModuleList([Block(n_embd, n_head, bias)
                                               for _ in range(n_layer)])
            self.ln_f = torch.nn.LayerNorm(n_embd, bias=bias)
            self.lm_head = torch.nn.Linear(n_embd, vocab_size, bias=False)
            self.wte.weight = self.lm_head.weight

        def forward(self, idx, targets=None):
            b, t = idx.shape
            x = self.wte(idx) + self.wpe(torch.arange(t))
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            if targets is None:
                return logits, None
            return logits, TF.cross_entropy(logits.view(b * t, -1), targets.view(b * t),
                                            ignore_index=-1)

    return TorchGPT


def __getattr__(name):
    if name == "TorchGPT":                  # built on first use: torch is imported lazily
        return _torch_model_classes()
    raise AttributeError(name)


def copy_gpt_weights(ours, theirs):
    """Copy our GPT's parameters into the PyTorch model (the same names and shapes)."""
    import torch
    state = {name: p.data for name, p in ours.named_parameters()}
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(np.ascontiguousarray(state[name], dtype=np.float64))
                    .to(p.dtype))


def _batches(data, n, rng, cfg):
    """n batches (x, y) of int64 arrays (batch_size, block_size), nanoGPT's get_batch."""
    block, batch = cfg["block_size"], cfg["batch_size"]
    out = []
    for _ in range(n):
        starts = rng.integers(0, len(data) - block, size=batch)
        offsets = starts[:, None] + np.arange(block)
        out.append((data[offsets], data[offsets + 1]))
    return out


def run_ours(model, train_batches, val_batches, iters, cfg=CONFIG):
    import autograd as ag
    import optim
    from nn.utils import clip_grad_norm_
    opt = optim.AdamW(model.optimizer_groups(cfg["weight_decay"]), lr=cfg["lr"],
                      betas=cfg["betas"])
    params = list(model.parameters())
    start = time.perf_counter()
    for it, (x, y) in enumerate(train_batches[:iters]):
        for group in opt.param_groups:
            group["lr"] = lr_at(it, iters, cfg)
        loss = model(ag.from_numpy(x), ag.from_numpy(y))[1]
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(params, cfg["grad_clip"])
        opt.step()
    seconds = time.perf_counter() - start
    with ag.no_grad():
        val = [model(ag.from_numpy(x), ag.from_numpy(y))[1].item() for x, y in val_batches]
    return dict(val_loss=float(np.mean(val)), train_loss=loss.item(), seconds=seconds)


def run_torch(model, train_batches, val_batches, iters, cfg=CONFIG):
    import torch
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=cfg["weight_decay"]),
                             dict(params=other, weight_decay=0.0)], lr=cfg["lr"],
                            betas=cfg["betas"])
    start = time.perf_counter()
    for it, (x, y) in enumerate(train_batches[:iters]):
        for group in opt.param_groups:
            group["lr"] = lr_at(it, iters, cfg)
        loss = model(torch.from_numpy(x), torch.from_numpy(y))[1]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        val = [model(torch.from_numpy(x), torch.from_numpy(y))[1].item()
               for x, y in val_batches]
    return dict(val_loss=float(np.mean(val)), train_loss=loss.item(), seconds=seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--sides", nargs="+", default=["ours", "torch"],
                        choices=["ours", "torch"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--eval-batches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--data", default=os.environ.get(
        "TAPEGRAD_DATA", os.path.join(ROOT, "..", "shared", "data")))
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import autograd as ag
    from autograd.datasets.shakespeare import load_tiny_shakespeare
    from nn.models.gpt import GPT
    corpus = load_tiny_shakespeare(args.data, val_fraction=0.1)
    rng = np.random.default_rng(args.seed)
    train_batches = _batches(corpus.train, args.iters, rng, CONFIG)
    val_batches = _batches(corpus.val, args.eval_batches, rng, CONFIG)
    ag.manual_seed(args.seed)
    vocab = corpus.tokenizer.vocab_size
    ours = GPT(vocab, CONFIG["block_size"], CONFIG["n_layer"], CONFIG["n_head"],
               CONFIG["n_embd"], dropout=0.0, bias=False)
    results = {}
    if "torch" in args.sides:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
        theirs = _torch_model_classes()(vocab, CONFIG["block_size"], CONFIG["n_layer"],
                                        CONFIG["n_head"], CONFIG["n_embd"], bias=False)
        copy_gpt_weights(ours, theirs)
        results["torch"] = run_torch(theirs, train_batches, val_batches, args.iters)
    if "ours" in args.sides:
        results["ours"] = run_ours(ours, train_batches, val_batches, args.iters)
    for side, r in results.items():
        print(f"{side:6s} iters {args.iters}  val loss {r['val_loss']:.4f}  train loss "
              f"{r['train_loss']:.4f}  training {r['seconds']:.1f} s "
              f"({1e3 * r['seconds'] / args.iters:.1f} ms/iter)")
    if len(results) == 2:
        ratio = results["ours"]["seconds"] / results["torch"]["seconds"]
        print(f"ours / torch wall time: {ratio:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(config=CONFIG, iters=args.iters, results=results), f, indent=2)
    return results


if __name__ == "__main__":
    main()
