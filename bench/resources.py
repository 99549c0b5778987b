#!/usr/bin/env python3
"""Time and memory of each stage (count, encode, train one epoch) on a corpus, scaled to
a billion tokens, for the README's resource table.

    python bench/resources.py --corpus /work/shared/data/pd-encyc8.lines.gz --workers 2

Each configuration runs in a fresh subprocess, so that peak memory (max RSS) is its own.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
from fastw2v import Word2Vec
args = json.loads(sys.argv[1])
encoded_dir = args.pop("encoded_dir")
t0 = time.perf_counter()
model = Word2Vec(**args)
model.build_vocab(corpus_file=CORPUS, encoded_dir=encoded_dir)
t1 = time.perf_counter()
model.train(epochs=1)
t2 = time.perf_counter()
print(json.dumps(dict(vocab_s=t1 - t0, epoch_s=t2 - t1, n_tokens=model.corpus_total_words,
                      n_ids=model.corpus.n_ids, n_words=len(model.wv),
                      max_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)))
"""


def run(corpus, params):
    code = CHILD.replace("CORPUS", repr(corpus))
    out = subprocess.run([sys.executable, "-c", code, json.dumps(params)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="/work/shared/data/pd-encyc8.lines.gz")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (("sg, in memory", dict(sg=1, encoded_dir=None)),
                             ("sg, encoded_dir", dict(sg=1, encoded_dir=tmp + "/enc")),
                             ("cbow, in memory", dict(sg=0, encoded_dir=None))):
            params = dict(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3,
                          workers=a.workers, **extra)
            r = run(a.corpus, params)
            per_b = 1e9 / r["n_tokens"]
            rows.append((label, r, per_b))
    print(f"corpus: {a.corpus}; dim 100, window 5, negative 5, sample 1e-3, min_count 5, "
          f"{a.workers} threads; command: python bench/resources.py --corpus {a.corpus} "
          f"--workers {a.workers}\n")
    print("| run | tokens | vocabulary | count + encode | one epoch | peak RSS | "
          "per 1e9 tokens: count + encode | per 1e9 tokens: one epoch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r, per_b in rows:
        print(f"| {label} | {r['n_tokens']:,} | {r['n_words']:,} | {r['vocab_s']:.1f} s | "
              f"{r['epoch_s']:.1f} s | {r['max_rss'] / 2**20:.0f} MiB | "
              f"{r['vocab_s'] * per_b / 60:.1f} min | {r['epoch_s'] * per_b / 60:.1f} min |")


if __name__ == "__main__":
    main()
