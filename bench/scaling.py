#!/usr/bin/env python3
"""How training speed grows with the number of threads.

    python bench/scaling.py --corpus ../shared/data/pd-encyc8.lines.gz --threads 1,2,4,8,16

For each configuration the vocabulary is built and the corpus encoded once; then one
epoch (the whole learning-rate schedule) is trained with each thread count, starting
every time from the same initial weights. The thread counts are run in rounds, ascending
in odd rounds and descending in even ones, so that a slow spell of the machine does not
always hit the same count; the table shows the fastest epoch of each count. Columns:
seconds, speed-up (over one thread; without 1 in --threads, over the fewest threads
counted as that many times one thread's speed), efficiency (speed-up / threads), CPU seconds
per wall second (how many threads were busy on average), corpus tokens per second, and
GFLOP/s (6 x dim per logistic step; with --peak-gflops also as a share of threads x one
core's peak). With --eval-dir, the vectors of the first round's epochs are scored
(Google analogies, WordSim-353), so that speed and quality are seen together.

--independent also times, in the same rounds, N single-thread epochs run at once in N
separate processes (each on its own copy of the model) for every thread count N > 1: the
speed-up the machine gives work that shares nothing (cores, memory bandwidth, clock). The
gap between it and the threads' speed-up is what sharing one model costs.

--output-layout contiguous (or padded) lays the output matrices out so for every thread
count, instead of as a model with that many workers would (rows padded to whole cache
lines on several threads): run it beside the default to measure the padding.

--variants compares settings of the private copies of the hot Huffman nodes (module
constants of fastw2v._train that Word2Vec reads: HOT_ROWS nodes, merged every
HOT_SYNC_WORDS / (threads - 1) words) in the same rounds: a comma list of ROWS/SYNC,
e.g. ``0/1000,64/1000`` (0 rows: no copies). One thread
keeps no copies, so it runs once per round and serves as every variant's base.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import repo_fastw2v, thread_counts, word2vec_option  # noqa: E402

CONFIGS = {
    "sg-ns": dict(sg=1, hs=0, negative=5),
    "cbow-ns": dict(sg=0, hs=0, negative=5),
    "sg-hs": dict(sg=1, hs=1, negative=0),
    "cbow-hs": dict(sg=0, hs=1, negative=0),
}


def weights(model):
    """The arrays training writes to, by name (None where the loss is not used)."""
    return {"in": model.wv.vectors, "ns": model.w_out_ns, "hs": model.w_out_hs}


def time_epoch(model, initial, workers, layout="auto"):
    """One epoch on `workers` threads from the initial weights: wall s, CPU s, logistic
    steps, corpus tokens. The output matrices are laid out as a model made with that many
    workers lays them out (layout "auto": rows padded to whole cache lines on several
    threads), or with every row padded ("padded") or none ("contiguous")."""
    from fastw2v.word2vec import _output_matrix
    pad = {"auto": workers > 1, "padded": True, "contiguous": False}[layout]
    for name, array in weights(model).items():
        if array is None:
            continue
        if name == "in":
            array[...] = initial[name]
        else:
            rows = initial[name]
            setattr(model, "w_out_" + name, _output_matrix(len(rows), rows.shape[1], pad, rows))
    model.config = model.config.replace(workers=workers)
    steps0 = model.steps_trained
    t0, cpu0 = time.perf_counter(), time.process_time()
    model.train(epochs=1)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return wall, cpu, model.steps_trained - steps0, model.corpus_total_words


def _independent_worker(model, initial, conn):
    """In a forked process: one single-thread epoch on this process's copy of the model
    per request, answered with its wall seconds; None ends the process."""
    # weights of its own, not copied page by page from the parent's on first write: those
    # copies lose the parent's huge pages, and training on them is ~15% slower
    from fastw2v.native import aligned_copy
    model.wv.vectors = aligned_copy(model.wv.vectors, "float32")
    for name in ("w_out_ns", "w_out_hs"):
        if getattr(model, name) is not None:
            setattr(model, name, aligned_copy(getattr(model, name), "float32"))
    while conn.recv() is not None:
        conn.send(time_epoch(model, initial, 1)[0])


class Independent:
    """n forked processes, each with its own copy of the model, for epochs run at once."""

    def __init__(self, model, initial, n):
        ctx = multiprocessing.get_context("fork")
        self.conns, self.procs = [], []
        for _ in range(n):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_independent_worker, args=(model, initial, theirs),
                               daemon=True)
            proc.start()
            self.conns.append(mine)
            self.procs.append(proc)

    def run(self, n):
        """Wall seconds of the slowest of n single-thread epochs started together."""
        try:
            for conn in self.conns[:n]:
                conn.send(True)
            return max(conn.recv() for conn in self.conns[:n])
        except (EOFError, OSError):
            codes = [proc.exitcode for proc in self.procs]
            raise RuntimeError(f"an independent training process died (exit codes "
                               f"{codes}; out of memory?)") from None

    def close(self):
        for conn, proc in zip(self.conns, self.procs):
            with contextlib.suppress(OSError):
                conn.send(None)
            proc.join()


def scores(model, eval_dir):
    from score import evaluate_all
    got = evaluate_all(model.wv.vectors, model.wv.index_to_key, eval_dir)
    return dict(analogy=got["analogy"]["accuracy"], ws353=got["ws353"]["rho"])


def build_parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default="/work/shared/data/pd-encyc8.lines.gz")
    p.add_argument("--threads", default="1,2,4,8,16", type=thread_counts,
                   help="comma list (default: %(default)s)")
    p.add_argument("--configs", default="sg-ns,cbow-ns,sg-hs",
                   help="comma list of: " + ",".join(CONFIGS))
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--variants", default=None, metavar="ROWS/SYNC,...",
                   help="settings of the hot-row copies to compare (default: the built-in)")
    p.add_argument("--set", action="append", default=[], type=word2vec_option,
                   metavar="NAME=VALUE",
                   help="another Word2Vec option for every run, e.g. shared_negatives=True "
                        "(VALUE as a Python literal, else a string; repeatable)")
    p.add_argument("--output-layout", default="auto",
                   choices=("auto", "padded", "contiguous"),
                   help="rows of the output matrices: as a model with that many workers "
                        "lays them out (auto: padded to whole cache lines on several "
                        "threads), or always padded, or never (to measure the padding)")
    p.add_argument("--independent", action="store_true",
                   help="also time N single-thread epochs at once in N processes")
    p.add_argument("--eval-dir", default=None,
                   help="score the first round's vectors with the evaluation sets here")
    p.add_argument("--peak-gflops", type=float, default=None,
                   help="one core's float32 matrix-product GFLOP/s (bench/peak.py)")
    p.add_argument("--json", dest="json_out", default=None, help="also write every run here")
    return p


def _not_a_restart(record):
    """Every run trains one epoch from the same initial weights: a new schedule each
    time, not the restart gensim's 'Effective alpha higher' warning is about."""
    return not record.getMessage().startswith("Effective 'alpha' higher")


def main(argv=None):
    logger = logging.getLogger("fastw2v")
    logger.addFilter(_not_a_restart)
    try:
        return _main(argv)
    finally:
        logger.removeFilter(_not_a_restart)


def _main(argv):
    p = build_parser()
    a = p.parse_args(argv)

    fastw2v = repo_fastw2v()
    from fastw2v import Word2Vec, _train

    extra = dict(a.set)
    fixed = sorted(set(extra) & {"vector_size", "sg", "hs", "negative", "seed", "epochs"})
    if fixed:
        p.error(f"--set {fixed[0]}=...: this script sets it (--dim for vector_size, "
                f"--configs for sg, hs and negative, --seed; one epoch per run)")
    threads = a.threads
    configs = a.configs.split(",")
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        p.error(f"unknown configuration(s) {unknown}: choose from {sorted(CONFIGS)}")
    default = f"{_train.HOT_ROWS}/{_train.HOT_SYNC_WORDS}"
    try:
        variants = [tuple(int(x) for x in v.split("/"))
                    for v in (a.variants or default).split(",")]
    except ValueError:
        variants = None
    if not variants or any(len(v) != 2 or not 0 <= v[0] <= _train.HOT_ROWS or v[1] < 1
                           for v in variants):
        p.error(f"--variants takes ROWS/SYNC pairs, ROWS in [0, {_train.HOT_ROWS}] and "
                f"SYNC >= 1, e.g. 0/1000,64/1000; got {a.variants!r}")
    # --set may change these too (not the dimension or the configuration: see above)
    shared = {**dict(window=5, min_count=5, sample=1e-3, seed=a.seed), **extra}
    print(f"fastw2v {fastw2v.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, kernels "
          f"{os.environ.get('FASTW2V_SIMD') or _train.available_simd()[-1]}; corpus {a.corpus}; "
          f"dim {a.dim}, " + ", ".join(f"{k} {v!r}" for k, v in shared.items())
          + f"; one epoch per run, fastest of {a.rounds} rounds; hot Huffman copies "
          f"ROWS/SYNC: {a.variants or default}; output rows: {a.output_layout}", flush=True)
    runs = []
    try:
        for name in configs:
            model = Word2Vec(vector_size=a.dim, workers=1, **CONFIGS[name], **shared)
            model.build_vocab(corpus_file=a.corpus)
            initial = {k: v.copy() for k, v in weights(model).items() if v is not None}
            several = [w for w in threads if w > 1]
            independent = Independent(model, initial, max(several)) if a.independent and several \
                else None
            for r in range(a.rounds):
                for w in (threads if r % 2 == 0 else threads[::-1]):
                    for rows, sync in variants if w > 1 else variants[:1]:
                        # (one thread keeps no copies: the variants are the same)
                        _train.HOT_ROWS, _train.HOT_SYNC_WORDS = rows, sync
                        wall, cpu, steps, tokens = time_epoch(model, initial, w,
                                                              a.output_layout)
                        run = dict(config=name, variant=f"{rows}/{sync}", dim=a.dim, threads=w,
                                   round=r, wall_s=wall, cpu_s=cpu, steps=steps, tokens=tokens)
                        if a.eval_dir and r == 0:
                            run.update(scores(model, a.eval_dir))
                        runs.append(run)
                        print(f"  {name} {run['variant']} {w:>3} threads round {r + 1}: "
                              f"{wall:7.2f} s, {cpu / wall:5.2f} CPUs busy"
                              + (f", analogy {run['analogy']:.2%} WS353 {run['ws353']:.3f}"
                                 if "analogy" in run else ""), flush=True)
                    if independent is not None and w > 1:
                        wall = independent.run(w)
                        runs.append(dict(config=name, variant="independent", dim=a.dim, threads=w,
                                         round=r, wall_s=wall))
                        print(f"  {name} {w:>3} independent processes round {r + 1}: "
                              f"{wall:7.2f} s", flush=True)
            if independent is not None:
                independent.close()
    finally:        # what was measured is shown even if a run failed or was stopped
        if runs:
            print_table(runs, a.peak_gflops, several_variants=len(variants) > 1)
        if runs and a.json_out:
            with open(a.json_out, "w") as f:
                json.dump(dict(argv=sys.argv[1:], runs=runs), f, indent=1)


def print_table(runs, peak, several_variants):
    scored = any("analogy" in r for r in runs)
    independent = {}
    for r in runs:
        if r["variant"] == "independent":
            key = r["config"], r["threads"]
            independent[key] = min(independent.get(key, r["wall_s"]), r["wall_s"])
    runs = [r for r in runs if r["variant"] != "independent"]
    print("\n| configuration | threads | epoch s (fastest) | speed-up | efficiency "
          "| CPUs busy | tokens/s | GFLOP/s" + (" | of peak" if peak else "")
          + (" | independent processes: speed-up" if independent else "")
          + (" | analogy % | WS353" if scored else "") + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if peak else "")
          + ("---:|" if independent else "") + ("---:|---:|" if scored else ""))
    for key in dict.fromkeys((r["config"], r["variant"]) for r in runs):
        mine = [r for r in runs if r["config"] == key[0]
                and (r["variant"] == key[1] or r["threads"] == 1)]
        best = {}
        for r in mine:
            if r["threads"] not in best or r["wall_s"] < best[r["threads"]]["wall_s"]:
                best[r["threads"]] = r
        base = best[min(best)]
        label = f"{key[0]}, dim {base['dim']}" + (f", hot {key[1]}" if several_variants else "")
        for w, r in sorted(best.items()):
            speedup = base["wall_s"] / r["wall_s"] * min(best)
            gflops = 6 * r["dim"] * r["steps"] / r["wall_s"] / 1e9
            row = (f"| {label} | {w} | {r['wall_s']:.2f} | {speedup:.2f}x "
                   f"| {speedup / w:.0%} | {r['cpu_s'] / r['wall_s']:.2f} "
                   f"| {r['tokens'] / r['wall_s'] / 1e6:.2f}M | {gflops:.1f}")
            if peak:
                row += f" | {gflops / (w * peak):.0%}"
            if independent:
                alone = independent.get((key[0], w))
                # w epochs' work in `alone` seconds, against one epoch on min(best) threads
                row += (f" | {w * base['wall_s'] * min(best) / alone:.2f}x" if alone
                        else " | ")
            if scored:
                first = next((x for x in mine if x["threads"] == w and "analogy" in x), None)
                row += (f" | {first['analogy']:.2%} | {first['ws353']:.3f}" if first
                        else " | | ")
            print(row + " |")


if __name__ == "__main__":
    main()
