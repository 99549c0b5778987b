"""`make demo`: train on a generated corpus with planted word groups (or on your own
text file) and show what the vectors learned.

    python -m fastw2v.demo [--corpus PATH] [--sg 0|1] [--workers N]
"""
from __future__ import annotations

import argparse
import logging
import time

from fastw2v import Word2Vec
from fastw2v.synthetic import group_purity, planted_groups


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastw2v.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="a text file, one sentence per line (.gz/.bz2 ok); "
                                         "default: the generated planted-groups corpus")
    parser.add_argument("--sg", type=int, default=1, choices=(0, 1))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    t0 = time.perf_counter()
    if args.corpus:
        model = Word2Vec(corpus_file=args.corpus, sg=args.sg, workers=args.workers,
                         epochs=args.epochs or 5)
        probes = [w for w in ("king", "france", "water", "good", "three", "city")
                  if w in model.wv] or model.wv.index_to_key[100:106]
        groups = None
    else:
        sentences, groups = planted_groups()
        print(f"Generated corpus: {len(sentences)} sentences, 8 planted groups of 12 words "
              f"(g<G>w<W> co-occur only within group G) plus 10 filler words that occur "
              f"everywhere.")
        model = Word2Vec(sentences, vector_size=32, min_count=1, sg=args.sg,
                         workers=args.workers, epochs=args.epochs or 10)
        probes = ["g0w0", "g3w5", "g7w11", "the0"]
    elapsed = time.perf_counter() - t0
    print(f"\nTrained {len(model.wv)} words x {model.wv.vector_size} dims "
          f"({'skip-gram' if args.sg else 'CBOW'}, {model.config.resolved_workers()} threads) "
          f"in {elapsed:.2f}s; loss per epoch: "
          + ", ".join(f"{x:.4g}" for x in model.epoch_losses))
    for word in probes:
        near = ", ".join(f"{w} {s:.2f}" for w, s in model.wv.most_similar(word, topn=5))
        print(f"  {word:>8} -> {near}")
    if groups is not None:
        purity = group_purity(model.wv, groups)
        print(f"\nNearest 5 neighbours in the word's own group: {100 * purity:.1f}% "
              f"(chance: 12.5%)")


if __name__ == "__main__":
    main()
