#!/usr/bin/env python3
"""fastw2v trained on the learning-rate schedule gensim's corpus_file mode actually runs.

    python bench/schedule.py --corpus corpus.txt --eval-dir ../shared/data/eval \\
        --sg 0 --dim 300 --workers 2 --seeds 1,2,3

In corpus_file mode each of gensim's W workers reads 1/W of the corpus per epoch but
measures its progress against the whole corpus, so within epoch e (of E) its learning rate
only falls from alpha (1 - e/E) to alpha (1 - (e + 1/W)/E) before the next epoch starts
at alpha (1 - (e + 1)/E): with W = 2 the mean rate is 10% higher than the schedule's and the last epoch ends
at a tenth of alpha instead of near zero. This script trains fastw2v once on its own
schedule ("plain") and once on that one ("gensim-file", one train() call per epoch with
start_alpha/end_alpha), with the same settings otherwise, and prints the scores of both, so
that the effect of the schedule alone can be seen. The vocabulary and encoding are redone
for every run (as compare.py does), so each run is independent.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # fastw2v from this checkout
sys.path.insert(0, HERE)

from score import evaluate_all  # noqa: E402


def gensim_file_rates(alpha, min_alpha, epochs, workers):
    """(start, end) learning rate of each epoch as gensim corpus_file's workers run them."""
    drop = alpha - min_alpha
    return [(alpha - drop * e / epochs, alpha - drop * (e + 1 / workers) / epochs)
            for e in range(epochs)]


def train(a, seed, schedule):
    from fastw2v import Word2Vec
    model = Word2Vec(vector_size=a.dim, window=a.window, min_count=a.min_count, sg=a.sg,
                     hs=a.hs, negative=a.negative, sample=a.sample, epochs=a.epochs,
                     workers=a.workers, seed=seed, alpha=a.alpha, min_alpha=a.min_alpha)
    model.build_vocab(corpus_file=a.corpus)         # counted and encoded once
    start = time.perf_counter()
    if schedule == "plain":
        model.train()
    else:
        for lo, hi in gensim_file_rates(a.alpha, a.min_alpha, a.epochs, a.workers):
            model.train(epochs=1, start_alpha=lo, end_alpha=hi)
    seconds = time.perf_counter() - start
    got = evaluate_all(model.wv.vectors, list(model.wv.index_to_key), a.eval_dir)
    return (seconds, got["analogy"]["accuracy"] * 100, got["ws353"]["rho"],
            got["simlex"]["rho"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="plain text, one sentence per line")
    p.add_argument("--eval-dir", required=True,
                   help="folder with questions-words.txt, EN-WS-353-ALL.txt, EN-SIMLEX-999.txt")
    p.add_argument("--sg", type=int, default=0, choices=(0, 1))
    p.add_argument("--hs", type=int, default=0, choices=(0, 1))
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--dim", type=int, default=300)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025)
    p.add_argument("--min-alpha", type=float, default=0.0001)
    p.add_argument("--workers", type=int, default=2,
                   help="fastw2v's threads and the W of gensim's schedule")
    p.add_argument("--seeds", default="1", help="comma list")
    p.add_argument("--schedules", default="plain,gensim-file",
                   help="comma list of plain, gensim-file")
    a = p.parse_args(argv)
    schedules = a.schedules.split(",")
    for s in schedules:
        if s not in ("plain", "gensim-file"):
            p.error(f"unknown schedule {s!r}: use plain or gensim-file")
    print("| schedule | seed | train s | analogy % | WS353 rho | SimLex rho |")
    print("|---|---:|---:|---:|---:|---:|")
    for seed in [int(s) for s in a.seeds.split(",")]:
        for s in schedules:
            t, an, ws, sl = train(a, seed, s)
            print(f"| {s} | {seed} | {t:.1f} | {an:.2f} | {ws:.3f} | {sl:.3f} |", flush=True)


if __name__ == "__main__":
    main()
