"""tapegrad's benchmark suite: `python -m benchmarks [--quick] [--compare torch] ...`.

    runner.py      command line, timing (warm-up, calibration, interleaved repeats), checks
    machine.py     CPU, cores, clock, theoretical peak, BLAS and versions
    report.py      terminal table, markdown, JSON, ratio plot
    workloads/     the registry: one small module per workload (see workloads/__init__.py)

Nothing here imports numpy at package import, so the runner can set the BLAS thread count
before numpy loads.
"""
__all__ = ["main"]


def main(argv=None):
    from .runner import main as run
    return run(argv)
