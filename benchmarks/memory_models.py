"""Learning runs of issue 13's models, with their numbers (accuracy, bit error, objective, time).

    python -m benchmarks.memory_models [--only memn2n ntm unrolled] [--quick] [--json FILE]
                                       [--threads 1]

memn2n    MemN2N (3 hops, d = 20, position + temporal encoding) on the synthetic bAbI tasks:
          single supporting fact (1000 training stories, 20 epochs, adjacent and layer-wise
          tying) and two supporting facts (10 000 stories, 8 epochs of linear start, 40
          epochs); test accuracy on 1000 fresh stories.
ntm       copy task (8-bit vectors, lengths 1..10): the NTM (LSTM controller 100, memory
          128 x 20, one read and one write head) against a one-layer LSTM with about the same
          number of parameters, same batches (32 sequences) and optimiser (Adam); per-bit error
          on lengths 1..20 (11..20 never seen in training) and the number of training
          sequences each needed to bring the per-bit error on lengths 1..10 below 1 %.
unrolled  sparse coding on a random 20 x 50 dictionary (lam = 0.1): the test objective of ISTA
          after 5, 50, 500 iterations and of LISTA (shared and unshared) and SC2Net with K = 5
          trained on the objective (3000 Adam steps of 256 samples).
Times are wall-clock seconds of the training loops (and CPU seconds, which a loaded machine
inflates less). BLAS runs on --threads threads (default 1: the matrices are small, and on a
shared machine a thread pool waiting at every call can make a step many times slower).
"""
import argparse
import contextlib
import json
import time

import numpy as np

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.datasets.babi_synthetic import babi_synthetic
from nn.models.memn2n import MemN2N
from nn.models.ntm import NTM, copy_bit_errors, copy_task
from nn.models.unrolled import (LISTA, SC2Net, ista, sparse_coding_objective,
                                sparse_coding_problem)


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


# -- memory networks -------------------------------------------------------------------------
def train_memn2n(train, epochs, lr=0.01, hops=3, linear_start_epochs=0, seed=0, batch_size=32,
                 weight_tying="adjacent", embedding_dim=20):
    """Adam on cross-entropy, gradient norm clipped at 40 (the paper's value)."""
    ag.manual_seed(seed)
    model = MemN2N(len(train.vocab), embedding_dim, train.stories.shape[1], hops=hops,
                   weight_tying=weight_tying)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.linear_start = epoch < linear_start_epochs
        order = rng.permutation(len(train))
        for start in range(0, len(train), batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(model(train.stories[idx], train.queries[idx]),
                                   train.answers[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 40.0)
            opt.step()
    model.linear_start = False
    return model


def accuracy(model, data):
    with ag.no_grad():
        predicted = model(data.stories, data.queries).data.argmax(axis=1)
    return float((predicted == data.answers.data).mean())


def support_attention(model, data):
    """Fraction of questions where some hop's strongest attention is a supporting sentence."""
    with ag.no_grad():
        focus = model.attention(data.stories, data.queries).data.argmax(axis=2)    # (B, K)
    hits = (focus[:, :, None] == data.supports[:, None, :]).any(axis=(1, 2))
    return float(hits.mean())


def run_memn2n(quick):
    results = []
    configs = [(1, 1000, 20, 0.01, 0, "adjacent"), (1, 1000, 20, 0.01, 0, "layerwise"),
               (2, 10000, 40, 0.005, 8, "adjacent")]
    if quick:
        configs = [(1, 1000, 20, 0.01, 0, "adjacent"), (2, 2000, 20, 0.005, 5, "adjacent")]
    for task, n_train, epochs, lr, ls, tying in configs:
        train, test = babi_synthetic(n_train, task=task, seed=0), babi_synthetic(1000, task=task,
                                                                                  seed=1)
        with Timer() as t:
            model = train_memn2n(train, epochs, lr=lr, linear_start_epochs=ls,
                                 weight_tying=tying)
        row = dict(model="MemN2N", task=task, weight_tying=tying, train_stories=n_train,
                   epochs=epochs, linear_start_epochs=ls, train_acc=accuracy(model, train),
                   test_acc=accuracy(model, test), support_attention=support_attention(model,
                                                                                       test),
                   wall_s=t.wall, cpu_s=t.cpu)
        print(f"MemN2N task {task} ({tying}, {n_train} stories, {epochs} epochs): train "
              f"{row['train_acc']:.3f} test {row['test_acc']:.3f}, attention on a support "
              f"{row['support_attention']:.3f}, {t.wall:.1f} s ({t.cpu:.1f} s CPU)", flush=True)
        results.append(row)
    return results


# -- NTM against LSTM on the copy task -------------------------------------------------------
class LSTMCopier(nn.Module):
    """A one-layer LSTM and a linear read-out: x (T, B, 9) -> logits (T, B, 8)."""

    def __init__(self, hidden_size, input_size=9, output_size=8):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.out(self.lstm(x)[0])


def count_parameters(model):
    return sum(p.data.size for p in model.parameters())


def matched_lstm_hidden(target, input_size=9, output_size=8):
    """The hidden size whose one-layer LSTM + read-out has the closest parameter count."""
    def params(h):
        return 4 * h * (input_size + h + 2) + h * output_size + output_size
    return min(range(1, 1024), key=lambda h: abs(params(h) - target))


def copy_errors(model, lengths, samples=64, seed=1000):
    """Per-bit error (fraction of wrong bits) for each length, on fixed fresh sequences."""
    errors = {}
    with ag.no_grad():
        for length in lengths:
            x, target = copy_task(samples, length, seed=seed + length)
            wrong = copy_bit_errors(model(x)[-length:], target)
            errors[length] = float(wrong.mean() / (8 * length))
    return errors


def train_copy(model, iterations, lengths=(1, 10), batch_size=32, lr=1e-2, clip=10.0, seed=0,
               eval_every=None, eval_lengths=range(1, 11), threshold=0.01):
    """Adam on the bits of the recall phase; lengths uniform in [lengths[0], lengths[1]].
    Returns (curve, sequences needed): curve = [(sequences seen, mean per-bit error on
    eval_lengths)], and the first count of sequences at which that error was < threshold."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    curve, needed = [], None
    for it in range(1, iterations + 1):
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        x, target = copy_task(batch_size, length, seed=rng)
        loss = F.binary_cross_entropy_with_logits(model(x)[-length:], target)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if eval_every and it % eval_every == 0:
            error = float(np.mean(list(copy_errors(model, eval_lengths).values())))
            curve.append((it * batch_size, error))
            if needed is None and error < threshold:
                needed = it * batch_size
    return curve, needed


def run_ntm(quick):
    iterations = 600 if quick else 4000
    ag.manual_seed(0)
    ntm = NTM(9, 8, controller_size=100, memory_slots=128, memory_width=20)
    hidden = matched_lstm_hidden(count_parameters(ntm))
    ag.manual_seed(0)
    lstm = LSTMCopier(hidden)
    results = []
    for name, model, lr in (("NTM", ntm, 1e-2), ("LSTM", lstm, 1e-2)):
        with Timer() as t:
            curve, needed = train_copy(model, iterations, lr=lr, eval_every=100)
        errors = copy_errors(model, range(1, 21))
        row = dict(model=name, parameters=count_parameters(model), iterations=iterations,
                   sequences=iterations * 32, sequences_to_1pct=needed, curve=curve,
                   per_bit_error=errors, wall_s=t.wall, cpu_s=t.cpu)
        print(f"{name} ({row['parameters']} parameters): {iterations * 32} sequences in "
              f"{t.wall:.1f} s ({t.cpu:.1f} s CPU); per-bit error < 1 % on lengths 1-10 after "
              f"{needed} sequences", flush=True)
        print("  per-bit error by length: " +
              " ".join(f"{k}:{v:.3f}" for k, v in errors.items()), flush=True)
        results.append(row)
    return results


# -- unrolled optimisation -------------------------------------------------------------------
def train_unrolled(model, x, B, lam, steps, lr=3e-3, batch_size=256, seed=0):
    """Adam on the sparse-coding objective itself (unsupervised)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.integers(0, x.shape[0], batch_size)
        loss = sparse_coding_objective(x[idx], model(x[idx]), B, lam)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def run_unrolled(quick, lam=0.1):
    steps = 300 if quick else 3000
    x, _, B = sparse_coding_problem(5000, seed=0)
    x_test, _, _ = sparse_coding_problem(1000, seed=1, dictionary=B)
    results = []
    with ag.no_grad():
        for iterations in (5, 50, 500):
            with Timer() as t:
                codes = ista(x_test, B, lam, iterations)
            value = sparse_coding_objective(x_test, codes, B, lam).item()
            results.append(dict(model=f"ISTA {iterations} iterations", objective=value,
                                wall_s=t.wall))
            print(f"ISTA, {iterations} iterations: test objective {value:.4f}", flush=True)
    for name, model in (("LISTA K=5", LISTA.from_dictionary(B, lam, 5)),
                        ("LISTA K=5 unshared", LISTA.from_dictionary(B, lam, 5, shared=False)),
                        ("SC2Net K=5", SC2Net.from_dictionary(B, lam, 5))):
        with Timer() as t:
            train_unrolled(model, x, B, lam, steps)
        with ag.no_grad():
            value = sparse_coding_objective(x_test, model(x_test), B, lam).item()
        results.append(dict(model=name, objective=value, steps=steps, wall_s=t.wall,
                            cpu_s=t.cpu))
        print(f"{name} after {steps} steps: test objective {value:.4f} ({t.wall:.1f} s, "
              f"{t.cpu:.1f} s CPU)", flush=True)
    return results


RUNS = {"memn2n": run_memn2n, "ntm": run_ntm, "unrolled": run_unrolled}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), default=sorted(RUNS))
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
            stack.enter_context(threadpool_limits(args.threads, user_api="blas"))
        except ImportError:
            pass
        results = {name: RUNS[name](args.quick) for name in args.only}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
