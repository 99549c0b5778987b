"""`python -m fastw2v.demo` on a corpus of the user's: small vocabularies and bad paths."""
from fastw2v import demo

from conftest import write_lines


def test_demo_on_a_small_corpus_shows_neighbours(tmp_path, capsys):
    words = [f"w{i}" for i in range(12)]
    path = write_lines(tmp_path / "small.txt", [words[i:] + words[:i] for i in range(12)] * 20)
    assert demo.main(["--corpus", path, "--out", str(tmp_path / "out"), "--epochs", "1",
                      "--workers", "1"]) == 0
    out = capsys.readouterr().out
    neighbours = out.split("Nearest neighbours:")[1].split("Vectors written")[0]
    lines = [line for line in neighbours.splitlines() if "->" in line]
    assert len(lines) == 6 and all(line.split("->")[1].strip() for line in lines)
    assert (tmp_path / "out" / "vectors.txt").read_text().startswith("12 100\n")


def test_demo_with_a_missing_corpus_is_one_line(tmp_path, capsys):
    assert demo.main(["--corpus", str(tmp_path / "nope.txt"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("demo: ") and "nope.txt" in err and err.count("\n") == 1


def test_demo_bad_arguments_are_one_line(tmp_path, capsys):
    words = [f"w{i}" for i in range(12)]
    path = write_lines(tmp_path / "small.txt", [words] * 20)
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    for argv, fragment in ((["--corpus", path, "--epochs", "0"], "epochs"),  # was 5 epochs
                           (["--corpus", path, "--out", str(a_file)], "taken"),
                           (["--epochs", "0"], "epochs"),
                           (["--epochs", "x"], "invalid int value: 'x'")):
        out = argv if "--out" in argv else argv + ["--out", str(tmp_path / "o")]
        assert demo.main(out) == 2
        err = capsys.readouterr().err
        assert err.startswith("demo: error: ") and fragment in err and err.count("\n") == 1


def test_demo_names_its_own_option_for_non_utf8_text(tmp_path, capsys):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait noir\n" * 30)
    argv = ["--corpus", str(path), "--out", str(tmp_path / "o"), "--epochs", "1",
            "--workers", "1"]
    assert demo.main(argv) == 2
    assert "--unicode-errors replace" in capsys.readouterr().err
    assert demo.main(argv + ["--unicode-errors", "replace"]) == 0
