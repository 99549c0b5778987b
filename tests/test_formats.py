import bz2
import gzip
import logging
import lzma
import os
import re

import numpy as np
import pytest

from fastw2v import KeyedVectors, formats
from fastw2v.corpus import iter_chunks

WORDS = ["king", "queen", "é", "日本", "a_b", "x\ty"] + [f"w{i}" for i in range(30)]


@pytest.fixture
def kv(rng):
    vectors = rng.normal(size=(len(WORDS), 5)).astype(np.float32)
    vectors[1] *= 1e-30                       # tiny and huge values survive the text form
    vectors[2] *= 1e30
    return KeyedVectors(vectors, WORDS, np.arange(len(WORDS), 0, -1) * 10)


@pytest.fixture
def gensim_kv(kv):
    models = pytest.importorskip("gensim.models")
    g = models.KeyedVectors(kv.vector_size)
    g.add_vectors(kv.index_to_key, kv.vectors)
    for key, count in zip(kv.index_to_key, kv.counts):
        g.set_vecattr(key, "count", int(count))
    return g


def assert_same(a, b_keys, b_vectors):
    assert a.index_to_key == list(b_keys)
    np.testing.assert_array_equal(a.vectors, b_vectors)
    assert a.vectors.dtype == np.float32 and a.vectors.flags.c_contiguous
    assert a.vectors.ctypes.data % 64 == 0      # JAX shares only such memory


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
def test_gensim_file_loads_identically(tmp_path, gensim_kv, binary, suffix):
    path = str(tmp_path / f"g.w2v{suffix}")
    gensim_kv.save_word2vec_format(path, binary=binary)
    ours = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert_same(ours, gensim_kv.index_to_key, gensim_kv.vectors)
    theirs = type(gensim_kv).load_word2vec_format(path, binary=binary)
    assert [ours.get_vecattr(k, "count") for k in ours.index_to_key] == \
           [theirs.get_vecattr(k, "count") for k in theirs.index_to_key]


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
def test_our_file_loads_identically_in_gensim(tmp_path, kv, binary, suffix):
    models = pytest.importorskip("gensim.models")
    path = str(tmp_path / f"f.w2v{suffix}")
    kv.save_word2vec_format(path, binary=binary)
    theirs = models.KeyedVectors.load_word2vec_format(path, binary=binary)
    assert theirs.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)
    assert_same(KeyedVectors.load_word2vec_format(path, binary=binary), kv.index_to_key,
                kv.vectors)


def test_compression_is_told_by_magic_bytes_not_name(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v.txt.gz")
    os.rename(tmp_path / "v.txt.gz", tmp_path / "v.txt")
    assert_same(KeyedVectors.load_word2vec_format(tmp_path / "v.txt"), kv.index_to_key,
                kv.vectors)


def test_word2vec_c_binary_layout(tmp_path):
    # word2vec.c: header, then "word " + float32 bytes + "\n" per vector
    v = np.array([[1.5, -2.0], [0.25, 3.0]], np.float32)
    data = b"2 2\n" + b"".join(w + b" " + row.tobytes() + b"\n"
                               for w, row in zip((b"</s>", b"the"), v))
    (tmp_path / "c.bin").write_bytes(data)
    assert_same(KeyedVectors.load_word2vec_format(tmp_path / "c.bin", binary=True),
                ["</s>", "the"], v)
    kv = KeyedVectors(v, ["</s>", "the"])
    kv.save_word2vec_format(tmp_path / "ours.bin", binary=True)
    assert (tmp_path / "ours.bin").read_bytes() == data


def test_text_writes_exact_float32_and_nonfinite(tmp_path, rng):
    v = rng.normal(size=(50, 4)).astype(np.float32) * np.float32(10.0) ** rng.integers(
        -38, 38, size=(50, 1)).astype(np.float32)
    v[0] = [np.nan, np.inf, -np.inf, 0.0]
    kv = KeyedVectors(v, [f"w{i}" for i in range(50)])
    for binary in (False, True):
        kv.save_word2vec_format(tmp_path / "v", binary=binary)
        back = KeyedVectors.load_word2vec_format(tmp_path / "v", binary=binary)
        np.testing.assert_array_equal(back.vectors, v)


def test_limit_no_header_and_fake_counts(tmp_path, kv, gensim_kv):
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    small = KeyedVectors.load_word2vec_format(path, limit=4)
    theirs = type(gensim_kv).load_word2vec_format(str(path), limit=4)
    assert_same(small, theirs.index_to_key, theirs.vectors)
    assert list(small.counts) == [theirs.get_vecattr(k, "count") for k in small.index_to_key]
    kv.save_word2vec_format(path, write_header=False)
    glove = KeyedVectors.load_word2vec_format(path, no_header=True)
    assert_same(glove, kv.index_to_key, kv.vectors)
    assert_same(KeyedVectors.load_word2vec_format(path, no_header=True, limit=3),
                kv.index_to_key[:3], kv.vectors[:3])
    with pytest.raises(ValueError, match="only for text files"):
        KeyedVectors.load_word2vec_format(path, binary=True, no_header=True)


@pytest.mark.parametrize("bad", [-1, 2.5, True, np.bool_(True), "3"])
def test_limit_must_be_a_row_count(tmp_path, kv, bad):
    # the same check (and message) as restrict_vocab, clip_start and clip_end of queries
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    with pytest.raises(ValueError, match=r"^limit must be None or a non-negative int \(a "
                                         r"number of rows\), got "):
        KeyedVectors.load_word2vec_format(path, limit=bad)
    assert len(formats.read_word2vec(path, limit=np.int64(2))[0]) == 2


def test_fvocab_counts_and_order(tmp_path, kv):
    kv.counts = np.array([5] * len(kv), np.int64)
    kv.counts[3] = 100                         # written first: descending counts, stable
    kv.save_word2vec_format(tmp_path / "v.bin", fvocab=tmp_path / "vocab.txt", binary=True)
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=True,
                                             fvocab=tmp_path / "vocab.txt")
    order = [3] + [i for i in range(len(kv)) if i != 3]
    assert_same(back, [kv.index_to_key[i] for i in order], kv.vectors[order])
    assert back.get_vecattr(kv.index_to_key[3], "count") == 100
    kv.save_word2vec_format(tmp_path / "v2.bin", binary=True, sort_attr=None)
    assert_same(KeyedVectors.load_word2vec_format(tmp_path / "v2.bin", binary=True),
                kv.index_to_key, kv.vectors)


def test_text_file_cut_inside_its_last_number_is_said(tmp_path, kv, caplog):
    # the cut keeps the line's count of numbers: only the missing newline shows it
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    whole = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        KeyedVectors.load_word2vec_format(path)
    assert "newline" not in caplog.text
    path.write_bytes(whole[:-3])
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        cut = KeyedVectors.load_word2vec_format(path)
    line = whole.count(b"\n")
    assert f"line {line}, the last vector's, does not end with a newline" in caplog.text
    assert len(cut) == len(kv)
    caplog.clear()
    # a file stopped early by limit= is not cut, nor one ending in a blank line
    path.write_bytes(whole[:-1] + b"\n\n")
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        KeyedVectors.load_word2vec_format(path, limit=2)
        KeyedVectors.load_word2vec_format(path)
    assert "newline" not in caplog.text


def test_text_numbers_with_underscores_or_out_of_range(tmp_path, caplog):
    # Python's float() reads "1_0" as 10 (word2vec.c's strtof as 1): refused
    (tmp_path / "u.txt").write_text("2 2\na_b 1 2\nb 3 1_0\n")
    with pytest.raises(ValueError, match=r"line 3: b'1_0' is not a number"):
        KeyedVectors.load_word2vec_format(tmp_path / "u.txt")
    # beyond float32's range, or written as nan/inf: loaded as they are, and said
    (tmp_path / "big.txt").write_text("3 2\na 1 2\nb 1e39 -2\nc nan 0\n")
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        got = KeyedVectors.load_word2vec_format(tmp_path / "big.txt")
    assert got.index_to_key == ["a", "b", "c"]
    np.testing.assert_array_equal(got.vectors, [[1, 2], [np.inf, -2], [np.nan, 0]])
    assert caplog.text.count("holds inf or nan") == 1 and "line 3:" in caplog.text


def test_duplicate_words_keep_the_first(tmp_path, caplog):
    (tmp_path / "d.txt").write_text("3 2\na 1 2\nb 3 4\na 5 6\n")
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        kv = KeyedVectors.load_word2vec_format(tmp_path / "d.txt")
    assert_same(kv, ["a", "b"], np.array([[1, 2], [3, 4]], np.float32))
    assert "duplicate word 'a'" in caplog.text


def test_non_utf8_words_follow_unicode_errors(tmp_path):
    v = np.ones(2, np.float32).tobytes()
    (tmp_path / "u.bin").write_bytes(b"2 2\nok " + v + b"\nbad\xff " + v + b"\n")
    with pytest.raises(ValueError, match=r"byte offset 16: the word b'bad\\xff' is not valid "
                                         r"utf-?8.*unicode_errors='replace'"):
        KeyedVectors.load_word2vec_format(tmp_path / "u.bin", binary=True)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "u.bin", binary=True,
                                           unicode_errors="replace")
    assert kv.index_to_key == ["ok", "bad\ufffd"]
    kv = KeyedVectors.load_word2vec_format(tmp_path / "u.bin", binary=True,
                                           unicode_errors="surrogateescape")
    kv.save_word2vec_format(tmp_path / "u2.bin", binary=True)
    assert (tmp_path / "u2.bin").read_bytes() == (tmp_path / "u.bin").read_bytes()
    with pytest.raises(ValueError, match="not an error handler"):
        KeyedVectors.load_word2vec_format(tmp_path / "u.bin", unicode_errors="bogus")


def test_declared_size_beyond_file_fails_before_allocating(tmp_path):
    # 10**12 x 300 floats would be 1.2 PB: checked against the file length first
    (tmp_path / "h.bin").write_bytes(b"1000000000000 300\nw " + bytes(1200))
    with pytest.raises(ValueError, match=r"line 1\) declares 1000000000000 vectors of 300 "
                                         r"dimensions.*truncated or its header is wrong"):
        KeyedVectors.load_word2vec_format(tmp_path / "h.bin", binary=True)
    (tmp_path / "h.txt").write_text("1000000000000 300\nw 1 2\n")
    with pytest.raises(ValueError, match="declares 1000000000000 vectors"):
        KeyedVectors.load_word2vec_format(tmp_path / "h.txt")


def test_declared_size_beyond_compressed_data_grows_only_with_data(tmp_path):
    with gzip.open(tmp_path / "h.bin.gz", "wb") as f:
        f.write(b"1000000000000 300\nw " + bytes(1200))
    with pytest.raises(ValueError, match=r"after 1 complete vectors, but the header declares "
                                         r"1000000000000"):
        KeyedVectors.load_word2vec_format(tmp_path / "h.bin.gz", binary=True)
    with gzip.open(tmp_path / "d.bin.gz", "wb") as f:       # 4 GB per vector: not allocated
        f.write(b"1 1000000000\nw " + bytes(1200))
    with pytest.raises(ValueError, match="after 0 complete vectors"):
        KeyedVectors.load_word2vec_format(tmp_path / "d.bin.gz", binary=True)
    with bz2.open(tmp_path / "h.txt.bz2", "wb") as f:
        f.write(b"1000000000000 2\nw 1 2\n")
    with pytest.raises(ValueError, match="ends at line 2 after 1 vectors"):
        KeyedVectors.load_word2vec_format(tmp_path / "h.txt.bz2")


@pytest.mark.parametrize("binary", [False, True])
def test_truncated_file_says_where(tmp_path, kv, binary):
    path = tmp_path / "v"
    kv.save_word2vec_format(path, binary=binary)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 30])
    where = "byte offset" if binary else "line"
    with pytest.raises(ValueError, match=f"({where}|truncated)"):
        KeyedVectors.load_word2vec_format(path, binary=binary)
    with gzip.open(tmp_path / "v.gz", "wb") as f:
        f.write(data[:len(data) - 30])
    with pytest.raises(ValueError, match="truncated"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.gz", binary=binary)
    (tmp_path / "cut.gz").write_bytes(gzip.compress(data)[:-20])   # a cut gzip stream
    with pytest.raises(ValueError, match="truncated or corrupt"):
        KeyedVectors.load_word2vec_format(tmp_path / "cut.gz", binary=binary)


def test_binary_header_disagreeing_with_data(tmp_path):
    v = np.arange(6, dtype=np.float32).reshape(3, 2)
    body = b"".join(w + b" " + row.tobytes() + b"\n" for w, row in zip((b"a", b"b", b"c"), v))
    (tmp_path / "n.bin").write_bytes(b"2 2\n" + body)               # count too small
    with pytest.raises(ValueError, match=r"byte offset \d+: data continues after the 2 "
                                         r"vectors the header declares"):
        KeyedVectors.load_word2vec_format(tmp_path / "n.bin", binary=True)
    for header in (b"3 3\n", b"2 3\n", b"3 1\n"):                   # wrong dimension
        (tmp_path / "d.bin").write_bytes(header + body)
        with pytest.raises(ValueError, match="header.* (is|probably) wrong"):
            KeyedVectors.load_word2vec_format(tmp_path / "d.bin", binary=True)
    # reading fewer vectors than declared on purpose does not look further
    assert len(KeyedVectors.load_word2vec_format(tmp_path / "n.bin", binary=True,
                                                 limit=1)) == 1


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_binary_data_after_the_declared_vectors_is_found_anywhere(tmp_path, monkeypatch,
                                                                  suffix):
    v = np.arange(3, dtype="<f4").tobytes()
    opener = gzip.open if suffix else open

    def load(data):
        with opener(tmp_path / f"t.bin{suffix}", "wb") as f:
            f.write(data)
        return KeyedVectors.load_word2vec_format(tmp_path / f"t.bin{suffix}", binary=True)

    # the next vector after 64 newlines (more than one look-ahead) is still seen
    with pytest.raises(ValueError, match=r"byte offset 82: data continues after the 1 "
                                         r"vectors the header declares"):
        load(b"1 3\na " + v + b"\n" * 64 + b"b " + v + b"\n")
    # a header declaring 0 vectors is checked too, as in text files
    with pytest.raises(ValueError, match=r"byte offset 4: data continues after the 0 "
                                         r"vectors the header declares"):
        load(b"0 3\na " + v + b"\nb " + v + b"\n")
    # all the rest is scanned, a chunk at a time
    monkeypatch.setattr(formats, "CHUNK_BYTES", 7)
    with pytest.raises(ValueError, match=r"byte offset 1018: data continues after the 1"):
        load(b"1 3\na " + v + b"\n \t\r" * 250 + b"b")
    with pytest.raises(ValueError, match=r"byte offset 1004: data continues after the 0"):
        load(b"0 3\n" + b"\n \t\r" * 250 + b"b")
    empty = load(b"0 3\n" + b" \n" * 500)                     # only whitespace: fine
    assert empty.index_to_key == [] and empty.vectors.shape == (0, 3)
    assert_same(load(b"1 3\na " + v + b"\n" * 1000), ["a"],
                np.arange(3, dtype=np.float32)[None])


@pytest.mark.parametrize("header, binary, match", [
    # a header of 0 vectors: its vector size is still checked
    (b"0 99999999999999999999999\n", False,
     r"line 1: the header declares 0 vectors of 99999999999999999999999 dimensions: one "
     r"vector would take 399999999999999999999996 bytes of float32, more than an array "
     r"can hold"),
    (b"99999999999999999999999 5\nword 1 2 3 4 5\n", False,
     r"line 1: the header declares 99999999999999999999999 vectors of 5 dimensions: "
     r"99999999999999999999999 vectors would take 1999999999999999999999980 bytes of "
     r"float32, more than an array can hold"),
    (b"99999999999999999999999 5\nword " + bytes(20), True,
     r"declares 99999999999999999999999 vectors of 5 dimensions.*count or vector size is "
     r"wrong"),
    (b"1 3000000000000000000\nword " + bytes(20), True,
     r"declares 1 vector of 3000000000000000000 dimensions: one vector would take "
     r"12000000000000000000 bytes"),
    (b"3000000000000000000 1000\nword " + bytes(20), True,
     r"declares 3000000000000000000 vectors of 1000 dimensions"),
], ids=["text-dim", "text-count", "binary-count", "binary-dim", "binary-product"])
@pytest.mark.parametrize("suffix", ["", ".gz", ".xz"])
def test_header_numbers_beyond_any_array_are_named(tmp_path, header, binary, match, suffix):
    path = tmp_path / f"h{suffix}"
    path.write_bytes({"": bytes, ".gz": gzip.compress, ".xz": lzma.compress}[suffix](header))
    with pytest.raises(ValueError, match=match):
        KeyedVectors.load_word2vec_format(path, binary=binary)


def test_text_header_disagreeing_with_data(tmp_path):
    (tmp_path / "a.txt").write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(ValueError, match=r"line 3: 2 numbers after the word b'b', but the "
                                         r"header \(line 1\) says vectors have 3"):
        KeyedVectors.load_word2vec_format(tmp_path / "a.txt")
    (tmp_path / "b.txt").write_text("1 2\na 1 2\nb 3 4\n\n")
    with pytest.raises(ValueError, match="line 3: another vector after the 1 the header"):
        KeyedVectors.load_word2vec_format(tmp_path / "b.txt")
    (tmp_path / "c.txt").write_text("2 2\na 1 2\nb 3 oops\n")
    with pytest.raises(ValueError, match="line 3: b'oops' is not a number"):
        KeyedVectors.load_word2vec_format(tmp_path / "c.txt")
    (tmp_path / "d.txt").write_text("a 1 2\n")
    with pytest.raises(ValueError, match="line 1: expected the word2vec header.*no_header"):
        KeyedVectors.load_word2vec_format(tmp_path / "d.txt")
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        KeyedVectors.load_word2vec_format(tmp_path / "e.txt")


def test_wrong_binary_flag_is_diagnosed(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "t.txt")
    with pytest.raises(ValueError, match="looks like a text file; pass binary=False"):
        KeyedVectors.load_word2vec_format(tmp_path / "t.txt", binary=True)
    kv.save_word2vec_format(tmp_path / "b.bin", binary=True)
    with pytest.raises(ValueError, match="pass binary=True"):
        KeyedVectors.load_word2vec_format(tmp_path / "b.bin")


def test_trailing_blank_lines_and_crlf_are_fine(tmp_path):
    (tmp_path / "w.txt").write_bytes(b"2 2\r\na 1 2 \r\nb 3 4\r\n\r\n\n")
    assert_same(KeyedVectors.load_word2vec_format(tmp_path / "w.txt"), ["a", "b"],
                np.array([[1, 2], [3, 4]], np.float32))


def test_unwritable_keys_are_refused(tmp_path):
    kv = KeyedVectors(np.ones((2, 2), np.float32), ["fine", "new york"])
    with pytest.raises(ValueError, match=r"key 1 \('new york'\) contains a space"):
        kv.save_word2vec_format(tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("keys, match", [
    ([1, "1"], r"keys 0 \(1\) and 1 \('1'\) are both written as '1'"),
    (["a", None, "b", "None"], r"keys 1 \(None\) and 3 \('None'\) are both written as 'None'"),
    # surrogate-escaped bytes that spell a valid UTF-8 character
    (["\udcc3\udcbf", "\xff"], r"keys 0 \('\\udcc3\\udcbf'\) and 1 \('\xff'\) are both "
                                r"written as"),
])
@pytest.mark.parametrize("binary", [False, True])
def test_keys_written_alike_are_refused(tmp_path, keys, match, binary):
    kv = KeyedVectors(np.eye(len(keys), dtype=np.float32), keys, counts=[1] * len(keys))
    with pytest.raises(ValueError, match=match + r".*would keep only the first.*"
                                               r"KeyedVectors.save\(\)"):
        kv.save_word2vec_format(tmp_path / "x", binary=binary)
    with pytest.raises(ValueError, match=match):
        formats.write_vocab_counts(tmp_path / "v", keys, kv.counts)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("binary", [False, True])
def test_empty_key_round_trips_with_fvocab(tmp_path, binary):
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["", "a"], counts=[5, 3])
    kv.save_word2vec_format(tmp_path / "v", fvocab=tmp_path / "voc", binary=binary)
    assert (tmp_path / "voc").read_bytes() == b" 5\na 3\n"
    back = KeyedVectors.load_word2vec_format(tmp_path / "v", fvocab=tmp_path / "voc",
                                             binary=binary)
    assert_same(back, ["", "a"], kv.vectors)
    assert back.counts.tolist() == [5, 3]
    (tmp_path / "bad").write_bytes(b"a 3\n5\n")               # no separator: still refused
    with pytest.raises(ValueError, match=r"line 2: expected 'word count' .*, got '5'"):
        formats.read_vocab_counts(tmp_path / "bad")


def test_save_word2vec_format_is_atomic(tmp_path, kv, monkeypatch):
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats, "_write_records", fail)
    with pytest.raises(OSError):
        kv.save_word2vec_format(path, binary=True)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["v.txt"]


def test_append_and_total_vec(tmp_path, kv):
    path = tmp_path / "v.txt"
    first, second = KeyedVectors(kv.vectors[:3], kv.index_to_key[:3]), \
        KeyedVectors(kv.vectors[3:5], kv.index_to_key[3:5])
    first.save_word2vec_format(path, total_vec=5)
    second.save_word2vec_format(path, write_header=False, append=True)
    assert_same(KeyedVectors.load_word2vec_format(path), kv.index_to_key[:5], kv.vectors[:5])


def test_datatype_other_than_float32_is_refused(tmp_path, kv):
    kv.save_word2vec_format(tmp_path / "v")
    with pytest.raises(ValueError, match="float64 is not supported.*float32"):
        KeyedVectors.load_word2vec_format(tmp_path / "v", datatype=np.float64)


def test_read_word2vec_in_chunks(tmp_path, kv, monkeypatch):
    # small chunks: records split across chunk boundaries in compressed streams
    monkeypatch.setattr(formats, "CHUNK_BYTES", 7)
    monkeypatch.setattr(formats, "TEXT_BATCH_LINES", 3)
    for binary in (False, True):
        kv.save_word2vec_format(tmp_path / "v.gz", binary=binary)
        keys, vectors, n = formats.read_word2vec(tmp_path / "v.gz", binary=binary)
        assert keys == kv.index_to_key and n == len(kv)
        np.testing.assert_array_equal(vectors, kv.vectors)


def test_text_starting_like_a_compression_magic_is_plain(tmp_path):
    (tmp_path / "g.txt").write_text("BZh9 1 2\nxz 3 4\n")
    kv = KeyedVectors.load_word2vec_format(tmp_path / "g.txt", no_header=True)
    assert kv.index_to_key == ["BZh9", "xz"]
    (tmp_path / "e.txt.xz").write_bytes(lzma.compress(b"1 2\na 1 2\n"))
    assert KeyedVectors.load_word2vec_format(tmp_path / "e.txt.xz").index_to_key == ["a"]


# ---- property tests: hostile bytes never crash a reader ----

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


def _valid_file(kv, tmp_path, binary):
    path = tmp_path / ("h.bin" if binary else "h.txt")
    kv.save_word2vec_format(path, binary=binary)
    return path.read_bytes()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_raise_clear_errors_or_load(tmp_path, kv, data):
    """Random truncations, byte flips, lying headers and junk: loading either succeeds
    (with the declared shape) or raises ValueError; never a crash or another error."""
    binary = data.draw(st.booleans())
    blob = bytearray(_valid_file(kv, tmp_path, binary))
    action = data.draw(st.sampled_from(["cut", "flip", "header", "junk", "nul"]))
    if action == "cut":
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    elif action == "flip":
        for _ in range(data.draw(st.integers(1, 5))):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] = data.draw(st.integers(0, 255))
    elif action == "header":
        n, d = data.draw(st.integers(-3, 10**12)), data.draw(st.integers(-3, 10**6))
        blob = bytearray(f"{n} {d}\n".encode()) + blob[blob.index(b"\n") + 1:]
    elif action == "nul":
        blob = blob.replace(b" ", b"\0", data.draw(st.integers(1, 3)))
    else:
        blob = bytearray(data.draw(st.binary(max_size=300)))
    path = tmp_path / "mutated"
    path.write_bytes(bytes(blob))
    errors = data.draw(st.sampled_from(["strict", "replace", "ignore"]))
    try:
        loaded = KeyedVectors.load_word2vec_format(path, binary=binary,
                                                   unicode_errors=errors)
    except ValueError:
        return
    assert loaded.vectors.ndim == 2 and len(loaded.index_to_key) == len(loaded.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_limit_reads_a_file_whose_header_count_is_absurd(tmp_path, binary):
    # only the vectors asked for are allocated, so limit= still reads such a file (a
    # header check on the declared count refused it)
    body = b"a " + (np.ones(5, np.float32).tobytes() + b"\n" if binary else b"1 1 1 1 1\n")
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(b"99999999999999999999999 5\n" + body))
    kv = KeyedVectors.load_word2vec_format(path, binary=binary, limit=1)
    assert kv.index_to_key == ["a"] and kv.vectors.tolist() == [[1.0] * 5]


@pytest.mark.parametrize("suffix, magic", [(".gz", b"\x1f\x8b"), (".bz2", b"BZh"),
                                           (".xz", b"\xfd7zXZ")])
def test_fvocab_is_compressed_by_name_and_gensim_reads_it(tmp_path, kv, suffix, magic):
    models = pytest.importorskip("gensim.models")
    vec, voc = str(tmp_path / f"v.txt{suffix}"), str(tmp_path / f"voc.txt{suffix}")
    # (gensim's fvocab reader splits a key holding a tab)
    keep = [i for i, k in enumerate(kv.index_to_key) if "\t" not in k]
    kv = KeyedVectors(kv.vectors[keep], [kv.index_to_key[i] for i in keep], kv.counts[keep])
    kv.save_word2vec_format(vec, fvocab=voc, sort_attr=None)
    with open(voc, "rb") as f:
        assert f.read(len(magic)) == magic
    theirs = models.KeyedVectors.load_word2vec_format(vec, fvocab=voc)
    assert [theirs.get_vecattr(k, "count") for k in kv.index_to_key] == kv.counts.tolist()
    back = KeyedVectors.load_word2vec_format(vec, fvocab=voc)
    assert back.counts.tolist() == kv.counts.tolist()
    # appending adds a compressed member, which both readers go on reading
    formats.write_vocab_counts(voc, ["extra"], [7], append=True)
    assert formats.read_vocab_counts(voc) == {**dict(zip(kv.index_to_key,
                                                         kv.counts.tolist())), "extra": 7}


def test_vocab_counts_read_like_gensim(tmp_path):
    models = pytest.importorskip("gensim.models")
    words = ["tab", "trailing", "both", "spaces", "crlf", "plain"]
    KeyedVectors(np.eye(6, dtype=np.float32), words).save_word2vec_format(tmp_path / "v")
    (tmp_path / "voc").write_bytes(b"tab\t5\ntrailing 4 \nboth\t 3\t\nspaces  2\n"
                                   b"crlf 9\r\nplain 1\n")
    ours = KeyedVectors.load_word2vec_format(tmp_path / "v", fvocab=tmp_path / "voc")
    theirs = models.KeyedVectors.load_word2vec_format(str(tmp_path / "v"),
                                                      fvocab=str(tmp_path / "voc"))
    assert ours.counts.tolist() == [theirs.get_vecattr(w, "count") for w in words] == \
        [5, 4, 3, 2, 9, 1]
    # a key holding a tab, as our writer writes it, reads back whole, and so does the
    # empty key (which gensim refuses)
    formats.write_vocab_counts(tmp_path / "own", ["x\ty", "", "a"], [3, 2, 1])
    assert formats.read_vocab_counts(tmp_path / "own") == {"x\ty": 3, "": 2, "a": 1}


@pytest.mark.parametrize("line", [b"word", b"word five", b"word 5.0", b"word -5", b"7",
                                  b"word 1_000", b"word +5"])
def test_malformed_vocab_line_is_refused(tmp_path, line):
    (tmp_path / "voc").write_bytes(b"ok 3\n" + line + b"\n")
    with pytest.raises(ValueError, match=r"voc' line 2: expected 'word count' \(a word, a "
                                         r"space or tab, a non-negative integer\), got "):
        formats.read_vocab_counts(tmp_path / "voc")


def test_vocab_counts_duplicate_word_is_refused(tmp_path):
    # gensim keeps the last count and word2vec.c makes two entries: neither is what the
    # file meant, so both lines are named
    path = tmp_path / "voc"
    path.write_bytes(b"a 5\nb 1\na 6\n")
    with pytest.raises(ValueError, match=r"voc' line 3: the word 'a' is already on line 1; "
                                         r"give each word one line$"):
        formats.read_vocab_counts(path)
    # different spellings that decode alike are one word, as when a corpus is counted
    path.write_bytes(b"caf\xe9 5\ncaf\xe8 6\n")
    assert formats.read_vocab_counts(path, unicode_errors="replace") == {"caf\ufffd": 11}


def test_vocab_counts_invalid_utf8_names_file_and_line(tmp_path):
    from fastw2v.vocab import InvalidUTF8Error
    KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"]).save_word2vec_format(tmp_path / "v")
    (tmp_path / "voc").write_bytes(b"a 3\ncaf\xe9 5\n")
    with pytest.raises(InvalidUTF8Error, match=r"voc' line 2: the word b'caf\\xe9' is not "
                                               r"valid utf-?8 .*unicode_errors='replace'"):
        KeyedVectors.load_word2vec_format(tmp_path / "v", fvocab=tmp_path / "voc")
    assert formats.read_vocab_counts(tmp_path / "voc", unicode_errors="replace") == \
        {"a": 3, "caf\ufffd": 5}


def test_malformed_vocab_line_of_many_spaces_is_refused(tmp_path):
    # parsed in one pass (a backtracking pattern took seconds on such a line)
    path = tmp_path / "voc.txt"
    path.write_bytes(b"a" + b" " * 100_000 + b"x\n")
    with pytest.raises(ValueError, match="line 1: expected 'word count'"):
        formats.read_vocab_counts(path)


@pytest.mark.parametrize("stray", [b"A", b"AA"])
def test_binary_vector_with_bytes_added_is_reported(tmp_path, caplog, stray):
    # the next word takes in the stray bytes and the newline before it ('@\nw2'):
    # loaded, since gensim writes keys holding newlines, but no longer in silence
    # (bytes lost cannot be told: the newline after the vector and the next word's first
    # bytes make up for them)
    KeyedVectors(np.arange(12, dtype=np.float32).reshape(4, 3),
                 ["w0", "w1", "w2", "w3"]).save_word2vec_format(tmp_path / "v.bin", binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    at = data.index(b"w1 ") + 3 + 5                  # inside w1's vector
    (tmp_path / "bad.bin").write_bytes(data[:at] + stray + data[at:])
    if stray == b"AA":          # the word then takes in bytes that are not UTF-8
        with pytest.raises(ValueError, match="byte offset 35: the word .* holds control "
                                             "bytes: the header's vector size .3. is "
                                             "probably wrong"):
            KeyedVectors.load_word2vec_format(tmp_path / "bad.bin", binary=True)
        return
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        kv = KeyedVectors.load_word2vec_format(tmp_path / "bad.bin", binary=True)
    assert kv.index_to_key[2].endswith("\nw2")
    assert re.search(r"bad.bin' byte offset \d+: the word of vector 3 holds a newline .*a "
                     r"vector before it longer than the header's 3 float32", caplog.text)


def test_binary_keys_holding_newlines_read_as_gensim_reads_them(tmp_path, caplog):
    models = pytest.importorskip("gensim.models")
    g = models.KeyedVectors(2)
    g.add_vectors(["hello", "line\nbreak", "x"], np.eye(3, 2, dtype=np.float32))
    g.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    back = models.KeyedVectors.load_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        ours = KeyedVectors.load_word2vec_format(tmp_path / "g.bin", binary=True)
    assert ours.index_to_key == back.index_to_key == ["hello", "line\nbreak", "x"]
    np.testing.assert_array_equal(ours.vectors, back.vectors)
    assert "holds a newline ('line\\nbreak'" in caplog.text or "b'line\\nbreak'" in caplog.text


@pytest.mark.parametrize("count", [b"9223372036854775808", b"1" * 5000])
def test_vocab_count_beyond_int64_names_file_and_line(tmp_path, count):
    # was a bare OverflowError (numpy) or Python's own int-conversion limit
    (tmp_path / "voc").write_bytes(b"a 3\nb " + count + b"\n")
    with pytest.raises(ValueError, match=r"voc' line 2: the count \d+(\.\.\.)? is larger "
                                         r"than an int64 holds"):
        formats.read_vocab_counts(tmp_path / "voc")
    (tmp_path / "voc").write_bytes(b"caf\xe9 9223372036854775800\ncaf\xe8 8\n")
    with pytest.raises(ValueError, match="line 2: the counts of 'caf\ufffd' .* add up"):
        formats.read_vocab_counts(tmp_path / "voc", unicode_errors="replace")
    (tmp_path / "voc").write_bytes(b"a 0009223372036854775807\n")     # leading zeros: fits
    assert formats.read_vocab_counts(tmp_path / "voc") == {"a": 2**63 - 1}


def test_read_vocab_counts_refuses_broken_compression_and_devices(tmp_path):
    whole = b"".join(b"word%d %d\n" % (i, 1000 - i) for i in range(300))
    for name, compress in (("v.gz", gzip.compress), ("v.bz2", bz2.compress),
                           ("v.xz", lzma.compress)):
        (tmp_path / name).write_bytes(compress(whole)[:-12])      # cut short
        with pytest.raises(ValueError, match="compressed data is truncated or corrupt"):
            formats.read_vocab_counts(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="vocabulary file .* does not exist"):
        formats.read_vocab_counts(tmp_path / "nope")
    with pytest.raises(IsADirectoryError, match="vocabulary file .* is a directory"):
        formats.read_vocab_counts(tmp_path)
    if os.path.exists("/dev/null"):
        # a device (/dev/zero would be read as one endless line) is refused before reading
        with pytest.raises(ValueError, match="is a device, not a vocabulary file"):
            formats.read_vocab_counts("/dev/null")


@pytest.mark.parametrize("magic, name", [(b"PK\x03\x04", "a zip archive"),
                                         (b"\x28\xb5\x2f\xfd", "zstd"),
                                         (b"\x04\x22\x4d\x18", "lz4"),
                                         (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive")])
def test_other_compressions_are_named_not_read_as_text(tmp_path, magic, name):
    path = tmp_path / "file"
    path.write_bytes(magic + b"1 2\na 0.5 1.5\n" * 3)
    with pytest.raises(ValueError, match=f"is {name}, which fastw2v does not read.*"
                                         f"decompress it first"):
        KeyedVectors.load_word2vec_format(path)
    with pytest.raises(ValueError, match=f"corpus_file .* is {name}"):
        list(iter_chunks(path))


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("compress", [None, gzip.compress])
def test_a_byte_order_mark_before_the_header_is_skipped(tmp_path, binary, compress):
    # editors on Windows put one before the text; it is not part of the header
    from fastw2v.cli import sniff_format
    path = tmp_path / "v"
    vectors = np.array([[1, 2], [3, 4]], np.float32)
    formats.write_word2vec(path, ["a", "b"], vectors, binary=binary)
    data = b"\xef\xbb\xbf" + path.read_bytes()
    path.write_bytes(compress(data) if compress else data)
    kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert kv.index_to_key == ["a", "b"] and kv.vectors.tolist() == vectors.tolist()
    assert sniff_format(str(path)) == ("binary" if binary else "text")


def test_a_byte_order_mark_before_a_file_without_header_is_skipped(tmp_path):
    (tmp_path / "glove.txt").write_bytes(b"\xef\xbb\xbfaa 1 2\nbb 3 4\n")
    kv = KeyedVectors.load_word2vec_format(tmp_path / "glove.txt", no_header=True)
    assert kv.index_to_key == ["aa", "bb"]


def test_a_byte_order_mark_before_a_vocabulary_file_is_skipped(tmp_path):
    (tmp_path / "voc").write_bytes(b"\xef\xbb\xbfthe 5\ncat 2\n")
    assert formats.read_vocab_counts(tmp_path / "voc") == {"the": 5, "cat": 2}
