"""`make demo`: train on a generated corpus with planted relations (or on your own text
file), show nearest neighbours and analogy accuracy, write the vectors and draw them.

    python -m fastw2v.demo [--corpus PATH] [--out DIR] [--sg 0|1] [--workers N]
                           [--epochs N] [--unicode-errors strict|replace|ignore]

The generated corpus plants two relations over real words, country -> capital (france
-> paris, ...) and singular -> plural (cat -> cats, ...), see
fastw2v.synthetic.planted_relations; the analogy questions are every ordered pair of
pairs ("germany berlin france ?" -> paris). A second, smaller part trains on integer
item ids in sessions with planted item groups (fastw2v.synthetic.planted_sessions), as a
recommender would.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from fastw2v import Word2Vec
from fastw2v.cli import UserError, _Parser
from fastw2v.config import UNICODE_ERRORS, Word2VecConfig
from fastw2v.synthetic import (COUNTRIES, NOUNS, group_purity, planted_relations,
                               planted_sessions, write_questions)
from fastw2v.vocab import InvalidUTF8Error


def main(argv=None):
    # the command line's parser: bad arguments end in one line (a UserError), as every
    # other error of the demo
    parser = _Parser(prog="python -m fastw2v.demo", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", help="a text file, one sentence per line (.gz/.bz2 "
                                         "ok); default: the generated corpus")
    parser.add_argument("--out", default="demo_out", help="folder for vectors and pictures")
    parser.add_argument("--sg", type=int, default=1, choices=(0, 1))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: 5 on your corpus, 10 on the generated one")
    parser.add_argument("--unicode-errors", default=Word2VecConfig.unicode_errors,
                        choices=UNICODE_ERRORS,
                        help="what to do with bytes of your corpus that are not UTF-8")
    try:
        return _run(parser.parse_args(argv))
    except (UserError, OSError, ValueError, TypeError) as exc:
        hint = (" (here: --unicode-errors replace)" if isinstance(exc, InvalidUTF8Error)
                else "")
        print(f"demo: error: {exc}{hint}", file=sys.stderr)
        return 2


def _run(args):
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    if args.corpus:
        model = Word2Vec(corpus_file=args.corpus, sg=args.sg, workers=args.workers,
                         epochs=5 if args.epochs is None else args.epochs, progress=True,
                         unicode_errors=args.unicode_errors)
        # some everyday words if the corpus has them, else a few words of middling
        # frequency (the most frequent ones if the vocabulary is small)
        middle = min(100, len(model.wv) // 2)
        probes = [w for w in ("king", "france", "water", "good", "three", "city")
                  if w in model.wv] or model.wv.index_to_key[middle:middle + 6]
        questions = None
        plotted = model.wv.index_to_key[middle // 2:middle // 2 + 40]
    else:
        sentences, questions = planted_relations()
        print(f"Generated corpus: {len(sentences):,} sentences planting country -> capital "
              f"and singular -> plural over {len(COUNTRIES)} + {len(NOUNS)} word pairs.")
        model = Word2Vec(sentences, vector_size=32, min_count=1, sample=0, sg=args.sg,
                         workers=args.workers,
                         epochs=10 if args.epochs is None else args.epochs)
        probes = ["paris", "france", "cats", "one"]
        plotted = [w for pair in COUNTRIES[:6] + NOUNS[:6] for w in pair]
    elapsed = time.perf_counter() - t0
    print(f"\nTrained {len(model.wv):,} words x {model.wv.vector_size} dims "
          f"({'skip-gram' if args.sg else 'CBOW'}, {model.config.resolved_workers()} "
          f"threads) in {elapsed:.2f}s; loss per epoch: "
          + ", ".join(f"{x:.4g}" for x in model.epoch_losses))
    print("\nNearest neighbours:")
    for word in probes:
        near = ", ".join(f"{w} {s:.2f}" for w, s in model.wv.most_similar(word, topn=5))
        print(f"  {word:>10} -> {near}")

    if questions is not None:
        path = os.path.join(args.out, "questions.txt")
        write_questions(path, questions)
        score, sections = model.wv.evaluate_word_analogies(path)
        print("\nAnalogies on the planted relations (3CosAdd):")
        for s in sections:
            n = len(s["correct"]) + len(s["incorrect"])
            print(f"  {s['section']:>26}: {len(s['correct'])}/{n} correct")
        for a, b, c in (("germany", "berlin", "france"), ("dog", "dogs", "car")):
            answer = model.wv.most_similar(positive=[b, c], negative=[a], topn=1)[0][0]
            print(f"  {a} : {b} = {c} : {answer}")

    vectors_path = os.path.join(args.out, "vectors.txt")
    model.wv.save_word2vec_format(vectors_path)
    print(f"\nVectors written to {vectors_path} (word2vec text format).")

    if not args.corpus:
        sessions_demo()
    draw(model, plotted, os.path.join(args.out, "demo.png"))
    return 0


def sessions_demo():
    sessions, groups = planted_sessions()
    model = Word2Vec(sessions, vector_size=32, window=20, shrink_windows=False,
                     min_count=1, sg=1, epochs=5)
    item = 3000
    near = model.wv.most_similar(item, topn=5)
    print(f"\nItem embeddings: {len(sessions):,} sessions of integer item ids, "
          f"{len(model.wv)} items in 10 planted groups (item g*1000+k is in group g).")
    print(f"  items most similar to {item}: "
          + ", ".join(f"{k} {s:.2f}" for k, s in near))
    print(f"  nearest 5 items in the same group: "
          f"{100 * group_purity(model.wv, groups):.1f}% (chance: 10%)")


def draw(model, words, path):
    """2-D PCA of some words with their labels, and the loss per epoch, as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no picture; pip install 'fastw2v[demo]')")
        return
    words = [w for w in words if w in model.wv]
    if len(words) < 3:
        print("(fewer than 3 words to draw: no picture)")
        return
    x = model.wv[words].astype(np.float64)
    x -= x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T                                                  # (n_words, 2)
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 5.5),
                                      gridspec_kw={"width_ratios": [2, 1]})
    ax.scatter(xy[:, 0], xy[:, 1], s=12, color="tab:blue")
    for (px, py), w in zip(xy, words):
        ax.annotate(w, (px, py), fontsize=9, xytext=(3, 3), textcoords="offset points")
    index = {w: i for i, w in enumerate(words)}
    for a, b in COUNTRIES + NOUNS:
        if a in index and b in index:
            ax.annotate("", xy=xy[index[b]], xytext=xy[index[a]],
                        arrowprops=dict(arrowstyle="->", color="tab:gray", lw=0.8))
    ax.set_title("Word vectors, first two principal components")
    ax_loss.plot(np.arange(1, len(model.epoch_losses) + 1), model.epoch_losses, "o-")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss (sum over the epoch)")
    ax_loss.set_title("Loss per epoch")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"Picture written to {path}.")


if __name__ == "__main__":
    sys.exit(main())
