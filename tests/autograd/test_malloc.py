"""autograd.malloc: freed blocks kept for reuse (glibc), and the switch that turns it off.

Each case runs in a fresh interpreter: malloc's settings belong to the whole process."""
import os
import subprocess
import sys

import pytest

from autograd import malloc

# A training step's pattern: 40 blocks of 1 MB allocated and touched, then all freed; the page
# faults of a second round tell whether the first round's memory went back to the kernel.
PROBE = """
import resource
import numpy as np
import autograd

def step():
    arrays = [np.ones(1 << 18, np.float32) for _ in range(40)]
    del arrays

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES = 40 * (1 << 20) // 4096


def _second_round_faults(setting):
    env = dict(os.environ)
    env.pop("TAPEGRAD_KEEP_FREED_MEMORY", None)
    if setting is not None:
        env["TAPEGRAD_KEEP_FREED_MEMORY"] = setting
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


glibc_only = pytest.mark.skipif(not malloc.keep_freed_memory(),
                                reason="glibc's mallopt is not available here")


@glibc_only
def test_import_keeps_freed_blocks():
    assert _second_round_faults(None) < PAGES // 10


@glibc_only
def test_switched_off_memory_goes_back_to_the_kernel():
    assert _second_round_faults("0") > PAGES // 2


def test_returns_false_where_mallopt_is_missing(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert malloc.keep_freed_memory() is False
