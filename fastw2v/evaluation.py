"""Scoring vectors on standard test sets, with gensim's rules and return values:
word analogies (Google's ``questions-words.txt``) and word-pair similarity (WordSim-353,
SimLex-999), plus the Pearson and Spearman correlations with their p-values.

Analogies are solved all at once: one query vector per question, scored against the
vocabulary by blocked matrix products (`fastw2v.keyedvectors.top_k_search`), so the
19,544 Google questions take seconds. The p-values are computed here (regularised
incomplete beta function), so scipy is not needed; they match scipy.stats to ~1e-12.
"""
from __future__ import annotations

import io
import itertools
import logging
import math
import os
import re
from collections import namedtuple
from statistics import NormalDist

import numpy as np

from fastw2v.formats import check_row_count, open_binary
from fastw2v.keyedvectors import top_k_search

logger = logging.getLogger("fastw2v")

class CorrelationResult(namedtuple("CorrelationResult", ["statistic", "pvalue"])):
    """A correlation coefficient and its two-sided p-value; unpacks and indexes like the
    (r, p) tuple gensim returns, and has scipy's field names (``correlation`` too, the
    name scipy's Spearman result kept from its older versions)."""
    __slots__ = ()

    @property
    def correlation(self):
        return self.statistic


ConfidenceInterval = namedtuple("ConfidenceInterval", ["low", "high"])


class PearsonResult(CorrelationResult):
    """Pearson's (r, p-value), with scipy's ``confidence_interval()`` too."""

    def __new__(cls, statistic, pvalue, n):
        self = super().__new__(cls, statistic, pvalue)
        self.n = n                      # (the number of pairs, which the interval needs)
        return self

    def __getnewargs__(self):
        return self.statistic, self.pvalue, self.n

    def _replace(self, **fields):
        return PearsonResult(*CorrelationResult._replace(self, **fields), self.n)

    def confidence_interval(self, confidence_level=0.95, method=None):
        """Interval holding r with probability `confidence_level`, by Fisher's
        transformation (scipy's default method: r's arctanh taken as normal with standard
        deviation 1/sqrt(n - 3)); (-1, 1) for 3 pairs or fewer. scipy's bootstrap and
        Monte Carlo `method` objects are not offered."""
        if method is not None:
            raise ValueError("method: only Fisher's transformation (method=None) is "
                             "offered; for a bootstrap use scipy.stats.pearsonr")
        if isinstance(confidence_level, bool) or not isinstance(
                confidence_level, (int, float, np.floating)) or not 0 < confidence_level < 1:
            raise ValueError(f"confidence_level must be a number between 0 and 1 "
                             f"(0.95 for 95%), got {confidence_level!r}")
        if self.n <= 3:
            return ConfidenceInterval(-1.0, 1.0)
        half = NormalDist().inv_cdf(0.5 + confidence_level / 2) / math.sqrt(self.n - 3)
        with np.errstate(divide="ignore"):
            z = float(np.arctanh(self.statistic))           # +-inf for r = +-1
        return ConfidenceInterval(math.tanh(z - half), math.tanh(z + half))

_ANALOGY_TOPN = 5        # gensim looks at the 5 best answers (skipping the question words)


def evaluate_word_analogies(kv, analogies, restrict_vocab=300000, case_insensitive=True,
                            dummy4unknown=False, similarity_function="most_similar"):
    """Accuracy on an analogy test set ("a is to b as c is to ?"), gensim's way.

    Parameters
    ----------
    kv : KeyedVectors
    analogies : str or os.PathLike
        UTF-8 file of ``a b c expected`` lines, split into sections by ``: name`` lines
        (plain, gzip, bz2 or xz; lines may end in ``\\n``, ``\\r\\n`` or ``\\r``).
    restrict_vocab : int or None
        Only the first `restrict_vocab` keys count: a question using any other word is
        out of vocabulary, and answers are searched among them only.
    case_insensitive : bool
        Compare upper-cased words; a word's vector is that of its first (most frequent)
        case variant.
    dummy4unknown : bool
        Count out-of-vocabulary questions as wrong (else skip them).
    similarity_function : {'most_similar', 'most_similar_cosmul'}
        3CosAdd (gensim's only method: gensim accepts this argument but ignores it) or
        3CosMul.

    Returns
    -------
    score : float
        Accuracy over all sections (0.0 if nothing was scored).
    sections : list of dict
        One ``{'section': name, 'correct': [...], 'incorrect': [...]}`` per section, the
        lists holding ``(a, b, c, expected)`` tuples (upper-cased if
        `case_insensitive`), then a ``'Total accuracy'`` section.

    Notes
    -----
    The answer is the best of the 5 nearest keys to ``b - a + c`` (means of unit
    vectors), leaving out a, b and c and any case variant of them; exactly gensim's rule.
    """
    if similarity_function not in ("most_similar", "most_similar_cosmul"):
        raise ValueError(f"similarity_function must be 'most_similar' or "
                         f"'most_similar_cosmul', got {similarity_function!r}")
    ok_vocab, canon = _ok_vocab(kv, restrict_vocab, case_insensitive)
    path = os.fspath(analogies)
    logger.info("Evaluating word analogies for top %s words in the model on %s",
                restrict_vocab, path)
    sections, questions = [], []        # questions: (section index, a, b, c, expected)
    n_questions = oov = 0
    # (utf-8 only, as gensim reads them)
    with _text_lines(path, "utf-8", "analogy files must be UTF-8: convert it") as fin:
        for line_no, line in enumerate(fin, 1):
            if line.startswith(": "):
                sections.append({"section": line.lstrip(": ").strip(), "correct": [],
                                 "incorrect": []})
                continue
            if not sections:
                raise ValueError(f"{path!r} line {line_no}: a question before the first "
                                 f"': section' header line")
            words = line.split()
            if case_insensitive:
                words = [w.upper() for w in words]
            if len(words) != 4:
                logger.info("Skipping invalid line #%d in %s", line_no, path)
                continue
            n_questions += 1
            if not all(w in ok_vocab for w in words):
                oov += 1
                if dummy4unknown:
                    logger.debug("Zero accuracy for line #%d with OOV words: %s", line_no,
                                 line.strip())
                    questions.append((len(sections) - 1, *words, False))
                else:
                    logger.debug("Skipping line #%d with OOV words: %s", line_no,
                                 line.strip())
                continue
            questions.append((len(sections) - 1, *words, True))
    if not n_questions:
        raise ValueError(f"{path!r} holds no questions ('a b c expected' lines after a "
                         f"': section' line)")

    scored = [q for q in questions if q[5]]
    correct = np.zeros(0, bool)
    if scored:
        idx = np.array([[ok_vocab[w] for w in q[1:5]] for q in scored], np.int64)
        correct = _solve(kv, idx, canon, similarity_function)
    verdicts = iter(correct.tolist())
    for sec, a, b, c, expected, in_vocab in questions:
        ok = next(verdicts) if in_vocab else False
        sections[sec]["correct" if ok else "incorrect"].append((a, b, c, expected))
    for section in sections:
        _log_accuracy(section)

    total = {"section": "Total accuracy",
             "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
             "incorrect": list(itertools.chain.from_iterable(s["incorrect"]
                                                             for s in sections))}
    logger.info("Quadruplets with out-of-vocabulary words: %.1f%%",
                100.0 * oov / n_questions)
    if not dummy4unknown:
        logger.info("NB: analogies containing OOV words were skipped from evaluation! To "
                    "change this behavior, use \"dummy4unknown=True\"")
    score = _log_accuracy(total)
    sections.append(total)
    return score, sections


def _solve(kv, idx, canon, similarity_function):
    """Whether each question (rows of idx: a, b, c, expected, as ok_vocab rows) is
    answered right, with gensim's rule (see evaluate_word_analogies)."""
    unit_all, _, bad_rows = kv._cached()        # one snapshot for the whole call
    unit = unit_all[:len(canon)]
    ua, ub, uc = unit[idx[:, 0]], unit[idx[:, 1]], unit[idx[:, 2]]
    if similarity_function == "most_similar":
        q = ub + uc - ua                                        # (n_questions, dim)
        q /= np.maximum(np.linalg.norm(q, axis=1), np.finfo(np.float32).tiny)[:, None]

        def fill(s, e, out):
            np.matmul(q[s:e], unit.T, out=out)
    else:
        def fill(s, e, out):                                    # 3CosMul, as gensim's
            np.matmul(ub[s:e], unit.T, out=out)
            out += 1
            out *= 0.5
            sc = uc[s:e] @ unit.T
            sc += 1
            sc *= 0.5
            out *= sc
            sa = ua[s:e] @ unit.T
            sa += 1
            sa *= 0.5
            sa += np.float32(0.000001)
            out /= sa

    ids, _ = top_k_search(len(idx), len(unit), _ANALOGY_TOPN, fill, exclude=idx[:, :3],
                          bad_rows=bad_rows)
    # gensim takes the first of the 5 whose (upper-cased) word is not a, b or c, or else
    # the last of them; canon maps a row to the row of its first case variant.
    cand = np.where(ids >= 0, canon[np.maximum(ids, 0)], -1)   # (n_questions, 5)
    skip = ((cand == idx[:, 0:1]) | (cand == idx[:, 1:2]) | (cand == idx[:, 2:3])
            | (cand < 0))
    n_valid = (ids >= 0).sum(axis=1)
    first = np.argmax(~skip, axis=1)
    pos = np.where((~skip).any(axis=1), first, np.maximum(n_valid - 1, 0))
    predicted = cand[np.arange(len(idx)), pos]
    return (predicted == idx[:, 3]) & (n_valid > 0)


def _log_accuracy(section):
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%i/%i)", section["section"], 100.0 * score, correct,
                correct + incorrect)
    return score


def evaluate_word_pairs(kv, pairs, delimiter="\t", encoding="utf8", restrict_vocab=300000,
                        case_insensitive=True, dummy4unknown=False):
    """Correlation of the model's cosine similarities with human judgements, gensim's way.

    Parameters
    ----------
    kv : KeyedVectors
    pairs : str or os.PathLike
        File of ``word1<delimiter>word2<delimiter>score`` lines; lines starting with
        ``#`` and malformed lines are skipped (plain, gzip, bz2 or xz; lines may end in
        ``\\n``, ``\\r\\n`` or ``\\r``).
    delimiter : str
    encoding : str
        Encoding of the whole file (``'utf-16'`` works too).
    restrict_vocab : int or None
        Only the first `restrict_vocab` keys count.
    case_insensitive : bool
        Compare upper-cased words (a word's vector is its first case variant's).
    dummy4unknown : bool
        Give out-of-vocabulary pairs similarity 0 (else skip them).

    Returns
    -------
    pearson : PearsonResult
        (r, two-sided p-value), with ``confidence_interval(confidence_level=0.95)`` as
        scipy's result has.
    spearman : CorrelationResult
        (rho, two-sided p-value).
    oov_ratio : float
        Percentage of the well-formed pairs that have an out-of-vocabulary word.

    As gensim's (scipy's), both correlations are nan when a vector used holds NaN or inf
    (its cosines are nan) or a score is ``nan``; a score of ``inf`` makes Pearson's nan.

    Raises
    ------
    ValueError
        No usable pair in the file, or a line that is not valid in `encoding`.
    """
    ok_vocab, _ = _ok_vocab(kv, restrict_vocab, case_insensitive)
    path = os.fspath(pairs)
    gold, rows, oov = [], [], 0
    with _text_lines(path, encoding, "pass the file's encoding as encoding=") as fin:
        for line_no, line in enumerate(fin, 1):
            if not line or line.startswith("#"):
                continue
            parts = line.split(delimiter)
            if case_insensitive:
                parts = [p.upper() for p in parts]
            try:
                a, b, sim = parts
                sim = float(sim)
            except (ValueError, TypeError):
                logger.info("Skipping invalid line #%d in %s", line_no, path)
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    logger.debug("Zero similarity for line #%d with OOV words: %s", line_no,
                                 line.strip())
                    gold.append(sim)
                    rows.append((-1, -1))
                else:
                    logger.info("Skipping line #%d with OOV words: %s", line_no,
                                line.strip())
                continue
            gold.append(sim)
            rows.append((ok_vocab[a], ok_vocab[b]))
    if not gold:
        raise ValueError(f"No valid similarity judgements found in {path!r}: either the "
                         f"format is wrong (delimiter={delimiter!r}) or every pair is out "
                         f"of the vocabulary of {len(kv)} keys")
    unit = kv.unit_vectors()
    # float32 cosines computed one pair at a time, exactly as similarity() (and gensim)
    # computes them: a batched product can differ in the last bit, which reorders ties
    # (a self-pair's 1.0 against 1.0000001) and so changes Spearman's rho
    model = np.array([0.0 if a < 0 else float(unit[a] @ unit[b]) for a, b in rows],
                     np.float64)
    gold = np.array(gold, np.float64)
    spearman = spearmanr(gold, model)
    pearson = pearsonr(gold, model)
    # (gensim's order of operations: the same float)
    oov_ratio = oov / (len(gold) if dummy4unknown else len(gold) + oov) * 100
    logger.info("Pearson correlation coefficient against %s: %.4f", path, pearson[0])
    logger.info("Spearman rank-order correlation coefficient against %s: %.4f", path,
                spearman[0])
    logger.info("Pairs with unknown words ratio: %.1f%%", oov_ratio)
    return pearson, spearman, oov_ratio


def _ok_vocab(kv, restrict_vocab, case_insensitive):
    """Word -> row for the first `restrict_vocab` str keys (a case-folded word maps to its
    first variant), and canon: row -> row of the first key with the same folded word."""
    keys = kv.index_to_key[:_check_restrict_vocab(restrict_vocab)]
    ok_vocab = {}
    canon = np.arange(len(keys), dtype=np.int64)
    for i, k in enumerate(keys):
        if isinstance(k, str):
            word = k.upper() if case_insensitive else k
            canon[i] = ok_vocab.setdefault(word, i)
    return ok_vocab, canon


def _text_lines(path, encoding, fix):
    """The lines of a plain or compressed text file (a file object to iterate), decoded
    and read with universal newlines (``\\n``, ``\\r\\n`` and ``\\r`` all end a line and
    read as ``\\n``), as gensim's text-mode reading does. A decoding error raises
    ``ValueError`` naming the line, and `fix` says what to do.

    A byte-order mark at the start is dropped. The whole file is decoded at once: a byte-wise split on ``\\n`` would cut UTF-16's
    two-byte characters and miss ``\\r``-only line ends, and test sets are small (the
    questions or pairs read from them are kept in memory anyway)."""
    f, _ = open_binary(path)
    with f:
        data = f.read()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        # the bad bytes are on the line after the last line end before them
        before = data[:exc.start].decode(encoding, "replace")
        line_no = len(re.findall(r"\r\n|\r|\n", before)) + 1
        raise ValueError(f"{path!r} line {line_no} is not valid {encoding} text "
                         f"({exc.reason}); {fix}") from None
    # (without a byte-order mark, which some editors put first; gensim reads it as text)
    return io.StringIO(text.removeprefix("\ufeff"), newline=None)


# ---------------------------------------------------------------------------------------
# correlations (scipy.stats' definitions, without scipy)

def pearsonr(x, y):
    """Pearson's r and its two-sided p-value (scipy.stats.pearsonr's definition).

    Returns a PearsonResult (with scipy's ``confidence_interval()``); nan for constant
    input or input holding NaN or inf (as scipy does); p = 1 when there are only two
    points.
    """
    x, y = _check_pair(x, y)
    n = len(x)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        logger.warning("an input holds NaN or inf: the correlation is not defined (nan)")
        return PearsonResult(math.nan, math.nan, n)
    if (x == x[0]).all() or (y == y[0]).all():
        logger.warning("an input is constant: the correlation is not defined (nan)")
        return PearsonResult(math.nan, math.nan, n)
    # r does not change when an input is scaled: scaling by a power of two (exact) so that
    # the largest value is below 1 keeps the sum and the squares from overflowing (1e300)
    # or underflowing (1e-300)
    x, y = _scale_to_unit(x), _scale_to_unit(y)
    xm, ym = x - x.mean(), y - y.mean()
    nx, ny = np.linalg.norm(xm), np.linalg.norm(ym)    # > 0: neither input is constant
    r = float(np.clip(np.dot(xm / nx, ym / ny), -1.0, 1.0))
    if n == 2:
        return PearsonResult(float(round(r)), 1.0, n)
    # Under the null hypothesis r follows a Beta(n/2 - 1, n/2 - 1) on [-1, 1].
    ab = n / 2 - 1
    p = 2 * _betainc(ab, ab, (1 - abs(r)) / 2)
    return PearsonResult(r, min(p, 1.0), n)


def spearmanr(x, y):
    """Spearman's rho (Pearson's r of the ranks, ties averaged) and its two-sided p-value
    from the t distribution with n - 2 degrees of freedom (scipy.stats.spearmanr's).

    Returns nan for constant input or input holding NaN (as scipy does); inf is ranked
    like any other value.
    """
    x, y = _check_pair(x, y)
    if np.isnan(x).any() or np.isnan(y).any():
        logger.warning("an input holds NaN: the correlation is not defined (nan)")
        return CorrelationResult(math.nan, math.nan)
    rx, ry = _rank_average(x), _rank_average(y)
    if rx.min() == rx.max() or ry.min() == ry.max():
        logger.warning("an input is constant: the correlation is not defined (nan)")
        return CorrelationResult(math.nan, math.nan)
    rho = float(np.corrcoef(rx, ry)[0, 1])
    df = len(x) - 2
    if df <= 0:
        return CorrelationResult(rho, math.nan)
    if abs(rho) >= 1:
        return CorrelationResult(rho, 0.0)
    t2 = rho * rho * df / ((rho + 1.0) * (1.0 - rho))
    p = _betainc(df / 2, 0.5, df / (df + t2))          # = 2 * t.sf(|t|, df)
    return CorrelationResult(rho, min(p, 1.0))


def _scale_to_unit(a):
    """a times the power of two that puts its largest magnitude in [0.5, 1) (finite,
    not all zero)."""
    _, exponent = math.frexp(float(np.abs(a).max()))
    return np.ldexp(a, -exponent)


def _check_pair(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of the same length, got {x.shape} and "
                         f"{y.shape}")
    if len(x) < 2:
        raise ValueError("x and y must have length at least 2")
    return x, y


def _rank_average(a):
    """Ranks 1..n, tied values sharing their average rank (scipy's rankdata)."""
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    new = np.concatenate(([True], s[1:] != s[:-1]))
    group = np.cumsum(new) - 1                       # group id of each sorted value
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(a))
    avg = (starts + ends + 1) / 2.0                  # mean of ranks start+1 .. end
    ranks = np.empty(len(a), np.float64)
    ranks[order] = avg[group]
    return ranks


def _betainc(a, b, x):
    """Regularised incomplete beta function I_x(a, b), by its continued fraction
    (modified Lentz), using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where that
    converges faster."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def _beta_cf(a, b, x, eps=1e-16, max_iter=100_000):
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, max_iter):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            return h
    raise ArithmeticError(f"incomplete beta I_{x}({a}, {b}) did not converge")


def _check_restrict_vocab(restrict_vocab):
    """None or a positive row count. 0 is refused: gensim's evaluations take it to mean no
    word at all and score nothing without a warning (the queries, most_similar and the
    like, take 0 to mean every row, gensim's rule there)."""
    restrict_vocab = check_row_count("restrict_vocab", restrict_vocab)
    if restrict_vocab == 0:
        raise ValueError("restrict_vocab=0 leaves no word to evaluate; pass None to use "
                         "every key, or a positive number of rows")
    return restrict_vocab
