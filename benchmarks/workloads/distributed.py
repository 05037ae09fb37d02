"""Data-parallel training over MPI: Allreduce bandwidth and one DistributedDataParallel step.

    allreduce_1mb ... allreduce_64mb   one in-place Allreduce (sum) of a float32 buffer between
                                       2 processes; bandwidth = buffer bytes / time
    ddp_mlp_step                       one training step (forward, cross-entropy, backward with
                                       gradient averaging, Adam) of an MLP 784-512-512-10,
                                       global batch 256: ours = 2 processes of 128 samples;
                                       baselines: "1 process" (the whole batch in one process),
                                       "allreduce" (per step, the 2-process time spent inside
                                       the gradient Allreduce calls: the communication share)

Every call launches `mpiexec -n N python _distributed_job.py ...` and returns the time the job
measured itself (process start-up is not counted): self-timed. BLAS threads per process =
the runner's thread count (--threads, default all CPUs) / processes, at least 1, so by default
both sides use the whole machine; on a busy machine a multi-threaded single process suffers
most (compare with --threads 1). On 2 cores expect no speed-up from 2 processes; the numbers
are what they are. Skipped without mpi4py or mpiexec
(pip install -e ".[dist]"). Not in --quick (each call starts MPI processes); run with
`python -m benchmarks --only allreduce ddp_mlp_step`. There is no PyTorch side.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

from . import Skip, Workload, pick, register

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JOB = os.path.join(HERE, "_distributed_job.py")
GLOBAL_BATCH = 256


def _mpiexec():
    if importlib.util.find_spec("mpi4py") is None:
        raise Skip('mpi4py is not installed (pip install -e ".[dist]")')
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if found is None:
        raise Skip('mpiexec not found (pip install -e ".[dist]" brings mpich)')
    return found


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _launcher(nprocs, *args):
    """A zero-arg callable running the job once; returns its JSON result."""
    mpiexec = _mpiexec()
    budget = int(os.environ.get("OMP_NUM_THREADS") or _cores())   # the runner's --threads
    threads = str(max(1, budget // nprocs))
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads,
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    cmd = [mpiexec, "-n", str(nprocs), sys.executable, JOB, *map(str, args)]

    def run():
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env,
                             timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {out.returncode}:\n"
                               f"{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    return run


def _allreduce(megabytes):
    def setup(quick):
        iters = pick(quick, full=20, quick=10, tiny=2)
        job = _launcher(2, "allreduce", megabytes * 2**20, iters)
        return lambda: job()["seconds"]
    return setup


def _step(nprocs, key):
    def setup(quick):
        iters = pick(quick, full=10, quick=5, tiny=1)
        job = _launcher(nprocs, "step", GLOBAL_BATCH, iters)
        return lambda: job()[key]
    return setup


for _mb in (1, 4, 16, 64):
    register(Workload(
        name=f"allreduce_{_mb}mb",
        sizes=f"{_mb} MB float32, 2 processes",
        description="in-place MPI Allreduce (sum) between 2 processes on this host; "
                    f"bandwidth = {_mb} MB / time",
        setup_ours=_allreduce(_mb), self_timed=True, threaded=False, quick=False,
        repeats=lambda q: pick(q, full=5, quick=3, tiny=1),
        meta={"bytes": _mb * 2**20, "processes": 2},
    ))

register(Workload(
    name="ddp_mlp_step",
    sizes=f"MLP 784-512-512-10, batch {GLOBAL_BATCH} = 2 x {GLOBAL_BATCH // 2}, float32",
    description="DistributedDataParallel training step, 2 processes (ours) vs 1 process; "
                "'allreduce' = time per step inside the gradient Allreduce calls",
    setup_ours=_step(2, "seconds"),
    baselines={"1 process": _step(1, "seconds"), "allreduce": _step(2, "allreduce")},
    self_timed=True, threaded=False, quick=False,
    repeats=lambda q: pick(q, full=5, quick=3, tiny=1),
    meta={"processes": 2},
))
