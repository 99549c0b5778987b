"""Phrase detection against a plain-Python reference, gensim's Phrases and known answers."""
import gzip
import math
import os
import random
from collections import Counter

import numpy as np
import pytest

from fastw2v import FrozenPhrases, KeyedVectors, Phrases, Word2Vec, cli, phrases
from fastw2v.phrases import ENGLISH_CONNECTOR_WORDS, original_scorer


def make_corpus(n_sentences=2000, seed=0):
    """Random sentences salted with fixed collocations, connector phrases included."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(50)] + ["of", "the", "a"]
    corpus = []
    for _ in range(n_sentences):
        sentence = []
        target = rng.randint(0, 14)
        while len(sentence) < target:
            r = rng.random()
            if r < 0.1:
                sentence += ["new", "york"]
            elif r < 0.15:
                sentence += ["bank", "of", "america"]
            elif r < 0.18:
                sentence += ["eye", "of", "the", "beholder"]
            elif r < 0.2:
                sentence += ["w1", "of", "the", "a", "w2"]
            else:
                sentence.append(rng.choice(words[:rng.randint(1, len(words))]))
        corpus.append(sentence)
    return corpus


def reference(corpus, min_count, threshold, scoring, connectors=frozenset()):
    """Counts, scores and the greedy rewrite, written out plainly."""
    words, cands, total = Counter(), Counter(), 0
    for sentence in corpus:
        start, between = None, []
        for w in sentence:
            total += 1
            if w in connectors:
                if start is not None:
                    between.append(w)
                continue
            words[w] += 1
            if start is not None:
                cands[(start, *between, w)] += 1
            start, between = w, []
    len_vocab = len(words) + len(cands)

    def score(c):
        ca, cb, cab = words[c[0]], words[c[-1]], cands[c]
        if cab < min_count:
            return -math.inf
        if scoring == "default":
            return (cab - min_count) / (ca * cb) * len_vocab
        if scoring == "word2phrase":           # word2vec.c computes in float32
            f32 = np.float32
            return f32(cab - min_count) / f32(ca) / f32(cb) * f32(total)
        pa, pb, pab = ca / total, cb / total, cab / total
        return math.log(pab / (pa * pb)) / -math.log(pab) if pab < 1 else -math.inf

    if scoring == "word2phrase":
        threshold = np.float32(threshold)
    accepted = {c: float(score(c)) for c in cands if score(c) > threshold}

    def rewrite(sentence):
        out, start, between = [], None, []
        for w in sentence:
            if w in connectors:
                (between if start is not None else out).append(w)
                continue
            if start is not None and (start, *between, w) in accepted:
                out.append("_".join((start, *between, w)))
                start, between = None, []
                continue
            if start is not None:
                out += [start] + between
            start, between = w, []
        return out + ([start] + between if start is not None else [])

    return accepted, [rewrite(s) for s in corpus]


CASES = [("default", 1.0, frozenset()), ("default", 2.0, ENGLISH_CONNECTOR_WORDS),
         ("npmi", 0.3, frozenset()), ("npmi", 0.2, ENGLISH_CONNECTOR_WORDS),
         ("word2phrase", 20.0, frozenset()), ("word2phrase", 5.0, ENGLISH_CONNECTOR_WORDS)]


@pytest.mark.parametrize("scoring,threshold,connectors", CASES)
def test_phrases_match_reference(scoring, threshold, connectors):
    corpus = make_corpus()
    model = Phrases(corpus, min_count=3, threshold=threshold, scoring=scoring,
                    connector_words=connectors)
    accepted, rewritten = reference(corpus, 3, threshold, scoring, connectors)
    assert len(accepted) >= 2                        # the test sees phrases at all
    assert model._accepted().keys() == accepted.keys()
    assert model._accepted() == accepted                 # the same arithmetic: exact
    assert [model[s] for s in corpus] == rewritten
    assert list(model[corpus]) == rewritten
    assert [[t for t, _ in model.analyze_sentence(s)] for s in corpus] == rewritten
    assert model.corpus_word_count == sum(map(len, corpus))


@pytest.mark.parametrize("scoring,threshold,connectors", [c for c in CASES
                                                          if c[0] != "word2phrase"])
def test_phrases_match_gensim(scoring, threshold, connectors):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    corpus = make_corpus(seed=1)
    ours = Phrases(corpus, min_count=3, threshold=threshold, scoring=scoring,
                   connector_words=connectors)
    theirs = gensim_phrases.Phrases(corpus, min_count=3, threshold=threshold,
                                    scoring=scoring, connector_words=connectors)
    want = theirs.export_phrases()
    got = ours.export_phrases()
    assert got == want and want                            # exactly gensim's scores
    assert [ours[s] for s in corpus] == [theirs[s] for s in corpus]
    assert ours.find_phrases(corpus) == pytest.approx(theirs.find_phrases(corpus))
    frozen = theirs.freeze()
    assert [ours.freeze()[s] for s in corpus] == [frozen[s] for s in corpus]


@pytest.mark.parametrize("connectors", [frozenset(), ENGLISH_CONNECTOR_WORDS])
def test_phrases_vocab_and_score_candidate_match_gensim(connectors):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    corpus = make_corpus(seed=1)
    joined = corpus + [["new_york", "x"]]       # a token that is a joined phrase adds to it
    assert Phrases(joined, min_count=3, connector_words=connectors).vocab == dict(
        gensim_phrases.Phrases(joined, min_count=3, connector_words=connectors).vocab)
    ours = Phrases(corpus, min_count=3, threshold=1.0, connector_words=connectors)
    theirs = gensim_phrases.Phrases(corpus, min_count=3, threshold=1.0,
                                    connector_words=connectors)
    assert ours.vocab == dict(theirs.vocab)
    assert ours.vocab is ours.vocab                  # kept until the counts change
    before = ours.vocab
    ours.add_vocab([["new", "york"]])
    theirs.add_vocab([["new", "york"]])
    assert ours.vocab is not before and ours.vocab == dict(theirs.vocab)
    ours, theirs = (cls(corpus, min_count=3, threshold=1.0, connector_words=connectors)
                    for cls in (Phrases, gensim_phrases.Phrases))
    words = ours.words[:30] + ["new", "york", "bank", "america", "unseen"]
    between = ([], ["of"], ["of", "the"], ("of",))
    checked = [(a, b, list(mid)) for a in words for b in words for mid in between]
    got = [ours.score_candidate(*c) for c in checked]
    assert got == [theirs.score_candidate(*c) for c in checked]
    assert sum(g != (None, None) for g in got) >= 2
    frozen, their_frozen = ours.freeze(), theirs.freeze()
    assert [frozen.score_candidate(*c) for c in checked] == [
        their_frozen.score_candidate(*c) for c in checked]


def test_phrases_known_answer_word2phrase_score():
    # "new york" 6 times among 20 tokens; new 7, york 6: (6 - 5) / (7 * 6) * 20 = 0.476
    corpus = [["new", "york", f"x{i}"] for i in range(6)] + [["new", "y"]]
    model = Phrases(corpus, min_count=5, threshold=0.4, scoring="word2phrase")
    assert model.export_phrases() == {"new_york": pytest.approx(20 / 42)}
    model.threshold = 0.5                             # takes effect at once
    assert model.export_phrases() == {}
    assert model[["new", "york"]] == ["new", "york"]


def test_phrases_greedy_left_to_right():
    # a b and b c are both phrases: "a b c" becomes a_b c (the pair after a phrase
    # starts at its next word), "a b c a b" a_b c a_b
    corpus = [["a", "b", "c"]] * 10
    model = Phrases(corpus, min_count=1, threshold=0.1)
    assert set(model.export_phrases()) == {"a_b", "b_c"}
    assert model[["a", "b", "c", "a", "b"]] == ["a_b", "c", "a_b"]
    assert model[["b", "c", "c"]] == ["b_c", "c"]


def test_phrases_long_connector_runs_and_edges():
    conn = {"of", "the"}
    corpus = [["x", "of", "the", "of", "the", "of", "y"]] * 5 + [["of", "x", "y", "the"]]
    model = Phrases(corpus, min_count=1, threshold=0.01, connector_words=conn)
    assert "x_of_the_of_the_of_y" in model.export_phrases()
    assert model[["of", "x", "of", "the", "of", "the", "of", "y", "the"]] == [
        "of", "x_of_the_of_the_of_y", "the"]
    # a connector run that was never counted does not make a phrase
    assert model[["x", "the", "y"]] == ["x", "the", "y"]
    assert model[["x", "of", "of", "y"]] == ["x", "of", "of", "y"]


def test_phrases_delimiter_in_tokens_is_not_a_phrase():
    corpus = [["new_york", "x"]] * 10 + [["new", "york"]] * 2
    model = Phrases(corpus, min_count=1, threshold=0.1)
    # gensim would count "new_york" 12 times; the candidate new+york was seen twice
    assert sorted(model._count.tolist()) == [2, 10]
    assert model.export_phrases()["new_york"] == pytest.approx(
        original_scorer(2, 2, 2, 4 + 2, 1, 24))   # 4 words, 2 candidates


@pytest.mark.parametrize("window", [1 << 20, 7, 2])
def test_phrases_file_equals_iterable(tmp_path, monkeypatch, window):
    corpus = make_corpus(2000 if window > 100 else 400, seed=2)
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for s in corpus:
            f.write("\t ".join(s) + "\n\n")          # blank lines, mixed whitespace
    # small windows: sentences cut across windows must give the same counts and rewrite
    monkeypatch.setattr(phrases, "_WINDOW_TOKENS", window)
    for conn in (frozenset(), ENGLISH_CONNECTOR_WORDS):
        from_list = Phrases(corpus, min_count=3, threshold=1.0, connector_words=conn)
        from_file = Phrases(corpus_file=path, min_count=3, threshold=1.0,
                            connector_words=conn)
        assert from_file.export_phrases() == from_list.export_phrases()
        assert from_file.corpus_word_count == from_list.corpus_word_count
        out = tmp_path / "out.txt"
        n_made = from_file.freeze().transform_file(path, out)
        rewritten = [from_list[s] for s in corpus]
        # every line where it was: blank ones (and the empty sentences) stay empty
        assert out.read_text(encoding="utf-8").splitlines() == [
            line for s in rewritten for line in (" ".join(s), "")]
        assert n_made == sum(t.count("_") > 0 for s in rewritten for t in s) > 0


@pytest.mark.parametrize("window", [1 << 20, 3, 1])
def test_transform_file_keeps_every_line_as_word2phrase_does(tmp_path, monkeypatch, window):
    """Lines without a token (empty, or whitespace only) stay as empty lines, at the
    start, between and at the end, with or without a final newline: line i of the
    output is line i of the input rewritten."""
    monkeypatch.setattr(phrases, "_WINDOW_TOKENS", window)
    model = Phrases([["new", "york", "is"], ["in", "new", "york"]] * 5, min_count=1,
                    threshold=0.1)
    cases = {b"": b"", b"\n": b"\n", b"\n\n": b"\n\n", b" \t\n": b"\n",
             b"new york\n": b"new_york\n", b"new york": b"new_york\n",
             b"new york\n\n": b"new_york\n\n", b"new york\n  ": b"new_york\n",
             b"\n \nnew  york is\n\n\nin new york\n\n":
                 b"\n\nnew_york is\n\n\nin_new york\n\n"}
    for text, want in cases.items():
        src, out = tmp_path / "in.txt", tmp_path / "out.txt"
        src.write_bytes(text)
        model.transform_file(src, out)
        assert out.read_bytes() == want, text


@pytest.mark.parametrize("window", [1 << 20, 5, 3, 2])
def test_phrases_one_line_corpus(tmp_path, monkeypatch, window):
    # text8 is one line: windows cut it anywhere, in runs of connectors too
    monkeypatch.setattr(phrases, "_WINDOW_TOKENS", window)
    line = [w for s in make_corpus(300, seed=8) for w in s]
    line += ["x", "of", "the", "of", "the", "y"] * 4
    line += (["u"] + ["of", "the"] * 6 + ["v"]) * 4           # runs past _RUN_LEVELS
    path = tmp_path / "one.txt"
    path.write_text(" ".join(line), encoding="utf-8")          # (no final newline)
    want = Phrases([line], min_count=3, threshold=0.5, connector_words={"of", "the"})
    got = Phrases(corpus_file=path, min_count=3, threshold=0.5, connector_words={"of", "the"})
    assert got.export_phrases() == want.export_phrases()
    assert "x_of_the_of_the_y" in want.export_phrases()
    assert "u_" + "_".join(["of", "the"] * 6) + "_v" in want.export_phrases()
    out = tmp_path / "out.txt.gz"                              # written compressed
    assert got.transform_file(path, out) > 0
    monkeypatch.setattr(phrases, "_WINDOW_TOKENS", 1 << 20)
    assert gzip.decompress(out.read_bytes()).decode().split("\n") == [" ".join(want[line]), ""]
    again = Phrases([line], min_count=3, threshold=0.5, connector_words={"of", "the"})
    assert again[line] == want[line]


def test_phrases_add_vocab_equals_one_pass():
    corpus = make_corpus(seed=3)
    whole = Phrases(corpus, min_count=2, threshold=1.0, connector_words={"of", "the"})
    parts = Phrases(corpus[:700], min_count=2, threshold=1.0, connector_words={"of", "the"})
    parts.add_vocab(corpus[700:])
    assert parts.export_phrases() == pytest.approx(whole.export_phrases())
    assert parts.corpus_word_count == whole.corpus_word_count
    assert dict(zip(parts.words, parts.word_counts.tolist())) == dict(
        zip(whole.words, whole.word_counts.tolist()))


def test_phrases_grouping_without_packed_keys():
    rng = np.random.default_rng(0)
    cols = [rng.integers(0, 4, 200), rng.integers(0, 3, 200)]
    packed, _ = phrases._group(cols, [4, 3])
    huge, rows = phrases._group(cols, [2 ** 40, 2 ** 40])     # the lexsort path
    assert np.array_equal(packed, huge)
    assert np.array_equal(cols[0][rows][huge], cols[0]) and np.array_equal(cols[1][rows][huge], cols[1])
    a, run, b = (rng.integers(0, 5, 300) for _ in range(3))
    count = rng.integers(1, 9, 300)
    want = Counter()
    for x, r, y, c in zip(a.tolist(), run.tolist(), b.tolist(), count.tolist()):
        want[(x, r, y)] += c
    for n_words in (5, 2 ** 40):
        got = phrases._sum_counts(a, run, b, count, n_words, 5)
        assert dict(zip(zip(got[0].tolist(), got[1].tolist(), got[2].tolist()),
                        got[3].tolist())) == want


def test_phrases_table_rebuilt_for_each_new_set_of_phrases():
    """A threshold change that keeps the same phrases still gives a table made for the
    new set (compared by identity: comparing equal dicts would cost a full pass over
    them for every sentence rewritten)."""
    model = Phrases(make_corpus(), min_count=3, threshold=1.0)
    sentence = ["new", "york", "w1"]
    assert model[sentence] == ["new_york", "w1"]
    accepted = model._accepted()
    model.threshold = 1.0 + 1e-12                  # (no score lies in between)
    assert model._accepted() == accepted and model._accepted() is not accepted
    assert model[sentence] == ["new_york", "w1"]
    assert model._table_for[0] is model._accepted()
    frozen = model.freeze()
    frozen[sentence]
    frozen.threshold = 1.0 + 2e-12
    assert frozen[sentence] == ["new_york", "w1"]
    assert frozen._table_for[0] is frozen._accepted()


def test_phrases_custom_scorer():
    corpus = make_corpus(seed=4)
    calls = []

    def scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count,
               corpus_word_count):
        calls.append(bigram_count)
        return original_scorer(worda_count, wordb_count, bigram_count, len_vocab,
                               min_count, corpus_word_count)

    custom = Phrases(corpus, min_count=3, threshold=1.0, scoring=scorer)
    builtin = Phrases(corpus, min_count=3, threshold=1.0)
    assert custom.export_phrases() == builtin.export_phrases()
    assert len(calls) == len(custom._a) and min(calls) == 1   # every candidate, as gensim
    with pytest.raises(ValueError, match="lacks len_vocab"):
        Phrases(scoring=lambda worda_count, wordb_count, bigram_count: 0)
    Phrases(scoring=lambda **kw: 0.0)                 # **kwargs takes them all
    # a scorer that ignores min_count decides alone (gensim calls it for every candidate)
    loose = Phrases([["a", "b"], ["a", "b"], ["c", "d"]], min_count=5, threshold=0.1,
                    scoring=lambda bigram_count, worda_count, **kw: bigram_count / worda_count)
    assert loose.export_phrases() == {"a_b": 1.0, "c_d": 1.0}
    for bad, error in ((None, TypeError), (float("nan"), ValueError)):
        model = Phrases([["a", "b"]], min_count=1, scoring=lambda **kw: bad)
        with pytest.raises(error, match="scoring function returned"):
            model[["a", "b"]]


def test_phrases_gensim_edge_cases():
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    # npmi on the threshold: the last bit of the log decides (math.log, as gensim)
    corpus = [["a", "b"]] + [["a"]] * 4 + [["b"]] * 9 + [[f"f{i}"] for i in range(35)]
    threshold = gensim_phrases.Phrases(corpus, min_count=1, threshold=-1,
                                       scoring="npmi").export_phrases()["a_b"]
    ours = Phrases(corpus, min_count=1, threshold=threshold, scoring="npmi")
    theirs = gensim_phrases.Phrases(corpus, min_count=1, threshold=threshold, scoring="npmi")
    assert ours[["a", "b"]] == theirs[["a", "b"]] == ["a", "b"]
    ours.threshold = theirs.threshold = -1
    assert ours.export_phrases() == theirs.export_phrases() and ours.export_phrases()


def test_phrases_word2phrase_float32():
    # word2phrase scores in float32: 100.00001 > 100 there, exactly 100.0 in float64
    line = ["A", "B"] * 20 + ["B"] + [f"f{i}" for i in range(2759)]
    model = Phrases([line], min_count=5, threshold=100, scoring="word2phrase")
    assert model.export_phrases() == {"A_B": pytest.approx(100.00001, abs=1e-5)}
    assert model[line][:2] == ["A_B", "A_B"]


def test_phrases_failed_add_vocab_changes_nothing():
    model = Phrases([["new", "york"]] * 3, min_count=1, threshold=0.1)
    before = (list(model.words), model.word_counts.copy(), model.export_phrases())

    def broken():
        yield ["los", "angeles", "of"]
        raise OSError("disk")

    with pytest.raises(OSError):
        model.add_vocab(broken())
    with pytest.raises(TypeError, match="tokens must be str"):
        model.add_vocab([["san", "diego"], ["x", 3]])
    with pytest.raises(TypeError, match="tokens must be str"):
        model.add_vocab([["rome", None]])
    assert (model.words, model.word_counts.tolist(), model.export_phrases()) == (
        before[0], before[1].tolist(), before[2])
    model.min_count = 2
    model.add_vocab([["los", "angeles"]] * 4)        # and it goes on counting
    assert set(model.export_phrases()) == {"new_york", "los_angeles"}


def test_phrases_connector_words_fixed_once_counted(tmp_path):
    model = Phrases([["bank", "of", "america"]] * 5, min_count=1, threshold=0.1,
                    connector_words={"of"})
    with pytest.raises(ValueError, match="fixed once words are counted"):
        model.connector_words = frozenset()
    model.connector_words = {"of"}                    # the same set is fine
    frozen = model.freeze()
    path = tmp_path / "in.txt"
    path.write_text("bank of america\n")
    frozen.transform_file(path, tmp_path / "a.txt")
    assert (tmp_path / "a.txt").read_text() == "bank_of_america\n"
    frozen.connector_words = frozenset()              # a frozen model applies it everywhere
    assert frozen[["bank", "of", "america"]] == ["bank", "of", "america"]
    frozen.transform_file(path, tmp_path / "b.txt")
    assert (tmp_path / "b.txt").read_text() == "bank of america\n"


def test_phrases_frozen_phrasegrams():
    frozen = Phrases([["new", "york"]] * 5, min_count=1, threshold=0.1).freeze()
    with pytest.raises(TypeError):
        frozen.phrasegrams[("new", "york")] = 0.0     # read-only: assign a new dict
    frozen.phrasegrams = {"los_angeles": 5.0, ("new", "york"): 0.05}   # gensim's str keys too
    assert frozen[["los", "angeles", "new", "york"]] == ["los_angeles", "new", "york"]
    for bad in ({"solo": 5.0}, {(): 1.0}, {("a", 1): 1.0}, {("a", "b"): "x"}):
        with pytest.raises(ValueError, match="phrase"):
            frozen.phrasegrams = bad


def test_phrases_rewrite_corpus_restartable_and_word2vec():
    corpus = [["new", "york", "is", "big"], ["i", "love", "new", "york"]] * 20
    model = Phrases(corpus, min_count=1, threshold=0.1)
    rewritten = model[corpus]
    assert len(rewritten) == len(corpus)
    assert list(rewritten) == list(rewritten)          # restartable
    w2v = Word2Vec(rewritten, vector_size=8, min_count=1, epochs=1, workers=1, seed=1)
    assert "new_york" in w2v.wv and "new" not in w2v.wv
    once = model[iter(corpus)]
    assert len(list(once)) == len(corpus)
    with pytest.raises(TypeError, match="one-shot iterator, already read"):
        list(once)
    # Word2Vec reads its corpus once: the rewrite of a generator will do, nested too
    from_once = Word2Vec(model[iter(corpus)], vector_size=8, min_count=1, epochs=1,
                         workers=1, seed=1)
    np.testing.assert_array_equal(from_once.wv.vectors, w2v.wv.vectors)
    second = Phrases(model[corpus], min_count=1, threshold=0.1)
    assert list(second[model[iter(corpus)]]) == list(second[model[corpus]])
    nested = Word2Vec(second[model[iter(corpus)]], vector_size=8, min_count=1, epochs=1,
                      workers=1, seed=1)
    assert nested.wv.index_to_key == Word2Vec(second[model[corpus]], vector_size=8,
                                              min_count=1, epochs=1, workers=1,
                                              seed=1).wv.index_to_key
    with pytest.raises(TypeError, match="one-shot iterator.*max_vocab_size"):
        Word2Vec(second[model[iter(corpus)]], max_vocab_size=100, min_count=1, workers=1)
    import fastw2v
    assert fastw2v.Phraser is FrozenPhrases
    assert model[np.array(["new", "york"])] == ["new_york"]
    assert model[[]] == []


def test_phrases_save_load(tmp_path):
    corpus = make_corpus(seed=5)
    model = Phrases(corpus, min_count=3, threshold=1.0, connector_words={"of", "the"},
                    delimiter="+")
    model.save(tmp_path / "p.fw2v")
    loaded = Phrases.load(tmp_path / "p.fw2v")
    assert loaded.export_phrases() == model.export_phrases()
    assert [loaded[s] for s in corpus] == [model[s] for s in corpus]
    assert loaded.connector_words == {"of", "the"} and loaded.delimiter == "+"
    loaded.add_vocab(corpus)                          # the counts came back too
    assert loaded.corpus_word_count == 2 * model.corpus_word_count
    frozen = model.freeze()
    frozen.save(tmp_path / "f.fw2v")
    again = FrozenPhrases.load(tmp_path / "f.fw2v")
    assert again.phrasegrams == frozen.phrasegrams
    assert [again[s] for s in corpus] == [model[s] for s in corpus]
    with pytest.raises(ValueError, match="frozen_phrases.*FrozenPhrases.load"):
        Phrases.load(tmp_path / "f.fw2v")
    data = (tmp_path / "p.fw2v").read_bytes()
    (tmp_path / "cut.fw2v").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="cut.fw2v"):
        Phrases.load(tmp_path / "cut.fw2v")
    model.scoring = lambda **kw: 1.0
    with pytest.raises(ValueError, match="cannot be saved"):
        model.save(tmp_path / "x.fw2v")
    model.freeze().save(tmp_path / "x.fw2v")          # the scores are what is kept


def test_phrases_sentences_as_iterators():
    lines = ["new york is big", "i love new york"] * 3
    from_iterators = Phrases(((w for w in line.split()) for line in lines), min_count=1,
                             threshold=0.1)
    from_lists = Phrases([line.split() for line in lines], min_count=1, threshold=0.1)
    assert from_iterators.export_phrases() == from_lists.export_phrases()
    assert from_iterators.words == from_lists.words


def test_phrases_frozen_any_threshold_saves(tmp_path):
    model = Phrases([["a", "b"]] * 4 + [["c", "d"]], min_count=1, threshold=-1.0,
                    scoring=lambda bigram_count, **kw: bigram_count - 2.5)
    frozen = model.freeze()
    frozen.save(tmp_path / "f.fw2v")
    again = FrozenPhrases.load(tmp_path / "f.fw2v")
    assert again.phrasegrams == frozen.phrasegrams and again.threshold == -1.0
    assert again[["c", "d", "a", "b"]] == ["c", "d", "a_b"]     # c_d: -1.5
    again.threshold = float("nan")
    with pytest.raises(ValueError, match="finite"):
        again[["a", "b"]]


def test_phrases_frozen_threshold():
    corpus = make_corpus(seed=6)
    model = Phrases(corpus, min_count=3, threshold=1.0)
    frozen = model.freeze()
    assert frozen.export_phrases() == model.export_phrases()
    top = max(frozen.phrasegrams.values())
    frozen.threshold = top - 1e-9
    assert len(frozen.export_phrases()) == 1


def test_phrases_non_utf8_file(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"caf\xe9 au lait\n" * 6 + b"the end\n")
    with pytest.raises(ValueError, match="UTF-8"):
        Phrases(corpus_file=path, min_count=1)
    model = Phrases(corpus_file=path, min_count=1, threshold=0.1, unicode_errors="replace")
    assert "caf\ufffd_au" in model.export_phrases()
    out = tmp_path / "out.txt"
    model.transform_file(path, out, unicode_errors="replace")
    assert out.read_bytes().splitlines()[0] == b"caf\xe9_au lait"     # bytes kept


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(min_count=0), ValueError, "min_count must be a positive"),
    (dict(min_count="5"), TypeError, "min_count must be a number"),
    (dict(threshold=-1.0), ValueError, "threshold must be positive"),
    (dict(threshold=float("nan")), ValueError, "finite"),
    (dict(threshold=2.0, scoring="npmi"), ValueError, "between -1 and 1"),
    (dict(scoring="pmi"), ValueError, "scoring must be one of"),
    (dict(delimiter="a b"), ValueError, "whitespace"),
    (dict(delimiter=""), ValueError, "empty"),
    (dict(delimiter=b"_"), TypeError, "delimiter must be a str"),
    (dict(connector_words="the"), TypeError, "collection of words"),
    (dict(connector_words=[1]), TypeError, "connector words must be str"),
    (dict(max_vocab_size=0), ValueError, "max_vocab_size must be None or an int"),
    (dict(min_count=10 ** 30), ValueError, "below 2\\*\\*62"),
    (dict(threshold=10 ** 400), ValueError, "finite"),
    (dict(connector_words=None), TypeError, "leave it out"),
    (dict(unicode_errors="bogus"), ValueError, "unicode_errors must be one of"),
])
def test_phrases_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        Phrases(**kwargs)


def test_phrases_bad_corpus(tmp_path):
    with pytest.raises(TypeError, match="not a list of tokens"):
        Phrases(["new york"])
    with pytest.raises(TypeError, match=r"sentence 0 holds 3 \(int\).*tokens must be str"):
        Phrases([["a", 3]])
    with pytest.raises(TypeError, match="sentence 1 holds an unhashable token.*must be str"):
        Phrases([["a"], ["a", ["b"]]])
    # the first bad sentence is named, and a generator is not read past it
    with pytest.raises(TypeError, match=r"sentence 0 holds 1 \(int\)"):
        Phrases([["a", 1], "b c"])
    with pytest.raises(TypeError, match=r"sentence 0 holds 1 \(int\)"):
        Phrases([["a", 1], ["b", ["x"]]])
    gen = (s for s in [["a", 1], ["b"], ["c"]])
    with pytest.raises(TypeError, match=r"sentence 0 holds 1 \(int\)"):
        Phrases(gen)
    assert next(gen) == ["b"]
    import fastw2v.phrases as phrases
    for window in (1, 2, 100):                # the sentence named across counted batches
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(phrases, "_WINDOW_TOKENS", window)
            with pytest.raises(TypeError, match=r"sentence 4 holds b'x' \(bytes\)"):
                Phrases([["a", "b"], [], ["a"], [], ["c", b"x", 5], [2.5]])
    with pytest.raises(TypeError, match="not both"):
        Phrases([["a"]], corpus_file="x")
    with pytest.raises(TypeError, match="add_vocab needs text"):
        Phrases().add_vocab()
    with pytest.raises(TypeError, match="by keyword after the sentences"):
        Phrases([["a"]], 5, 10)
    with pytest.raises(TypeError, match="from_gensim"):
        FrozenPhrases(object())
    with pytest.raises(TypeError, match="corpus_file="):
        Phrases("corpus.txt")
    with pytest.raises(TypeError, match="split it first"):
        Phrases()["new york"]
    model = Phrases([["new", "york"]] * 3, min_count=1, threshold=0.1)
    assert model[(w for w in ["new", "york"])] == ["new_york"]     # gensim's rule
    assert list(model[np.array([["new", "york"], ["york", "new"]])]) == [
        ["new_york"], ["york", "new"]]
    with pytest.raises(ValueError, match="unicode_errors must be one of"):
        model.add_vocab(corpus_file=tmp_path / "x", unicode_errors="bogus")
    with pytest.raises(TypeError, match="corpus_file must be a path"):
        model.transform_file(None, tmp_path / "o.txt")
    (tmp_path / "x").write_text("new york\n")
    with pytest.raises(FileNotFoundError, match="no directory"):
        model.transform_file(tmp_path / "x", tmp_path / "missing" / "out.txt")
    model = Phrases([])                                # an empty corpus: no phrases
    assert model.export_phrases() == {} and model[["a", "b"]] == ["a", "b"]
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert Phrases(corpus_file=empty).transform_file(empty, tmp_path / "o.txt") == 0
    assert (tmp_path / "o.txt").read_bytes() == b""
    with pytest.raises(ValueError, match="is the source file"):
        Phrases(corpus_file=empty).transform_file(empty, empty)


def test_cli_phrases(tmp_path, capsys):
    corpus = make_corpus(seed=7)
    src = tmp_path / "c.txt"
    src.write_text("".join(" ".join(s) + "\n" for s in corpus if s), encoding="utf-8")
    out = tmp_path / "out.txt"
    assert cli.main(["phrases", "-train", str(src), "-output", str(out), "-min-count", "3",
                     "-threshold", "20"]) == 0
    model = Phrases(corpus, min_count=3, threshold=20, scoring="word2phrase")
    assert out.read_text().splitlines() == [" ".join(model[s]) for s in corpus if s]
    assert "words counted (word2phrase score), " in capsys.readouterr().err
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(out),
                     "--min-count", "3", "--threshold", "1", "--connector-words", "english",
                     "--quiet"]) == 0
    model = Phrases(corpus, min_count=3, threshold=1, connector_words=ENGLISH_CONNECTOR_WORDS)
    assert out.read_text().splitlines() == [" ".join(model[s]) for s in corpus if s]
    words = tmp_path / "conn.txt"
    words.write_text("of\nthe\n")
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(out),
                     "--connector-words", str(words), "--quiet", "--min-count", "3",
                     "--threshold", "1"]) == 0
    assert "bank_of_america" in out.read_text()
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(out),
                     "--connector-words", "English", "--quiet"]) == 0     # (any case)
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(out),
                     "--connector-words", str(tmp_path / "nope.txt")]) == 2
    assert "option --connector-words" in capsys.readouterr().err
    capsys.readouterr()
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(out),
                     "--threshold", "-1"]) == 2
    assert "(option --threshold)" in capsys.readouterr().err
    assert cli.main(["phrases", "-train", str(src), "-output", str(out),
                     "-min-count", "0"]) == 2
    assert "(option -min-count)" in capsys.readouterr().err
    assert cli.main(["phrases", "-train", str(src), "-output", str(src)]) == 2
    assert "also the input" in capsys.readouterr().err
    assert cli.main(["phrases", "-train", str(src)]) == 2
    assert "-output FILE is required" in capsys.readouterr().err
    assert cli.main(["phrases", "-train", str(src), "-output", str(out), "-size", "3"]) == 2
    assert "unknown word2phrase option '-size'" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "o")


def test_phrases_from_gensim_and_gensim_names(tmp_path, caplog):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    corpus = make_corpus(seed=9)
    for conn in (frozenset(), ENGLISH_CONNECTOR_WORDS):
        theirs = gensim_phrases.Phrases(corpus, min_count=3, threshold=1.0, connector_words=conn)
        ours = Phrases(corpus, min_count=3, threshold=1.0, connector_words=conn)
        for source in (theirs, theirs.freeze()):
            converted = FrozenPhrases.from_gensim(source)
            assert converted.export_phrases() == ours.export_phrases()
            assert [converted[s] for s in corpus] == [ours[s] for s in corpus]
        converted.save(tmp_path / "g.fw2v")
        assert FrozenPhrases.load(tmp_path / "g.fw2v").phrasegrams == converted.phrasegrams
    theirs.save(str(tmp_path / "gensim.pkl"))
    with pytest.raises(ValueError, match="FrozenPhrases.from_gensim"):
        FrozenPhrases.load(tmp_path / "gensim.pkl")
    assert phrases.Phraser is FrozenPhrases
    with caplog.at_level("WARNING", logger="fastw2v"):
        Phrases(corpus, max_vocab_size=10)              # gensim's would prune: said
    assert "gensim would have pruned" in caplog.text


def test_cli_phrases_saved_and_reused(tmp_path, capsys):
    corpus = make_corpus(seed=10)
    src = tmp_path / "c.txt"
    src.write_text("".join(" ".join(s) + "\n" for s in corpus if s), encoding="utf-8")
    saved, out, again = tmp_path / "p.fw2v", tmp_path / "out.txt", tmp_path / "again.txt"
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(out),
                     "--min-count", "3", "--threshold", "1", "--save-phrases", str(saved),
                     "--quiet"]) == 0
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(saved), "--quiet"]) == 0
    assert again.read_text() == out.read_text() and "_" in out.read_text()
    top = max(FrozenPhrases.load(saved).phrasegrams.values())
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(saved), "--threshold", str(top - 1e-6), "--quiet"]) == 0
    assert again.read_text() != out.read_text()              # only the top phrase now
    # a saved delimiter stays unless --delimiter is given
    plus = Phrases(corpus, min_count=3, threshold=1, delimiter="+")
    plus.save(tmp_path / "plus.fw2v")
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(tmp_path / "plus.fw2v"), "--quiet"]) == 0
    assert again.read_text() == out.read_text().replace("_", "+")
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(tmp_path / "plus.fw2v"), "--delimiter", "_",
                     "--quiet"]) == 0
    assert again.read_text() == out.read_text()
    capsys.readouterr()
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(saved), "--min-count", "2"]) == 2
    assert "cannot be combined with --phrases" in capsys.readouterr().err
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(src)]) == 2
    assert "is not a fastw2v file" in capsys.readouterr().err
    kv = KeyedVectors(2)
    kv["a"] = [1.0, 2.0]
    kv.save(tmp_path / "kv.fw2v")
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--phrases", str(tmp_path / "kv.fw2v")]) == 2
    assert "holds keyedvectors, not phrases (option --phrases" in capsys.readouterr().err
    assert cli.main(["phrases", "--corpus-file", str(src), "--output", str(again),
                     "--scoring", "npmi"]) == 2
    assert "needs --threshold" in capsys.readouterr().err
