"""bench/compare.py hands every option to the child that trains, and the NAME=VALUE parser
shared by compare.py --fastw2v-option and scaling.py --set.

Nothing here trains or needs the peers (gensim, fastText, word2vec.c): the child's command
is built and parsed back, and main() runs with the process launch replaced."""

import argparse
import json
import os
import re
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)
import compare  # noqa: E402
import scaling  # noqa: E402
import schedule  # noqa: E402

# the bench scripts put bench/ first on sys.path; the other tests should not import from it
while BENCH in sys.path:
    sys.path.remove(BENCH)


def child_options(cmd):
    """The options the child started by cmd trains with, read as the child reads them."""
    assert cmd[1] == os.path.join(BENCH, "compare.py")
    spec = compare.build_parser().parse_args(cmd[2:]).child_spec
    return vars(compare.child_namespace(spec))


def same_through_json(value):
    """value as JSON carries it (tuples arrive as lists)."""
    return json.loads(json.dumps(value))


def user_option(action):
    return (action.option_strings and action.help != argparse.SUPPRESS
            and not isinstance(action, argparse._HelpAction))


def non_default_argv(parser):
    """One non-default value for every user option of the parser (the hidden internal one
    left out), so that an option added later is covered without editing this test."""
    argv = []
    for action in parser._actions:
        if not user_option(action):
            continue
        opt = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            argv.append(opt)
        elif action.type is compare.thread_counts:
            argv += [opt, "3,5"]
        elif action.type is compare.word2vec_option:
            argv += [opt, "shared_negatives=True", opt, "ns_exponent=0.5"]
        elif action.choices:
            argv += [opt, str(next(c for c in action.choices if c != action.default))]
        elif action.type is int:
            argv += [opt, str((action.default or 0) + 3)]
        elif action.type is float:
            argv += [opt, repr((action.default or 0.0) + 0.125)]
        elif action.type is None:
            argv += [opt, f"/tmp/not-{action.dest}"]
        else:
            pytest.fail(f"no test value for {opt} (type {action.type}): add one here")
    return argv


def test_every_option_reaches_the_child():
    parser = compare.build_parser()
    argv = non_default_argv(parser)
    parent = parser.parse_args(argv)
    defaults = parser.parse_args([])
    user = [a.dest for a in parser._actions if user_option(a)]
    assert "fastw2v_option" in user and "dim" in user
    for dest in user:  # the test itself sets every option
        assert getattr(parent, dest) != getattr(defaults, dest), dest
    cmd = compare.child_command(parent, "fastw2v", 2, "/tmp/corpus.txt", "/tmp/out")
    child = child_options(cmd)
    expected = dict(same_through_json(vars(parent)), child="fastw2v", child_threads=2,
                    child_corpus="/tmp/corpus.txt", child_out="/tmp/out", child_spec=None)
    assert child == expected


def test_settings_built_in_the_child_are_the_parents():
    argv = ["--sg", "0", "--hs", "1", "--negative", "3", "--dim", "17", "--window", "3",
            "--min-count", "2", "--sample", "1e-4", "--epochs", "2", "--alpha", "0.05",
            "--min-alpha", "0.001", "--seed", "9",
            "--fastw2v-option", "shared_negatives=True", "--fastw2v-option", "cbow_mean=0"]
    parent = compare.build_parser().parse_args(argv)
    child = argparse.Namespace(**child_options(
        compare.child_command(parent, "fastw2v", 1, "/tmp/c.txt", "/tmp/o")))
    gensim = dict(vector_size=17, window=3, min_count=2, sg=0, hs=1, negative=3,
                  sample=1e-4, epochs=2, workers=1, seed=9, alpha=0.05, min_alpha=0.001)
    fasttext = dict(model="cbow", lr=0.05, dim=17, ws=3, epoch=2, minCount=2, neg=3,
                    loss="hs", t=1e-4, thread=1, minn=0, maxn=0, wordNgrams=1, bucket=0,
                    seed=9, verbose=2)
    for a in (parent, child):
        assert compare.gensim_kwargs(a, 1) == gensim
        assert compare.fastw2v_kwargs(a, 1) == dict(gensim, shared_negatives=True,
                                                     cbow_mean=0)
        assert compare.fasttext_kwargs(a, 1) == fasttext
    kw = compare.fastw2v_kwargs(child, 1)
    assert kw["shared_negatives"] is True and type(kw["cbow_mean"]) is int


def test_main_launches_the_child_with_the_options(tmp_path, monkeypatch, capsys):
    """The real parent path: main() -> run_system() -> the command it launches."""
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c d\nb c d e\n")
    (tmp_path / "eval").mkdir()
    launched = []

    def fake_launch(cmd, env=None):
        launched.append(cmd)
        raise RuntimeError("not training in this test")

    monkeypatch.setattr(compare, "run_child_process", fake_launch)
    rc = compare.main(["--corpus", str(corpus), "--eval-dir", str(tmp_path / "eval"),
                       "--tmpdir", str(tmp_path), "--systems", "fastw2v,gensim-iter",
                       "--threads", "1,2", "--dim", "10", "--epochs", "1",
                       "--fastw2v-option", "shared_negatives=True"])
    assert rc == 1  # every launch failed, on purpose
    assert "shared_negatives=True" in capsys.readouterr().out  # in the printed settings
    assert [(c["child"], c["child_threads"]) for c in map(child_options, launched)] == [
        ("fastw2v", 1), ("gensim-iter", 1), ("fastw2v", 2), ("gensim-iter", 2)]
    for cmd in launched:
        child = argparse.Namespace(**child_options(cmd))
        assert child.child_corpus == str(corpus)
        assert compare.fastw2v_kwargs(child, 1)["shared_negatives"] is True
        assert (child.dim, child.epochs, child.negative) == (10, 1, 5)


@pytest.mark.parametrize("text, expected", [
    ("shared_negatives=True", ("shared_negatives", True)),
    ("negative=7", ("negative", 7)),
    ("ns_exponent=0.5", ("ns_exponent", 0.5)),
    ("max_vocab_size=None", ("max_vocab_size", None)),
    ("unicode_errors=ignore", ("unicode_errors", "ignore")),  # not a literal: the string
    ("unicode_errors='replace'", ("unicode_errors", "replace")),
    ("encoded_dir=a=b", ("encoded_dir", "a=b")),  # split at the first '='
    (" window = 3", ("window", 3)),
    ("encoded_dir=", ("encoded_dir", "")),
    # checked alone: whether hs/negative and alpha/min_alpha agree depends on other options
    ("negative=0", ("negative", 0)),
    ("hs=0", ("hs", 0)),
    ("min_alpha=0.5", ("min_alpha", 0.5)),
    ("alpha=1e-05", ("alpha", 1e-05)),
])
def test_word2vec_option_values(text, expected):
    got = compare.word2vec_option(text)
    assert got == expected and type(got[1]) is type(expected[1])


@pytest.mark.parametrize("text, message", [
    ("shared_negatives", "no '='"),
    ("=True", "empty NAME"),
    ("  =1", "empty NAME"),
    ("shared_negative=True", "'shared_negative' is not a fastw2v.Word2Vec parameter"),
    ("corpus_file=x.txt", "'corpus_file' is not a fastw2v.Word2Vec parameter"),
    ("workers=8", "'workers' is not a fastw2v.Word2Vec parameter"),   # --threads sets it
    ("encoded_dir=b'/tmp/x'", "only values JSON keeps"),
    ("callbacks=()", "only values JSON keeps"),        # a tuple would arrive as a list
    ("alpha=1j", "only values JSON keeps"),
    # what Word2VecConfig refuses, in its words, instead of failing in every child run
    ("shared_negatives=true", "shared_negatives='true': shared_negatives must be True or "
                              "False, got 'true'"),
    ("window=0", "window=0: window must be >= 1"),
    ("sample=1", "sample=1: sample must be < 1.0"),
    ("alpha=0", "alpha=0: alpha must be > 0.0"),
    ("min_alpha=-1", "min_alpha=-1: min_alpha must be >= 0.0"),
    ("sg=2", "sg=2: sg must be 0 or 1"),
    ("seed=None", "seed=None: seed must be an int"),
    ("unicode_errors=a=b", "unicode_errors='a=b': unicode_errors must be one of"),
])
def test_word2vec_option_errors(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
        compare.word2vec_option(text)


@pytest.mark.parametrize("parser, option", [(compare.build_parser, "--fastw2v-option"),
                                            (scaling.build_parser, "--set")])
def test_both_scripts_parse_name_value_alike(parser, option, capsys):
    a = parser().parse_args([option, "shared_negatives=True", option, "seed=4"])
    assert getattr(a, option.lstrip("-").replace("-", "_")) == [("shared_negatives", True),
                                                                ("seed", 4)]
    for bad, message in [("shared_negatives", "no '='"), ("=1", "empty NAME"),
                         ("bogus=1", "'bogus' is not a fastw2v.Word2Vec parameter"),
                         ("shared_negatives=true", "must be True or False, got 'true'")]:
        with pytest.raises(SystemExit) as e:
            parser().parse_args([option, bad])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {option}: " in err and message in err


def test_scaling_refuses_to_set_what_it_sets_itself(capsys):
    for option in ("vector_size=10", "sg=0", "hs=1", "negative=3", "seed=3", "epochs=2"):
        with pytest.raises(SystemExit) as e:
            scaling.main(["--set", option, "--corpus", "unused.txt"])
        assert e.value.code == 2
        assert f"--set {option.split('=')[0]}=...: this script sets it" in \
            capsys.readouterr().err


@pytest.mark.parametrize("script", [compare, scaling])
@pytest.mark.parametrize("bad", ["a", "1,,x", "0", "2,-1", ","])
def test_thread_lists_are_checked_when_parsed(script, bad, capsys):
    with pytest.raises(SystemExit) as e:
        script.build_parser().parse_args(["--threads", bad])
    assert e.value.code == 2 and "argument --threads: expected" in capsys.readouterr().err
    assert script.build_parser().parse_args(["--threads", "1, 2,16"]).threads == [1, 2, 16]


@pytest.mark.parametrize("bad", ["64", "a/b", "65/1000", "64/0", "1/2/3"])
def test_scaling_checks_hot_copy_variants_before_training(bad, capsys):
    with pytest.raises(SystemExit) as e:
        scaling.main(["--variants", bad, "--corpus", "unused.txt"])
    assert e.value.code == 2 and "--variants takes ROWS/SYNC pairs" in capsys.readouterr().err


def test_independent_processes_that_die_are_named():
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=lambda: None)
    proc.start()
    proc.join()
    mine, theirs = ctx.Pipe()
    theirs.close()
    independent = scaling.Independent.__new__(scaling.Independent)
    independent.conns, independent.procs = [mine], [proc]
    with pytest.raises(RuntimeError, match=r"independent training process died \(exit codes "
                                           r"\[0\]"):
        independent.run(1)
    independent.close()


@pytest.mark.parametrize("layout, threads, padded", [
    ("auto", 1, False), ("auto", 2, True), ("contiguous", 2, False), ("padded", 1, True)])
def test_scaling_lays_the_output_rows_out_as_asked(layout, threads, padded):
    from fastw2v import Word2Vec
    sentences = [["a", "b", "c", "d", "e"], ["b", "c", "d", "e", "a"]] * 20
    model = Word2Vec(vector_size=20, min_count=1, workers=1, hs=1, negative=2, seed=1)
    model.build_vocab(sentences)
    initial = {k: v.copy() for k, v in scaling.weights(model).items() if v is not None}
    scaling.time_epoch(model, initial, threads, layout)
    for a in (model.w_out_ns, model.w_out_hs):
        assert a.strides == ((32 if padded else 20) * 4, 4)
    assert model.config.workers == threads
    if threads == 1:           # one thread: the same bits as a plain one-epoch train()
        again = Word2Vec(vector_size=20, min_count=1, workers=1, hs=1, negative=2, seed=1)
        again.build_vocab(sentences)
        again.train(epochs=1)
        assert (model.wv.vectors == again.wv.vectors).all()


def test_a_system_reports_its_own_peak_memory_not_the_harness_s():
    # started straight from compare.py, every process inherited compare.py's peak RSS
    # (about 400 MB once it had scored a system): every peer showed 414 MB
    big = __import__("numpy").ones(400 << 20, dtype="uint8")    # this process's peak
    del big
    r = compare.run_child_process(
        [sys.executable, "-c", "import sys, time; print('up', flush=True); time.sleep(0.2);"
                               "sys.stderr.write('bye'); sys.exit(3)"])
    assert r["rc"] == 3
    assert r["peak_rss_mb"] < 100, r["peak_rss_mb"]            # python alone: ~10-20 MB
    assert 0 < r["rss_floor_mb"] < 50                          # spawn.py's own
    assert compare._text(r["stdout"]) == "up\n" and compare._text(r["stderr"]) == "bye"
    t_up = compare._first_time(r["stdout"], b"up")
    assert r["t_launch"] < t_up and r["t_exit"] - t_up >= 0.15
    with pytest.raises(RuntimeError, match="spawn.py exited 127: .*cannot start"):
        compare.run_child_process(["/no/such/program"])


def test_every_system_runs_with_huge_pages_for_malloc_unless_told_not_to(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    on = compare.build_parser().parse_args([])
    off = compare.build_parser().parse_args(["--no-malloc-hugepages"])
    assert compare.child_env(on)["GLIBC_TUNABLES"] == (
        "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1")
    assert compare.child_env(off)["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=2")     # the user's own
    assert compare.child_env(on)["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=2"


def test_schedule_reproduces_gensim_corpus_file_rates():
    # two workers: each epoch's rate falls half of its share, then the next epoch starts
    # where the plain schedule has it
    rates = schedule.gensim_file_rates(0.025, 0.0001, 5, 2)
    drop = 0.025 - 0.0001
    assert rates[0] == pytest.approx((0.025, 0.025 - drop * 0.1))
    assert rates[4] == pytest.approx((0.025 - drop * 0.8, 0.025 - drop * 0.9))
    assert [lo for lo, _ in rates] == pytest.approx([0.025 - drop * e / 5 for e in range(5)])
    # one worker: the plain linear schedule, epoch after epoch, down to min_alpha
    one = schedule.gensim_file_rates(0.025, 0.0001, 5, 1)
    assert [hi for _, hi in one[:-1]] == pytest.approx([lo for lo, _ in one[1:]])
    assert one[0][0] == 0.025 and one[-1][1] == pytest.approx(0.0001)


def test_schedule_script_trains_and_scores_both_schedules(tmp_path, capsys, monkeypatch):
    rng = __import__("numpy").random.default_rng(0)
    words = ["king", "queen", "man", "woman", "boy", "girl"] + [f"w{i}" for i in range(40)]
    lines = [" ".join(rng.choice(words, size=12)) for _ in range(300)]
    (tmp_path / "corpus.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "questions-words.txt").write_text(": family\nking queen man woman\n"
                                                  "man woman boy girl\n")
    pairs = "king\tqueen\t8.0\nman\twoman\t7.5\nboy\tw3\t1.0\nw1\tw2\t2.0\n"
    (tmp_path / "EN-WS-353-ALL.txt").write_text(pairs)
    (tmp_path / "EN-SIMLEX-999.txt").write_text(pairs)
    from fastw2v import Word2Vec
    calls, train = [], Word2Vec.train

    def spy(self, *args, **kwargs):
        calls.append((kwargs.get("epochs"), kwargs.get("start_alpha"), kwargs.get("end_alpha")))
        return train(self, *args, **kwargs)

    monkeypatch.setattr(Word2Vec, "train", spy)
    schedule.main(["--corpus", str(tmp_path / "corpus.txt"), "--eval-dir", str(tmp_path),
                   "--dim", "8", "--epochs", "2", "--min-count", "1", "--workers", "2",
                   "--seeds", "1,2"])
    # per seed: the plain schedule in one call, then gensim's, one call per epoch
    rates = schedule.gensim_file_rates(0.025, 0.0001, 2, 2)
    assert calls == 2 * ([(None, None, None)] + [(1, lo, hi) for lo, hi in rates])
    rows = [r.split("|")[1:-1] for r in capsys.readouterr().out.splitlines()[2:]]
    assert [(r[0].strip(), r[1].strip()) for r in rows] == [
        ("plain", "1"), ("gensim-file", "1"), ("plain", "2"), ("gensim-file", "2")]
    for r in rows:
        assert float(r[3]) in (0.0, 50.0, 100.0)               # two questions
        assert all(-1 <= float(x) <= 1 for x in r[4:6])
    with pytest.raises(SystemExit):
        schedule.main(["--corpus", "x", "--eval-dir", "y", "--schedules", "gensim"])


def test_bench_lists_runs_and_agrees_with_gensim(tmp_path):
    """bench_lists.py end to end on a small corpus: its table, and (with gensim) the
    same phrases and vocabulary as gensim's."""
    import subprocess
    import numpy as np
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(500)]
    lines = []
    for i in range(400):
        line = list(rng.choice(words, size=12))
        if i % 4 == 0:
            line[3:5] = ["new", "york"]
        lines.append(" ".join(line))
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n")
    root = os.path.dirname(BENCH)
    out = subprocess.run([sys.executable, os.path.join(BENCH, "bench_lists.py"), "--corpus",
                          str(corpus)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": root + os.pathsep + BENCH}).stdout
    assert "| fastw2v | Phrases(lists) |" in out
    if "| gensim |" in out:
        found = re.findall(r"(phrases|vocabulary words): fastw2v (\d+), gensim (\d+), "
                           r"in both (\d+)", out)
        assert len(found) == 2 and all(a == b == c != "0" for _, a, b, c in found)
