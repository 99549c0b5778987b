import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastw2v.encoded import (EncodedCorpus, chunk_ends, encode_file, encode_iterable,
                             encode_recorded)
from fastw2v.vocab import count_file, count_iterable, select_words

from conftest import write_lines


def reference_encode(sentences, vocab, max_len):
    """Plain Python: drop unknown tokens, cut sentences into max_len pieces."""
    ids, offsets = [], [0]
    for s in sentences:
        known = [vocab.key_to_index[t] for t in s if t in vocab.key_to_index]
        for k in range(0, len(known), max_len):
            ids.extend(known[k:k + max_len])
            offsets.append(len(ids))
    return np.array(ids, np.int32), np.array(offsets, np.int64)


@pytest.fixture
def corpus(rng):
    words = [f"w{i}" for i in range(40)]
    sents = [list(rng.choice(words, size=int(rng.integers(0, 30)))) for _ in range(400)]
    sents[5] = list(rng.choice(words, size=250))        # a long sentence
    sents[6] = []                                         # an empty one
    return sents


@pytest.mark.parametrize("max_len", [1, 7, 100, 10000])
def test_encode_file_and_iterable_match_reference(tmp_path, corpus, max_len):
    vocab = select_words(count_iterable(corpus), min_count=8)   # some words are unknown
    ids, offsets = reference_encode(corpus, vocab, max_len)
    path = write_lines(tmp_path / "c.txt", corpus)
    recorded = count_file(path, record=True).recording      # one read: count and encode
    listed = count_iterable(corpus, record=True).recording  # the same for token lists
    for enc in (encode_file(path, vocab, max_len), encode_iterable(corpus, vocab, max_len),
                encode_recorded(recorded, vocab, max_len),
                encode_recorded(listed, vocab, max_len)):
        assert enc.ids.dtype == np.int32 and enc.offsets.dtype == np.int64
        np.testing.assert_array_equal(enc.ids, ids)
        np.testing.assert_array_equal(enc.offsets, offsets)
        assert enc.n_tokens == sum(map(len, corpus))
        assert enc.n_source_sentences == sum(1 for s in corpus if s)


@pytest.mark.parametrize("errors", ["replace", "ignore"])
def test_encode_recorded_equals_encode_file(tmp_path, errors):
    """The one-read path gives exactly what reading the file again gives: undecodable
    tokens, blank lines, lines of unknown words only, no final newline, a token cut by
    the 4 MiB chunk boundary."""
    rng = np.random.default_rng(3)
    words = [b"a", b"bb", b"caf\xc3\xa9", b"\xff\xfe", b"x\xffy", b"x\xfey", b"\xc3"]
    lines = [b" ".join(rng.choice(words, size=int(rng.integers(0, 12)))) for _ in range(3000)]
    lines[10] = b"   \t "
    lines[11] = b"\xc3 \xc3 \xc3"
    data = b"\n".join(lines) + b"\n" + b"q" * (4 << 20) + b" a bb"
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    raw = count_file(path, unicode_errors=errors, record=True)
    vocab = select_words(raw, min_count=2)
    for max_len in (3, 10000):
        again = encode_file(path, vocab, max_len)
        rec = encode_recorded(count_file(path, unicode_errors=errors, record=True).recording,
                              vocab, max_len)
        np.testing.assert_array_equal(rec.ids, again.ids)
        np.testing.assert_array_equal(rec.offsets, again.offsets)
        assert (rec.n_tokens, rec.n_source_sentences) == (again.n_tokens,
                                                          again.n_source_sentences)
    assert len(rec.ids) > 0


@pytest.mark.parametrize("max_len", [1, 3, 10000])
def test_encode_recorded_token_lists_equals_encode_iterable(rng, max_len):
    """Counting token lists keeps their stream, encoded as encode_iterable would encode
    them again: '' and 0 are words (for a file '' is not), an int key found by its
    numpy form, empty sentences counted in n_iterated, a vocabulary updated since."""
    pool = ["", 0, "a", "b", np.int64(5), 5, ("t",), "rare"]
    corpus = [[pool[j] for j in rng.integers(0, len(pool) - 1, int(rng.integers(0, 9)))]
              for _ in range(200)] + [[], ["rare"], []]
    for update in (False, True):
        raw = count_iterable(corpus, record=True)
        if update:
            old = select_words(count_iterable([["b", "new", "new"]]), 1)
            vocab = old.updated(raw, min_count=2)
            assert vocab.index_to_key[:2] == ["new", "b"] and "" in vocab.key_to_index
        else:
            vocab = select_words(raw, min_count=2)
        assert "rare" not in vocab.key_to_index and 0 in vocab.key_to_index
        rec = encode_recorded(raw.recording, vocab, max_len)
        again = encode_iterable(corpus, vocab, max_len)
        ids, offsets = reference_encode(corpus, vocab, max_len)
        np.testing.assert_array_equal(rec.ids, ids)
        np.testing.assert_array_equal(rec.offsets, offsets)
        assert (rec.n_tokens, rec.n_source_sentences, rec.n_iterated) == (
            again.n_tokens, again.n_source_sentences, again.n_iterated) == (
            sum(map(len, corpus)), sum(1 for s in corpus if s), len(corpus))
        with pytest.raises(RuntimeError, match="already taken"):
            encode_recorded(raw.recording, vocab, max_len)


def test_recording_is_taken_once_and_not_with_pruning(tmp_path, corpus):
    path = write_lines(tmp_path / "c.txt", corpus)
    raw = count_file(path, record=True)
    vocab = select_words(raw, min_count=1)
    encode_recorded(raw.recording, vocab, 100)
    with pytest.raises(RuntimeError, match="already taken"):
        encode_recorded(raw.recording, vocab, 100)
    with pytest.raises(ValueError, match="max_vocab_size"):
        count_file(path, max_vocab_size=10, record=True)
    assert count_file(path).recording is None


def test_encode_long_line_is_chunked_never_truncated(tmp_path):
    # a text8-style file: one huge line, no trailing newline
    tokens = [f"w{i % 50}" for i in range(100_003)]
    path = tmp_path / "text8"
    path.write_text(" ".join(tokens))
    vocab = select_words(count_iterable([tokens]), 1)
    enc = encode_file(str(path), vocab, 10000)
    assert enc.n_ids == len(tokens)                        # every token kept
    assert np.all(np.diff(enc.offsets) == np.r_[[10000] * 10, [3]])
    np.testing.assert_array_equal(enc.ids, [vocab.key_to_index[t] for t in tokens])


def test_encode_to_memory_mapped_files(tmp_path, corpus):
    vocab = select_words(count_iterable(corpus), 1)
    path = write_lines(tmp_path / "c.txt", corpus)
    mem = encode_file(path, vocab, 13)
    for enc in (encode_file(path, vocab, 13, directory=tmp_path / "enc"),
                encode_iterable(corpus, vocab, 13, directory=tmp_path / "enc2")):
        assert isinstance(enc.ids, np.memmap)
        np.testing.assert_array_equal(enc.ids, mem.ids)
        np.testing.assert_array_equal(enc.offsets, mem.offsets)
    # the files are ordinary .npy files
    np.testing.assert_array_equal(np.load(tmp_path / "enc" / "ids.npy"), mem.ids)


def test_chunk_ends():
    assert chunk_ends([3, 0, 5], 2).tolist() == [2, 3, 5, 7, 8]
    assert chunk_ends([3, 0, 5], 5).tolist() == [3, 8]          # nothing cut
    assert chunk_ends([0, 0], 5).tolist() == []
    assert chunk_ends([], 4).tolist() == []
    rng = np.random.default_rng(5)
    for max_len in (1, 3, 7, 50):
        lengths = rng.integers(0, 20, 300)
        expected, end = [], 0
        for n in lengths.tolist():                 # each sentence cut every max_len ids
            expected += list(range(end + max_len, end + n, max_len)) + ([end + n] if n else [])
            end += n
        assert chunk_ends(lengths, max_len).tolist() == expected


def test_chunks_cover_the_corpus_once_in_order_at_sentence_starts(corpus):
    vocab = select_words(count_iterable(corpus), 1)
    enc = encode_iterable(corpus, vocab, 10)
    assert enc.chunks(1).tolist() == [[0, enc.n_ids]]       # one thread: one chunk
    for workers in (2, 3, 8, 10_000):
        chunks = enc.chunks(workers)
        assert chunks.dtype == np.int64 and chunks.shape[1] == 2
        # consecutive takers go to different parts of the corpus: the first `workers`
        # chunks start where those parts start
        n, parts = len(chunks), min(workers, len(chunks))
        starts = np.sort(chunks[:, 0])
        per = -(-n // workers)
        assert chunks[:parts, 0].tolist() == starts[::per][:parts].tolist()
        chunks = chunks[np.argsort(chunks[:, 0])]
        assert chunks[0, 0] == 0 and chunks[-1, 1] == enc.n_ids
        assert (chunks[1:, 0] == chunks[:-1, 1]).all()        # tiled, once each
        assert (chunks[:, 1] > chunks[:, 0]).all()            # none empty
        assert np.isin(chunks, enc.offsets).all()             # whole sentences
    # about n_ids / (8 * workers) ids each: cut at the first sentence (<= 10 ids) that
    # starts at or after each multiple of that
    sizes = np.diff(np.sort(enc.chunks(2), axis=0), axis=1).ravel()
    target = enc.n_ids // 16
    assert len(sizes) in (16, 17) and (abs(sizes[:-1] - target) < 10).all()
    assert sizes[-1] < target + 10
    sizes = np.diff(np.sort(enc.chunks(2, max_ids=25), axis=0), axis=1).ravel()
    assert (abs(sizes[:-1] - 25) < 10).all()


def test_chunks_within_ranges_left_by_an_interruption(corpus):
    vocab = select_words(count_iterable(corpus), 1)
    enc = encode_iterable(corpus, vocab, 10)
    mid = int(enc.offsets[5]) + 3                             # inside sentence 5
    left = [[mid, int(enc.offsets[40])], [int(enc.offsets[70]), enc.n_ids], [9, 9]]
    assert enc.chunks(1, within=left).tolist() == left[:2]   # empty ranges dropped
    chunks = enc.chunks(4, max_ids=30, within=left)
    chunks = chunks[np.argsort(chunks[:, 0])]
    assert chunks[0, 0] == mid and chunks[-1, 1] == enc.n_ids
    # the ranges, each cut at sentence starts only
    covered = np.concatenate([np.arange(a, b) for a, b in chunks.tolist()])
    expected = np.concatenate([np.arange(a, b) for a, b in left])
    np.testing.assert_array_equal(covered, expected)
    assert np.isin(chunks[1:, 0], enc.offsets).all() and np.isin(chunks[:, 1], enc.offsets).all()
    assert len(chunks) > 2
    # ranges of another corpus (a model saved while training on it): a clear error
    for workers in (1, 4):
        with pytest.raises(ValueError, match="reach outside this corpus"):
            enc.chunks(workers, within=[[0, enc.n_ids + 50]])
        with pytest.raises(ValueError, match="reach outside this corpus"):
            enc.chunks(workers, within=[[-5, 3]])


def test_chunks_of_long_sentences_are_whole_sentences():
    offsets = np.array([0, 50_000, 50_001, 120_000], np.int64)
    enc = EncodedCorpus(np.zeros(120_000, np.int32), offsets)
    # 3,750-id chunks asked for, but sentences stay whole: each chunk ends at the first
    # sentence start after a multiple of 3,750 ids (none falls on 50,001)
    assert enc.chunks(4).tolist() == [[0, 50_000], [50_000, 120_000]]
    empty = EncodedCorpus(np.zeros(0, np.int32), np.zeros(1, np.int64))
    assert empty.chunks(4).shape == (0, 2)


def test_encode_unhashable_token_names_sentence():
    vocab = select_words(count_iterable([["a"]]), 1)
    with pytest.raises(TypeError, match="sentence 1"):
        encode_iterable([["a"], ["a", ["x"]]], vocab, 10)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint32, np.int64, np.uint64])
def test_encode_ids_matches_token_encoding(corpus, dtype):
    from fastw2v.corpus import IdSequences
    from fastw2v.encoded import encode_ids
    from fastw2v.vocab import count_ids
    as_ints = [[int(t[1:]) for t in s] for s in corpus]
    seqs = IdSequences(np.array([x for s in as_ints for x in s], dtype),
                       np.r_[0, np.cumsum([len(s) for s in as_ints])])
    vocab = select_words(count_ids(seqs), min_count=8)
    ids, offsets = reference_encode(as_ints, vocab, 7)
    enc = encode_ids(seqs, vocab, 7)
    np.testing.assert_array_equal(enc.ids, ids)
    np.testing.assert_array_equal(enc.offsets, offsets)
    assert enc.n_tokens == len(seqs.ids)


def test_encode_ids_in_batches(monkeypatch, corpus):
    import fastw2v.encoded as encoded
    from fastw2v.corpus import IdSequences
    from fastw2v.vocab import count_ids
    monkeypatch.setattr(encoded, "_BATCH_TOKENS", 5)   # many small batches
    as_ints = [[int(t[1:]) for t in s] for s in corpus]
    seqs = IdSequences(np.array([x for s in as_ints for x in s]),
                       np.r_[0, np.cumsum([len(s) for s in as_ints])])
    vocab = select_words(count_ids(seqs), min_count=3)
    enc = encoded.encode_ids(seqs, vocab, 11)
    ids, offsets = reference_encode(as_ints, vocab, 11)
    np.testing.assert_array_equal(enc.ids, ids)
    np.testing.assert_array_equal(enc.offsets, offsets)


@pytest.mark.parametrize("batch", [1, 5, 64])
def test_encode_iterable_in_batches(monkeypatch, corpus, batch):
    """Batches end at a sentence's end once they hold `batch` tokens: the ids, the
    counts and the numbers that errors give sentences are those of one pass."""
    import fastw2v.encoded as encoded
    monkeypatch.setattr(encoded, "_BATCH_TOKENS", batch)
    vocab = select_words(count_iterable(corpus), min_count=8)
    corpus = [tuple(s) if i % 3 == 0 else s for i, s in enumerate(corpus)] + [[], []]
    enc = encoded.encode_iterable(iter(corpus), vocab, 11, passes=1)
    ids, offsets = reference_encode(corpus, vocab, 11)
    np.testing.assert_array_equal(enc.ids, ids)
    np.testing.assert_array_equal(enc.offsets, offsets)
    assert (enc.n_tokens, enc.n_source_sentences, enc.n_iterated) == (
        sum(map(len, corpus)), sum(1 for s in corpus if s), len(corpus))
    with pytest.raises(TypeError, match="sentence 300 holds an unhashable token"):
        encoded.encode_iterable(corpus[:300] + [["w1", {}]], vocab, 11)
    with pytest.raises(TypeError, match="sentence 300 is a one-shot iterator"):
        encoded.encode_iterable(corpus[:300] + [iter(["w1"])], vocab, 11, passes=2)
    one_shot = encoded.encode_iterable(corpus[:300] + [iter(["w1"])], vocab, 11, passes=1)
    assert one_shot.n_tokens == sum(map(len, corpus[:300])) + 1


def test_encode_ids_needs_int_vocabulary(corpus):
    from fastw2v.corpus import IdSequences
    from fastw2v.encoded import encode_ids
    vocab = select_words(count_iterable(corpus), 1)
    with pytest.raises(TypeError, match="not integers"):
        encode_ids(IdSequences(np.array([1, 2]), [0, 2]), vocab, 10)


def test_encode_failure_removes_half_written_files(tmp_path):
    from fastw2v.vocab import count_file
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good words\nbad\xff\n")
    vocab = select_words(count_file(str(path), unicode_errors="replace"), 1)

    class Broken(list):
        def __iter__(self):
            yield ["good"]
            raise RuntimeError("the corpus went away")

    with pytest.raises(RuntimeError, match="went away"):
        encode_iterable(Broken([["good"]]), vocab, 10, directory=tmp_path / "enc")
    assert list((tmp_path / "enc").iterdir()) == []


# ---- a file the vocabulary was not counted from: its undecodable tokens ----------------

UTF8_EDGES = [b"\x7f", b"\x80", b"\xc1\xbf", b"\xc2\x80", b"\xdf\xbf", b"\xe0\x9f\xbf",
              b"\xe0\xa0\x80", b"\xed\x9f\xbf", b"\xed\xa0\x80", b"\xef\xbf\xbf",
              b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf",
              b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xe2\x82", b"\xe2\x82\xac",
              b"a\xe2\x82\xacb", b"\xe2\x82\xac\xe2", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80",
              b"\xc3\x28", b"\xe2\x28\xa1", b""]


def _python_valid(raw):
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@pytest.mark.parametrize("raw", UTF8_EDGES)
def test_c_utf8_check_agrees_with_python_on_the_edges(raw):
    from fastw2v import _vocab
    assert _vocab.utf8_valid(raw) == _python_valid(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12) | st.lists(st.sampled_from(UTF8_EDGES)).map(b"".join))
def test_c_utf8_check_agrees_with_python(raw):
    from fastw2v import _vocab
    assert _vocab.utf8_valid(raw) == _python_valid(raw)
    assert _vocab.utf8_valid(raw + b"x") == _python_valid(raw + b"x")


def test_c_utf8_check_of_every_two_byte_string():
    from fastw2v import _vocab
    for a in range(256):
        for b in range(256):
            raw = bytes([a, b])
            assert _vocab.utf8_valid(raw) == _python_valid(raw), raw


def test_encode_file_learns_other_spellings_of_known_words(tmp_path, reads):
    vocab = select_words(count_iterable([["café", "au", "lait", "zz"]]), 1)
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait\nzz\xff caf\xe9\n\xfe lait\n")
    got = encode_file(str(path), vocab, 100, unicode_errors="replace")
    # b"caf\xe9" decodes to "caf\ufffd", not a word: dropped, and one read
    assert got.ids.tolist() == [vocab.key_to_index[w] for w in ["au", "lait", "lait"]]
    assert len(reads) == 1 and vocab.raw_forms == {}
    # with "caf\ufffd" a word, its spelling is learnt and the file read a second time
    vocab = select_words(count_iterable([["caf\ufffd", "au", "lait"]]), 1)
    reads.clear()
    got = encode_file(str(path), vocab, 100, unicode_errors="replace")
    assert len(reads) == 2 and vocab.raw_forms == {"caf\ufffd": [b"caf\xe9"]}
    cafe = vocab.key_to_index["caf\ufffd"]
    assert got.ids.tolist() == [cafe, vocab.key_to_index["au"], vocab.key_to_index["lait"],
                                cafe, vocab.key_to_index["lait"]]
    assert got.offsets.tolist() == [0, 3, 4, 5]
    # 'ignore': b"zz\xff" is "zz", b"\xfe" is "" (never a word)
    vocab = select_words(count_iterable([["zz", "lait", ""]]), 1)
    got = encode_file(str(path), vocab, 100, unicode_errors="ignore")
    assert vocab.raw_forms == {"zz": [b"zz\xff"]}
    assert got.ids.tolist() == [vocab.key_to_index[w] for w in ["lait", "zz", "lait"]]


def test_encode_file_strict_raises_for_undecodable_tokens_and_writes_nothing(tmp_path):
    from fastw2v.vocab import InvalidUTF8Error
    vocab = select_words(count_iterable([["au", "lait"]]), 1)
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_bytes(b"au lait\n")
    bad.write_bytes(b"au lait\nau caf\xe9\n")
    enc = tmp_path / "enc"
    first = encode_file(str(good), vocab, 100, directory=enc, unicode_errors="strict")
    before = sorted(p.name for p in enc.iterdir())
    with pytest.raises(InvalidUTF8Error, match=r"caf\\xe9.*unicode_errors='replace'"):
        encode_file(str(bad), vocab, 100, directory=enc, unicode_errors="strict")
    assert sorted(p.name for p in enc.iterdir()) == before      # the earlier corpus stays
    assert first.ids.tolist() == [vocab.key_to_index["au"], vocab.key_to_index["lait"]]
    # a spelling the vocabulary already knows is a word, not an error
    vocab.learn_raw_forms({"au": [b"caf\xe9"]})
    got = encode_file(str(bad), vocab, 100, unicode_errors="strict")
    assert got.ids.tolist() == [vocab.key_to_index[w] for w in ["au", "lait", "au", "au"]]
    # the error comes at the end of the chunk that holds the token, not after the file
    import fastw2v.encoded as encoded
    chunks = []

    def small_chunks(path):
        for chunk in iter_chunks(path, chunk_bytes=8):
            chunks.append(chunk)
            yield chunk

    from fastw2v.corpus import iter_chunks
    long_bad = tmp_path / "long.txt"
    long_bad.write_bytes(b"au caf\xe9\n" + b"au lait\n" * 1000)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(encoded, "iter_chunks", small_chunks)
        with pytest.raises(InvalidUTF8Error):
            encode_file(str(long_bad), select_words(count_iterable([["au"]]), 1), 100,
                        unicode_errors="strict")
    assert len(chunks) == 1     # the first chunk, 8 bytes, holds the token and its newline
    # without unicode_errors (a file counted before) nothing is checked
    assert encode_file(str(bad), select_words(count_iterable([["au"]]), 1), 100).n_ids == 2


def test_encoded_corpus_checks_ids_against_offsets():
    # the training loop reads ids[offsets[s]:offsets[s + 1]] unchecked
    ids, offsets = np.arange(6, dtype=np.int32), np.array([0, 2, 6])
    EncodedCorpus(ids, offsets)
    for bad_ids, bad_offsets in ((ids[:4], offsets), (ids, np.array([1, 2, 6])),
                                 (ids, np.array([0, 4, 2, 6])), (ids, np.zeros(0, np.int64)),
                                 (ids.astype(np.int64), offsets),
                                 (ids, offsets.astype(np.int32)),
                                 (ids, np.array([0, 0, 2, 2, 6, 6])[::2])):   # strided
        with pytest.raises(ValueError, match="an encoded corpus needs"):
            EncodedCorpus(bad_ids, bad_offsets)


def test_encoded_files_are_mapped_before_another_run_can_replace_them(tmp_path,
                                                                       monkeypatch, corpus):
    # another process encoding into the same directory renames its files over ours: what
    # this run trains on must be what it wrote
    import fastw2v.encoded as encoded
    vocab = select_words(count_iterable(corpus), 1)
    expected = encode_iterable(corpus, vocab, 1000)
    replace = encoded.os.replace

    def replace_then_other_run_writes(src, dst):
        replace(src, dst)
        other = dst + ".other.npy"                # written and renamed, as a run does
        np.save(other, np.zeros(3, np.int32 if dst.endswith("ids.npy") else np.int64))
        replace(other, dst)

    monkeypatch.setattr(encoded.os, "replace", replace_then_other_run_writes)
    enc = encode_iterable(corpus, vocab, 1000, directory=str(tmp_path / "enc"))
    np.testing.assert_array_equal(enc.ids, expected.ids)
    np.testing.assert_array_equal(enc.offsets, expected.offsets)
