#!/usr/bin/env python3
"""The machine's float32 peak on one core, as bench/RESULTS.md compares training against:
the GFLOP/s of a single-thread float32 matrix product (numpy's BLAS, 2 n^3 flops).

    python bench/peak.py --n 2048 --repeat 5

The BLAS thread count is pinned to 1 before numpy is imported. Prints the best of
--repeat runs.
"""
from __future__ import annotations

import argparse
import os
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402  (after the thread pinning above)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((a.n, a.n), dtype=np.float32)
    y = rng.standard_normal((a.n, a.n), dtype=np.float32)
    out = np.empty_like(x)
    np.matmul(x, y, out=out)   # warm up
    best = min(_timed(lambda: np.matmul(x, y, out=out)) for _ in range(a.repeat))
    gflops = 2 * a.n ** 3 / best / 1e9
    print(f"float32 {a.n}x{a.n} matrix product, 1 thread, best of {a.repeat}: "
          f"{best:.3f} s = {gflops:.1f} GFLOP/s (numpy {np.__version__}; command: "
          f"python bench/peak.py --n {a.n} --repeat {a.repeat})")


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
