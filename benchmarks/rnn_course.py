"""The course's recurrent experiments at full size, with their numbers and wall times:

    python -m benchmarks.rnn_course [--only adding,mnist1d,seq2seq,recursive,bptt]

adding     the adding problem at T = 100 (LSTM, GRU, tanh RNN; test MSE, baseline 1/6),
           ours and PyTorch on the same loop, data and hyper-parameters
mnist1d    bidirectional GRU (hidden 6, every step into the classifier), 4000 steps
seq2seq    additive-attention GRU encoder-decoder reversing digits, 200 steps
recursive  the recursive net on the sign of +/- expressions, 300 steps
bptt       ||dL/dh_t|| at a few t for RNN, LSTM and GRU at their default initialisation

The training loops are the tests' (tests/rnn_course/test_learning.py), at the slow sizes.
"""
import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd.datasets import adding_problem  # noqa: E402
from nn.utils.bptt import hidden_grad_norms  # noqa: E402
from tests.rnn_course.test_learning import (adding_mse, mnist1d_accuracy,  # noqa: E402
                                            recursive_sign_accuracy, seq2seq_accuracy)

ADDING = [("LSTM", 1200, 2e-2), ("GRU", 600, 1e-2), ("RNN", 1200, 1e-2)]


def torch_adding_mse(kind, seq_len, steps, lr, seed=0, hidden=32, batch=64):
    """adding_mse's loop in PyTorch (its own initialisation; same data and settings)."""
    import torch
    torch.set_num_threads(1)
    x_test, y_test = (torch.tensor(a.data) for a in adding_problem(1000, seq_len, seed=123))
    torch.manual_seed(seed)
    rnn = getattr(torch.nn, kind)(2, hidden, batch_first=True)
    if kind == "LSTM":
        with torch.no_grad():
            rnn.bias_ih_l0[hidden:2 * hidden] = 1.0
    head = torch.nn.Linear(hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x, y = (torch.tensor(a.data) for a in adding_problem(batch, seq_len, seed=rng))
        loss = torch.nn.functional.mse_loss(head(rnn(x)[0][:, -1]), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    with torch.no_grad():
        return torch.nn.functional.mse_loss(head(rnn(x_test)[0][:, -1]), y_test).item()


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run_adding():
    print("adding problem, T=100, hidden 32, batch 64 (baseline MSE 0.1667)")
    for kind, steps, lr in ADDING:
        ours, t_ours = timed(adding_mse, kind, 100, steps, lr)
        try:
            theirs, t_theirs = timed(torch_adding_mse, kind, 100, steps, lr)
            torch_part = f"torch MSE {theirs:.4f} in {t_theirs:5.1f} s"
        except ImportError:
            torch_part = "torch not installed"
        print(f"  {kind:4s} {steps:5d} steps: ours MSE {ours:.4f} in {t_ours:5.1f} s | "
              f"{torch_part}")


def run_mnist1d():
    acc, seconds = timed(mnist1d_accuracy, 4000)
    print(f"MNIST-1D bidirectional GRU (hidden 6), 4000 steps: test accuracy {acc:.3f} "
          f"in {seconds:.1f} s")


def run_seq2seq():
    acc, seconds = timed(seq2seq_accuracy, 200)
    print(f"seq2seq (reverse 5-10 digits), 200 steps: exact-sequence accuracy {acc:.3f} "
          f"in {seconds:.1f} s")


def run_recursive():
    (acc, majority), seconds = timed(recursive_sign_accuracy, 300)
    print(f"recursive net (sign of +/- expressions, 1-3 operators), 300 steps: accuracy "
          f"{acc:.3f} (majority class {majority:.3f}) in {seconds:.1f} s")


def run_bptt():
    ag.manual_seed(0)
    x = ag.randn(100, 16, 1)
    print("||dL/dh_t|| / ||dL/dh_99|| for a loss on the last step, hidden 32, default init")
    print("  t:" + " " * 16 + "  ".join(f"{t:>8d}" for t in (99, 90, 75, 50, 0)))
    lstm_open = nn.LSTM(1, 32)
    with ag.no_grad():
        lstm_open.bias_ih_l0[32:64] = 3.0                 # forget gates start open
    rows = [("RNN h", nn.RNN(1, 32), 0), ("LSTM h", nn.LSTM(1, 32), 0),
            ("LSTM c", nn.LSTM(1, 32), 1), ("LSTM c, f bias 3", lstm_open, 1),
            ("GRU h", nn.GRU(1, 32), 0)]
    for label, model, which in rows:
        norms = hidden_grad_norms(model, x, lambda out, h: out[-1].sum(), which=which)
        ratios = norms / norms[-1]
        print(f"  {label:18s}" + "  ".join(f"{ratios[t]:8.1e}" for t in (99, 90, 75, 50, 0)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="adding,mnist1d,seq2seq,recursive,bptt")
    args = parser.parse_args(argv)
    runs = {"adding": run_adding, "mnist1d": run_mnist1d, "seq2seq": run_seq2seq,
            "recursive": run_recursive, "bptt": run_bptt}
    for name in args.only.split(","):
        runs[name]()


if __name__ == "__main__":
    main()
