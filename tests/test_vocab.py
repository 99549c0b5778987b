import heapq
import warnings
from collections import Counter

import numpy as np
import pytest

from fastw2v import _vocab
from fastw2v.vocab import (RULE_DEFAULT, RULE_DISCARD, RULE_KEEP, RawCounts, Vocab, count_file,
                           count_iterable, python_key, select_words)

from conftest import write_lines


def random_text(rng, n_lines=300):
    words = [f"w{i}" for i in range(60)] + ["é", "日本", "x" * 300]
    lines = []
    for _ in range(n_lines):
        k = int(rng.integers(0, 15))
        lines.append(list(rng.choice(words, size=k, p=None)))
    return lines


def test_counter_matches_collections_counter_across_chunk_cuts(rng):
    lines = random_text(rng)
    seps = [" ", "\t", "  ", " \r", "\v", "\f"]
    text = "\n".join(rng.choice(seps) .join(line) for line in lines).encode()
    expected = Counter(t for line in lines for t in line)
    for trial in range(20):
        counter = _vocab.TokenCounter()
        cuts = np.sort(rng.integers(0, len(text), size=int(rng.integers(0, 40))))
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(text)]):
            counter.feed(text[a:b])
        counter.feed(b"", final=True)
        keys, counts, _ = counter.export()
        got = {k.decode(): int(c) for k, c in zip(keys, counts)}
        assert got == expected
        assert counter.n_tokens == sum(expected.values())
        assert counter.n_sentences == sum(1 for line in lines if line)


def test_count_file_equals_count_iterable(tmp_path, rng):
    lines = random_text(rng)
    path = write_lines(tmp_path / "c.txt", lines)
    a, b = count_file(path), count_iterable(lines)
    va, vb = select_words(a, 1), select_words(b, 1)
    assert va.index_to_key == vb.index_to_key
    assert np.array_equal(va.counts, vb.counts)
    assert (a.n_tokens, a.n_sentences) == (b.n_tokens, b.n_sentences)


def test_select_words_sorts_by_count_then_first_appearance():
    raw = count_iterable([["b", "a", "c", "a", "d", "c", "e"]])
    vocab = select_words(raw, 1)
    assert vocab.index_to_key == ["a", "c", "b", "d", "e"]
    assert vocab.counts.tolist() == [2, 2, 1, 1, 1]
    assert vocab.counts.dtype == np.int64
    assert vocab.key_to_index == {"a": 0, "c": 1, "b": 2, "d": 3, "e": 4}


def test_select_words_min_count_and_max_final_vocab():
    sents = [["a"] * 5 + ["b"] * 4 + ["c"] * 4 + ["d"] * 2 + ["e"]]
    raw = count_iterable(sents)
    assert select_words(raw, 2).index_to_key == ["a", "b", "c", "d"]
    # gensim's rule: at most 2 words -> the cut-off count (4, shared by b and c) goes too
    assert select_words(raw, 1, max_final_vocab=2).index_to_key == ["a"]
    assert select_words(raw, 1, max_final_vocab=3).index_to_key == ["a", "b", "c"]
    assert select_words(raw, 1, max_final_vocab=10).index_to_key == ["a", "b", "c", "d", "e"]


def test_select_words_trim_rule_overrides_min_count_word_by_word():
    sents = [["a"] * 5 + ["b"] * 4 + ["c"] * 4 + ["d"] * 2 + ["e"]]
    raw = count_iterable(sents)
    seen = []

    def rule(word, count, min_count):
        seen.append((word, count, min_count))
        return {"a": RULE_DISCARD, "e": RULE_KEEP, "b": RULE_DEFAULT}.get(word)   # or None

    assert select_words(raw, 2, trim_rule=rule).index_to_key == ["b", "c", "d", "e"]
    assert seen == [("a", 5, 2), ("b", 4, 2), ("c", 4, 2), ("d", 2, 2), ("e", 1, 2)]
    seen.clear()
    # the rule sees the min_count that max_final_vocab raised (gensim's effective one)
    assert select_words(raw, 1, max_final_vocab=3, trim_rule=rule).index_to_key == [
        "b", "c", "e"]
    assert {m for _, _, m in seen} == {3}
    for bad, what in ((lambda w, c, m: True, "True"), (lambda w, c, m: 7, "7"),
                      (lambda w, c, m: "keep", "'keep'"),
                      (lambda w, c, m: np.array([2, 2]), r"array\(\[2, 2\]\)")):
        with pytest.raises(ValueError, match=f"trim_rule returned {what} for 'a'.*RULE_KEEP"):
            select_words(raw, 1, trim_rule=bad)
    with pytest.raises(TypeError, match="trim_rule must be a function"):
        select_words(raw, 1, trim_rule=RULE_KEEP)
    with pytest.raises(ValueError, match="Empty vocabulary: trim_rule, with min_count=1, "
                                         "keeps no word"):
        select_words(raw, 1, trim_rule=lambda w, c, m: RULE_DISCARD)


def test_select_words_empty_vocabulary_says_what_to_do():
    raw = count_iterable([["a", "b"]])
    with pytest.raises(ValueError, match="Empty vocabulary.*min_count=5.*Lower min_count"):
        select_words(raw, 5)
    with pytest.raises(ValueError, match="no tokens"):
        select_words(count_iterable([[], []]), 1)


def reduce_reference(tokens, max_size):
    """word2vec.c's ReduceVocab, in plain Python."""
    counts, min_reduce = {}, 1
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
        while len(counts) > max_size:
            counts = {k: c for k, c in counts.items() if c > min_reduce}
            min_reduce += 1
    return counts, min_reduce


def test_max_vocab_size_prunes_like_word2vec_c(tmp_path, rng):
    # Zipf-ish stream: pruning must keep the frequent words with exact-ish counts
    tokens = [f"t{int(x)}" for x in rng.zipf(1.3, size=20000) if x < 5000]
    expected, min_reduce = reduce_reference(tokens, 200)
    raw = count_iterable([tokens], max_vocab_size=200)
    assert dict(zip(raw.keys, raw.counts.tolist())) == expected
    assert raw.min_reduce == min_reduce > 1
    path = write_lines(tmp_path / "z.txt", [tokens])
    raw_c = count_file(path, max_vocab_size=200)
    assert dict(zip(raw_c.keys, raw_c.counts.tolist())) == expected
    assert raw_c.min_reduce == min_reduce
    assert len(raw_c.keys) <= 200


def test_count_file_invalid_utf8(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good caf\xc3\xa9 bad\xff bad\xfe good\n")
    with pytest.raises(ValueError, match="not valid UTF-8.*unicode_errors='replace'"):
        count_file(str(path))
    raw = count_file(str(path), unicode_errors="replace")
    got = dict(zip(raw.keys, raw.counts.tolist()))
    # two different invalid spellings decode to the same word and are merged
    assert got == {"good": 2, "café": 1, "bad\ufffd": 2}
    raw = count_file(str(path), unicode_errors="ignore")
    assert dict(zip(raw.keys, raw.counts.tolist())) == {"good": 2, "café": 1, "bad": 2}


def test_keep_probs_follow_word2vec_formula():
    vocab = Vocab(["a", "b", "c"], [1000, 100, 1])
    sample, total = 1e-2, 1101
    p = vocab.keep_probs(sample)
    c = np.array([1000, 100, 1.0])
    expected = np.minimum((np.sqrt(c / (sample * total)) + 1) * sample * total / c, 1)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, expected, rtol=1e-6)
    assert p[0] < p[1] <= p[2] == 1.0
    assert vocab.keep_probs(0) is None


def test_keep_probs_shrink_with_sample_down_to_subnormal_thresholds():
    """sample * T subnormal: c / (sample * T) overflowed to inf, and every word was kept
    (sample=1e-300 kept none of 400 words, 1e-320 all of them)."""
    vocab = Vocab([f"w{i}" for i in range(400)], np.arange(400, 0, -1) * 10)
    samples = (1e-3, 1e-6, 1e-100, 1e-300, 1e-310, 1e-320, 5e-324)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no overflow on the way
        kept = [float(vocab.keep_probs(s).sum(dtype=np.float64)) for s in samples]
    assert all(a >= b for a, b in zip(kept, kept[1:])), kept
    assert kept[0] > kept[1] > kept[2] and kept[-1] < 1


def alias_probabilities(prob, alias):
    n = len(prob)
    p = prob.astype(np.float64) / n
    np.add.at(p, alias, (1.0 - prob.astype(np.float64)) / n)
    return p


def test_noise_table_encodes_unigram_power_distribution(rng):
    counts = rng.integers(1, 10000, size=500)
    vocab = Vocab([f"w{i}" for i in range(500)], counts)
    prob, alias = vocab.noise_table(0.75)
    target = counts ** 0.75 / np.sum(counts ** 0.75)
    np.testing.assert_allclose(alias_probabilities(prob, alias), target, rtol=1e-5,
                               atol=1e-9)
    np.testing.assert_allclose(vocab.noise_probs(0.75), target)


def test_alias_table_rejects_bad_weights():
    for bad in ([0.0, 0.0], [1.0, -1.0], [np.nan, 1.0], []):
        with pytest.raises(ValueError, match="noise weights"):
            _vocab.alias_table(np.array(bad, dtype=np.float64))


def huffman_cost_reference(counts):
    """Minimal total weighted code length, by the textbook heap algorithm."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


@pytest.mark.parametrize("n", [2, 3, 7, 100, 1000])
def test_huffman_codes_prefix_free_optimal_and_consistent(n, rng):
    counts = np.sort(rng.integers(1, 100000, size=n))[::-1].astype(np.int64)
    vocab = Vocab([f"w{i}" for i in range(n)], counts)
    off, points, codes = vocab.huffman()
    lengths = np.diff(off)
    words = ["".join(map(str, codes[off[i]:off[i + 1]])) for i in range(n)]
    # prefix-free and complete (Kraft sum exactly 1)
    for i, a in enumerate(words):
        for j, b in enumerate(words):
            assert i == j or not b.startswith(a)
    assert sum(2.0 ** -lengths) == pytest.approx(1.0)
    # optimal: same total cost as any Huffman tree
    assert int(np.dot(lengths, counts)) == huffman_cost_reference(counts)
    # more frequent words never get longer codes
    assert np.all(np.diff(lengths) >= 0)
    # paths start at the root (last inner node), inner node ids in range
    assert np.all(points[off[:-1]] == n - 2)
    assert points.min() >= 0 and points.max() == n - 2
    # words sharing a code prefix share the inner nodes along it
    node_of_prefix = {}
    for i in range(n):
        for k in range(lengths[i]):
            prefix = words[i][:k]
            assert node_of_prefix.setdefault(prefix, points[off[i] + k]) == points[off[i] + k]


def test_huffman_unsorted_counts_still_optimal(rng):
    counts = rng.integers(1, 1000, size=50).astype(np.int64)
    off, _, _ = _vocab.huffman_paths(counts)
    assert int(np.dot(np.diff(off), counts)) == huffman_cost_reference(counts)


def test_huffman_single_word_has_empty_path():
    off, points, codes = Vocab(["a"], [3]).huffman()
    assert off.tolist() == [0, 0] and len(points) == len(codes) == 0


def test_vocab_rejects_duplicates_and_mismatch():
    with pytest.raises(ValueError, match="duplicate"):
        Vocab(["a", "a"], [1, 1])
    with pytest.raises(ValueError, match="2 words but 1 counts"):
        Vocab(["a", "b"], [1])


def test_count_ids_matches_count_iterable(rng):
    from fastw2v.corpus import IdSequences
    seqs = [list(rng.integers(0, 1000, size=int(rng.integers(0, 20))) * 7919)
            for _ in range(300)]
    flat = np.concatenate([np.array(s, np.int64) for s in seqs])
    offsets = np.r_[0, np.cumsum([len(s) for s in seqs])]
    from fastw2v.vocab import count_ids
    a = count_ids(IdSequences(flat, offsets))
    b = count_iterable([[int(x) for x in s] for s in seqs])
    va, vb = select_words(a, 2), select_words(b, 2)
    assert va.index_to_key == vb.index_to_key          # same order, ties included
    assert np.array_equal(va.counts, vb.counts)
    assert (a.n_tokens, a.n_sentences) == (b.n_tokens, b.n_sentences)
    top = count_ids(IdSequences(flat, offsets), max_vocab_size=50)
    assert len(top.keys) == 50
    assert sorted(top.counts.tolist()) == sorted(vb.counts.tolist(), reverse=True)[:50][::-1]


def test_vocab_updated_keeps_old_ids_and_appends_new_words():
    old = select_words(count_iterable([["a", "a", "b", "b", "b", "c"]]), 1)
    assert old.index_to_key == ["b", "a", "c"]
    new = old.updated(count_iterable([["c", "d", "e", "e", "d", "f"]]), min_count=2)
    assert new.index_to_key == ["b", "a", "c", "d", "e"]   # f is below min_count
    assert new.counts.tolist() == [3, 2, 2, 2, 2]           # c: 1 + 1
    assert old.index_to_key == ["b", "a", "c"]              # the old vocabulary is intact


def test_vocab_updated_refuses_counts_beyond_int64_before_changing_anything():
    old = Vocab(["a", "b"], [2**62, 2**62 - 1])
    counts = old.counts.copy()
    for keys, more in ((["a"], [2**62]), (["b"], [1]), (["c"], [2])):
        raw = RawCounts(keys, np.array(more, np.int64), np.arange(1), sum(more), 1)
        with pytest.raises(ValueError, match=r"add up to \d+, more than 2\*\*63 - 1"):
            old.updated(raw, min_count=1)
    np.testing.assert_array_equal(old.counts, counts)
    raw = RawCounts(["c"], np.array([2], np.int64), np.arange(1), 2, 1)
    assert old.updated(raw, min_count=3).index_to_key == ["a", "b"]   # c not kept: fits


def count_reference(corpus, max_vocab_size=None):
    """Plain Python: a dict in order of first appearance, pruned as word2vec.c does."""
    counts, n_tokens, n_sentences, min_reduce = {}, 0, 0, 1
    for sentence in corpus:
        n = 0
        for token in sentence:
            n += 1
            counts[token] = counts.get(token, 0) + 1
            while max_vocab_size and len(counts) > max_vocab_size:
                counts = {k: c for k, c in counts.items() if c > min_reduce}
                min_reduce += 1
        n_tokens += n
        n_sentences += n > 0
    return counts, n_tokens, n_sentences, min_reduce


class Tokens:
    """A sentence that is neither a list nor a one-shot iterator."""

    def __init__(self, tokens):
        self.tokens = tokens

    def __iter__(self):
        return iter(self.tokens)


@pytest.mark.parametrize("max_vocab_size", [None, 3, 40])
@pytest.mark.parametrize("record", [False, True])
def test_count_iterable_matches_reference(rng, max_vocab_size, record):
    """The compiled counter: any hashable tokens, equal keys of different types (1, 1.0,
    True, np.int64(1)) one word in the form first seen, '' and 0 words like any other,
    sentences as lists, tuples, arrays and other iterables, empty ones too."""
    if record and max_vocab_size:
        with pytest.raises(ValueError, match="max_vocab_size"):
            count_iterable([["a"]], max_vocab_size, record=True)
        return
    pool = ["a", "b", "", "é", 0, 1, 1.0, True, np.int64(1), np.int64(7), 7, ("t", 1),
            np.str_("a"), None, 2.5, frozenset({1})] + [f"w{i}" for i in range(30)]
    corpus = []
    for i in range(300):
        tokens = [pool[j] for j in rng.integers(0, len(pool), size=int(rng.integers(0, 12)))]
        corpus.append((list, tuple, Tokens)[i % 3](tokens))
    corpus[4] = []
    corpus[5] = np.array(["a", "w1", "w1"])
    raw = count_iterable(corpus, max_vocab_size, record=record)
    counts, n_tokens, n_sentences, min_reduce = count_reference(corpus, max_vocab_size)
    assert [(k, type(k)) for k in raw.keys] == [(python_key(k), type(python_key(k)))
                                                for k in counts]
    assert raw.counts.dtype == np.int64 and raw.counts.tolist() == list(counts.values())
    np.testing.assert_array_equal(raw.first, np.arange(len(counts)))
    assert (raw.n_tokens, raw.n_sentences, raw.min_reduce) == (n_tokens, n_sentences,
                                                                min_reduce)
    assert (raw.recording is not None) == record


def test_count_iterable_names_the_sentence_of_an_unhashable_token():
    with pytest.raises(TypeError, match="sentence 2 holds an unhashable token"):
        count_iterable([["a"], [], ("b", ["x"])])

    class Broken:
        def __iter__(self):
            yield "a"
            raise TypeError("the sentence's own error")

    with pytest.raises(TypeError, match="^sentence 1: the sentence's own error$"):
        count_iterable([["a"], Broken()])
    for record in (False, True):
        with pytest.raises(TypeError, match="^sentence 2 must be a list of tokens, got "
                                            "ndarray array\\('a b'"):
            count_iterable([["a"], [], np.array("a b")], record=record)

    class Incomparable:
        def __hash__(self):
            return hash("a")

        def __eq__(self, other):
            raise TypeError("cannot compare")

    with pytest.raises(TypeError, match="^sentence 1: looking a token up raised TypeError: "
                                        "cannot compare$"):
        count_iterable([["x"], ["a", Incomparable()]])


def test_list_counter_keeps_its_arrays_to_itself():
    """The C arrays are bounded by the counter's own count of keys: the list it hands
    out is a copy, and a counter whose counting failed is not used again."""
    counter = _vocab.ListCounter(record=True)
    counter.count([["a", "b", "c"], ["a"]], None)
    counter.keys.pop()
    assert counter.keys == ["a", "b", "c"]
    assert counter.export_counts().tolist() == [2, 1, 1]
    with pytest.raises(ValueError, match="remap has 2 entries for 3 words"):
        counter.take_encoded(np.zeros(2, np.int32))
    ids, lengths = counter.take_encoded(np.array([5, -1, 7], np.int32))
    assert ids.tolist() == [5, 7, 5] and lengths.tolist() == [2, 1]
    failed = _vocab.ListCounter(record=True)
    with pytest.raises(TypeError, match="unhashable"):
        failed.count([["a"], ["b", []]], None)
    for call in (lambda: failed.count([["c"]], None),
                 lambda: failed.take_encoded(np.zeros(2, np.int32))):
        with pytest.raises(RuntimeError, match="counting failed"):
            call()


def test_count_iterable_rejects_a_one_shot_sentence():
    with pytest.raises(TypeError, match="sentence 1 is a one-shot iterator"):
        count_iterable([["a", "b"], map(str, "ab")])


# ---- property tests: any bytes, any chunking ----

from hypothesis import given, settings, strategies as st  # noqa: E402

WHITESPACE = b" \t\n\r\v\f"


def reference_tokens(data: bytes):
    """Lines of tokens, split on ASCII whitespace only (NUL and non-ASCII are token bytes)."""
    lines = []
    for line in data.split(b"\n"):
        tokens, current = [], bytearray()
        for byte in line:
            if byte in WHITESPACE:
                if current:
                    tokens.append(bytes(current))
                    current = bytearray()
            else:
                current.append(byte)
        if current:
            tokens.append(bytes(current))
        lines.append(tokens)
    return lines


texty = st.lists(st.sampled_from([b"a", b"b", b"\xc3\xa9", b"\xff", b"\x00", b" ", b"\t",
                                  b"\n", b"\r\n", b"\r", b"\x0b", b"\x0c", b"zz" * 40]),
                 max_size=200).map(b"".join)


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(max_size=400), texty), cuts=st.lists(st.integers(0, 400),
                                                                     max_size=8))
def test_counter_and_encoder_any_bytes_any_chunking(data, cuts):
    lines = reference_tokens(data)
    expected = Counter(t for line in lines for t in line)
    pieces = [data[a:b] for a, b in zip([0] + sorted(cuts), sorted(cuts) + [len(data)])]
    counter = _vocab.TokenCounter()
    for piece in pieces:
        counter.feed(piece)
    counter.feed(b"", final=True)
    keys, counts, _ = counter.export()
    assert dict(zip(keys, counts.tolist())) == dict(expected)
    assert counter.n_sentences == sum(1 for line in lines if line)
    # encode with every other word known, sentences cut at 3 ids
    known = sorted(expected)[::2]
    lookup = _vocab.Lookup(known, np.arange(len(known), dtype=np.int32))
    encoder = _vocab.Encoder(lookup, 3)
    ids, ends = [], []
    for piece, final in [(p, False) for p in pieces] + [(b"", True)]:
        i, e = encoder.feed(piece, final=final)
        ids.extend(i.tolist())
        ends.extend(e.tolist())
    want_ids, want_ends = [], []
    index = {k: i for i, k in enumerate(known)}
    for line in lines:
        row = [index[t] for t in line if t in index]
        for k in range(0, len(row), 3):
            want_ids.extend(row[k:k + 3])
            want_ends.append(len(want_ids))
    assert ids == want_ids and ends == want_ends


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300))
def test_count_file_never_crashes_on_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("rand") / "r.txt"
    path.write_bytes(data)
    try:
        raw = count_file(str(path))
    except ValueError as exc:
        if "truncated or corrupt" in str(exc):      # starts like gzip, bz2 or xz data
            assert data.startswith((b"\x1f\x8b\x08", b"BZh", b"\xfd7zXZ\x00"))
            return
        if "which fastw2v does not read" in str(exc):      # zip, zstd, lz4 or 7z data
            assert data.startswith((b"PK\x03\x04", b"\x28\xb5\x2f\xfd",
                                    b"\x04\x22\x4d\x18", b"7z\xbc\xaf\x27\x1c"))
            return
        assert "not valid UTF-8" in str(exc)
        raw = count_file(str(path), unicode_errors="replace")
    # (a byte-order mark at the start is skipped)
    lines = reference_tokens(data.removeprefix(b"\xef\xbb\xbf"))
    assert raw.n_tokens == sum(len(line) for line in lines)
    assert all(isinstance(k, str) and k for k in raw.keys)


def test_id_lookup_matches_only_integer_keys():
    from fastw2v.corpus import IdSequences
    from fastw2v.encoded import encode_ids
    # 1.5 must not become 1, '2' must not become 2, True must not become 1
    vocab = Vocab([1.5, "2", 3, np.int64(4), True, 2**70, np.uint64(2**64 - 1)],
                  [7, 6, 5, 4, 3, 2, 1])
    keys, ids = vocab.id_lookup()
    assert keys.tolist() == [3, 4] and ids.tolist() == [2, 3]
    seqs = IdSequences(np.array([1, 2, 3, 4, 1, 2]), [0, 4, 6])
    enc = encode_ids(seqs, vocab, 100)
    assert enc.ids.tolist() == [2, 3]
    assert Vocab([5, 2, 9], [3, 2, 1]).id_lookup()[0].tolist() == [2, 5, 9]


@pytest.mark.parametrize("keys, shown", [([1.5, 2.5, 3.7], "float 1.5"),
                                         (["1", "2", "3"], "str '1'")])
def test_int_ids_against_keys_that_are_not_integers_raise(keys, shown):
    from fastw2v import Word2Vec
    from fastw2v.corpus import IdSequences
    model = Word2Vec(min_count=1, vector_size=4, workers=1)
    model.build_vocab([keys * 5] * 10)
    with pytest.raises(TypeError, match=f"keys are not integers \\(e.g. {shown}\\).*build "
                                        f"the vocabulary from integer ids"):
        model.train(IdSequences(np.array([1, 2, 3] * 5), [0, 15]))
    # the same ints as token lists match no word either
    with pytest.raises(ValueError, match="holds no word of the vocabulary"):
        model.train([[1, 2, 3] * 5])


def test_int_ids_do_not_match_integer_valued_float_keys():
    with pytest.raises(TypeError, match=r"keys are not integers \(e.g. float 1.0\)"):
        Vocab([1.0, 2.0], [2, 1]).id_lookup()


def test_freq_counts_accepts_whole_numbers_only():
    from fastw2v.vocab import freq_counts
    keys, counts = freq_counts({"a": 3, "b": 2.0, "c": np.int32(5), "d": np.float32(1),
                                "e": 0})
    assert keys == ["a", "b", "c", "d", "e"]
    assert counts.tolist() == [3, 2, 5, 1, 0] and counts.dtype == np.int64
    keys, counts = freq_counts({"x": 7, "y": 0})          # all Python ints: one step
    assert keys == ["x", "y"] and counts.tolist() == [7, 0] and counts.dtype == np.int64
    assert freq_counts({})[1].shape == (0,)
    for freq, message in [({"a": 2.7}, "count of word 'a' is float 2.7"),
                          ({"a": 1, "b": 0.5}, "count of word 'b' is float 0.5"),
                          ({"a": float("nan")}, "whole numbers"),
                          ({"a": "3"}, "count of word 'a' is str '3'"),
                          ({"a": True}, "count of word 'a' is bool"),
                          ({"a": None}, "whole numbers"),
                          ({"a": -1}, "count of word 'a' is -1: word counts must be "
                                      "non-negative"),
                          ({"a": -2.0}, "non-negative"),
                          ({"a": 2**63 - 1, "b": 1}, "fit in 64-bit"),
                          ({"a": 2**64}, "fit in 64-bit")]:
        with pytest.raises(ValueError, match=message):
            freq_counts(freq)


def test_build_vocab_from_freq_rejects_fractional_counts():
    from fastw2v import Word2Vec
    model = Word2Vec(min_count=1, vector_size=4, workers=1)
    with pytest.raises(ValueError, match="count of word 'a' is float 2.7"):
        model.build_vocab_from_freq({"a": 2.7, "b": 0.5, "c": 1.9})
    model.build_vocab_from_freq({"a": 3.0, "b": 2})
    assert dict(zip(model.wv.index_to_key, model.wv.counts.tolist())) == {"a": 3, "b": 2}


def test_lookup_of_the_empty_word():
    # the first word added is empty: its table has no text pool yet (memcpy and memcmp
    # of zero bytes from NULL were undefined behaviour, found by UBSan)
    lookup = _vocab.Lookup([b""], np.array([0], np.int32))
    assert lookup.get(b"") == 0 and lookup.get(b"a") == -1
    lookup = _vocab.Lookup([b"", b"ab"], np.array([0, 1], np.int32))
    assert lookup.get(b"ab") == 1 and lookup.get(b"") == 0
