#!/usr/bin/env python3
"""gensim's tutorial pipeline on token lists held in memory, fastw2v beside gensim in one
process: phrases detected over the lists, then a Word2Vec vocabulary built over the
lists rewritten with them (the steps before training that run Python over every token).

    PYTHONPATH=. /work/benchenv/bin/python bench/bench_lists.py --corpus corpus.txt

The corpus file is read into lists of str first (not timed). Each step is timed as the
best of --repeat runs; gensim is measured only if it is importable
(bench/requirements.txt). Quality is agreement: the phrases found, and the words of the
two vocabularies (min_count 5), compared as sets.
"""
from __future__ import annotations

import argparse

from bench_io import best   # best-of-n timing, shared with the other benchmarks


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, help="plain text, one sentence per line")
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args(argv)

    import fastw2v
    lists = list(fastw2v.LineSentence(a.corpus))
    n_tokens = sum(map(len, lists))
    rows = []

    t, phrases = best(lambda: fastw2v.Phrases(lists), a.repeat)
    rows.append(("fastw2v", "Phrases(lists)", t))
    t, model = best(lambda: _built(fastw2v.Word2Vec(min_count=5), phrases[lists]), a.repeat)
    rows.append(("fastw2v", "Word2Vec.build_vocab(phrases[lists])", t))
    ours = (set(phrases.export_phrases()), set(model.wv.index_to_key))
    try:
        from gensim.models import Word2Vec as GensimWord2Vec
        from gensim.models.phrases import Phrases as GensimPhrases
    except ImportError:
        theirs = None
    else:
        t, gphrases = best(lambda: GensimPhrases(lists), a.repeat)
        rows.append(("gensim", "Phrases(lists)", t))
        frozen = gphrases.freeze()
        t, gmodel = best(lambda: _built(GensimWord2Vec(min_count=5), frozen[lists]), a.repeat)
        rows.append(("gensim", "Word2Vec.build_vocab(frozen[lists])", t))
        theirs = (set(gphrases.export_phrases()), set(gmodel.wv.index_to_key))

    print(f"{a.corpus}: {len(lists):,} sentences, {n_tokens:,} tokens; best of {a.repeat}; "
          f"command: python bench/bench_lists.py --corpus {a.corpus} --repeat {a.repeat}\n")
    print("| system | step | seconds | M tokens/s |")
    print("|---|---|---:|---:|")
    for system, step, t in rows:
        print(f"| {system} | {step} | {t:.2f} | {n_tokens / t / 1e6:.1f} |")
    if theirs is not None:
        for name, mine, peer in zip(("phrases", "vocabulary words"), ours, theirs):
            print(f"\n{name}: fastw2v {len(mine):,}, gensim {len(peer):,}, in both "
                  f"{len(mine & peer):,}", end="")
        print()


def _built(model, corpus):
    model.build_vocab(corpus)
    return model


if __name__ == "__main__":
    main()
