"""`import autograd` time, measured in a fresh interpreter each run (target: under 0.5 s).

Each call starts `python -c ...`, which times only the import statement with perf_counter and
prints it; interpreter start-up is not counted. The PyTorch side times `import torch` the same
way. PYTHONDONTWRITEBYTECODE is dropped from the child's environment, so the runner's warm-up
run writes the .pyc cache as a user's first import would, and the timed runs read it.
"""
import os
import subprocess
import sys

from . import Workload, pick, register

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CODE = ("import sys, time; sys.path.insert(0, {root!r}); t = time.perf_counter(); "
         "import {module}; print(repr(time.perf_counter() - t))")


def _timed_import(module):
    def setup(quick):
        cmd = [sys.executable, "-c", _CODE.format(root=ROOT, module=module)]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def run():
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env,
                                 timeout=120)
            if out.returncode != 0:
                raise RuntimeError(f"`import {module}` failed in a subprocess:\n{out.stderr}")
            return float(out.stdout.strip().splitlines()[-1])
        return run
    return setup


register(Workload(
    name="import_autograd",
    sizes="fresh interpreter",
    description="time of `import autograd` in a new process (import only, not start-up)",
    setup_ours=_timed_import("autograd"), setup_torch=_timed_import("torch"),
    self_timed=True, threaded=False,
    repeats=lambda quick: pick(quick, full=9, quick=5, tiny=2),
    target=("import < 0.5 s", lambda row: row["ours"]["median"] < 0.5),
))
