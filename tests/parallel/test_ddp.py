"""DistributedDataParallel under `mpiexec -n 2` on localhost, launched as subprocesses.

_ddp_train.py trains an MLP and a small CNN (float64, 20 steps, several optimizers and sync
modes) with two processes and compares with one process on the concatenated batches;
_ddp_abort.py checks that a rank raising mid-training ends the job. Skipped without mpi4py or
mpiexec (pip install -e ".[dist]" installs both).
"""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _find_mpiexec():
    """The mpiexec next to this Python (the mpich wheel's, matching mpi4py), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside):
        return beside
    return shutil.which("mpiexec")


MPIEXEC = _find_mpiexec()
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                       reason='mpi4py is not installed (pip install -e ".[dist]")'),
    pytest.mark.skipif(MPIEXEC is None,
                       reason='mpiexec not found (pip install -e ".[dist]" brings mpich)'),
]


def _env():
    """One BLAS thread per process (2 processes on 2 cores), the repository importable."""
    return dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))


def run_mpi(script, *args, n=2, timeout=120):
    """(returncode, stdout, stderr, seconds) of `mpiexec -n n python script args`; the whole
    process group is killed when it runs past timeout (the test then fails)."""
    cmd = [MPIEXEC, "-n", str(n), sys.executable, os.path.join(HERE, script), *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=_env(), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} still running after {timeout} s (a hang?)\n"
                    f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}")
    return proc.returncode, out, err, time.perf_counter() - start


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    out_path, ckpt_path = tmp / "results.json", tmp / "ckpt.safetensors"
    code, out, err, _ = run_mpi("_ddp_train.py", str(out_path), str(ckpt_path))
    assert code == 0, f"mpiexec exited with {code}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-5000:]}"
    with open(out_path) as fh:
        return json.load(fh)


TRAINING = ["mlp_auto_sgd", "mlp_explicit_adam", "cnn_auto_sgd", "cnn_auto_adam",
            "mlp_no_sync_accumulation", "mlp_unused_param_flush"]


@pytest.mark.parametrize("scenario", TRAINING)
def test_two_processes_match_one_process_on_concatenated_batches(results, scenario):
    r = results[scenario]
    assert r["replica_diff"] <= 1e-10, r       # the replicas agree with each other ...
    assert r["ref_diff"] <= 1e-10, r           # ... and with one process on both shards


@pytest.mark.parametrize("scenario", TRAINING)
def test_gradients_are_averaged_in_a_few_buckets(results, scenario):
    r = results[scenario]
    assert 1 < r["buckets"] < r["n_params"], r
    assert r["allreduce_per_step"] == [r["buckets"]], r   # one Allreduce per bucket and step


def test_resuming_from_a_rank0_checkpoint_restores_every_rank(results):
    r = results["checkpoint_resume"]
    assert r["replica_diff"] == 0.0, r
    assert r["resume_diff"] == 0.0, r          # as if training had not stopped


def test_a_parameter_without_gradient_is_reported_at_the_next_forward(results):
    assert "['unused']" in results["unused_param_error"], results["unused_param_error"]
    assert "allreduce_gradients" in results["unused_param_error"]


def test_buckets_are_averaged_in_order_whatever_order_backward_takes(results):
    # rank 1 uses the two weights (one bucket each) in the opposite order to rank 0
    assert results["order_independent_buckets"] < 1e-12


def test_replicas_are_checked_and_buffers_broadcast(results):
    r = results["replica_checks"]
    assert r["refused"] == [1.0, 1.0]                   # every rank raises, none hangs
    assert "rank(s) [1]" in r["mismatch_error"]
    assert r["buffers"] == [[1.0, 0.0], [1.0, 0.0]]      # rank 0's running_mean and count


@pytest.mark.parametrize("mode", ["context", "function"])
def test_a_rank_raising_aborts_the_job_within_30_s(mode):
    code, out, err, seconds = run_mpi("_ddp_abort.py", mode, timeout=30)
    assert code != 0, (out, err)
    assert seconds < 30
    assert "[rank 1/2] ValueError: injected failure on rank 1 at step 5" in err, err
    assert "finished all steps" not in out


def test_the_example_runs_with_two_processes_and_one(tmp_path):
    args = ["--epochs", "1", "--train-size", "512", "--data", str(tmp_path)]
    code, out, err, _ = run_mpi(os.path.join("..", "..", "examples", "train_ddp.py"), *args,
                                timeout=120)
    assert code == 0, err[-3000:]
    assert "2 process(es)" in out and "epoch 1:" in out, out
    one = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_ddp.py"),
                          *args], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env=_env())
    assert one.returncode == 0, one.stderr[-3000:]
    assert "1 process(es)" in one.stdout, one.stdout
