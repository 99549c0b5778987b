import gzip
import math
import pickle
import warnings

import numpy as np
import pytest

from fastw2v import KeyedVectors, evaluation

WORDS = ["man", "woman", "king", "queen", "King", "paris", "france", "berlin", "germany",
         "MAN", "boy", "girl", "Paris", "rome", "italy"] + [f"x{i}" for i in range(40)]


@pytest.fixture
def kv(rng):
    v = rng.normal(size=(len(WORDS), 8)).astype(np.float32)
    ix = {w: i for i, w in enumerate(WORDS)}
    # plant some analogies, and a case variant of "king" right on the answer of
    # man:woman::king:?, which gensim's rule must skip (so "queen" is still right)
    target = v[ix["woman"]] / np.linalg.norm(v[ix["woman"]]) - v[ix["man"]] / np.linalg.norm(
        v[ix["man"]]) + v[ix["king"]] / np.linalg.norm(v[ix["king"]])
    v[ix["King"]] = target
    v[ix["queen"]] = target + 0.05 * rng.normal(size=8)
    v[ix["italy"]] = v[ix["france"]] - v[ix["paris"]] + v[ix["rome"]]
    return KeyedVectors(v, WORDS)


@pytest.fixture
def gensim_kv(kv):
    models = pytest.importorskip("gensim.models")
    g = models.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    return g


@pytest.fixture
def analogies(tmp_path, rng):
    lines = [": capitals", "paris france rome italy", "Paris France rome italy",
             "berlin germany paris france", "too short", "paris france zzz italy",
             ": family", "man woman king queen", "MAN WOMAN boy girl", "boy girl man woman",
             ": random"]
    lines += [f"x{a} x{b} x{c} x{e}" for a, b, c, e in rng.integers(0, 40, size=(150, 4))]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def pairs(tmp_path, rng):
    lines = ["# a comment", "king\tqueen\t8.5", "man\twoman\t8.3", "King\tMAN\t2",
             "paris\tzzz\t1", "not a pair", "boy\tgirl\t7", "a\tb\tnot-a-number"]
    for _ in range(60):
        a, b = rng.choice(40, 2, replace=False)   # distinct words: no self-similarity ties
        lines.append(f"x{a}\tx{b}\t{rng.random() * 10:.2f}")
    path = tmp_path / "pairs.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kwargs", [
    {}, {"case_insensitive": False}, {"restrict_vocab": 20}, {"dummy4unknown": True},
    {"restrict_vocab": 6, "dummy4unknown": True}, {"restrict_vocab": None},
])
def test_evaluate_word_analogies_matches_gensim(kv, gensim_kv, analogies, kwargs):
    score, sections = kv.evaluate_word_analogies(analogies, **kwargs)
    g_score, g_sections = gensim_kv.evaluate_word_analogies(str(analogies), **kwargs)
    assert score == g_score
    assert sections == g_sections


def test_evaluate_word_analogies_rules(kv, analogies):
    score, sections = kv.evaluate_word_analogies(analogies)
    names = [s["section"] for s in sections]
    assert names == ["capitals", "family", "random", "Total accuracy"]
    capitals, family = sections[0], sections[1]
    assert ("PARIS", "FRANCE", "ROME", "ITALY") in capitals["correct"]
    # "King" is nearest but is a case variant of the question word "king": skipped
    assert ("MAN", "WOMAN", "KING", "QUEEN") in family["correct"]
    total = sections[-1]
    assert score == len(total["correct"]) / (len(total["correct"]) + len(total["incorrect"]))
    # case-sensitive: "Paris France ..." is out of vocabulary ("France" is not a key)
    _, cs = kv.evaluate_word_analogies(analogies, case_insensitive=False)
    assert ("paris", "france", "rome", "italy") in cs[0]["correct"]
    assert all(q[1] != "France" for s in cs for q in s["correct"] + s["incorrect"])


def test_evaluate_word_analogies_cosmul_matches_most_similar_cosmul(kv, analogies):
    _, sections = kv.evaluate_word_analogies(analogies, case_insensitive=False,
                                             similarity_function="most_similar_cosmul")
    for section in sections[:-1]:
        for ok, questions in ((True, section["correct"]), (False, section["incorrect"])):
            for a, b, c, expected in questions:
                best = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)
                assert (best[0][0] == expected) == ok


def test_evaluate_word_analogies_compressed_file_and_errors(kv, analogies, tmp_path):
    gz = tmp_path / "q.txt.gz"
    gz.write_bytes(gzip.compress(analogies.read_bytes()))
    assert kv.evaluate_word_analogies(gz) == kv.evaluate_word_analogies(analogies)
    (tmp_path / "bad.txt").write_text("man woman king queen\n: s\n")
    with pytest.raises(ValueError, match="line 1: a question before the first ': section'"):
        kv.evaluate_word_analogies(tmp_path / "bad.txt")
    (tmp_path / "none.txt").write_text(": s\nonly three words\n")
    with pytest.raises(ValueError, match="holds no questions"):
        kv.evaluate_word_analogies(tmp_path / "none.txt")
    with pytest.raises(ValueError, match="similarity_function"):
        kv.evaluate_word_analogies(analogies, similarity_function="3cosadd")
    (tmp_path / "latin1.txt").write_bytes(b": s\nman woman king qu\xe9en\n")
    with pytest.raises(ValueError, match="line 2 is not valid utf-8 text"):
        kv.evaluate_word_analogies(tmp_path / "latin1.txt")


def test_evaluate_word_analogies_is_vectorised(rng, tmp_path):
    # 20,000 questions over 5,000 words: seconds would mean a per-question loop
    words = [f"w{i}" for i in range(5000)]
    kv = KeyedVectors(rng.normal(size=(5000, 50)).astype(np.float32), words)
    q = rng.integers(0, 5000, size=(20000, 4))
    (tmp_path / "q.txt").write_text(": s\n" + "\n".join(
        " ".join(words[i] for i in row) for row in q) + "\n")
    score, sections = kv.evaluate_word_analogies(tmp_path / "q.txt")
    assert len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) == 20000


@pytest.mark.parametrize("kwargs", [
    {}, {"case_insensitive": False}, {"restrict_vocab": 30}, {"dummy4unknown": True},
])
def test_evaluate_word_pairs_matches_gensim(kv, gensim_kv, pairs, kwargs):
    pearson, spearman, oov = kv.evaluate_word_pairs(pairs, **kwargs)
    g_pearson, g_spearman, g_oov = gensim_kv.evaluate_word_pairs(str(pairs), **kwargs)
    # cosines are float32 (unit vectors cached vs gensim's per-pair unitvec): ~1e-7
    np.testing.assert_allclose(tuple(pearson), tuple(g_pearson), rtol=1e-6)
    np.testing.assert_allclose(tuple(spearman), tuple(g_spearman), rtol=1e-6)
    assert oov == g_oov
    assert pearson.statistic == pearson[0] and spearman.pvalue == spearman[1]
    assert spearman.correlation == spearman.statistic and pearson.correlation == pearson[0]


def test_evaluate_word_pairs_delimiter_and_errors(kv, tmp_path):
    (tmp_path / "p.csv").write_text("king,queen,9\nman,woman,8\nboy,girl,7.5\nparis,rome,2\n")
    pearson, spearman, oov = kv.evaluate_word_pairs(tmp_path / "p.csv", delimiter=",")
    assert oov == 0.0 and -1 <= pearson[0] <= 1
    with pytest.raises(ValueError, match="No valid similarity judgements.*delimiter='\\\\t'"):
        kv.evaluate_word_pairs(tmp_path / "p.csv")


def test_pearsonr_and_spearmanr_match_scipy(rng):
    stats = pytest.importorskip("scipy.stats")
    cases = [rng.normal(size=(2, n)) for n in (3, 4, 10, 353, 999)]
    cases.append(np.array([[1, 2, 2, 3, 3, 3, 4], [1, 3, 2, 2, 5, 5, 1]], float))   # ties
    x = rng.normal(size=999)
    cases.append(np.stack([x, x + 0.3 * rng.normal(size=999)]))    # p far below 1e-100
    cases.append(np.stack([x, -x + 0.01 * rng.normal(size=999)]))  # p underflows to 0
    for x, y in cases:
        ours_p, ref_p = evaluation.pearsonr(x, y), stats.pearsonr(x, y)
        ours_s, ref_s = evaluation.spearmanr(x, y), stats.spearmanr(x, y)
        for ours, ref in ((ours_p, ref_p), (ours_s, ref_s)):
            assert ours[0] == pytest.approx(float(ref[0]), rel=1e-12, abs=1e-15)
            assert ours[1] == pytest.approx(float(ref[1]), rel=1e-9, abs=1e-300)


def test_pearson_confidence_interval_matches_scipy(rng):
    stats = pytest.importorskip("scipy.stats")
    x = rng.normal(size=50)
    cases = [(x, x + rng.normal(size=50)), (x, -x + 3 * rng.normal(size=50)),
             (x[:4], rng.normal(size=4)), (x[:3], rng.normal(size=3)),   # n - 3 = 1, 0
             (x[:5], 2 * x[:5] + 1)]                                     # r = 1
    for a, b in cases:
        ours, ref = evaluation.pearsonr(a, b), stats.pearsonr(a, b)
        for level in (0.95, 0.5, 0.999):
            np.testing.assert_allclose(ours.confidence_interval(level),
                                       tuple(ref.confidence_interval(level)), rtol=1e-12)
        low, high = ours.confidence_interval()
        assert low <= ours.statistic <= high
        back = pickle.loads(pickle.dumps(ours))                 # (n goes with it)
        assert back == ours and back.confidence_interval() == (low, high)
        assert ours._replace(pvalue=0.5).confidence_interval() == (low, high)
    for bad in (0, 1, 1.5, -0.2, True, "0.9"):
        with pytest.raises(ValueError, match="confidence_level must be a number between 0"):
            ours.confidence_interval(bad)
    with pytest.raises(ValueError, match="only Fisher"):
        ours.confidence_interval(method=object())


def test_correlation_edge_cases():
    assert tuple(evaluation.pearsonr([1, 2], [3, 5])) == (1.0, 1.0)
    r, p = evaluation.spearmanr([1, 2], [5, 3])
    assert r == pytest.approx(-1.0) and math.isnan(p)
    assert all(math.isnan(v) for v in evaluation.pearsonr([1, 2, 3], [1, 1, 1]))
    assert all(math.isnan(v) for v in evaluation.spearmanr([1, 1, 1], [1, 2, 3]))
    assert evaluation.spearmanr([1, 2, 3, 4], [2, 4, 6, 8]) == (1.0, 0.0)
    with pytest.raises(ValueError, match="at least 2"):
        evaluation.pearsonr([1], [2])
    with pytest.raises(ValueError, match="same length"):
        evaluation.spearmanr([1, 2, 3], [1, 2])


@pytest.mark.parametrize("bad", [-1, 0, 2.5, True, "10"])
@pytest.mark.parametrize("which", ["analogies", "pairs"])
def test_module_functions_check_restrict_vocab(kv, analogies, pairs, which, bad):
    # called directly as well as through KeyedVectors: a negative bound would slice from
    # the end, and 0 would score nothing without a word
    with pytest.raises(ValueError, match="restrict_vocab"):
        if which == "analogies":
            evaluation.evaluate_word_analogies(kv, analogies, restrict_vocab=bad)
        else:
            evaluation.evaluate_word_pairs(kv, pairs, restrict_vocab=bad)
    # and a good value still works
    assert evaluation.evaluate_word_pairs(kv, pairs, restrict_vocab=len(kv)) is not None



@pytest.mark.parametrize("x, y", [
    ([1, np.nan, 3, 4], [1, 2, 3, 4]),
    ([1, 2, 3, 4], [1, 2, np.nan, 4]),
    ([1, np.inf, 3, 4], [1, 2, 3, 4]),                 # Spearman ranks inf, as scipy
    ([1, -np.inf, np.inf, 4], [1, 2, 3, 4]),
    ([1, 2, 3, 4], [np.inf, 2, 3, 4]),
    ([1e300, -1e300, 5e299, 0], [1, 2, 3, 4]),         # squares overflow
    ([1e-300, -1e-300, 5e-301, 0], [1, 2, 3, 4]),      # squares underflow
    ([0.1, 0.1, 0.1], [1, 2, 3]),                      # constant; its mean is not 0.1
])
def test_correlations_nonfinite_huge_and_constant_match_scipy(x, y):
    stats = pytest.importorskip("scipy.stats")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # scipy warns about these inputs
        ref_p, ref_s = stats.pearsonr(x, y), stats.spearmanr(x, y)
    ours_p, ours_s = evaluation.pearsonr(x, y), evaluation.spearmanr(x, y)
    for ours, ref in ((ours_p, ref_p), (ours_s, ref_s)):
        np.testing.assert_allclose(tuple(ours), (float(ref[0]), float(ref[1])),
                                   rtol=1e-12, equal_nan=True)


def assert_same_correlations(ours, theirs):
    # each of (pearson, spearman): (statistic, p-value), nan where gensim has nan
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(tuple(a), (float(b[0]), float(b[1])), rtol=1e-9,
                                   equal_nan=True)
    assert ours[2] == theirs[2]


@pytest.mark.parametrize("case", ["nan vector", "inf vector", "nan score", "inf score"])
def test_evaluate_word_pairs_nonfinite_matches_gensim(kv, pairs, tmp_path, case):
    models = pytest.importorskip("gensim.models")
    vectors = kv.vectors.copy()
    if case.endswith("vector"):
        vectors[WORDS.index("boy"), 3] = np.nan if case == "nan vector" else np.inf
    else:
        lines = pairs.read_text().replace("boy\tgirl\t7", "boy\tgirl\t" + case[:3])
        pairs = tmp_path / "nonfinite.txt"
        pairs.write_text(lines)
    ours = KeyedVectors(vectors, WORDS)
    theirs = models.KeyedVectors(kv.vector_size)
    theirs.add_vectors(WORDS, vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # scipy warns about nan input
        expected = theirs.evaluate_word_pairs(str(pairs))
    result = ours.evaluate_word_pairs(pairs)
    assert_same_correlations(result, expected)
    assert math.isnan(result[0][0])                   # a real nan case, not a tie


@pytest.mark.parametrize("encoding, newline", [
    ("utf-16", "\n"), ("utf-16-le", "\r\n"), ("utf-8", "\r"), ("latin-1", "\r"),
])
def test_evaluate_word_pairs_encodings_and_line_ends_match_gensim(kv, gensim_kv, pairs,
                                                                  tmp_path, encoding,
                                                                  newline):
    path = tmp_path / "encoded.txt"
    text = pairs.read_text().replace("king\tqueen", "king\tqueen\t8.5\nKING\tqueen\u00e9")
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    expected = gensim_kv.evaluate_word_pairs(str(path), encoding=encoding)
    assert_same_correlations(kv.evaluate_word_pairs(path, encoding=encoding), expected)
    assert expected[2] < 10                  # the lines were read, not one big bad line


def test_evaluate_word_pairs_bad_byte_names_its_line(kv, tmp_path):
    # a Latin-1 byte read as UTF-8, on line 3 of a file whose lines end in \r
    (tmp_path / "bad.txt").write_bytes(b"king\tqueen\t8\rman\twoman\t7\rqu\xe9en\tboy\t2\r")
    with pytest.raises(ValueError, match=r"bad.txt' line 3 is not valid utf8 text "
                                         r"\(invalid continuation byte\); pass the file's "
                                         r"encoding as encoding="):
        kv.evaluate_word_pairs(tmp_path / "bad.txt")
    (tmp_path / "odd.txt").write_bytes("king\tqueen\t8\n".encode("utf-16") + b"\n")
    with pytest.raises(ValueError, match=r"line 2 is not valid utf-16 text \(truncated"):
        kv.evaluate_word_pairs(tmp_path / "odd.txt", encoding="utf-16")


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_evaluate_word_analogies_line_ends(kv, gensim_kv, analogies, tmp_path, newline):
    path = tmp_path / "q.txt"
    path.write_bytes(analogies.read_bytes().replace(b"\n", newline.encode()))
    result = kv.evaluate_word_analogies(path)
    assert result == kv.evaluate_word_analogies(analogies)
    if newline == "\r\n":                    # gensim reads \r-only files as one line
        assert result == gensim_kv.evaluate_word_analogies(str(path))


def test_evaluate_word_pairs_ties_match_gensim_exactly(rng, tmp_path):
    # self-pairs have cosine 1 up to the last bit of float32; a cosine computed otherwise
    # than gensim's (and similarity()'s) breaks those ties differently, changing rho
    models = pytest.importorskip("gensim.models")
    words = [f"w{i}" for i in range(60)]
    vectors = rng.normal(size=(60, 100)).astype(np.float32)
    lines = [f"w{i}\tw{i}\t{rng.random() * 10:.3f}" for i in range(60)]
    lines += [f"w{a}\tw{b}\t{rng.random() * 10:.3f}"
              for a, b in rng.integers(0, 60, size=(60, 2))]
    (tmp_path / "p.txt").write_text("\n".join(lines) + "\n")
    ours = KeyedVectors(vectors, words)
    theirs = models.KeyedVectors(100)
    theirs.add_vectors(words, vectors)
    pearson, spearman, _ = ours.evaluate_word_pairs(tmp_path / "p.txt")
    g_pearson, g_spearman, _ = theirs.evaluate_word_pairs(str(tmp_path / "p.txt"))
    assert spearman[0] == pytest.approx(float(g_spearman[0]), rel=1e-14)
    assert pearson[0] == pytest.approx(float(g_pearson[0]), rel=1e-12)
    for i in range(60):
        assert ours.similarity(words[i], words[i]) == theirs.similarity(words[i], words[i])


def test_a_byte_order_mark_before_a_test_set_is_skipped(kv, analogies, pairs, tmp_path):
    # (gensim takes it for text: the first line of an analogy file is then no section)
    for name, original in (("q.txt", analogies), ("p.txt", pairs)):
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + original.read_bytes())
    assert (kv.evaluate_word_analogies(tmp_path / "q.txt")
            == kv.evaluate_word_analogies(analogies))
    with_mark, plain = (kv.evaluate_word_pairs(p) for p in (tmp_path / "p.txt", pairs))
    assert tuple(with_mark[0]) == tuple(plain[0]) and with_mark[2] == plain[2]
