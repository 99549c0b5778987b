#!/usr/bin/env python3
"""Side-by-side benchmark: fastw2v against gensim, word2vec.c and fastText.

Every system trains on the same plain-text corpus (one sentence per line) with the
same settings, one system at a time, each in its own child process, so that its wall
time, CPU time and peak memory (max RSS of that child) are its own. Each writes its
vectors to disk in word2vec binary format; the parent reads them back and scores them
with bench/score.py (Google analogies by 3CosAdd, WordSim-353 and SimLex-999 Spearman).

Systems (``--systems``):

* ``fastw2v``      this package (``fastw2v.Word2Vec``, build_vocab + train from the file)
* ``gensim-iter``  gensim fed a ``LineSentence`` iterable (its classic mode)
* ``gensim-file``  gensim's ``corpus_file=`` mode (one reader per worker, no GIL)
* ``word2vec.c``   the ``word2vec`` binary built by the PyPI package ``word2vec``
* ``fasttext``     PyPI ``fasttext`` with minn=0 maxn=0 wordNgrams=1 (plain word2vec)

Example (the full side-by-side for skip-gram; 40-60 minutes on 2 idle cores)::

    python bench/compare.py --sg 1 --threads 1,2 --json /tmp/sg.json

A ``.gz`` corpus is decompressed once to a temporary plain file that every system reads.
See bench/README.md for the columns and the caveats.
"""

from __future__ import annotations

import argparse
import ast
import collections
import dataclasses
import gzip
import inspect
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
from score import evaluate_all  # noqa: E402

DEFAULT_CORPUS = "/work/shared/data/pd-encyc8.lines.gz"
DEFAULT_EVAL_DIR = "/work/shared/data/eval"
SYSTEMS = ("fastw2v", "gensim-iter", "gensim-file", "word2vec.c", "fasttext")
# gensim's corpus_file reader and LineSentence cut lines longer than this many words;
# in corpus_file mode the rest of the line is silently never trained on.
GENSIM_MAX_WORDS_PER_LINE = 10000
# word2vec.c and fastText add this token for every newline; dropped before scoring.
EOS = "</s>"


# ---------------------------------------------------------------------------------
# corpus preparation (parent)
# ---------------------------------------------------------------------------------

def prepare_plain_corpus(src: str, tmpdir: str) -> tuple[str, dict, collections.Counter]:
    """Return (plain-text path, stats, word counts); a ``.gz`` input is decompressed into
    tmpdir. Stats: lines, tokens, longest line in words, whether every line ends in a
    newline (word2vec.c and fastText count one end-of-sentence token per newline)."""
    gz = src.endswith(".gz")
    if gz:
        dst = os.path.join(tmpdir, os.path.basename(src)[:-3] or "corpus.txt")
        out = open(dst, "wb")
    else:
        dst, out = src, None
    counts = collections.Counter()
    lines = tokens = max_words = newlines = 0
    try:
        with (gzip.open(src, "rb") if gz else open(src, "rb")) as f:
            for line in f:
                words = line.split()
                counts.update(words)
                lines += 1
                tokens += len(words)
                max_words = max(max_words, len(words))
                if line.endswith(b"\n"):
                    newlines += 1
                elif out is not None:
                    line += b"\n"
                    newlines += 1
                if out is not None:
                    out.write(line)
    finally:
        if out is not None:
            out.close()
    return dst, dict(lines=lines, tokens=tokens, max_words_per_line=max_words,
                     newlines=newlines, distinct_words=len(counts)), counts


def vocab_stats(counts: collections.Counter, min_count: int) -> dict:
    """What any word2vec keeps at this min_count: words and their tokens per pass."""
    kept = [c for c in counts.values() if c >= min_count]
    return dict(vocab_size=len(kept), in_vocab_tokens=int(sum(kept)))


# ---------------------------------------------------------------------------------
# word2vec binary format (shared by the writer in the children and the parent's reader)
# ---------------------------------------------------------------------------------

def write_word2vec_binary(path: str, words, vectors: np.ndarray) -> None:
    """Write ``n dim`` then ``word<space><dim float32 LE><newline>`` per row (word2vec.c's
    -binary 1 layout)."""
    v = np.ascontiguousarray(vectors, dtype="<f4")
    with open(path, "wb") as f:
        f.write(f"{v.shape[0]} {v.shape[1]}\n".encode())
        for w, row in zip(words, v):
            f.write(w.encode("utf-8") + b" " + row.tobytes() + b"\n")


def read_word2vec_binary(path: str) -> tuple[list, np.ndarray]:
    """Read word2vec binary vectors, with or without the newline after each row (gensim
    writes none, word2vec.c one)."""
    with open(path, "rb") as f:
        buf = f.read()
    eol = buf.index(b"\n")
    n, dim = map(int, buf[:eol].split())
    row_bytes = 4 * dim
    words, vecs = [], np.empty((n, dim), dtype=np.float32)
    pos = eol + 1
    for i in range(n):
        while buf[pos:pos + 1] == b"\n":
            pos += 1
        sp = buf.index(b" ", pos)
        words.append(buf[pos:sp].decode("utf-8"))
        vecs[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=sp + 1)
        pos = sp + 1 + row_bytes
    return words, vecs


# ---------------------------------------------------------------------------------
# settings of each system, derived from one set of options
# ---------------------------------------------------------------------------------

def fasttext_kwargs(a, threads: int) -> dict:
    return dict(model="skipgram" if a.sg else "cbow", lr=a.alpha, dim=a.dim, ws=a.window,
                epoch=a.epochs, minCount=a.min_count, neg=a.negative,
                loss="hs" if a.hs else "ns", t=a.sample, thread=threads, minn=0, maxn=0,
                wordNgrams=1, bucket=0, seed=a.seed, verbose=2)


def gensim_kwargs(a, threads: int) -> dict:
    return dict(vector_size=a.dim, window=a.window, min_count=a.min_count, sg=a.sg,
                hs=a.hs, negative=a.negative, sample=a.sample, epochs=a.epochs,
                workers=threads, seed=a.seed, alpha=a.alpha, min_alpha=a.min_alpha)


def fastw2v_kwargs(a, threads: int) -> dict:
    """gensim's settings, plus any --fastw2v-option NAME=VALUE (e.g. shared_negatives=True);
    a later option wins over an earlier one and over gensim's settings."""
    return {**gensim_kwargs(a, threads), **dict(a.fastw2v_option or [])}


def word2vec_c_command(a, threads: int, corpus: str, output: str) -> list:
    return [a.word2vec_bin, "-train", corpus, "-output", output, "-cbow", str(1 - a.sg),
            "-size", str(a.dim), "-window", str(a.window), "-sample", repr(a.sample),
            "-hs", str(a.hs), "-negative", str(a.negative), "-threads", str(threads),
            "-iter", str(a.epochs), "-min-count", str(a.min_count), "-alpha", repr(a.alpha),
            "-binary", "1", "-debug", "2"]


def repo_fastw2v():
    """fastw2v imported from this repository, ahead of any installed copy."""
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    import fastw2v
    return fastw2v


# the corpus and the thread count are the harness's to give, not an option's
NOT_OPTIONS = ("sentences", "corpus_file", "workers")


def word2vec_option(text: str) -> tuple:
    """argparse type of NAME=VALUE options (compare.py --fastw2v-option, scaling.py --set):
    (NAME, VALUE), VALUE read as a Python literal (True, 3, 0.5, None, 'x'), else kept as
    the string. NAME must be a parameter of fastw2v.Word2Vec, and VALUE one that
    fastw2v.Word2VecConfig accepts for it."""
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r} (no '=')")
    if not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r} (empty NAME)")
    params = inspect.signature(repo_fastw2v().Word2Vec).parameters
    known = [n for n, prm in params.items() if n not in NOT_OPTIONS
             and prm.kind not in (prm.VAR_POSITIONAL, prm.VAR_KEYWORD)]
    if name not in known:
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a fastw2v.Word2Vec parameter; choose from {', '.join(known)}")
    try:
        # (stripped: Python 3.9's literal_eval refuses leading spaces, 3.10+ skips them)
        value = ast.literal_eval(value.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass  # not a literal: the string itself
    # the child gets its options as JSON: a value that does not come back the same would
    # fail every run or change on the way (a tuple arrives as a list)
    try:
        back = json.loads(json.dumps(value))
        same = back == value and type(back) is type(value)
    except (TypeError, ValueError):
        same = False
    if not same:
        raise argparse.ArgumentTypeError(
            f"{name}={value!r}: only values JSON keeps as they are can be passed (numbers, "
            f"strings, True/False/None, lists, dicts with string keys)")
    check_config_value(name, value)
    return name, value


def check_config_value(name: str, value) -> None:
    """Refuse now, with the config's own message, a value that fastw2v.Word2VecConfig
    would refuse in every child run (shared_negatives=true is the string 'true')."""
    repo_fastw2v()
    from fastw2v.config import MAX_ALPHA, Word2VecConfig
    if name not in {f.name for f in dataclasses.fields(Word2VecConfig)}:
        return
    # this field alone: the settings checked against it (min_alpha <= alpha, hs or
    # negative) come from other options, so here they take values that allow any of it
    lenient = dict(alpha=MAX_ALPHA, min_alpha=0.0, hs=1, negative=5)
    try:
        Word2VecConfig(**{**lenient, name: value})
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"{name}={value!r}: {e}") from None


def thread_counts(text: str) -> list:
    """argparse type of --threads (compare.py, scaling.py): a comma list of counts >= 1."""
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma list of integers, got {text!r}")
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected thread counts >= 1, got {text!r}")
    return counts


def unsupported(system: str, a) -> str | None:
    """Why this system cannot run these settings, or None."""
    if system == "fasttext" and a.hs and a.negative:
        return "fastText has one loss (ns or hs), not both: use --negative 0 with --hs 1"
    return None


# ---------------------------------------------------------------------------------
# children: each trains one system and writes its vectors + a small JSON report
# ---------------------------------------------------------------------------------

def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def child_main(a) -> int:
    system, threads, corpus, outdir = a.child, a.child_threads, a.child_corpus, a.child_out
    vec_path = os.path.join(outdir, "vectors.bin")
    res = dict(system=system, threads=threads, vectors_path=vec_path)
    if system in ("gensim-iter", "gensim-file"):
        import gensim
        from gensim.models import Word2Vec
        from gensim.models.word2vec import LineSentence
        kw = gensim_kwargs(a, threads)
        iterable = system == "gensim-iter"
        source = dict(corpus_iterable=LineSentence(corpus)) if iterable else dict(corpus_file=corpus)
        res.update(version=gensim.__version__, settings=kw,
                   settings_note="Word2Vec(**settings); build_vocab(%s); train(...); "
                                 "wv.save_word2vec_format(binary=True)"
                                 % ("corpus_iterable=LineSentence(path)" if iterable else "corpus_file=path"))
        t0, cpu0 = time.monotonic(), _cpu_s()  # imports above are not timed
        # the steps of Word2Vec(corpus_file=...), split to time them and to keep the
        # (effective, raw) word counts train() returns
        model = Word2Vec(**kw)
        model.build_vocab(**source)
        t1 = time.monotonic()
        effective, raw = model.train(**source, total_examples=model.corpus_count,
                                     total_words=model.corpus_total_words, epochs=model.epochs)
        t2 = time.monotonic()
        model.wv.save_word2vec_format(vec_path, binary=True)
        t3 = time.monotonic()
        res.update(t_start=t0, t_vocab_end=t1, t_train_end=t2, t_end=t3,
                   saved_by="gensim KeyedVectors.save_word2vec_format(binary=True)",
                   vocab_size_reported=len(model.wv), corpus_total_words=int(model.corpus_total_words),
                   corpus_count=int(model.corpus_count),
                   words_effective=int(effective), words_raw=int(raw))
    elif system == "fastw2v":
        fastw2v = repo_fastw2v()
        kw = fastw2v_kwargs(a, threads)
        res.update(version=getattr(fastw2v, "__version__", "?"), settings=kw,
                   module=os.path.dirname(fastw2v.__file__),
                   settings_note="Word2Vec(**settings); build_vocab(corpus_file=path); train()")
        t0, cpu0 = time.monotonic(), _cpu_s()  # imports above are not timed
        model = fastw2v.Word2Vec(**kw)
        model.build_vocab(corpus_file=corpus)
        t1 = time.monotonic()
        kept = model.train()
        t2 = time.monotonic()
        model.wv.save_word2vec_format(vec_path, binary=True)
        t3 = time.monotonic()
        res.update(t_start=t0, t_vocab_end=t1, t_train_end=t2, t_end=t3,
                   saved_by="fastw2v KeyedVectors.save_word2vec_format(binary=True)",
                   vocab_size_reported=len(model.wv.index_to_key),
                   corpus_total_words=int(model.corpus_total_words),
                   in_vocab_per_pass=int(model.corpus.n_ids),
                   words_kept=int(kept), epoch_losses=[float(x) for x in model.epoch_losses],
                   examples=int(getattr(model, "examples_trained", 0)),
                   steps=int(getattr(model, "steps_trained", 0)))
    elif system == "fasttext":
        import fasttext
        from fasttext import FastText as FT
        kw = fasttext_kwargs(a, threads)
        version = "?"
        try:
            from importlib.metadata import version as _v
            version = _v("fasttext")
        except Exception:
            pass
        t0, cpu0 = time.monotonic(), _cpu_s()  # imports above are not timed
        try:
            # train_unsupervised() does exactly this, but does not let `seed` through
            names = ["input", "model", "lr", "dim", "ws", "epoch", "minCount", "minCountLabel",
                     "minn", "maxn", "neg", "wordNgrams", "loss", "bucket", "thread",
                     "lrUpdateRate", "t", "label", "verbose", "pretrainedVectors", "seed"]
            args, manual = FT.read_args([], dict(input=corpus, **kw), names, FT.unsupervised_default)
            fa = FT._build_args(args, manual)
            ft = FT._FastText(args=fa)
            FT.fasttext.train(ft.f, fa)
            ft.set_args(ft.f.getArgs())
            how = "fasttext_pybind.train with train_unsupervised's argument handling (+ seed)"
        except AttributeError:
            kw.pop("seed")
            ft = fasttext.train_unsupervised(corpus, **kw)
            how = "fasttext.train_unsupervised (seed not settable: fastText's default 0)"
        t2 = time.monotonic()
        words, freqs = ft.get_words(include_freq=True)
        write_word2vec_binary(vec_path, words, ft.get_input_matrix()[:len(words)])
        t3 = time.monotonic()
        fa = ft.f.getArgs()
        used = {k: getattr(fa, k) for k in ("model", "loss", "lr", "dim", "ws", "epoch",
                                            "minCount", "neg", "t", "thread", "minn", "maxn",
                                            "wordNgrams", "bucket", "lrUpdateRate", "seed")}
        used = {k: (v.name if hasattr(v, "name") else v) for k, v in used.items()}
        res.update(version=version, settings=used, settings_note=how, t_start=t0,
                   t_train_end=t2, t_end=t3,
                   saved_by="harness writer (word2vec binary; the Python API writes no .vec)",
                   vocab_size_reported=len(words),
                   in_vocab_per_pass=int(np.asarray(freqs).sum()))
    else:
        raise SystemExit(f"unknown child system {system!r}")
    res["timed_cpu_s"] = _cpu_s() - cpu0
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(res, f)
    return 0


# ---------------------------------------------------------------------------------
# parent: run one system in a child process, measure it, read back its vectors
# ---------------------------------------------------------------------------------

def _pump(stream, sink: list) -> None:
    """Collect (monotonic time, bytes) chunks as they arrive."""
    fd = stream.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        sink.append((time.monotonic(), chunk))


SPAWN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spawn.py")


def run_child_process(cmd: list, env=None) -> dict:
    """Run cmd; return wall/CPU seconds and peak RSS of that process, exit code and its
    timestamped stdout/stderr chunks. The process is started by bench/spawn.py, which
    measures it: started from here, it would report this process's own peak RSS as its
    floor (see spawn.py); `floor_mb` is spawn.py's, a few MB."""
    out, err = [], []
    fd, result = tempfile.mkstemp(prefix="spawn-", suffix=".json")
    os.close(fd)
    try:
        p = subprocess.Popen([sys.executable, SPAWN, result] + list(cmd),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        readers = [threading.Thread(target=_pump, args=(p.stdout, out), daemon=True),
                   threading.Thread(target=_pump, args=(p.stderr, err), daemon=True)]
        for r in readers:
            r.start()
        rc = p.wait()
        for r in readers:
            r.join()
        p.stdout.close()
        p.stderr.close()
        if rc != 0:
            raise RuntimeError(f"spawn.py exited {rc}: {_tail(_text(err))}")
        with open(result) as f:
            r = json.load(f)
    finally:
        os.remove(result)
    return dict(t_launch=r["t_launch"], t_exit=r["t_exit"],
                process_wall_s=r["t_exit"] - r["t_launch"], rc=r["rc"], cpu_s=r["cpu_s"],
                peak_rss_mb=r["peak_rss_mb"], rss_floor_mb=r["floor_mb"],
                stdout=out, stderr=err)


def child_env(a) -> dict:
    """The environment of every system's process: with transparent huge pages for glibc
    malloc too (unless --no-malloc-hugepages). numpy already asks for them for its large
    arrays (fastw2v's and gensim's weights); word2vec.c's and fastText's arrays come from
    malloc, which does not ask unless told to (glibc 2.35+; ignored by older ones):
    without them word2vec.c's noise table, read at random, costs it ~13% more CPU time
    (CBOW on one thread) where the kernel gives huge pages only on request ('madvise')."""
    env = dict(os.environ)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    # (a hugetlb setting of the user's own is kept: the last one given would win)
    if not a.no_malloc_hugepages and not any(t.startswith("glibc.malloc.hugetlb=")
                                             for t in tunables):
        env["GLIBC_TUNABLES"] = ":".join(tunables + ["glibc.malloc.hugetlb=1"])
    return env


def _text(chunks) -> str:
    return b"".join(c for _, c in chunks).decode("utf-8", "replace")


def _first_time(chunks, needle: bytes):
    """Arrival time of the chunk that completes the first occurrence of needle."""
    carry = b""
    for t, c in chunks:
        if needle in carry + c:
            return t
        carry = (carry + c)[-len(needle):]
    return None


def _tail(text: str, n: int = 1500) -> str:
    lines = [ln for ln in text.replace("\r", "\n").split("\n") if ln.strip()]
    return "\n".join(lines[-8:])[-n:]


def child_command(a, system: str, threads: int, corpus: str, outdir: str) -> list:
    """The command that trains one Python system: this script with --child-spec, the JSON
    of every parsed option (the whole Namespace, so that no option can be left behind)
    plus this run's own fields."""
    spec = dict(vars(a), child=system, child_threads=threads, child_corpus=corpus,
                child_out=outdir, child_spec=None)
    return [a.python, os.path.abspath(__file__), "--child-spec", json.dumps(spec)]


def child_namespace(spec: str) -> argparse.Namespace:
    """The options a child runs with: the parent's, from child_command's JSON."""
    return argparse.Namespace(**json.loads(spec))


def run_system(system: str, threads: int, a, corpus: str, workdir: str) -> dict:
    outdir = tempfile.mkdtemp(prefix=f"{system}-{threads}t-", dir=workdir)
    if system == "word2vec.c":
        vec_path = os.path.join(outdir, "vectors.bin")
        cmd = word2vec_c_command(a, threads, corpus, vec_path)
        # line-buffered stdout: "Words in train file" then arrives when counting ends
        launch = (["stdbuf", "-oL"] if shutil.which("stdbuf") else []) + cmd
        pr = run_child_process(launch, child_env(a))
        out = _text(pr["stdout"])
        if pr["rc"] != 0:
            raise RuntimeError(f"word2vec.c exited {pr['rc']}: {_tail(out + _text(pr['stderr']))}")
        t_vocab = _first_time(pr["stdout"], b"Words in train file")
        res = dict(system=system, threads=threads, version=_w2v_pkg_version(),
                   settings=" ".join(shlex.quote(x) for x in cmd),
                   settings_note="word2vec.c binary (no seed option: thread i seeds its RNG with i)",
                   saved_by="word2vec.c -binary 1", vectors_path=vec_path,
                   wall_s=pr["process_wall_s"])
        if t_vocab is not None:
            res["vocab_s"] = t_vocab - pr["t_launch"]
            res["train_s"] = pr["t_exit"] - t_vocab  # + writing the vectors (-binary 1)
        flat = out.replace("\r", "\n")
        for line in flat.split("\n"):
            if line.startswith("Vocab size:"):
                res["vocab_size_reported"] = int(line.split(":")[1])
            elif line.startswith("Words in train file:"):
                res["train_words_reported"] = int(line.split(":")[1])
        prog = [float(x.split("Progress:")[1].split("%")[0]) for x in flat.split("\n") if "Progress:" in x]
        res["last_progress_pct"] = prog[-1] if prog else None
    else:
        cmd = child_command(a, system, threads, corpus, outdir)
        pr = run_child_process(cmd, child_env(a))
        if pr["rc"] != 0:
            raise RuntimeError(f"{system} child exited {pr['rc']}: {_tail(_text(pr['stderr']))}")
        with open(os.path.join(outdir, "result.json")) as f:
            res = json.load(f)
        res["wall_s"] = res["t_end"] - res["t_start"]
        if system == "fasttext":
            err = _text(pr["stderr"])
            t_vocab = _first_time(pr["stderr"], b"Number of labels")
            if t_vocab is not None:
                res["t_vocab_end"] = t_vocab
            flat = err.replace("\r", "\n")
            for line in flat.split("\n"):
                if line.startswith("Read ") and "M words" in line:
                    res["read_m_words_reported"] = int(line.split()[1].rstrip("M"))
            prog = [float(x.split("Progress:")[1].split("%")[0]) for x in flat.split("\n") if "Progress:" in x]
            res["last_progress_pct"] = prog[-1] if prog else None
        if "t_vocab_end" in res:
            res["vocab_s"] = res["t_vocab_end"] - res["t_start"]
            res["train_s"] = res["t_train_end"] - res["t_vocab_end"]
        res["save_s"] = res["t_end"] - res["t_train_end"]
    # CPU s: of the timed section for Python children, of the whole process for word2vec.c
    res.update(process_wall_s=pr["process_wall_s"], process_cpu_s=pr["cpu_s"],
               cpu_s=res.pop("timed_cpu_s", pr["cpu_s"]),
               peak_rss_mb=pr["peak_rss_mb"], rss_floor_mb=pr["rss_floor_mb"],
               log_tail=_tail(_text(pr["stdout"]) + "\n" + _text(pr["stderr"])))
    return res


def _w2v_pkg_version() -> str:
    try:
        from importlib.metadata import version
        return "pypi word2vec " + version("word2vec")
    except Exception:
        return "?"


def words_trained(r: dict, a, stats: dict, vstats: dict) -> dict:
    """What this system says (or its stop rule implies) it trained on, over all epochs.

    in_vocab: in-vocabulary tokens read (before subsampling); passes: in_vocab divided by
    the in-vocabulary tokens of one pass; kept: after subsampling, where the system says."""
    s, ep = r["system"], a.epochs
    per_pass = vstats["in_vocab_tokens"]
    d = dict(in_vocab=None, passes=None, kept=None, how="")
    if s in ("gensim-iter", "gensim-file"):
        # gensim's raw count includes out-of-vocabulary tokens
        d.update(raw=r["words_raw"], kept=r["words_effective"],
                 passes=r["words_raw"] / stats["tokens"],
                 how=f"train() returned (effective={r['words_effective']:,}, raw={r['words_raw']:,}); "
                     f"raw / corpus tokens = {r['words_raw'] / stats['tokens']:.4f} passes")
    elif s == "fastw2v":
        d.update(in_vocab=r["in_vocab_per_pass"] * ep, kept=r["words_kept"],
                 passes=r["in_vocab_per_pass"] * ep / per_pass,
                 how=f"corpus.n_ids={r['in_vocab_per_pass']:,} per epoch x {ep}; "
                     f"words_trained (kept after subsampling)={r['words_kept']:,}")
    elif s == "word2vec.c":
        # train_words counts the in-vocabulary tokens plus one </s> per line; progress is
        # printed every 10,000 words per thread, so its last value is a little below 100 %
        tw, pct = r.get("train_words_reported"), r.get("last_progress_pct")
        if tw:
            in_vocab = (tw - stats["newlines"]) * ep
            d.update(in_vocab=in_vocab, passes=in_vocab / per_pass,
                     how=f"'Words in train file: {tw:,}' = in-vocab tokens + {stats['newlines']:,} </s>; "
                         f"x {ep} iter; last progress printed {pct}% (printed every 10k words/thread)")
    elif s == "fasttext":
        # fastText stops when its in-vocabulary token counter (</s> included) reaches
        # epoch x ntokens, and ntokens counts every token read, out-of-vocabulary ones too
        ntokens = stats["tokens"] + stats["newlines"]
        iv_eos = r["in_vocab_per_pass"]  # includes </s> (one per line)
        total = ep * ntokens
        in_vocab = total * (iv_eos - stats["newlines"]) / iv_eos
        d.update(in_vocab=int(in_vocab), passes=total / iv_eos,
                 how=f"stops after epoch x ntokens = {ep} x {ntokens:,} in-vocab tokens (</s> included); "
                     f"one pass is {iv_eos:,} of them, so {total / iv_eos:.4f} passes; "
                     f"its 'Read {r.get('read_m_words_reported')}M words' "
                     f"{'agrees' if r.get('read_m_words_reported') == ntokens // 1000000 else 'DISAGREES'} "
                     f"with ntokens = tokens + newlines; last progress {r.get('last_progress_pct')}%")
    return d


def evaluate(path: str, eval_dir: str) -> dict:
    words, vecs = read_word2vec_binary(path)
    keep = [i for i, w in enumerate(words) if w != EOS]
    dropped_eos = len(keep) != len(words)
    if dropped_eos:
        words = [words[i] for i in keep]
        vecs = vecs[keep]
    return dict(vocab_size=len(words), dropped_eos=dropped_eos,
                **evaluate_all(vecs, words, eval_dir))


# ---------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------

def _f(x, fmt):
    return "-" if x is None else format(x, fmt)


def fmt_table(rows: list, a, stats: dict) -> str:
    head = ("| system | mode | threads | wall s | vocab s | train s | CPU s | words/s | "
            "fastw2v speed-up | analogy % (seen) | WS353 rho | SimLex rho | peak RSS MB | "
            "vocab | in-vocab tokens trained | passes | kept after subsampling |")
    lines = [head, "|" + "---|" * 2 + "---:|" * 15]
    mode = ("sg" if a.sg else "cbow") + ("+hs" if a.hs else "") + (f"+ns{a.negative}" if a.negative else "")
    fw_wall = {r["threads"]: r["wall_s"] for r in rows if r["system"] == "fastw2v" and "error" not in r}
    for r in rows:
        sysname = r["system"]
        if "error" in r:
            lines.append(f"| {sysname} | {mode} | {r['threads']} | {r['error']} |" + " - |" * 13)
            continue
        an, ws, sl, w = r["analogy"], r["ws353"], r["simlex"], r["words"]
        wps = stats["tokens"] * a.epochs / r["train_s"] if r.get("train_s") else None
        speedup = r["wall_s"] / fw_wall[r["threads"]] if r["threads"] in fw_wall else None
        lines.append(
            f"| {sysname} | {mode} | {r['threads']} | {r['wall_s']:.1f} | {_f(r.get('vocab_s'), '.1f')} | "
            f"{_f(r.get('train_s'), '.1f')} | {r['cpu_s']:.1f} | {_f(wps, ',.0f')} | {_f(speedup, '.2f')} | "
            f"{100 * an['accuracy']:.2f} ({an['total_seen']:,}) | {ws['rho']:.4f} | {sl['rho']:.4f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['vocab_size']:,} | {_f(w.get('in_vocab'), ',')} | "
            f"{_f(w.get('passes'), '.3f')} | {_f(w.get('kept'), ',')} |")
    return "\n".join(lines)


def fmt_throughput(rows: list, a, peak_gflops) -> str:
    """Trained pairs/s and achieved GFLOP/s. fastw2v counts its examples and logistic steps;
    the peers follow the same recipe, so their expected work is taken as fastw2v's at the
    same threads (fastText's is ~1.2% higher: it reads ~5.06 passes)."""
    work = {r["threads"]: r for r in rows
            if r["system"] == "fastw2v" and "error" not in r and r.get("steps")}
    if not work:
        return ""
    unit = "pairs" if a.sg else "windows"
    lines = [f"| system | threads | train s | {unit}/s (M) | steps/s (M) | GFLOP/s |"
             + (" % of peak |" if peak_gflops else ""),
             "|---|---:|---:|---:|---:|---:|" + ("---:|" if peak_gflops else "")]
    for r in rows:
        w = work.get(r.get("threads"))
        if "error" in r or w is None or not r.get("train_s"):
            continue
        gflops = 6 * a.dim * w["steps"] / r["train_s"] / 1e9
        line = (f"| {r['system']} | {r['threads']} | {r['train_s']:.1f} | "
                f"{w['examples'] / r['train_s'] / 1e6:.2f} | {w['steps'] / r['train_s'] / 1e6:.1f} | "
                f"{gflops:.1f} |")
        if peak_gflops:
            line += f" {100 * gflops / (peak_gflops * r['threads']):.1f} |"
        lines.append(line)
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="one sentence per line; .gz allowed "
                   "(default: %(default)s)")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma list of: " + ",".join(SYSTEMS))
    p.add_argument("--threads", default="1,2", type=thread_counts,
                   help="comma list of thread counts (default: %(default)s)")
    p.add_argument("--fastw2v-option", action="append", type=word2vec_option,
                   metavar="NAME=VALUE",
                   help="another fastw2v.Word2Vec parameter, e.g. shared_negatives=True "
                        "(VALUE as a Python literal, else a string; repeatable)")
    p.add_argument("--sg", type=int, default=1, choices=(0, 1), help="1 skip-gram, 0 CBOW")
    p.add_argument("--hs", type=int, default=0, choices=(0, 1))
    p.add_argument("--negative", type=int, default=None, help="default: 5, or 0 with --hs 1")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025,
                   help="start learning rate for every system (word2vec.c would default to "
                        "0.05 for CBOW, fastText to 0.05) (default: %(default)s)")
    p.add_argument("--min-alpha", type=float, default=0.0001,
                   help="end learning rate of gensim and fastw2v (word2vec.c ends at "
                        "alpha*1e-4, fastText at 0) (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="for gensim, fastw2v and fastText "
                   "(word2vec.c has none)")
    p.add_argument("--eval-dir", default=DEFAULT_EVAL_DIR,
                   help="folder with questions-words.txt, EN-WS-353-ALL.txt, EN-SIMLEX-999.txt")
    p.add_argument("--tmpdir", default=None, help="where to put the plain corpus and vectors "
                   "(default: system temp)")
    p.add_argument("--keep-vectors", default=None, metavar="DIR",
                   help="move each system's vector file here (default: deleted)")
    p.add_argument("--word2vec-bin", default=None,
                   help="word2vec.c binary (default: `word2vec` next to this Python, else on PATH)")
    p.add_argument("--python", default=sys.executable, help="Python for the child processes")
    p.add_argument("--per-section", action="store_true", help="also print per-section analogy accuracy")
    p.add_argument("--json", dest="json_out", default=None, help="also write all results to this JSON file")
    p.add_argument("--no-malloc-hugepages", action="store_true",
                   help="do not set GLIBC_TUNABLES=glibc.malloc.hugetlb=1 for the systems' "
                        "processes (see child_env)")
    p.add_argument("--peak-gflops", type=float, default=None,
                   help="one core's float32 matrix-product GFLOP/s (bench/peak.py), to show "
                        "achieved GFLOP/s as a share of threads x that")
    # internal: one system's training run in a child process (see child_command)
    p.add_argument("--child-spec", default=None, help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    if a.child_spec is not None:
        return child_main(child_namespace(a.child_spec))
    if a.negative is None:
        a.negative = 0 if a.hs else 5
    if not a.hs and not a.negative:
        p.error("nothing to train: --hs 0 needs --negative > 0")

    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    for s in systems:
        if s not in SYSTEMS:
            p.error(f"unknown system {s!r}; choose from {', '.join(SYSTEMS)}")
    thread_list = a.threads
    if "word2vec.c" in systems:
        if a.word2vec_bin is None:
            here = os.path.join(os.path.dirname(a.python), "word2vec")
            a.word2vec_bin = here if os.access(here, os.X_OK) else shutil.which("word2vec")
        if not a.word2vec_bin:
            p.error("word2vec.c binary not found: pip install -r bench/requirements.txt "
                    "(the `word2vec` package builds it), or pass --word2vec-bin")
    for d in (a.eval_dir,):
        if not os.path.isdir(d):
            p.error(f"--eval-dir {d} does not exist")

    common = (f"sg={a.sg} hs={a.hs} negative={a.negative} dim={a.dim} window={a.window} "
              f"min_count={a.min_count} sample={a.sample:g} epochs={a.epochs} alpha={a.alpha:g} "
              f"seed={a.seed}"
              + "".join(f" fastw2v:{name}={value!r}" for name, value in a.fastw2v_option or []))
    workdir = tempfile.mkdtemp(prefix="fastw2v-compare-", dir=a.tmpdir)
    rows = []
    try:
        t0 = time.monotonic()
        corpus, stats, counts = prepare_plain_corpus(a.corpus, workdir)
        vstats = vocab_stats(counts, a.min_count)
        del counts
        print(f"corpus: {a.corpus} -> {corpus}: {stats['lines']:,} lines, {stats['tokens']:,} tokens, "
              f"longest line {stats['max_words_per_line']:,} words; at min_count {a.min_count}: "
              f"{vstats['vocab_size']:,} words, {vstats['in_vocab_tokens']:,} in-vocabulary tokens per pass "
              f"({time.monotonic() - t0:.1f} s)", flush=True)
        if any(s.startswith("gensim") for s in systems):
            assert stats["max_words_per_line"] < GENSIM_MAX_WORDS_PER_LINE, (
                f"a line has {stats['max_words_per_line']:,} words: gensim would cut it at "
                f"{GENSIM_MAX_WORDS_PER_LINE:,} (corpus_file mode drops the rest); split the lines")
            print(f"gensim check: longest line {stats['max_words_per_line']:,} < {GENSIM_MAX_WORDS_PER_LINE:,} "
                  f"words, so neither corpus_file mode nor LineSentence cuts any line", flush=True)
        print(f"settings: {common}", flush=True)

        for threads in thread_list:
            for s in systems:
                why = unsupported(s, a)
                if why:
                    print(f"[{s} x{threads}] skipped: {why}", flush=True)
                    rows.append(dict(system=s, threads=threads, error=f"skipped: {why}"))
                    continue
                load = os.getloadavg()[0]
                print(f"[{s} x{threads}] training (1-minute load average before: {load:.2f}) ...",
                      flush=True)
                try:
                    r = run_system(s, threads, a, corpus, workdir)
                    r["load_avg_before"] = load
                except Exception as e:  # report and go on with the others
                    print(f"[{s} x{threads}] FAILED: {e}", flush=True)
                    rows.append(dict(system=s, threads=threads, error=f"failed: {type(e).__name__}"))
                    continue
                r.update(evaluate(r["vectors_path"], a.eval_dir))
                r["words"] = words_trained(r, a, stats, vstats)
                if a.keep_vectors:
                    os.makedirs(a.keep_vectors, exist_ok=True)
                    dst = os.path.join(a.keep_vectors, f"{s}-{threads}t.bin")
                    shutil.move(r["vectors_path"], dst)
                    r["vectors_path"] = dst
                else:
                    os.remove(r["vectors_path"])
                an = r["analogy"]
                if r["peak_rss_mb"] <= 1.05 * r["rss_floor_mb"]:
                    print(f"[{s} x{threads}] peak RSS not measured: it is at most the "
                          f"{r['rss_floor_mb']:.0f} MB of spawn.py", flush=True)
                print(f"[{s} x{threads}] wall {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:,.0f} MB, "
                      f"analogy {100 * an['accuracy']:.2f} % of {an['total_seen']:,}; "
                      f"{r['words']['how']}", flush=True)
                rows.append(r)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"## {a.corpus}: {stats['tokens']:,} tokens, {stats['lines']:,} lines; {common}")
    print()
    print(fmt_table(rows, a, stats))
    print()
    throughput = fmt_throughput(rows, a, a.peak_gflops)
    if throughput:
        print(throughput)
        print()
        print("Work per system = fastw2v's counted examples and steps at the same threads (the "
              "same recipe; see fmt_throughput). A step is one (input, output row) logistic "
              "update: score, input gradient and output update, 3 multiply-adds per dimension "
              "= 6 x dim flops (the per-example terms are not counted: about 3% more for "
              "skip-gram, roughly 30-50% more for CBOW, whose context rows are summed and "
              "updated).")
        print()
    print("wall s: vocabulary + training + writing the vectors (word2vec binary), inside the "
          "child (Python start-up and imports excluded; word2vec.c: the whole process). "
          "CPU s: user + system seconds over the same span. words/s: corpus tokens x epochs / train s. fastw2v speed-up: this row's wall s / "
          "fastw2v's at the same threads. Peak RSS: max RSS of the child process, started "
          "and measured by bench/spawn.py (Python systems include the interpreter and their "
          "imports).")
    print()
    if any(r["system"].startswith("gensim") for r in rows):
        print(f"Longest line: {stats['max_words_per_line']:,} words, below gensim's "
              f"{GENSIM_MAX_WORDS_PER_LINE:,}-word cut (asserted), so gensim trained on every word "
              f"of every line.")
        print()
    loads = [r["load_avg_before"] for r in rows if "load_avg_before" in r]
    if loads and max(loads) > 0.5:
        print(f"Note: the 1-minute load average before the runs reached {max(loads):.2f} on "
              f"{os.cpu_count()} CPUs: other work shared the machine, so the timings are noisy.")
        print()
    print("### Exact settings per system")
    seen = set()
    for r in rows:
        if "error" in r or r["system"] in seen:
            continue
        seen.add(r["system"])
        print(f"- {r['system']} {r.get('version', '')}: {r['settings']}  ({r['settings_note']}; "
              f"saved by {r['saved_by']})")
    print()
    print("### Words each system trained on")
    for r in rows:
        if "error" not in r:
            print(f"- {r['system']} x{r['threads']}: {r['words']['how']}")
    print()
    print("### Line handling")
    print("- fastw2v, gensim (both modes): one sentence per line; context windows never "
          "cross a line. gensim cuts lines at 10,000 words (checked above: none is that long).")
    print("- word2vec.c: a newline is read as the token </s>, which ends the sentence (windows "
          "do not cross lines) and is itself a vocabulary word; sentences are also cut at 1,000 "
          "kept words (no word is lost). </s> is dropped before scoring.")
    print("- fastText: the same </s> token per newline, ends the line; lines are cut every 1,024 "
          "in-vocabulary tokens (no word is lost). </s> is dropped before scoring.")
    if a.per_section:
        for r in rows:
            if "error" in r:
                continue
            print(f"\n{r['system']} x{r['threads']} per-section analogy accuracy:")
            for name, d in r["analogy"]["per_section"].items():
                print(f"  {name:28s} {100 * d['accuracy']:6.2f} %  ({d['correct']}/{d['seen']} seen of {d['total']})")

    if a.json_out:
        payload = dict(
            settings={k: v for k, v in vars(a).items() if not k.startswith("child")},
            corpus_stats=stats, vocab_stats=vstats, results=rows,
            host=dict(python=sys.version.split()[0], platform=platform.platform(),
                      cpus=os.cpu_count(), numpy=np.__version__, load_avg=os.getloadavg()),
        )
        with open(a.json_out, "w") as f:
            json.dump(payload, f, indent=2, default=str)
        print(f"\nwrote {a.json_out}")
    return 0 if all("error" not in r or r["error"].startswith("skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
