#!/usr/bin/env python3
"""Vector files and queries against gensim: load and save of a word2vec binary file, the
native format, and batched nearest-neighbour queries.

    python bench/bench_io.py --rows 1000000 --dim 300 --queries 10000

Needs gensim (bench/requirements.txt) and fastw2v importable (PYTHONPATH=. after
building in place). Every timing is the best of --repeat runs; each load ends by
touching every row, so lazily mapped files pay their reads too.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--queries", type=int, default=10_000)
    p.add_argument("--query-vocab", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--tmpdir", default=None)
    a = p.parse_args(argv)

    from gensim.models import KeyedVectors as GensimKV
    from fastw2v import KeyedVectors

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((a.rows, a.dim), dtype=np.float32)
    keys = [f"w{i}" for i in range(a.rows)]
    ours = KeyedVectors(vectors, keys)
    rows = []
    with tempfile.TemporaryDirectory(dir=a.tmpdir) as tmp:
        binary = os.path.join(tmp, "v.bin")
        t, _ = best(lambda: ours.save_word2vec_format(binary, binary=True), a.repeat)
        rows.append(("save word2vec binary", "fastw2v", t))
        size = os.path.getsize(binary)
        g = GensimKV(a.dim)
        g.add_vectors(keys, vectors)
        t, _ = best(lambda: g.save_word2vec_format(binary + ".g", binary=True), a.repeat)
        rows.append(("save word2vec binary", "gensim 4.4", t))
        t, kv = best(lambda: KeyedVectors.load_word2vec_format(binary, binary=True), a.repeat)
        assert np.array_equal(kv.vectors, vectors)
        rows.append(("load word2vec binary", "fastw2v", t))
        t, gk = best(lambda: GensimKV.load_word2vec_format(binary, binary=True), a.repeat)
        assert np.array_equal(gk.vectors, vectors)
        rows.append(("load word2vec binary", "gensim 4.4", t))
        raw = os.path.join(tmp, "v.raw")
        vectors.tofile(raw)
        t, _ = best(lambda: np.fromfile(raw, np.float32).reshape(a.rows, a.dim), a.repeat)
        rows.append(("np.fromfile of the raw matrix (the floor)", "numpy", t))
        native = os.path.join(tmp, "v.fw2v")
        t, _ = best(lambda: ours.save(native), a.repeat)
        rows.append(("save native", "fastw2v", t))
        t, _ = best(lambda: KeyedVectors.load(native), a.repeat)
        rows.append(("load native", "fastw2v", t))
        t, _ = best(lambda: float(KeyedVectors.load(native, mmap="r").vectors.sum()),
                    a.repeat)
        rows.append(("load native, mmap='r', then read every row", "fastw2v", t))

    # batched queries over a smaller vocabulary
    n = min(a.query_vocab, a.rows)
    small = KeyedVectors(vectors[:n].copy(), keys[:n])
    q = rng.standard_normal((a.queries, a.dim), dtype=np.float32)
    t, (ids, _) = best(lambda: small.most_similar_batch(q, topn=10), a.repeat)
    rows.append((f"most_similar_batch: {a.queries:,} queries x {n:,} words, top 10",
                 "fastw2v", t))
    gsmall = GensimKV(a.dim)
    gsmall.add_vectors(keys[:n], vectors[:n])
    gsmall.fill_norms()
    sample = 200
    t0 = time.perf_counter()
    for row in q[:sample]:
        gsmall.most_similar(positive=[row], topn=10)
    per_query = (time.perf_counter() - t0) / sample
    rows.append((f"gensim most_similar, one call per query ({sample} timed, x "
                 f"{a.queries:,})", "gensim 4.4", per_query * a.queries))

    print(f"{a.rows:,} x {a.dim} float32 ({size / 2**30:.2f} GiB binary file); command: "
          f"python bench/bench_io.py --rows {a.rows} --dim {a.dim} --queries {a.queries}\n")
    print("| operation | system | seconds |")
    print("|---|---|---:|")
    for what, who, secs in rows:
        print(f"| {what} | {who} | {secs:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
