"""The command line, run in-process through fastw2v.cli.main."""
import gzip
import os

import numpy as np
import pytest

from fastw2v import KeyedVectors

from fastw2v.cli import main, parse_w2v_c, read_vocab_file, sniff_format
from fastw2v.synthetic import planted_relations, write_questions

from conftest import write_lines


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    sentences, questions = planted_relations(n_sentences=8000)
    write_questions(folder / "q.txt", questions)
    (folder / "pairs.txt").write_text("paris\tberlin\t8\ncat\tcats\t9\nparis\tcat\t1\n")
    return folder, write_lines(folder / "c.txt", sentences)


def test_parse_w2v_c_defaults_are_word2vec_c_defaults():
    a = parse_w2v_c(["-train", "in.txt", "-output", "out.txt"])
    assert a.params == dict(vector_size=100, window=5, sample=1e-3, hs=0, negative=5,
                            workers=12, epochs=5, min_count=5, sg=0, alpha=0.05,
                            min_alpha=0.05 * 1e-4, unicode_errors="strict")
    assert a.fmt == "text" and not a.quiet
    b = parse_w2v_c(["-train", "x", "-output", "y", "-cbow", "0", "-binary", "1",
                     "-debug", "0", "-size", "7"])
    assert b.params["sg"] == 1 and b.params["alpha"] == 0.025 and b.params["vector_size"] == 7
    assert b.fmt == "binary" and b.quiet
    # a repeated flag: the first one counts, as in word2vec.c
    assert parse_w2v_c(["-train", "x", "-output", "y", "-size", "5", "-size", "7"]
                       ).params["vector_size"] == 5


def test_train_word2vec_c_flags_then_query(corpus, capsys):
    folder, path = corpus
    out = folder / "v.bin"
    rc = main(["-train", path, "-output", str(out), "-size", "24", "-binary", "1",
               "-threads", "2", "-min-count", "1", "-iter", "5", "-debug", "0",
               "-save-vocab", str(folder / "vocab.txt")])
    assert rc == 0
    assert sniff_format(out) == "binary"
    vocab = read_vocab_file(folder / "vocab.txt")
    assert list(vocab.values()) == sorted(vocab.values(), reverse=True)
    capsys.readouterr()
    assert main(["analogy", "germany", "berlin", "france", "--vectors", str(out),
                 "--topn", "1"]) == 0
    assert "paris" in capsys.readouterr().out
    assert main(["eval", str(out), "--analogy", str(folder / "q.txt"),
                 "--pairs", str(folder / "pairs.txt")]) == 0
    text = capsys.readouterr().out
    assert "analogy accuracy" in text and "Spearman" in text


def test_output_loads_in_gensim(corpus):
    gensim_models = pytest.importorskip("gensim.models")
    folder, path = corpus
    for name, binary in (("g.txt", False), ("g.bin", True)):
        out = folder / name
        assert main(["train", "--corpus-file", path, "--output", str(out),
                     "--vector-size", "12", "--min-count", "1", "--epochs", "1",
                     "--quiet"]) == 0
        kv = gensim_models.KeyedVectors.load_word2vec_format(str(out), binary=binary)
        assert kv.vector_size == 12 and "paris" in kv.key_to_index


def test_vocab_files_as_word2vec_c_writes_and_reads_them(tmp_path, capsys):
    """-save-vocab writes word2vec.c's file: </s> (its line count) first, which
    word2vec.c's -read-vocab takes for the line end; without -output only the words are
    counted, as in word2vec.c."""
    path = write_lines(tmp_path / "c.txt", [["b", "a", "b"], ["c", "b"], ["a"]])
    vocab = tmp_path / "v.txt"
    assert main(["-train", path, "-save-vocab", str(vocab), "-min-count", "1",
                 "-debug", "0"]) == 0
    assert vocab.read_text() == "</s> 3\nb 3\na 2\nc 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt", "v.txt"]  # no vectors
    assert read_vocab_file(vocab) == {"b": 3, "a": 2, "c": 1}
    again = tmp_path / "v2.txt"        # read and written again: the same file
    assert main(["-train", path, "-read-vocab", str(vocab), "-save-vocab", str(again),
                 "-output", str(tmp_path / "o.txt"), "-min-count", "1", "-size", "4",
                 "-threads", "1", "-debug", "0"]) == 0
    assert again.read_text() == vocab.read_text()
    packed = tmp_path / "v.txt.gz"     # written compressed by its name, read back so
    assert main(["-train", path, "-save-vocab", str(packed), "-min-count", "1",
                 "-debug", "0"]) == 0
    assert gzip.decompress(packed.read_bytes()) == vocab.read_bytes()
    assert read_vocab_file(packed) == read_vocab_file(vocab)
    (tmp_path / "empty.txt").write_text("</s> 5\n")
    assert main(["-train", path, "-read-vocab", str(tmp_path / "empty.txt"), "-output",
                 str(tmp_path / "o.txt")]) == 2
    assert "no words in this vocabulary file" in capsys.readouterr().err


def test_non_utf8_corpus_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait\n" * 20)
    out = tmp_path / "v.txt"
    argv = ["-train", str(path), "-output", str(out), "-min-count", "1", "-size", "4",
            "-threads", "1", "-debug", "0"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "-unicode-errors replace" in err
    assert main(argv + ["-unicode-errors", "replace"]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == "3 4"
    # the same hint when the vocabulary comes from a file and training reads the corpus
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("au 20\nlait 20\n")
    assert main(argv + ["-read-vocab", str(vocab)]) == 2
    assert "-unicode-errors replace" in capsys.readouterr().err


def test_non_utf8_vocabulary_file_decoded_as_the_corpus(tmp_path, capsys):
    # -read-vocab decodes its words under -unicode-errors, as the corpus (it raised a bare
    # UnicodeDecodeError that named neither the file nor the flag)
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait\n" * 20)
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(b"</s> 20\ncaf\xe9 20\nlait 20\n")
    out = tmp_path / "v.txt"
    argv = ["-train", str(path), "-output", str(out), "-read-vocab", str(vocab), "-size",
            "4", "-threads", "1", "-debug", "0"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"'{vocab}' line 2" in err and "not valid utf-8" in err
    assert "-unicode-errors replace" in err and err.count("\n") == 1
    assert main(argv + ["-unicode-errors", "replace"]) == 0
    words = [line.split()[0] for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(words) == ["caf\ufffd", "lait"]
    # words split at ASCII whitespace only, as the corpus; one that decodes to nothing
    # under 'ignore' is not a word; messages show text, not bytes
    vocab.write_bytes(b"caf\xe9 20\nno\xc2\xa0break 3\n\xe9\xe9 20\n")
    assert read_vocab_file(vocab, unicode_errors="ignore") == {"caf": 20, "no\xa0break": 3}
    vocab.write_bytes(b"caf\xe9 x\n")
    assert main(argv) == 2
    assert (f"'{vocab}' line 1: expected 'word count' (a word, a space or tab, a "
            f"non-negative integer), got 'caf\ufffd x'\n") in capsys.readouterr().err


@pytest.mark.parametrize("content, fragment", [
    # the rules of KeyedVectors.load_word2vec_format(fvocab=), which reads it alike
    (b"a 1_000\n", "line 1: expected 'word count'"),
    (b"a 2\nb +5\n", "line 2: expected 'word count'"),
    (b"a 5\nb 1\na 6\n", "line 3: the word 'a' is already on line 1"),
    (b"</s> 5\na 1\n</s> 5\n", "line 3: the word '</s>' is already on line 1"),
    (b"</s> 5\n\xe9 1\n", "no words in this vocabulary file"),
    # leading whitespace is part of the word, which no corpus token can then match
    (b"a 5\n  b 1\n", "the word '  b' holds whitespace"),
])
def test_read_vocab_file_refuses_what_the_formats_reader_refuses(content, fragment, capsys,
                                                                 tmp_path, monkeypatch):
    (tmp_path / "w.txt").write_bytes(content)
    err = fails_in_scratch_folder(["-train", "c.txt", "-output", "x.txt", "-read-vocab",
                                   "w.txt", "-unicode-errors", "ignore"],
                                  tmp_path, monkeypatch, capsys)
    assert err.startswith("fastw2v: error:") and fragment in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_read_vocab_file_takes_out_the_line_count(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"</s> 7\nb\t3\na 2 \n\n")
    assert read_vocab_file(path, with_lines=True) == ({"b": 3, "a": 2}, 7)
    path.write_bytes(b"b 3\n")
    assert read_vocab_file(path, with_lines=True) == ({"b": 3}, 0)


def test_read_vocab_and_convert_round_trip(corpus):
    folder, path = corpus
    (folder / "given_vocab.txt").write_text("</s> 100\nparis 50\nfrance 40\nberlin 30\n")
    out = folder / "small.txt"
    assert main(["-train", path, "-output", str(out), "-read-vocab",
                 str(folder / "given_vocab.txt"), "-size", "8", "-threads", "1",
                 "-min-count", "1", "-debug", "0"]) == 0
    assert out.read_text().splitlines()[0] == "3 8"
    for a, b in (("small.txt", "small.fw2v"), ("small.fw2v", "small.bin"),
                 ("small.bin", "small2.txt")):
        assert main(["convert", str(folder / a), str(folder / b)]) == 0
    original = [line.split()[0] for line in out.read_text().splitlines()[1:]]
    again = [line.split()[0] for line in (folder / "small2.txt").read_text().splitlines()[1:]]
    assert original == again
    assert sniff_format(folder / "small.fw2v") == "native"


def fails_in_scratch_folder(argv, tmp_path, monkeypatch, capsys):
    """Run the command in a folder holding a corpus c.txt, a vocabulary v.txt and a
    folder sub; check that it fails with status 2, leaves c.txt and v.txt as they were
    and writes no x.txt; return what it printed on stderr."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("a b c\n")
    (tmp_path / "v.txt").write_text("a 1\nb 1\n")
    (tmp_path / "bad.txt").write_text("a 3\nwindow\n")
    (tmp_path / "sub").mkdir()
    assert main(argv) == 2
    assert (tmp_path / "c.txt").read_text() == "a b c\n"      # inputs untouched
    assert (tmp_path / "v.txt").read_text() == "a 1\nb 1\n"
    assert not (tmp_path / "x.txt").exists()
    return capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["-train", "nope.txt", "-output", "x.txt"], "does not exist"),
    (["-train", "a", "-output", "b", "-bogus", "1"], "unknown word2vec.c option '-bogus'"),
    (["-train", "a", "-output", "b", "-size", "abc"], "-size needs int"),
    (["-train", "a", "-output", "b", "-classes", "5"], "-classes"),
    (["-train", "a"], "-output FILE is required (or -save-vocab FILE alone"),
    (["-output", "a"], "-train FILE is required"),
    (["-train", "c.txt", "-output", "x.txt", "-save-vocab", "/nonexistent/v.txt"],
     "does not exist"),
    (["train", "--corpus-file", "c.txt"], "--output FILE is required"),
    # a model asked for is not silently skipped by a vocabulary-only run
    (["train", "--corpus-file", "c.txt", "--save-vocab", "v.txt", "--save-model", "m.fw2v"],
     "--output FILE is required"),
    (["eval", "v.bin"], "nothing to evaluate"),
    (["similar", "a", "--vectors", "nope.bin"], "does not exist"),
    (["train", "--corpus-file", "c.txt", "--output", "/nonexistent/dir/x.txt"],
     "does not exist"),
    # an output over an input would destroy it (word2vec.c overwrites it silently)
    (["-train", "c.txt", "-output", "c.txt"], "c.txt is also an input (c.txt)"),
    (["-train", "c.txt", "-output", "./sub/../c.txt"], "is also an input"),
    (["-train", "c.txt", "-output", "x.txt", "-save-vocab", "c.txt"], "is also an input"),
    (["-train", "c.txt", "-output", "x.txt", "-read-vocab", "v.txt", "-save-vocab",
      "v.txt"], "is also an input (v.txt)"),
    (["-train", "c.txt", "-output", "x.txt", "-save-vocab", "x.txt"],
     "two outputs are the same file"),
    # refused before counting, not after training
    (["-train", "c.txt", "-output", "sub"], "sub: it is a directory"),
    (["-train", "c.txt", "-output", ""], "an output file name is empty"),
    # argparse's errors too, without its usage lines
    (["train", "--corpus-file", "c.txt", "--vector-size", "x"],
     "argument --vector-size: invalid int value: 'x' (see fastw2v train --help)"),
    (["bogus"], "invalid choice: 'bogus'"),
    # the training file is checked first, as word2vec.c does, even when not read
    (["-train", "nope.txt", "-read-vocab", "v.txt", "-save-vocab", "x.txt"],
     "corpus_file 'nope.txt' does not exist"),
    (["-train", "sub", "-read-vocab", "v.txt", "-save-vocab", "x.txt"], "is a directory"),
    # settings name the option typed as well as the parameter
    (["-train", "c.txt", "-output", "x.txt", "-threads", "0"],
     "workers must be >= 1 or None for all cores, got 0 (option -threads)"),
    (["-train", "c.txt", "-output", "x.txt", "-iter", "0"], "got 0 (option -iter)"),
    (["-train", "c.txt", "-output", "x.txt", "-min-count", "9", "-debug", "0"],
     "Empty vocabulary: no word occurs at least min_count=9 times"),
    (["-train", "c.txt", "-output", "x.txt", "-min-count", "9", "-debug", "0"],
     "(option -min-count)"),
    (["train", "--corpus-file", "c.txt", "--output", "x.txt", "--window", "0"],
     "(option --window)"),
    (["similar", "a", "--vectors", "sub"], "vector file sub is a directory"),
    (["train", "--corpus-file", "c.txt", "-size", "5", "--output", "x.txt", "-threads", "2"],
     "word2vec.c's flags cannot be mixed with long options: -size -> --vector-size, "
     "-threads -> --workers"),
    (["similar", "a", "--vectors", "v.txt", "--topn", "-1"],
     "argument --topn: must be a whole number >= 0, got '-1'"),
])
def test_user_errors_are_one_line_and_exit_2(argv, fragment, capsys, tmp_path,
                                             monkeypatch):
    err = fails_in_scratch_folder(argv, tmp_path, monkeypatch, capsys)
    assert err.startswith("fastw2v: error:") and fragment in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_bad_values_and_unknown_words(corpus, capsys):
    folder, path = corpus
    assert main(["train", "--corpus-file", path, "--output", str(folder / "x.txt"),
                 "--window", "0"]) == 2
    assert "window must be >= 1" in capsys.readouterr().err
    vec = folder / "w.txt"
    main(["train", "--corpus-file", path, "--output", str(vec), "--min-count", "1",
          "--vector-size", "8", "--epochs", "1", "--quiet"])
    capsys.readouterr()
    assert main(["similar", "paris", "nosuchword", "--vectors", str(vec)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""                      # nothing printed before the error
    assert "'nosuchword' not present" in captured.err
    truncated = folder / "trunc.txt"
    truncated.write_bytes(vec.read_bytes()[:200])
    assert main(["similar", "paris", "--vectors", str(truncated)]) == 2


def test_python_dash_m_entry_point(corpus):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "fastw2v", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "word2vec.c" in out.stdout


@pytest.mark.parametrize("argv, fragment", [
    (["-train", "c.txt", "-output", "v.txt", "-size", "1048576", "-min-count", "1",
      "-debug", "0"], "smaller vector size (-size / --vector-size)"),
    (["train", "--corpus-file", "c.txt", "--output", "v.txt", "--min-count", "1",
      "--quiet"], "higher -min-count / --min-count"),
])
def test_out_of_memory_is_one_line_and_exit_2(argv, fragment, capsys, tmp_path,
                                              monkeypatch):
    from fastw2v import native

    def refuse(shape, dtype):
        # what numpy raises for an allocation it refuses (no memory is really taken)
        raise MemoryError(f"Unable to allocate 400. GiB for an array with shape {shape} "
                          f"and data type float32")
    monkeypatch.setattr(native, "aligned_empty", refuse)
    err = fails_in_scratch_folder(argv, tmp_path, monkeypatch, capsys)
    assert err.startswith("fastw2v: error: out of memory (Unable to allocate 400. GiB")
    assert fragment in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_out_of_memory_outside_training(capsys, monkeypatch):
    import fastw2v.cli

    def refuse(path, *args):
        raise MemoryError()
    monkeypatch.setattr(fastw2v.cli, "load_vectors", refuse)
    assert main(["similar", "a", "--vectors", "v.bin"]) == 2
    err = capsys.readouterr().err
    assert err == ("fastw2v: error: out of memory: the vectors do not fit in memory; use a "
                   "machine with more memory\n")


def test_negative_seed_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("a b c\n")
    assert main(["train", "--corpus-file", "c.txt", "--output", "v.txt", "--seed", "-5",
                 "--min-count", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastw2v: error: seed must be >= 0") and err.endswith(
        "got -5 (option --seed)\n")


def test_output_to_a_closed_pipe_ends_quietly(tmp_path):
    # `fastw2v similar ... | head -1`: the reader goes away; no traceback, no message
    import subprocess
    import sys
    vectors = tmp_path / "v.txt"
    vectors.write_text("3 2\na 1 0\nb 0.9 0.1\nc 0 1\n")
    proc = subprocess.Popen([sys.executable, "-m", "fastw2v", "similar", "a", "--vectors",
                             str(vectors)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                       # before the command writes anything
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == b""


def _vectors(path, rows, binary, keys=None):
    from fastw2v import formats
    keys = keys or [f"w{i}" for i in range(len(rows))]
    formats.write_word2vec(path, keys, np.asarray(rows, np.float32), binary=binary)
    return str(path)


def test_vector_format_told_from_the_content(tmp_path):
    rows = [[2.0, 0, 0, 0], [3.0, 0, 0, 0], [0.5, 0, 0, 0]]   # floats whose bytes decode
    for name, binary in (("t.txt.bz2", False), ("t.txt.xz", False), ("t.txt.gz", False),
                         ("b.bin", True), ("b.bin.bz2", True), ("b.bin.xz", True),
                         ("noname", True), ("noname.txt", False)):
        assert sniff_format(_vectors(tmp_path / name, rows, binary)) == (
            "binary" if binary else "text"), name
    # a word that is not UTF-8 leaves a text file text
    (tmp_path / "latin1.txt").write_bytes(b"2 3\ncaf\xe9 1 2 3\nd 4 5 6\n")
    assert sniff_format(str(tmp_path / "latin1.txt")) == "text"
    # so does a wrong count of numbers, which the text reader then reports by line
    (tmp_path / "short.txt").write_text("2 4\na 1 2 3\nb 4 5 6\n")
    assert sniff_format(str(tmp_path / "short.txt")) == "text"


def test_output_format_from_the_name(tmp_path, capsys):
    src = _vectors(tmp_path / "v.txt", [[1.0, 2.0], [3.0, 4.0]], binary=False)
    for name, fmt in (("o.bin.bz2", "binary"), ("o.bin.xz", "binary"), ("o.bin.gz", "binary"),
                      ("o.txt.xz", "text"), ("o.fw2v", "native")):
        assert main(["convert", src, str(tmp_path / name)]) == 0
        assert f"({fmt})" in capsys.readouterr().err
        if fmt != "native":
            loaded = KeyedVectors.load_word2vec_format(tmp_path / name, binary=fmt == "binary")
            assert loaded.index_to_key == ["w0", "w1"]


def test_vector_reading_options(tmp_path, capsys):
    (tmp_path / "latin1.txt").write_bytes(b"2 3\ncaf\xe9 1 2 3\nd 4 5 6\n")
    assert main(["similar", "d", "--vectors", str(tmp_path / "latin1.txt")]) == 2
    assert "(on the command line: --unicode-errors replace)" in capsys.readouterr().err
    assert main(["similar", "d", "--topn", "1", "--unicode-errors", "replace",
                 "--vectors", str(tmp_path / "latin1.txt")]) == 0
    assert "caf\ufffd" in capsys.readouterr().out
    (tmp_path / "glove.txt").write_text("a 1 2\nb 3 4\nc -1 0\n")
    assert main(["similar", "a", "--vectors", str(tmp_path / "glove.txt")]) == 2
    assert "(on the command line: --no-header)" in capsys.readouterr().err
    assert main(["analogy", "a", "b", "c", "--no-header", "--topn", "1",
                 "--vectors", str(tmp_path / "glove.txt")]) == 0
    assert "a is to b as c is to:" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "glove.txt"), str(tmp_path / "g.txt"),
                 "--no-header"]) == 0
    assert KeyedVectors.load_word2vec_format(tmp_path / "g.txt").index_to_key == ["a", "b", "c"]
    # a binary file read as text: the advice names --from for convert
    binary = _vectors(tmp_path / "b.bin", [[1.0, 2.0]], binary=True)
    assert main(["convert", binary, str(tmp_path / "x.txt"), "--from", "text"]) == 2
    assert "--from binary" in capsys.readouterr().err


def test_a_saved_model_serves_as_vectors(corpus, tmp_path, capsys):
    folder, path = corpus
    model_path = tmp_path / "m.fw2v"
    assert main(["train", "--corpus-file", path, "--output", str(tmp_path / "v.txt"),
                 "--save-model", str(model_path), "--epochs", "1", "--vector-size", "8",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["similar", "paris", "--topn", "2", "--vectors", str(model_path)]) == 0
    model_answer = capsys.readouterr().out
    assert main(["similar", "paris", "--topn", "2", "--vectors", str(tmp_path / "v.txt")]) == 0
    assert capsys.readouterr().out.split()[:2] == model_answer.split()[:2]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_output_into_a_named_pipe(corpus, tmp_path):
    # as -output /dev/stdout: written into, not replaced by a plain file
    import stat
    import threading
    _, path = corpus
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["-train", path, "-output", str(fifo), "-size", "4", "-iter", "1",
                 "-threads", "1", "-debug", "0"]) == 0
    reader.join(10)
    assert got and got[0].split(b"\n")[0].split()[1] == b"4"       # the header
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_error_messages_quoting_a_setting_name_are_not_tagged(capsys, tmp_path,
                                                              monkeypatch):
    err = fails_in_scratch_folder(["-train", "c.txt", "-output", "x.txt", "-read-vocab",
                                   "bad.txt"], tmp_path, monkeypatch, capsys)
    assert "got 'window'" in err and "(option" not in err
    (tmp_path / "again").mkdir()
    err = fails_in_scratch_folder(["convert", "v.txt", "y.txt", "-binary", "1"],
                                  tmp_path / "again", monkeypatch, capsys)
    assert "unrecognized arguments: -binary 1" in err and "mixed" not in err


def test_ctrl_c_in_training_says_what_was_written(tmp_path, capsys, monkeypatch):
    import fastw2v.word2vec

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(fastw2v.word2vec.Word2Vec, "train", interrupted)
    (tmp_path / "c.txt").write_text("a b c\n" * 20)
    base = ["-train", str(tmp_path / "c.txt"), "-output", str(tmp_path / "x.txt"),
            "-min-count", "1", "-debug", "0"]
    assert main(base) == 130
    assert capsys.readouterr().err == ("fastw2v: interrupted; no output file was "
                                       "written\n")
    assert main(base + ["-save-vocab", str(tmp_path / "v.txt")]) == 130
    assert capsys.readouterr().err == (f"fastw2v: interrupted; written before: "
                                       f"{tmp_path / 'v.txt'}; nothing else\n")
    assert (tmp_path / "v.txt").exists() and not (tmp_path / "x.txt").exists()


def test_more_vector_files_told_apart(tmp_path):
    # a blank line after the header (the text reader skips it)
    (tmp_path / "blank.txt").write_text("2 2\n\na 1 2\nb 3 4\n")
    assert sniff_format(str(tmp_path / "blank.txt")) == "text"
    # gensim's binary files have no newline after a vector: zero vectors are still binary
    gensim_models = pytest.importorskip("gensim.models")
    g = gensim_models.KeyedVectors(3)
    g.add_vectors(["w0", "w1", "w2"], np.zeros((3, 3), np.float32))
    g.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    assert sniff_format(str(tmp_path / "g.bin")) == "binary"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_vocabulary_and_native_files_through_pipes(tmp_path, capsys):
    import threading
    (tmp_path / "c.txt").write_text("a b c\n" * 20)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed(data):
        thread = threading.Thread(target=fifo.write_bytes, args=(data,), daemon=True)
        thread.start()
        return thread
    # a plain vocabulary file read from a pipe (word2vec.c's -read-vocab <(...))
    feed(b"a 20\nb 20\nc 20\n")
    assert main(["-train", str(tmp_path / "c.txt"), "-read-vocab", str(fifo), "-output",
                 str(tmp_path / "x.txt"), "-size", "4", "-iter", "1", "-debug", "0"]) == 0
    assert KeyedVectors.load_word2vec_format(tmp_path / "x.txt").index_to_key == ["a", "b", "c"]
    # compressed data through a pipe cannot be sniffed and reopened: refused by name
    feed(gzip.compress(b"a 20\n"))
    assert main(["-train", str(tmp_path / "c.txt"), "-read-vocab", str(fifo), "-output",
                 str(tmp_path / "x.txt"), "-debug", "0"]) == 2
    assert "is a compressed pipe" in capsys.readouterr().err
    # fastw2v's own format writes its header last: a pipe is refused before anything
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["convert", str(tmp_path / "x.txt"), str(fifo), "--to", "native"]) == 2
    reader.join(10)
    assert got == [b""] and "not a file one can seek in" in capsys.readouterr().err
