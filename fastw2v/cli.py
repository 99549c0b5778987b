"""The ``fastw2v`` command line.

    fastw2v train -train corpus.txt -output vectors.bin -size 200 -binary 1   # word2vec.c
    fastw2v train --corpus-file corpus.txt --output vectors.txt --sg 1          # long options
    fastw2v -train corpus.txt -output vectors.txt                              # as word2vec.c
    fastw2v similar king queen --vectors vectors.bin
    fastw2v analogy man king woman --vectors vectors.bin
    fastw2v eval vectors.bin --analogy questions-words.txt --pairs wordsim353.txt
    fastw2v convert vectors.bin vectors.txt
    fastw2v phrases -train corpus.txt -output phrased.txt -threshold 100  # word2phrase
    fastw2v phrases --corpus-file corpus.txt --output phrased.txt --connector-words english

word2vec.c's single-dash flags take word2vec.c's defaults (CBOW, alpha 0.05 for CBOW and
0.025 for skip-gram, 12 threads; for phrases word2phrase's score, threshold 100); the long
options take the Python API's (gensim's) defaults. A user error ends with one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import sys
import time

from fastw2v.config import Word2VecConfig
from fastw2v.vocab import InvalidUTF8Error

# word2vec.c's flags: name -> (Word2VecConfig field or special, type, default)
W2V_C_FLAGS = {
    "-train": ("corpus_file", str, None),
    "-output": ("output", str, None),
    "-size": ("vector_size", int, 100),
    "-window": ("window", int, 5),
    "-sample": ("sample", float, 1e-3),
    "-hs": ("hs", int, 0),
    "-negative": ("negative", int, 5),
    "-threads": ("workers", int, 12),
    "-iter": ("epochs", int, 5),
    "-min-count": ("min_count", int, 5),
    "-alpha": ("alpha", float, None),          # 0.05 for CBOW, 0.025 for skip-gram
    "-binary": ("binary", int, 0),
    "-cbow": ("cbow", int, 1),
    "-save-vocab": ("save_vocab", str, None),
    "-read-vocab": ("read_vocab", str, None),
    "-debug": ("debug", int, 2),
    "-classes": ("classes", int, 0),
    # not word2vec.c's: word2vec.c reads bytes, and fastw2v decodes UTF-8
    "-unicode-errors": ("unicode_errors", str, Word2VecConfig.unicode_errors),
}

# word2phrase's flags: name -> (Phrases setting, type, default)
W2P_FLAGS = {
    "-train": ("corpus_file", str, None),
    "-output": ("output", str, None),
    "-min-count": ("min_count", int, 5),
    "-threshold": ("threshold", float, 100.0),
    "-debug": ("debug", int, 2),
    "-unicode-errors": ("unicode_errors", str, "strict"),
}

FORMATS = ("text", "binary", "native")
_ASCII_SPACE = frozenset(" \t\n\r\x0b\x0c")    # where the corpus is split into tokens


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line, no traceback."""


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in W2V_C_FLAGS:           # `fastw2v -train ...`, as word2vec.c
        argv = ["train"] + argv
    try:
        if len(argv) >= 2 and argv[0] == "train" and argv[1] in W2V_C_FLAGS:
            return cmd_train(parse_w2v_c(argv[1:]))
        if len(argv) >= 2 and argv[0] == "phrases" and argv[1] in W2P_FLAGS:
            return cmd_phrases(parse_word2phrase(argv[1:]))
        try:
            args = build_parser().parse_args(argv)
        except UserError as exc:
            raise UserError(_mixed_flags_hint(str(exc), argv)) from None
        if not hasattr(args, "func"):
            build_parser().print_help(sys.stderr)
            return 2
        rc = args.func(args)
        sys.stdout.flush()        # here, where a closed pipe is caught (not at exit)
        return rc
    except KeyboardInterrupt as exc:
        # cmd_train says what it wrote before (KeyboardInterrupt's argument)
        print("fastw2v: interrupted" + (f"; {exc.args[0]}" if exc.args else ""),
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`fastw2v similar ... | head`): stop
        # quietly, as Unix tools do; stdout goes to devnull so that its final flush at
        # exit does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except InvalidUTF8Error as exc:
        print(f"fastw2v: error: {exc} (on the command line: -unicode-errors replace, or "
              f"--unicode-errors replace)", file=sys.stderr)
        return 2
    except MemoryError as exc:
        print(f"fastw2v: error: {_memory_message(exc, training=argv[:1] == ['train'])}",
              file=sys.stderr)
        return 2
    except (UserError, ValueError, TypeError, KeyError, OSError, RuntimeError,
            FloatingPointError, UnicodeError) as exc:
        # a plain KeyError's str() is the repr of its argument; ours carry a sentence
        message = (exc.args[0] if type(exc) is KeyError and exc.args else exc)
        print(f"fastw2v: error: {message}", file=sys.stderr)
        return 2


def _memory_message(exc, training) -> str:
    detail = " ".join(str(exc).split())       # numpy says what it could not allocate
    message = f"out of memory{f' ({detail})' if detail else ''}: "
    if training:
        return message + ("the model does not fit in memory (two or three matrices of "
                          "vocabulary size x vector size floats); use a smaller vector "
                          "size (-size / --vector-size) or a smaller vocabulary (a higher "
                          "-min-count / --min-count, or --max-final-vocab)")
    return message + "the vectors do not fit in memory; use a machine with more memory"


# ---- train ----

def _single_dash_flags(argv, known, tool) -> dict:
    """`-flag value` pairs as the C tool reads them, over its defaults: {dest: value}."""
    values = {dest: default for dest, _, default in known.values()}
    seen = set()
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag not in known:
            raise UserError(f"unknown {tool} option {flag!r}; known: {' '.join(known)}")
        if i + 1 >= len(argv):
            raise UserError(f"option {flag} needs a value")
        dest, kind, _ = known[flag]
        try:
            value = kind(argv[i + 1])
        except ValueError:
            raise UserError(f"option {flag} needs {kind.__name__} value, "
                            f"got {argv[i + 1]!r}") from None
        if flag not in seen:          # a repeated flag: the C tools take the first
            values[dest] = value
            seen.add(flag)
        i += 2
    return values


def parse_w2v_c(argv) -> argparse.Namespace:
    """word2vec.c's `-flag value` pairs, with its defaults."""
    values = _single_dash_flags(argv, W2V_C_FLAGS, "word2vec.c")
    if values["classes"]:
        raise UserError("-classes (k-means word classes) is not supported; "
                        "train vectors and cluster them with your tool of choice")
    if values["corpus_file"] is None:
        raise UserError("-train FILE is required")
    if values["output"] is None and values["save_vocab"] is None:
        raise UserError("-output FILE is required (or -save-vocab FILE alone, to count "
                        "the words only)")
    cbow = values.pop("cbow")
    params = {k: values.pop(k) for k in ("vector_size", "window", "sample", "hs",
                                           "negative", "workers", "epochs", "min_count",
                                           "unicode_errors")}
    params["sg"] = 0 if cbow else 1
    alpha = values.pop("alpha")
    params["alpha"] = alpha if alpha is not None else (0.05 if cbow else 0.025)
    params["min_alpha"] = params["alpha"] * 1e-4          # word2vec.c's floor
    debug = values.pop("debug")
    values.pop("classes")
    flags = {dest: flag for flag, (dest, _, _) in W2V_C_FLAGS.items()}
    return argparse.Namespace(params=params, fmt="binary" if values.pop("binary") else "text",
                              quiet=debug == 0, flags=flags, **values)


def add_train_parser(sub):
    p = sub.add_parser("train", help="train vectors on a text file",
                       description="Train word2vec vectors. Also accepts word2vec.c's flags "
                                   "verbatim (-train, -output, -size, ...).")
    p.add_argument("--corpus-file", required=True,
                   help="text file, one sentence per line (.gz/.bz2 ok)")
    p.add_argument("--output", help="where to write the vectors (required unless "
                                    "--save-vocab is given: then only the words are counted)")
    p.add_argument("--format", dest="fmt", choices=FORMATS, default=None,
                   help="vector file format (default: native for .fw2v, binary for .bin, "
                        "else text)")
    p.add_argument("--save-vocab", help="write 'word count' lines, most frequent first")
    p.add_argument("--read-vocab", help="take the vocabulary from 'word count' lines")
    p.add_argument("--save-model", help="also save the whole model (native format), "
                                        "enough to continue training")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    for f in dataclasses.fields(Word2VecConfig):
        p.add_argument("--" + f.name.replace("_", "-"), dest="cfg_" + f.name,
                       type=_option_type(f.type), default=None,
                       help=f"default: {f.default}")
    p.set_defaults(func=lambda a: cmd_train(_long_train_args(a)))


def _option_type(annotation):
    text = str(annotation)
    if "bool" in text:
        return _parse_bool
    if "int" in text:
        return _parse_optional_int if "Optional" in text else int
    if "float" in text:
        return float
    return str


def _parse_bool(text):
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _parse_optional_int(text):
    return None if text.lower() == "none" else int(text)


def _long_train_args(a) -> argparse.Namespace:
    params = {k[4:]: v for k, v in vars(a).items() if k.startswith("cfg_") and v is not None}
    return argparse.Namespace(params=params, corpus_file=a.corpus_file, output=a.output,
                              fmt=a.fmt, quiet=a.quiet, save_vocab=a.save_vocab,
                              read_vocab=a.read_vocab, save_model=a.save_model)


def cmd_train(args) -> int:
    from fastw2v.word2vec import Word2Vec

    if not args.quiet:
        logging.basicConfig(level=logging.WARNING, format="fastw2v: %(message)s")
    save_vocab, read_vocab = getattr(args, "save_vocab", None), getattr(args, "read_vocab", None)
    if args.output is None and (save_vocab is None or getattr(args, "save_model", None)):
        raise UserError("--output FILE is required (or --save-vocab FILE alone, to count "
                        "the words only)")
    from fastw2v.corpus import check_path
    check_path(args.corpus_file)     # first, as word2vec.c: also when it is not read
    outputs = [p for p in (args.output, save_vocab, getattr(args, "save_model", None))
               if p is not None]
    for path in outputs:
        _check_writable(path)     # before training, not after it
        for source in (args.corpus_file, read_vocab):
            if source is not None and _same_file(path, source):
                raise UserError(f"{path} is also an input ({source}): writing it would "
                                f"destroy it; choose another output file")
    if any(_same_file(a, b) for i, a in enumerate(outputs) for b in outputs[i + 1:]):
        raise UserError(f"two outputs are the same file ({', '.join(outputs)}); give each "
                        f"its own name")
    fmt = args.fmt or _format_from_name(args.output or "")
    t0 = time.perf_counter()
    flags = getattr(args, "flags", None)
    try:
        model = Word2Vec(progress=not args.quiet, **args.params)
    except ValueError as exc:                # a setting's value
        raise _with_option(exc, flags) from exc
    try:
        if read_vocab:
            freq, n_lines = read_vocab_file(read_vocab, with_lines=True,
                                            unicode_errors=model.config.unicode_errors)
            model.build_vocab_from_freq(freq)
        else:
            model.build_vocab(corpus_file=args.corpus_file)
            n_lines = model.corpus_count
    except ValueError as exc:                # (only an empty vocabulary is a setting's)
        if not str(exc).startswith("Empty vocabulary"):
            raise
        raise _with_option(exc, flags, "min_count") from exc
    written = []
    try:
        if save_vocab:            # as word2vec.c, right after counting
            write_vocab_file(save_vocab, model.wv.index_to_key, model.wv.counts, n_lines)
            written.append(save_vocab)
        if args.output is None:   # word2vec.c without -output: the vocabulary only
            return 0
        if read_vocab:
            model.train(corpus_file=args.corpus_file)
        else:
            model.train()
        elapsed = time.perf_counter() - t0
        save_vectors(model.wv, args.output, fmt)
        written.append(args.output)
        if getattr(args, "save_model", None):
            model.save(args.save_model)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"written before: {', '.join(written)}; nothing else"
                                if written else "no output file was written") from None
    if not args.quiet:
        losses = ", ".join(f"{x:.4g}" for x in model.epoch_losses)
        print(f"fastw2v: {len(model.wv)} words x {model.wv.vector_size}, "
              f"{model.words_trained:,} words trained in {elapsed:.1f}s "
              f"({model.words_trained / max(elapsed, 1e-9) / 1e3:.0f}k words/s); "
              f"loss per epoch: {losses}; vectors written to {args.output} ({fmt})",
              file=sys.stderr)
    return 0


def _with_option(exc, flags=None, name=None):
    """The error of a setting's value, naming the command-line option as well as the
    parameter ("workers must be >= 1 ... (option -threads)"): the parameter `name`, or
    the one the message starts with (as Word2VecConfig's messages do)."""
    message = str(exc)
    if name is None:
        names = [f.name for f in dataclasses.fields(Word2VecConfig)]
        name = next((n for n in sorted(names, key=len, reverse=True)
                     if re.match(rf"{n}\b", message)), None)
        if name is None:
            return exc
    flag = (flags or {}).get(name) or "--" + name.replace("_", "-")
    return UserError(f"{message} (option {flag})")


def read_vocab_file(path, with_lines=False, unicode_errors="strict"):
    """word2vec.c's vocabulary file: 'word count' per line, as {word: count}; with
    with_lines, also the count of its sentence marker </s> (its number of lines, 0 if the
    file has none). Read by fastw2v.formats.read_vocab_counts (its rules and errors);
    words are decoded from UTF-8 as the corpus is (unicode_errors); one that decodes to
    nothing is not a word, as in the corpus, and one holding ASCII whitespace, which no
    token of the corpus can be, is refused."""
    from fastw2v.formats import read_vocab_counts
    freq = read_vocab_counts(path, unicode_errors=unicode_errors)
    n_lines = freq.pop("</s>", 0)   # word2vec.c's sentence marker is not a word here
    freq.pop("", None)
    for word in freq:
        if _ASCII_SPACE.intersection(word):
            raise UserError(f"{path}: the word {word!r} holds whitespace, so that no token "
                            f"of the corpus (split at spaces, tabs and newlines) can be it; "
                            f"remove the whitespace from the file")
    if not freq:
        raise UserError(f"{path}: no words in this vocabulary file (expected 'word count' "
                        f"lines)")
    return (freq, n_lines) if with_lines else freq


def write_vocab_file(path, words, counts, n_lines):
    """word2vec.c's vocabulary file: its sentence marker </s> first, with the number of
    lines (word2vec.c's -read-vocab takes the first word for the line end), then 'word
    count' per word (written atomically; a word that the format cannot hold raises)."""
    from fastw2v.formats import write_vocab_counts
    write_vocab_counts(path, ["</s>", *words], [n_lines, *counts.tolist()])


# ---- vectors in and out ----

def _format_from_name(path) -> str:
    name = str(path).lower()
    if name.endswith(".fw2v"):
        return "native"
    if name.endswith((".bin", ".bin.gz", ".bin.bz2", ".bin.xz")):
        return "binary"
    return "text"


def _check_writable(path):
    """Refuse, before any work, an output path that cannot be written: the file is written
    to a temporary file in its folder, then renamed."""
    if not str(path):
        raise UserError("an output file name is empty")
    if os.path.isdir(path):
        raise UserError(f"cannot write {path}: it is a directory; give a file name")
    from fastw2v.native import is_special_file
    if is_special_file(path):                # /dev/null, /dev/stdout, a pipe: written as is
        if not os.access(path, os.W_OK):
            raise UserError(f"cannot write {path}: no permission")
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot write {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {path}: no permission to create files in {folder}")


def _same_file(a, b) -> bool:
    """Whether paths a and b name one file (either may not exist yet)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def save_vectors(wv, path, fmt):
    if fmt == "native":
        wv.save(path)
    else:
        wv.save_word2vec_format(path, binary=fmt == "binary")


def sniff_format(path, no_header=False) -> str:
    """Tell native, word2vec binary and word2vec text vector files apart (plain, gzip,
    bz2 or xz): text if the first lines after the header are each a word and numbers
    written out (as many as the header says or not: the text reader then says which line
    is wrong), else binary."""
    from fastw2v import formats, native
    from fastw2v.corpus import STREAM_ERRORS
    if not os.path.exists(path):
        raise UserError(f"vector file {path} does not exist")
    if os.path.isdir(path):
        raise UserError(f"vector file {path} is a directory; give the file")
    if not os.path.isfile(path):
        raise UserError(f"vector file {path} is not a regular file (a pipe or a device?); "
                        f"write it to a file first")
    with open(path, "rb") as f:
        if f.read(len(native.MAGIC)) == native.MAGIC:
            return "native"
    if no_header:                        # (GloVe's files: text only)
        return "text"
    try:
        f, _ = formats.open_binary(path)
        with f:
            head = f.read(1 << 16)
    except STREAM_ERRORS:
        return "text"                    # (the reader says what is wrong with it)
    lines = head.removeprefix(b"\xef\xbb\xbf").split(b"\n")       # (a byte-order mark)
    header = lines[0].split()
    if len(header) != 2 or not all(x.isdigit() for x in header):
        return "text"                    # (the reader says what the header should be)
    rows = [r for r in lines[1:-1] if r.strip()][:3]    # whole lines (blank ones skipped)
    if rows:
        return "text" if all(_is_text_row(r) for r in rows) else "binary"
    # no whole line in the first 64 KB (or no vector): are the first bytes text?
    body = b"\n".join(lines[1:])
    if re.search(rb"[\x00-\x08\x0e-\x1f]", body):
        return "binary"                  # control bytes other than spaces: not text
    try:
        body.decode("utf-8")
        return "text"
    except UnicodeDecodeError as exc:
        # raw float bytes fail to decode soon; a word cut by the window does not
        return "text" if exc.start >= len(body) - 4 else "binary"


def _is_text_row(line) -> bool:
    parts = line.split()
    if len(parts) < 2:
        return False
    try:
        for x in parts[1:]:
            float(x)
    except ValueError:
        return False
    return True


def load_vectors(path, fmt=None, no_header=False, unicode_errors="strict",
                 format_option="--vectors-format"):
    from fastw2v import native
    from fastw2v.keyedvectors import KeyedVectors
    fmt = fmt or sniff_format(path, no_header)
    if fmt == "native":
        if native.file_kind(path) == "word2vec":       # a model (train --save-model)
            from fastw2v.word2vec import Word2Vec
            return Word2Vec.load(path, mmap="r").wv
        return KeyedVectors.load(path)
    try:
        return KeyedVectors.load_word2vec_format(path, binary=fmt == "binary",
                                                 no_header=no_header,
                                                 unicode_errors=unicode_errors)
    except ValueError as exc:
        # the reader's advice names its Python arguments: add the options that say it here
        hints = [option for argument, option in (
            ("binary=True", f"{format_option} binary"),
            ("binary=False", f"{format_option} text"),
            ("no_header=True", "--no-header"),
            ("unicode_errors=", "--unicode-errors replace")) if argument in str(exc)]
        if not hints:
            raise
        raise UserError(f"{exc} (on the command line: {', '.join(hints)})") from exc


# ---- queries ----

def cmd_similar(args) -> int:
    wv = load_vectors(args.vectors, args.vectors_format, args.no_header,
                      args.unicode_errors)
    answers = [(word, wv.most_similar(word, topn=args.topn)) for word in args.words]
    for word, near in answers:
        print(f"{word}:")
        for key, score in near:
            print(f"  {key}\t{score:.4f}")
    return 0


def cmd_analogy(args) -> int:
    wv = load_vectors(args.vectors, args.vectors_format, args.no_header,
                      args.unicode_errors)
    print(f"{args.a} is to {args.b} as {args.c} is to:")
    for key, score in wv.most_similar(positive=[args.b, args.c], negative=[args.a],
                                      topn=args.topn):
        print(f"  {key}\t{score:.4f}")
    return 0


def cmd_eval(args) -> int:
    if not args.analogy and not args.pairs:
        raise UserError("nothing to evaluate: give --analogy FILE and/or --pairs FILE")
    wv = load_vectors(args.vectors, args.vectors_format, args.no_header,
                      args.unicode_errors)
    for path in args.analogy or []:
        score, sections = wv.evaluate_word_analogies(path)
        total = next((s for s in sections if s["section"] == "Total accuracy"), None)
        seen = len(total["correct"]) + len(total["incorrect"]) if total else 0
        print(f"{path}: analogy accuracy {100 * score:.2f}% over {seen} questions")
    for path in args.pairs or []:
        pearson, spearman, oov = wv.evaluate_word_pairs(path)
        print(f"{path}: Spearman {spearman[0]:.4f}, Pearson {pearson[0]:.4f}, "
              f"out of vocabulary {oov:.1f}%")
    return 0


def cmd_convert(args) -> int:
    wv = load_vectors(args.input, args.src, args.no_header, args.unicode_errors,
                      "--from")
    fmt = args.dst or _format_from_name(args.output)
    _check_writable(args.output)
    save_vectors(wv, args.output, fmt)
    print(f"fastw2v: {len(wv)} vectors of {wv.vector_size} written to {args.output} ({fmt})",
          file=sys.stderr)
    return 0


# ---- phrases ----

def parse_word2phrase(argv) -> argparse.Namespace:
    """word2phrase's `-flag value` pairs, with its defaults and its score."""
    values = _single_dash_flags(argv, W2P_FLAGS, "word2phrase")
    for flag in ("-train", "-output"):
        if values[W2P_FLAGS[flag][0]] is None:
            raise UserError(f"{flag} FILE is required")
    return argparse.Namespace(
        corpus_file=values["corpus_file"], output=values["output"],
        quiet=values["debug"] == 0, connector_words=None,
        params=dict(min_count=values["min_count"], threshold=values["threshold"],
                    scoring="word2phrase", unicode_errors=values["unicode_errors"]),
        flags={dest: flag for flag, (dest, _, _) in W2P_FLAGS.items()})


def _long_phrases_args(a) -> argparse.Namespace:
    if a.phrases is not None:
        given = [flag for flag, value in (("--min-count", a.min_count), ("--scoring", a.scoring),
                                          ("--connector-words", a.connector_words),
                                          ("--save-phrases", a.save_phrases))
                 if value is not None]
        if given:
            raise UserError(f"{', '.join(given)} cannot be combined with --phrases: the "
                            f"phrases are loaded, not counted (--threshold may raise theirs)")
    threshold = a.threshold
    if threshold is None and a.phrases is None:
        if a.scoring == "npmi":
            raise UserError("--scoring npmi needs --threshold (npmi scores lie in [-1, 1]; "
                            "e.g. --threshold 0.5)")
        threshold = 10.0
    delimiter = a.delimiter
    if delimiter is None and a.phrases is None:
        delimiter = "_"
    params = dict(min_count=5 if a.min_count is None else a.min_count,
                  threshold=threshold, scoring=a.scoring or "default",
                  delimiter=delimiter, unicode_errors=a.unicode_errors)
    return argparse.Namespace(corpus_file=a.corpus_file, output=a.output, quiet=a.quiet,
                              connector_words=a.connector_words, params=params, flags={},
                              phrases=a.phrases, save_phrases=a.save_phrases)


def cmd_phrases(args) -> int:
    from fastw2v.corpus import check_path

    check_path(args.corpus_file)
    outputs = [p for p in (args.output, getattr(args, "save_phrases", None)) if p]
    for path in outputs:
        _check_writable(path)
        if _same_file(path, args.corpus_file):
            raise UserError(f"{path} is also the input: writing it would destroy it; "
                            f"choose another output file")
    t0 = time.perf_counter()
    if getattr(args, "phrases", None):
        model, found = _load_phrases(args)
    else:
        model, found = _count_phrases(args)
    n_made = model.transform_file(args.corpus_file, args.output,
                                  unicode_errors=args.params["unicode_errors"])
    if not args.quiet:
        print(f"fastw2v: {found}, {len(model.export_phrases()):,} phrases scoring above "
              f"{model.threshold}; {n_made:,} joined in {args.output} in "
              f"{time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


def _count_phrases(args):
    """The phrases of the corpus file, counted with the command line's settings (and
    saved with --save-phrases): (model, what was done, for the summary)."""
    from fastw2v.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    connectors = frozenset()
    name = args.connector_words
    if name is not None and name.lower() == "english" and not os.path.exists(name):
        connectors = ENGLISH_CONNECTOR_WORDS
    elif name is not None:
        try:
            with open(name, encoding="utf-8") as f:
                connectors = frozenset(f.read().split())
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read the connector words from {name!r} ({exc}) "
                            f"(option --connector-words: 'english', or a UTF-8 file of "
                            f"words)") from None
    try:
        model = Phrases(connector_words=connectors, **args.params)
    except ValueError as exc:                # a setting's value
        message = str(exc)
        name = next((n for n in args.params if message.startswith(n)), None)
        if name is None:
            raise
        flag = args.flags.get(name) or "--" + name.replace("_", "-")
        raise UserError(f"{message} (option {flag})") from None
    model.add_vocab(corpus_file=args.corpus_file,
                    unicode_errors=args.params["unicode_errors"])
    if getattr(args, "save_phrases", None):
        model.freeze().save(args.save_phrases)
    return model, f"{model.corpus_word_count:,} words counted ({model.scoring} score)"


def _load_phrases(args):
    """--phrases FILE: phrases saved before, with --threshold and --delimiter applied if
    given: (model, what was done, for the summary)."""
    from fastw2v import native
    from fastw2v.phrases import FrozenPhrases, Phrases

    kind = native.file_kind(args.phrases)
    loader = {"phrases": Phrases.load, "frozen_phrases": FrozenPhrases.load}.get(kind)
    if loader is None:
        raise UserError(f"{args.phrases} holds {kind}, not phrases (option --phrases: a file "
                        f"written by --save-phrases or by Phrases.save / FrozenPhrases.save)")
    model = loader(args.phrases)
    for name in ("threshold", "delimiter"):
        if args.params[name] is not None:
            setattr(model, name, args.params[name])
    return model, f"phrases from {args.phrases}"


def _number(text):
    """--min-count: an int if the text is one, else a float."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"must be a number, got {text!r}")


def _count(text) -> int:
    """--topn: a number of answers, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (a UserError) rather than the usage
    and an exit; subcommands' parsers are of this class too."""

    def error(self, message):
        raise UserError(f"{message} (see {self.prog} --help)")


def _mixed_flags_hint(message, argv) -> str:
    """For `fastw2v train --long ... -flag ...`: what word2vec.c's flags are called here."""
    mixed = [f"{flag} -> {_long_name(flag)}" for flag in W2V_C_FLAGS
             if flag in argv and re.search(rf"unrecognized arguments:.*(?<!\S)"
                                           rf"{re.escape(flag)}(?!\S)", message)]
    if argv[:1] != ["train"] or not mixed:
        return message
    return (f"{message}; word2vec.c's flags cannot be mixed with long options: "
            f"{', '.join(mixed)}")


def _long_name(flag):
    dest = W2V_C_FLAGS[flag][0]
    return {"cbow": "--sg (--sg 0 is -cbow 1)", "binary": "--format binary",
            "debug": "--quiet", "classes": "(not supported)"}.get(
                dest, "--" + dest.replace("_", "-"))


def build_parser():
    parser = _Parser(prog="fastw2v", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(title="commands")
    add_train_parser(sub)

    def reading_options(p):
        p.add_argument("--no-header", action="store_true",
                       help="a text file without the word2vec header line (GloVe's)")
        p.add_argument("--unicode-errors", choices=("strict", "replace", "ignore"),
                       default="strict", help="for words that are not valid UTF-8")

    def vectors_options(p):
        p.add_argument("--vectors", required=True, help="vector file (text, binary or native)")
        p.add_argument("--vectors-format", choices=FORMATS, default=None,
                       help="default: told from the file's content")
        p.add_argument("--topn", type=_count, default=10)
        reading_options(p)

    p = sub.add_parser("similar", help="nearest neighbours of words")
    p.add_argument("words", nargs="+")
    vectors_options(p)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("analogy", help="A is to B as C is to ?")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    vectors_options(p)
    p.set_defaults(func=cmd_analogy)

    p = sub.add_parser("eval", help="score vectors on analogy and word-pair test sets")
    p.add_argument("vectors")
    p.add_argument("--vectors-format", choices=FORMATS, default=None)
    p.add_argument("--analogy", action="append", help="questions-words.txt format")
    p.add_argument("--pairs", action="append", help="word1 word2 score, tab separated")
    reading_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("convert", help="convert between text, binary and native formats")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--from", dest="src", choices=FORMATS, default=None,
                   help="default: told from the file's content")
    p.add_argument("--to", dest="dst", choices=FORMATS, default=None,
                   help="default: native for .fw2v, binary for .bin (.gz, .bz2, .xz), "
                        "else text")
    reading_options(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("phrases", help="join frequent word pairs into phrases (word2phrase)",
                       description="Rewrite a text file with phrases joined (new_york), "
                                   "gensim's Phrases on a file. Also accepts word2phrase's "
                                   "flags verbatim (-train, -output, -min-count, "
                                   "-threshold, -debug), with its defaults and score.")
    p.add_argument("--corpus-file", required=True,
                   help="text file, one sentence per line (.gz/.bz2/.xz ok)")
    p.add_argument("--output", required=True, help="the rewritten text file")
    p.add_argument("--min-count", type=_number, default=None,
                   help="candidates seen fewer times are never phrases (default: 5)")
    p.add_argument("--threshold", type=float, default=None,
                   help="phrases score above it (default: 10.0)")
    p.add_argument("--scoring", choices=("default", "npmi", "word2phrase"),
                   default=None, help="default: gensim's score ('default')")
    p.add_argument("--delimiter", default=None,
                   help="joins a phrase's words (default: _, or the saved phrases')")
    p.add_argument("--connector-words", default=None,
                   help="'english' (of, the, and, ...: bank_of_america), or a file of "
                        "words that may sit inside a phrase")
    p.add_argument("--unicode-errors", choices=("strict", "replace", "ignore"),
                   default="strict", help="for words that are not valid UTF-8")
    p.add_argument("--save-phrases", default=None,
                   help="also save the phrases found (native format), for --phrases")
    p.add_argument("--phrases", default=None,
                   help="rewrite with phrases saved before (--save-phrases, Phrases.save, "
                        "FrozenPhrases.save) instead of counting the corpus")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")
    p.set_defaults(func=lambda a: cmd_phrases(_long_phrases_args(a)))
    return parser


if __name__ == "__main__":
    sys.exit(main())
