"""Standalone scoring of word vectors: analogies (3CosAdd) and word-pair similarity.

Only numpy is needed.  Vectors are a float32 matrix ``(n, dim)`` with a parallel
``index_to_key`` list of words.  Words in the evaluation files are lowercased
before lookup (the benchmark corpora are lowercase).

* ``analogy_accuracy``: Google analogy format (``: section`` headers, then
  ``a b c d`` lines).  For each question whose four words are all in the
  vocabulary, predict ``argmax_w cos(w, b - a + c)`` over the unit-normalised
  vectors of the whole vocabulary, excluding ``a``, ``b`` and ``c``; correct if
  the prediction is ``d``.
* ``similarity_spearman``: ``word1<TAB>word2<TAB>score`` pairs; Spearman's rho
  (average ranks for ties) between cosine similarity and the human score over
  the pairs whose two words are in the vocabulary.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "unit_rows",
    "load_analogies",
    "analogy_accuracy",
    "load_pairs",
    "similarity_spearman",
    "rankdata_average",
    "spearman_rho",
]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Return a float32 copy of ``vectors`` with each row scaled to unit L2 norm.

    All-zero rows stay zero (their cosine with anything is 0)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"vectors must be 2-D, got shape {v.shape}")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (v / norms).astype(np.float32, copy=False)


def _word_index(index_to_key) -> dict:
    index = {}
    for i, w in enumerate(index_to_key):
        index.setdefault(w, i)  # first occurrence wins, as in a frequency-sorted vocab
    return index


def load_analogies(path):
    """Parse a questions-words file into ``[(section, [(a, b, c, d), ...]), ...]`` (lowercased)."""
    sections = []
    current = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                current = (line.lstrip(":").strip(), [])
                sections.append(current)
                continue
            if current is None:
                raise ValueError(f"{path}:{lineno}: question before any ': section' header")
            parts = line.lower().split()
            if len(parts) != 4:
                raise ValueError(f"{path}:{lineno}: expected 4 words, got {len(parts)}")
            current[1].append(tuple(parts))
    return sections


def analogy_accuracy(vectors, index_to_key, path, batch_size: int = 1024) -> dict:
    """3CosAdd analogy accuracy over the whole vocabulary.

    Returns ``dict(correct, total_seen, total_questions, accuracy, per_section,
    semantic, syntactic)``; ``accuracy`` is ``correct / total_seen`` (0.0 when
    nothing is seen); ``per_section`` maps each section name to
    ``dict(correct, seen, total, accuracy)``; ``semantic``/``syntactic`` aggregate
    the non-``gram`` and ``gram*`` sections the same way.
    """
    unit = unit_rows(vectors)
    if unit.shape[0] != len(index_to_key):
        raise ValueError(f"{unit.shape[0]} vectors but {len(index_to_key)} keys")
    index = _word_index(index_to_key)
    sections = load_analogies(path)

    # Gather in-vocabulary questions as index quadruples, remembering their section.
    quads, sec_ids = [], []
    section_totals = []
    for s, (_name, questions) in enumerate(sections):
        section_totals.append(len(questions))
        for q in questions:
            try:
                quads.append([index[w] for w in q])
            except KeyError:
                continue
            sec_ids.append(s)
    quads = np.asarray(quads, dtype=np.int64).reshape(-1, 4)
    sec_ids = np.asarray(sec_ids, dtype=np.int64)

    hits = np.zeros(len(quads), dtype=bool)
    neg_inf = np.float32(-np.inf)
    for start in range(0, len(quads), batch_size):
        q = quads[start:start + batch_size]
        a, b, c, d = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
        # For unit w: cos(w,b) - cos(w,a) + cos(w,c) = w . (b - a + c); the argmax is
        # the same as with the (normalised) mean used by gensim's most_similar.
        target = unit[b] - unit[a] + unit[c]
        scores = target @ unit.T  # (batch, n) float32
        rows = np.arange(len(q))
        scores[rows, a] = neg_inf
        scores[rows, b] = neg_inf
        scores[rows, c] = neg_inf
        hits[start:start + len(q)] = scores.argmax(axis=1) == d

    per_section = {}
    sem = [0, 0, 0]
    syn = [0, 0, 0]
    for s, (name, _questions) in enumerate(sections):
        mask = sec_ids == s
        seen = int(mask.sum())
        correct = int(hits[mask].sum())
        total = section_totals[s]
        per_section[name] = dict(
            correct=correct, seen=seen, total=total,
            accuracy=(correct / seen if seen else 0.0),
        )
        agg = syn if name.startswith("gram") else sem
        agg[0] += correct
        agg[1] += seen
        agg[2] += total

    def _agg(x):
        return dict(correct=x[0], seen=x[1], total=x[2], accuracy=(x[0] / x[1] if x[1] else 0.0))

    correct = int(hits.sum())
    seen = int(len(quads))
    return dict(
        correct=correct,
        total_seen=seen,
        total_questions=int(sum(section_totals)),
        accuracy=(correct / seen if seen else 0.0),
        per_section=per_section,
        semantic=_agg(sem),
        syntactic=_agg(syn),
    )


def load_pairs(path):
    """Parse ``word1 word2 score`` lines (tab or whitespace separated; ``#`` comments skipped)."""
    pairs = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) != 3:
                raise ValueError(f"{path}:{lineno}: expected 3 fields, got {len(parts)}")
            pairs.append((parts[0].strip().lower(), parts[1].strip().lower(), float(parts[2])))
    return pairs


def rankdata_average(x) -> np.ndarray:
    """Ranks 1..n of ``x``, tied values get the average of their ranks (like scipy's 'average')."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    # boundaries of runs of equal values in sorted order
    new_run = np.empty(n, dtype=bool)
    if n:
        new_run[0] = True
        new_run[1:] = xs[1:] != xs[:-1]
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], n)  # exclusive
    avg_rank = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = avg_rank[run_id]
    return ranks


def spearman_rho(x, y) -> float:
    """Spearman's rank correlation: Pearson correlation of average ranks (nan if undefined)."""
    rx, ry = rankdata_average(x), rankdata_average(y)
    if rx.size < 2:
        return float("nan")
    rx -= rx.mean()
    ry -= ry.mean()
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    if denom == 0:
        return float("nan")
    return float((rx * ry).sum() / denom)


def similarity_spearman(vectors, index_to_key, path) -> dict:
    """Spearman's rho of cosine similarity vs human score over in-vocabulary pairs.

    Returns ``dict(rho, pairs_used, pairs_total)``."""
    unit = unit_rows(vectors)
    if unit.shape[0] != len(index_to_key):
        raise ValueError(f"{unit.shape[0]} vectors but {len(index_to_key)} keys")
    index = _word_index(index_to_key)
    pairs = load_pairs(path)
    i1, i2, human = [], [], []
    for w1, w2, s in pairs:
        if w1 in index and w2 in index:
            i1.append(index[w1])
            i2.append(index[w2])
            human.append(s)
    if i1:
        cos = np.einsum("ij,ij->i", unit[i1].astype(np.float64), unit[i2].astype(np.float64))
        rho = spearman_rho(cos, human)
    else:
        rho = float("nan")
    return dict(rho=rho, pairs_used=len(i1), pairs_total=len(pairs))


if __name__ == "__main__":  # pragma: no cover - tiny CLI for ad-hoc checks
    import argparse
    import json

    p = argparse.ArgumentParser(description="Score a word2vec text-format vector file.")
    p.add_argument("vectors", help="word2vec text format (first line 'n dim')")
    p.add_argument("--analogies")
    p.add_argument("--pairs", nargs="*", default=[])
    args = p.parse_args()
    keys, rows = [], []
    with open(args.vectors, encoding="utf-8") as f:
        n, dim = map(int, f.readline().split())
        for line in f:
            parts = line.rstrip().split(" ")
            keys.append(parts[0])
            rows.append(np.asarray(parts[1:], dtype=np.float32))
    vecs = np.vstack(rows)
    out = {}
    if args.analogies:
        out["analogies"] = analogy_accuracy(vecs, keys, args.analogies)
    for path in args.pairs:
        out[path] = similarity_spearman(vecs, keys, path)
    print(json.dumps(out, indent=2))


def evaluate_all(vectors, index_to_key, eval_dir) -> dict:
    """The three scores every benchmark reports, from the files in eval_dir:
    ``dict(analogy=analogy_accuracy(...), ws353=..., simlex=similarity_spearman(...))``."""
    path = lambda name: os.path.join(eval_dir, name)  # noqa: E731
    return dict(
        analogy=analogy_accuracy(vectors, index_to_key, path("questions-words.txt")),
        ws353=similarity_spearman(vectors, index_to_key, path("EN-WS-353-ALL.txt")),
        simlex=similarity_spearman(vectors, index_to_key, path("EN-SIMLEX-999.txt")))
