#!/usr/bin/env python3
"""Counting and encoding speed on plain text, in MB/s on one core, next to gensim's
vocabulary scan of the same file.

    python bench/bench_text.py --corpus ../shared/data/pd-encyc8.lines.gz --mb 100

The first --mb megabytes of the (decompressed) corpus, repeated if it is shorter, are
written to a temporary plain text file, cut at a line end, so that decompression is not
measured. build_vocab(corpus_file=...) counts and encodes in one read (the counter
keeps the token stream and it is renumbered in place once the vocabulary is chosen), and
so does build_vocab on an iterable of token lists (LineSentence, or the lists held in
memory). Every timing is the best of --repeat runs. Counting and encoding each use one thread. gensim is measured only
if it is importable (bench/requirements.txt).
"""
from __future__ import annotations

import argparse
import gzip
import os
import tempfile

import numpy as np

from bench_io import best   # best-of-n timing, shared with the other benchmarks


def write_sample(corpus, path, n_bytes):
    """The corpus's lines, repeated if it is shorter, up to n_bytes."""
    opener = gzip.open if corpus.endswith(".gz") else open
    written = 0
    with open(path, "wb") as dst:
        while written < n_bytes:
            with opener(corpus, "rb") as src:
                for line in src:
                    if written >= n_bytes:
                        break
                    dst.write(line)
                    written += len(line)
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="../shared/data/pd-encyc8.lines.gz")
    p.add_argument("--mb", type=float, default=100.0, help="megabytes (10^6) of text")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)

    from fastw2v import Word2Vec
    from fastw2v.encoded import encode_file, encode_recorded
    from fastw2v.vocab import count_file, select_words

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.txt")
        n_bytes = write_sample(a.corpus, path, int(a.mb * 1e6))
        mb = n_bytes / 1e6
        t_count, raw = best(lambda: count_file(path), a.repeat)
        vocab = select_words(raw, 5)
        t_encode, enc = best(lambda: encode_file(path, vocab, 10000), a.repeat)
        # train(corpus_file=) on a file: encoded with the vocabulary, invalid UTF-8 checked
        t_checked, checked = best(
            lambda: encode_file(path, vocab, 10000, unicode_errors="strict"), a.repeat)
        assert np.array_equal(checked.ids, enc.ids)

        def one_read():
            raw = count_file(path, record=True)
            return encode_recorded(raw.recording, select_words(raw, 5), 10000)
        t_one, enc_one = best(one_read, a.repeat)
        assert np.array_equal(enc_one.ids, enc.ids)
        t_build, _ = best(lambda: Word2Vec(min_count=5).build_vocab(corpus_file=path), a.repeat)
        # gensim's way: an iterable of token lists, read from the file or held in memory
        from fastw2v import LineSentence as FastLineSentence
        t_lines, _ = best(lambda: Word2Vec(min_count=5).build_vocab(FastLineSentence(path)),
                          a.repeat)
        sentences = list(FastLineSentence(path))
        t_list, _ = best(lambda: Word2Vec(min_count=5).build_vocab(sentences), a.repeat)
        rows = [("fastw2v count_file", t_count),
                ("fastw2v encode_file (a second read)", t_encode),
                ("fastw2v encode_file, invalid UTF-8 checked (train(corpus_file=...) on "
                 "a new file: its one read)", t_checked),
                ("fastw2v count + encode, two reads", t_count + t_encode),
                ("fastw2v count + encode, one read (count_file(record=True) + "
                 "encode_recorded)", t_one),
                ("fastw2v Word2Vec.build_vocab(corpus_file=...) (one read, + tables, "
                 "weights)", t_build),
                ("fastw2v Word2Vec.build_vocab(LineSentence(path))", t_lines),
                ("fastw2v Word2Vec.build_vocab(token lists in memory)", t_list)]
        try:
            from gensim.models import Word2Vec as GensimWord2Vec
            from gensim.models.word2vec import LineSentence
        except ImportError:
            pass
        else:
            def gensim_scan():
                model = GensimWord2Vec(vector_size=100, min_count=5, workers=1)
                model.build_vocab(corpus_iterable=LineSentence(path))
                return model
            t_gensim, _ = best(gensim_scan, a.repeat)
            rows.append(("gensim build_vocab (LineSentence)", t_gensim))
            t_gensim_list, _ = best(lambda: GensimWord2Vec(vector_size=100, min_count=5,
                                                           workers=1).build_vocab(sentences),
                                    a.repeat)
            rows.append(("gensim build_vocab (token lists in memory)", t_gensim_list))
        print(f"{mb:.1f} MB of text, {enc.n_tokens:,} tokens, {len(vocab):,} words at "
              f"min_count 5; best of {a.repeat}; command: python bench/bench_text.py "
              f"--corpus {a.corpus} --mb {a.mb:g}\n")
        print("| step | seconds | MB/s (one core) |")
        print("|---|---:|---:|")
        for name, t in rows:
            print(f"| {name} | {t:.2f} | {mb / t:.0f} |")


if __name__ == "__main__":
    main()
