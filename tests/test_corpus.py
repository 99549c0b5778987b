import bz2
import gzip
import lzma
import os

import numpy as np
import pytest

from fastw2v.corpus import check_restartable, check_sentence, iter_chunks


def test_iter_chunks_reads_plain_gzip_bz2_and_xz_alike(tmp_path):
    data = b"alpha beta\ngamma delta epsilon\n" * 1000
    (tmp_path / "a.txt").write_bytes(data)
    (tmp_path / "a.gz").write_bytes(gzip.compress(data))
    (tmp_path / "a.bz2").write_bytes(bz2.compress(data))
    (tmp_path / "a.xz").write_bytes(lzma.compress(data))
    # the format is told by the magic bytes, not the extension
    (tmp_path / "gz_named.txt").write_bytes(gzip.compress(data))
    for name in ("a.txt", "a.gz", "a.bz2", "a.xz", "gz_named.txt"):
        assert b"".join(iter_chunks(tmp_path / name, chunk_bytes=777)) == data
    (tmp_path / "cut.xz").write_bytes(lzma.compress(data)[:40])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        list(iter_chunks(tmp_path / "cut.xz"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_refused_as_a_corpus_file(tmp_path):
    # read more than once, a pipe would lose what the first read took
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file.*write it to a file first"):
        list(iter_chunks(fifo))


def test_iter_chunks_truncated_gzip_raises_valueerror(tmp_path):
    blob = gzip.compress(b"some words here\n" * 5000)
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        list(iter_chunks(path))


def test_iter_chunks_text_that_looks_compressed_stays_text(tmp_path):
    for text in (b"BZhello world\n", b"\x1f\x8bword\n"):
        (tmp_path / "t.txt").write_bytes(text)
        assert b"".join(iter_chunks(tmp_path / "t.txt")) == text


def test_iter_chunks_corrupt_bz2_raises_valueerror(tmp_path):
    path = tmp_path / "bad.bz2"
    path.write_bytes(bz2.compress(b"words " * 1000)[:30])
    with pytest.raises(ValueError, match="bad.bz2"):
        list(iter_chunks(path))


def test_iter_chunks_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(iter_chunks(tmp_path / "nope.txt"))
    with pytest.raises(IsADirectoryError):
        list(iter_chunks(tmp_path))
    with pytest.raises(TypeError, match="path"):
        list(iter_chunks(123))


def test_check_restartable_rejects_generator_with_how_to():
    gen = (s for s in [["a"]])
    with pytest.raises(TypeError, match="one-shot") as info:
        check_restartable(gen)
    assert "__iter__" in str(info.value)
    with pytest.raises(TypeError, match="one-shot"):
        check_restartable(iter([["a"]]))


def test_check_restartable_accepts_lists_and_restartable_objects():
    class Corpus:
        def __iter__(self):
            return iter([["a", "b"]])

    for ok in ([["a"]], (["a"],), Corpus()):
        assert check_restartable(ok) is ok


def test_check_restartable_rejects_paths_and_non_iterables():
    with pytest.raises(TypeError, match="corpus_file="):
        check_restartable("corpus.txt")
    with pytest.raises(TypeError, match="iterable"):
        check_restartable(42)


def test_check_sentence_rejects_strings():
    with pytest.raises(TypeError, match="split"):
        check_sentence("a b c", 3)
    with pytest.raises(TypeError, match="sentence 7"):
        check_sentence(5, 7)
    check_sentence(["a", "b"], 0)


def test_check_sentence_rejects_one_shot_iterators_before_reading_them():
    """A sentence that is an iterator would be counted, then empty when encoded."""
    for sentence in (map(str.lower, ["A", "B"]), filter(None, ["a", "b"]),
                     (t for t in ["a", "b"]), iter(["a", "b"]), zip("ab")):
        with pytest.raises(TypeError, match=r"sentence 4 is a one-shot iterator.*"
                                            r"list\(map\(str.lower, words\)\)"):
            check_sentence(sentence, 4)
        assert len(list(sentence)) == 2              # not read by the check
    for sentence in (["a"], ("a",), np.array([1, 2]), np.array(["a"]), range(3), {"a": 1}):
        check_sentence(sentence, 0)


def test_a_list_of_string_arrays_is_token_lists_not_ids():
    from fastw2v.corpus import as_id_sequences
    tokens = [np.array(["a", "b"]), np.array(["c"], dtype=object), np.array([b"d"])]
    assert as_id_sequences(tokens) is None
    # an empty line split by numpy is a float64 array: still token lists
    assert as_id_sequences([np.array("a b".split()), np.array("".split())]) is None
    assert as_id_sequences([np.array([1, 2]), np.array([3])]) is not None
    with pytest.raises(TypeError, match="sequence 1 must be a 1-D integer array, got dtype "
                                        "float64"):
        as_id_sequences([np.array([1]), np.array([1.5])])


def test_id_sequences_validation():
    import numpy as np
    from fastw2v.corpus import IdSequences, as_id_sequences

    seqs = IdSequences(np.array([5, 6, 7], np.int32), [0, 2, 2, 3])
    assert len(seqs) == 3 and list(seqs) == [[5, 6], [], [7]]
    with pytest.raises(TypeError, match="integers"):
        IdSequences(np.array([1.0, 2.0]), [0, 2])
    with pytest.raises(ValueError, match="end at len"):
        IdSequences(np.array([1, 2]), [0, 1])
    with pytest.raises(ValueError, match="non-decreasing"):
        IdSequences(np.array([1, 2, 3]), [0, 2, 1, 3])
    with pytest.raises(ValueError, match="2\\*\\*63"):
        IdSequences(np.array([2**64 - 1], np.uint64), [0, 1])
    with pytest.raises(TypeError, match="sequence 1"):
        IdSequences.from_arrays([np.array([1]), np.array([0.5])])
    ids = np.arange(10, dtype=np.int64)
    assert IdSequences(ids, [0, 10]).ids is ids            # no copy
    listed = as_id_sequences([np.array([3, 4]), np.array([5], np.int16)])
    assert listed.ids.tolist() == [3, 4, 5] and listed.offsets.tolist() == [0, 2, 3]
    # an empty float64 array (np.array([])) or uint64 beside int64 must not send the ids
    # through float64, which merges ids above 2**53
    big = [2**60 + 1, 2**60 + 3]
    listed = as_id_sequences([np.array(big), np.array([]), np.array(big, np.uint64)])
    assert listed.ids.dtype == np.int64 and listed.ids.tolist() == big + big
    with pytest.raises(ValueError, match="2\\*\\*63"):
        as_id_sequences([np.array([1]), np.array([2**63], np.uint64)])
    # 64-bit hashes: refused with the fix, which keeps them distinct
    hashes = np.array([2**63 + 5, 2**64 - 1, 7, 2**63 + 5], np.uint64)
    with pytest.raises(ValueError, match=r"ids\.view\(np\.int64\)"):
        IdSequences(hashes, [0, 4])
    signed = IdSequences(hashes.view(np.int64), [0, 4])
    assert signed.ids.tolist() == [5 - 2**63, -1, 7, 5 - 2**63]
    assert as_id_sequences([["a"]]) is None


def test_a_byte_order_mark_at_the_start_is_not_part_of_the_first_word(tmp_path):
    data = "x y\nz\n".encode()
    for name, compress in (("plain", None), ("gz", gzip.compress), ("xz", lzma.compress)):
        path = tmp_path / name
        path.write_bytes(compress(b"\xef\xbb\xbf" + data) if compress else b"\xef\xbb\xbf" + data)
        assert b"".join(iter_chunks(path, chunk_bytes=2)) == data
    # only at the very start: elsewhere it is text (and a file of it alone is empty)
    (tmp_path / "mid").write_bytes(b"x \xef\xbb\xbfy")
    assert b"".join(iter_chunks(tmp_path / "mid")) == b"x \xef\xbb\xbfy"
    (tmp_path / "only").write_bytes(b"\xef\xbb\xbf")
    assert b"".join(iter_chunks(tmp_path / "only")) == b""


# ---- gensim's corpus iterables ----

def _text_file(tmp_path, name="c.txt", seed=0):
    rng = np.random.default_rng(seed)
    words = ["a", "bb", "ccc", "día", "naïve", "x\u00a0y", "東京"]
    lines = []
    for _ in range(60):
        n = int(rng.integers(0, 9))
        seps = [" ", "  ", "\t", " \v "]
        lines.append("".join(str(rng.choice(words)) + str(rng.choice(seps)) for _ in range(n)))
    text = "\n".join(lines) + "\n\n"
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path, text


@pytest.mark.parametrize("name", ["c.txt", "c.txt.gz"])
@pytest.mark.parametrize("max_len,limit", [(10000, None), (3, None), (2, 7), (1, 0)])
def test_line_sentence_matches_gensim(tmp_path, name, max_len, limit):
    word2vec = pytest.importorskip("gensim.models.word2vec")
    from fastw2v import LineSentence, PathLineSentences
    from fastw2v.word2vec import LineSentence as where_gensim_has_it
    assert where_gensim_has_it is LineSentence
    path, _ = _text_file(tmp_path, name)
    want = list(word2vec.LineSentence(str(path), max_sentence_length=max_len, limit=limit))
    ours = LineSentence(path, max_sentence_length=max_len, limit=limit)
    assert list(ours) == want and list(ours) == want            # restartable
    assert list(PathLineSentences(path, max_len, limit)) == want
    with open(path, "rb") as f:                                  # a file object, rewound
        if not name.endswith(".gz"):
            assert list(LineSentence(f, max_len, limit)) == want == list(LineSentence(f, max_len, limit))


def test_path_line_sentences_and_text8_match_gensim(tmp_path):
    word2vec = pytest.importorskip("gensim.models.word2vec")
    from fastw2v import PathLineSentences, Text8Corpus
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in (2, 0, 1):
        _text_file(folder, f"part{i}.txt", seed=i)
    want = list(word2vec.PathLineSentences(str(folder), limit=20))
    (folder / "sub").mkdir()            # (gensim fails on a subdirectory; fastw2v skips it)
    assert list(PathLineSentences(folder, limit=20)) == want
    path, text = _text_file(tmp_path, seed=5)
    for max_len in (10000, 7, 1):
        assert list(Text8Corpus(path, max_len)) == list(word2vec.Text8Corpus(str(path), max_len))


def test_gensim_readers_refuse_bad_input(tmp_path):
    from fastw2v import LineSentence, PathLineSentences, Text8Corpus, Word2Vec
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok line\ncaf\xe9 x\n")
    with pytest.raises(ValueError, match="line 2: not UTF-8.*unicode_errors='replace'"):
        list(LineSentence(bad))
    assert list(LineSentence(bad, unicode_errors="replace"))[1] == ["caf\ufffd", "x"]
    with pytest.raises(ValueError, match="not UTF-8"):
        list(Text8Corpus(bad))
    with pytest.raises(FileNotFoundError):
        LineSentence(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="neither a file nor a directory"):
        PathLineSentences(tmp_path / "missing")
    with pytest.raises(ValueError, match="max_sentence_length"):
        LineSentence(bad, max_sentence_length=0)
    with pytest.raises(ValueError, match="limit"):
        LineSentence(bad, limit=-1)
    # a LineSentence is a corpus Word2Vec reads twice (counting, then encoding)
    good = tmp_path / "good.txt"
    good.write_text("the cat sat\nthe dog ran\n" * 20)
    model = Word2Vec(LineSentence(good), min_count=1, vector_size=8, epochs=1, workers=1)
    assert set(model.wv.index_to_key) == {"the", "cat", "sat", "dog", "ran"}
