#!/usr/bin/env python3
"""Side-by-side quality benchmark: gensim vs fastw2v at identical settings.

Trains word2vec with each system on the same plain-text corpus (one sentence per
line), times vocabulary building + training end to end, and scores the vectors
with bench/score.py (Google analogies by 3CosAdd, WordSim-353 and SimLex-999
Spearman rho).  Example:

    python bench/quality.py --corpus /work/shared/data/pd-encyc8.lines.gz \
        --systems gensim,fastw2v --sg 1 --hs 0 --negative 5 --dim 100 --window 5 \
        --min-count 5 --sample 1e-3 --epochs 5 --workers 2 --seed 1

A ``.gz`` corpus is decompressed once to a temporary plain file that both
systems read (gensim's ``corpus_file=`` mode needs plain text).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score import analogy_accuracy, similarity_spearman  # noqa: E402

DEFAULT_EVAL_DIR = "/work/shared/data/eval"
# gensim's corpus_file reader (like LineSentence) splits lines longer than this.
GENSIM_MAX_WORDS_PER_LINE = 10000


def prepare_plain_corpus(src: str, tmpdir: str) -> tuple[str, dict]:
    """Return (path of a plain-text corpus, stats). ``.gz`` input is decompressed into tmpdir.

    Also counts lines/tokens and the longest line, for the gensim line-length check."""
    opener = gzip.open if src.endswith(".gz") else open
    if src.endswith(".gz"):
        base = os.path.basename(src)[:-3]
        dst = os.path.join(tmpdir, base if base else "corpus.txt")
        out = open(dst, "wb")
    else:
        dst, out = src, None
    lines = tokens = max_words = 0
    try:
        with opener(src, "rb") as f:
            for line in f:
                n = len(line.split())
                lines += 1
                tokens += n
                if n > max_words:
                    max_words = n
                if out is not None:
                    out.write(line if line.endswith(b"\n") else line + b"\n")
    finally:
        if out is not None:
            out.close()
    return dst, dict(lines=lines, tokens=tokens, max_words_per_line=max_words)


def settings_str(a) -> str:
    return (f"sg={a.sg} hs={a.hs} neg={a.negative} dim={a.dim} win={a.window} "
            f"mc={a.min_count} sample={a.sample:g} ep={a.epochs} thr={a.workers} seed={a.seed}")


def run_gensim(corpus: str, a, iterable=False) -> dict:
    """gensim in corpus_file mode, or (iterable=True) fed a LineSentence iterable."""
    import gensim
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    source = dict(corpus_iterable=LineSentence(corpus)) if iterable else dict(corpus_file=corpus)

    t0 = time.perf_counter()
    # Same steps as Word2Vec(corpus_file=...) does internally, split so that the
    # (effective, raw) word counts returned by train() can be reported.
    model = Word2Vec(
        vector_size=a.dim, window=a.window, min_count=a.min_count, sg=a.sg, hs=a.hs,
        negative=a.negative, sample=a.sample, epochs=a.epochs, workers=a.workers,
        seed=a.seed,
    )
    model.build_vocab(**source)
    t1 = time.perf_counter()
    trained, raw = model.train(
        **source, total_examples=model.corpus_count,
        total_words=model.corpus_total_words, epochs=model.epochs,
        start_alpha=model.alpha, end_alpha=model.min_alpha,
    )
    t2 = time.perf_counter()
    return dict(
        version=gensim.__version__,
        wall_s=t2 - t0, vocab_s=t1 - t0, train_s=t2 - t1,
        vectors=np.asarray(model.wv.vectors, dtype=np.float32),
        index_to_key=list(model.wv.index_to_key),
        corpus_total_words=int(model.corpus_total_words),
        words_trained_effective=int(trained),
        words_trained_raw=int(raw),
    )


def run_fastw2v(corpus: str, a) -> dict:
    import fastw2v

    t0 = time.perf_counter()
    model = fastw2v.Word2Vec(
        corpus_file=corpus, vector_size=a.dim, window=a.window, min_count=a.min_count,
        sg=a.sg, hs=a.hs, negative=a.negative, sample=a.sample, epochs=a.epochs,
        workers=a.workers, seed=a.seed,
    )
    t1 = time.perf_counter()
    res = dict(
        version=getattr(fastw2v, "__version__", "?"),
        wall_s=t1 - t0,
        vectors=np.asarray(model.wv.vectors, dtype=np.float32),
        index_to_key=list(model.wv.index_to_key),
    )
    for attr in ("corpus_total_words", "corpus_count"):
        if hasattr(model, attr):
            res[attr] = int(getattr(model, attr))
    return res


RUNNERS = {"gensim": run_gensim, "fastw2v": run_fastw2v,
           "gensim-iter": lambda corpus, a: run_gensim(corpus, a, iterable=True)}


def evaluate(vectors, keys, eval_dir: str) -> dict:
    t0 = time.perf_counter()
    out = dict(
        analogy=analogy_accuracy(vectors, keys, os.path.join(eval_dir, "questions-words.txt")),
        ws353=similarity_spearman(vectors, keys, os.path.join(eval_dir, "EN-WS-353-ALL.txt")),
        simlex=similarity_spearman(vectors, keys, os.path.join(eval_dir, "EN-SIMLEX-999.txt")),
    )
    out["eval_s"] = time.perf_counter() - t0
    return out


def fmt_table(rows: list[dict], settings: str) -> str:
    head = ("| system | settings | vocab | wall s | analogy acc % (seen/total) | "
            "sem % | syn % | WS353 rho (pairs) | SimLex rho (pairs) |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['system']} | {settings} | - | - | {r['error']} | - | - | - | - |")
            continue
        an, ws, sl = r["analogy"], r["ws353"], r["simlex"]
        lines.append(
            f"| {r['system']} {r['version']} | {settings} | {r['vocab_size']:,} | {r['wall_s']:.1f} | "
            f"{100 * an['accuracy']:.2f} ({an['total_seen']:,}/{an['total_questions']:,}) | "
            f"{100 * an['semantic']['accuracy']:.2f} | {100 * an['syntactic']['accuracy']:.2f} | "
            f"{ws['rho']:.4f} ({ws['pairs_used']}/{ws['pairs_total']}) | "
            f"{sl['rho']:.4f} ({sl['pairs_used']}/{sl['pairs_total']}) |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, help="one sentence per line; .gz allowed")
    p.add_argument("--systems", default="gensim,fastw2v", help="comma list of: " + ",".join(RUNNERS))
    p.add_argument("--sg", type=int, default=1, choices=(0, 1))
    p.add_argument("--hs", type=int, default=0, choices=(0, 1))
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-dir", default=DEFAULT_EVAL_DIR,
                   help="folder with questions-words.txt, EN-WS-353-ALL.txt, EN-SIMLEX-999.txt")
    p.add_argument("--tmpdir", default=None, help="where to decompress a .gz corpus (default: system temp)")
    p.add_argument("--per-section", action="store_true", help="also print per-section analogy accuracy")
    p.add_argument("--json", dest="json_out", default=None, help="write results to this JSON file")
    a = p.parse_args(argv)

    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    for s in systems:
        if s not in RUNNERS:
            p.error(f"unknown system {s!r}; choose from {', '.join(RUNNERS)}")

    settings = settings_str(a)
    tmp = tempfile.mkdtemp(prefix="fastw2v-bench-", dir=a.tmpdir)
    results = []
    try:
        t0 = time.perf_counter()
        corpus, stats = prepare_plain_corpus(a.corpus, tmp)
        print(f"corpus: {a.corpus} -> {corpus}: {stats['lines']:,} lines, {stats['tokens']:,} tokens, "
              f"longest line {stats['max_words_per_line']:,} words ({time.perf_counter() - t0:.1f} s)",
              flush=True)
        if "gensim" in systems:
            assert stats["max_words_per_line"] < GENSIM_MAX_WORDS_PER_LINE, (
                f"a line has {stats['max_words_per_line']} words; gensim corpus_file mode would split it")

        for s in systems:
            print(f"[{s}] training: {settings}", flush=True)
            try:
                r = RUNNERS[s](corpus, a)
            except ImportError as e:
                msg = f"{s} not importable ({e}); skipped"
                print(f"[{s}] {msg}", flush=True)
                results.append(dict(system=s, error=msg))
                continue
            except Exception as e:  # report and keep benchmarking the others
                traceback.print_exc()
                results.append(dict(system=s, error=f"failed: {type(e).__name__}: {e}"))
                continue
            vectors, keys = r.pop("vectors"), r.pop("index_to_key")
            r["vocab_size"] = len(keys)
            r.update(evaluate(vectors, keys, a.eval_dir))
            r["system"] = s
            extra = ""
            if "words_trained_raw" in r:
                extra = (f", trained on {r['words_trained_effective']:,} effective of "
                         f"{r['words_trained_raw']:,} raw words")
            print(f"[{s}] done: vocab {len(keys):,}, wall {r['wall_s']:.1f} s{extra}; "
                  f"eval {r['eval_s']:.1f} s", flush=True)
            results.append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(fmt_table(results, settings))
    if a.per_section:
        for r in results:
            if "error" in r:
                continue
            print(f"\n{r['system']} per-section analogy accuracy:")
            for name, d in r["analogy"]["per_section"].items():
                print(f"  {name:28s} {100 * d['accuracy']:6.2f} %  ({d['correct']}/{d['seen']} seen of {d['total']})")

    if a.json_out:
        payload = dict(
            settings=vars(a), corpus_stats=stats, results=results,
            host=dict(python=sys.version.split()[0], platform=platform.platform(),
                      cpus=os.cpu_count(), numpy=np.__version__),
        )
        with open(a.json_out, "w") as f:
            json.dump(payload, f, indent=2)
        print(f"\nwrote {a.json_out}")
    return 0 if all("error" not in r or "not importable" in r["error"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
