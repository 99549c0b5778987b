#!/usr/bin/env python3
"""Phrase detection (word2phrase, gensim's Phrases) against fastw2v, on one text file.

    PYTHONPATH=. python bench/bench_phrases.py --corpus corpus.txt \\
        --peer-python /work/benchenv/bin/python --word2phrase /work/benchenv/bin/word2phrase

Two pairs of runs, each system in its own process (bench/spawn.py: wall time, CPU time,
peak memory), each counting the file and writing it out rewritten:

* word2phrase's recipe (its score, ``-min-count 5 -threshold 100``): word2vec.c's
  ``word2phrase`` binary (the PyPI package ``word2vec`` builds it) against
  ``fastw2v phrases -train ... -threshold 100``;
* gensim's recipe (its default score, ``min_count=5, threshold=10``): gensim's
  ``Phrases`` over ``LineSentence``, applied to every sentence and written out, against
  ``fastw2v phrases --corpus-file ...``.

Quality is agreement: the share of output lines equal to the peer's, and the distinct
phrases each output holds (tokens holding "_" that the input does not hold).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

GENSIM_SCRIPT = """
import sys
from gensim.models.phrases import Phrases
from gensim.models.word2vec import LineSentence
src, out, min_count, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
model = Phrases(LineSentence(src), min_count=min_count, threshold=threshold).freeze()
with open(out, "w", encoding="utf-8") as f:
    for sentence in LineSentence(src):
        f.write(" ".join(model[sentence]) + "\\n")
"""


def spawn(cmd, workdir):
    result = os.path.join(workdir, "spawn.json")
    rc = subprocess.call([sys.executable, os.path.join(HERE, "spawn.py"), result] + cmd)
    with open(result) as f:
        stats = json.load(f)
    if rc or stats["rc"]:
        raise RuntimeError(f"{cmd[0]} failed (exit {stats['rc']})")
    return stats


def lines_of(path):
    """Each line's tokens (word2phrase ends a file's last line with a space, and LineSentence
    cuts lines of over 10,000 words: whitespace is normalised and lines re-joined)."""
    with open(path, "rb") as f:
        return [line.split() for line in f if line.split()]


def phrases_in(lines, before):
    return {t for line in lines for t in line if b"_" in t} - before


def compare(name_a, a, name_b, b, before):
    out_a, out_b = lines_of(a), lines_of(b)
    same = sum(x == y for x, y in zip(out_a, out_b))
    pa, pb = phrases_in(out_a, before), phrases_in(out_b, before)
    return (f"{name_a} vs {name_b}: {len(out_a)} / {len(out_b)} lines, {same / max(len(out_a), 1):.4%} "
            f"equal; distinct phrases {len(pa)} / {len(pb)}, {len(pa & pb)} in both")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, help="plain text, one sentence per line")
    p.add_argument("--peer-python", default="/work/benchenv/bin/python",
                   help="a Python with gensim (bench/requirements.txt)")
    p.add_argument("--word2phrase", default="/work/benchenv/bin/word2phrase")
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--w2p-threshold", type=float, default=100.0)
    p.add_argument("--gensim-threshold", type=float, default=10.0)
    a = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        before = phrases_in(lines_of(a.corpus), set())
        out = {k: os.path.join(tmp, k + ".txt") for k in ("w2p", "fw_w2p", "gensim", "fw_g")}
        runs = {
            "word2phrase": (out["w2p"], [a.word2phrase, "-train", a.corpus, "-output",
                                         out["w2p"], "-min-count", str(a.min_count),
                                         "-threshold", str(a.w2p_threshold), "-debug", "0"]),
            "fastw2v (word2phrase flags)": (out["fw_w2p"], [
                sys.executable, "-m", "fastw2v.cli", "phrases", "-train", a.corpus,
                "-output", out["fw_w2p"], "-min-count", str(a.min_count), "-threshold",
                str(a.w2p_threshold), "-debug", "0"]),
            "gensim Phrases": (out["gensim"], [
                a.peer_python, "-c", GENSIM_SCRIPT, a.corpus, out["gensim"],
                str(a.min_count), str(a.gensim_threshold)]),
            "fastw2v (gensim settings)": (out["fw_g"], [
                sys.executable, "-m", "fastw2v.cli", "phrases", "--corpus-file", a.corpus,
                "--output", out["fw_g"], "--min-count", str(a.min_count), "--threshold",
                str(a.gensim_threshold), "--quiet"]),
        }
        print(f"corpus {a.corpus} ({os.path.getsize(a.corpus) / 1e6:.1f} MB); min_count "
              f"{a.min_count}; thresholds {a.w2p_threshold} (word2phrase score), "
              f"{a.gensim_threshold} (gensim score)")
        print(f"{'system':30s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s}")
        for name, (_, cmd) in runs.items():
            s = spawn(cmd, tmp)
            print(f"{name:30s} {s['t_exit'] - s['t_launch']:8.2f} {s['cpu_s']:8.2f} "
                  f"{s['peak_rss_mb']:8.0f}")
        print(compare("fastw2v", out["fw_w2p"], "word2phrase", out["w2p"], before))
        print(compare("fastw2v", out["fw_g"], "gensim", out["gensim"], before))


if __name__ == "__main__":
    main()
