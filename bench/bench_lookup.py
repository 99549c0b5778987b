#!/usr/bin/env python3
"""Speed of the lookup layer (fastw2v.Embedding / EmbeddingBag) against numpy and torch CPU.

Same shapes for every system: a (rows, dim) float32 table, n int64 ids drawn uniformly, and
for the bag rows n / bag bags of `bag` ids each. Each cell is the best of --repeat runs
(wall clock, ms; numpy's slow np.add.at rows at most 3). "max |diff|" is the largest
difference between fastw2v's result and numpy's, the quality column (about 0 expected).
fastw2v's public calls are timed, so its id checks are included. fastw2v and numpy use
one thread per call; torch uses torch.get_num_threads() (printed).

    python bench/bench_lookup.py                       # 100k x 100 table, 1M ids
    python bench/bench_lookup.py --rows 10000 --n 100000 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import fastw2v
from fastw2v import Embedding, EmbeddingBag


def best_ms(fn, repeat):
    """Best wall time of fn() over `repeat` runs, in ms, and fn's last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3, result


def numpy_and_fastw2v_rows(args, weight, ids, grad_rows, bag_ids, offsets, grad_bags, lr):
    """[(operation, fastw2v call, numpy call)], all on the same arrays."""
    emb = Embedding.from_pretrained(weight, freeze=False)
    emb_sgd = Embedding.from_pretrained(weight.copy(), freeze=False)   # the SGD rows write
    weight_sgd = weight.copy()                                        # to copies of their own
    bags = {m: EmbeddingBag.from_pretrained(weight, freeze=False, mode=m)
            for m in ("sum", "mean", "max")}

    def np_add_at(g):
        out = np.zeros_like(weight)
        np.add.at(out, ids, g)
        return out

    def np_bag_grad(mean):
        per_id = np.repeat(grad_bags / np.float32(args.bag if mean else 1), args.bag, axis=0)
        out = np.zeros_like(weight)
        np.add.at(out, bag_ids, per_id)
        return out

    return [
        ("gather (forward)", lambda: emb(ids), lambda: weight[ids]),
        ("scatter-add (dense weight grad)", lambda: emb.backward(ids, grad_rows),
         lambda: np_add_at(grad_rows)),
        ("SGD step, in place", lambda: emb_sgd.sgd_step(ids, grad_rows, lr),
         lambda: np.add.at(weight_sgd, ids, -lr * grad_rows)),
        ("bag sum", lambda: bags["sum"](bag_ids, offsets),
         lambda: np.add.reduceat(weight[bag_ids], offsets, axis=0)),
        ("bag mean", lambda: bags["mean"](bag_ids, offsets),
         lambda: np.add.reduceat(weight[bag_ids], offsets, axis=0) / np.float32(args.bag)),
        ("bag max", lambda: bags["max"](bag_ids, offsets),
         lambda: np.maximum.reduceat(weight[bag_ids], offsets, axis=0)),
        ("bag sum backward", lambda: bags["sum"].backward(bag_ids, grad_bags, offsets),
         lambda: np_bag_grad(False)),
        ("bag mean backward", lambda: bags["mean"].backward(bag_ids, grad_bags, offsets),
         lambda: np_bag_grad(True)),
    ]


def torch_rows(torch, weight, ids, grad_rows, bag_ids, offsets, grad_bags, lr):
    """The torch CPU twin of each row above, on tensors sharing memory with the arrays."""
    F = torch.nn.functional
    w, i, g = torch.from_numpy(weight), torch.from_numpy(ids), torch.from_numpy(grad_rows)
    bi, off = torch.from_numpy(bag_ids), torch.from_numpy(offsets)
    gb = torch.from_numpy(grad_bags)
    w_sgd = w.clone()
    w_leaf = w.clone().requires_grad_()

    def bag_backward(mode):
        # torch has no public backward without its forward: the forward is included
        w_leaf.grad = None
        F.embedding_bag(bi, w_leaf, off, mode=mode).backward(gb)
        return w_leaf.grad

    return [
        lambda: F.embedding(i, w),
        lambda: torch.zeros_like(w).index_add_(0, i, g),
        lambda: w_sgd.index_add_(0, i, g, alpha=-float(lr)),
        lambda: F.embedding_bag(bi, w, off, mode="sum"),
        lambda: F.embedding_bag(bi, w, off, mode="mean"),
        lambda: F.embedding_bag(bi, w, off, mode="max"),
        lambda: bag_backward("sum"),
        lambda: bag_backward("mean"),
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--n", type=int, default=1_000_000, help="ids per call")
    p.add_argument("--bag", type=int, default=20, help="ids per bag in the bag rows")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--no-torch", action="store_true", help="leave the torch column empty")
    args = p.parse_args(argv)

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not installed: its column is left empty", file=sys.stderr)

    rng = np.random.default_rng(0)
    weight = rng.standard_normal((args.rows, args.dim), dtype=np.float32)
    ids = rng.integers(0, args.rows, size=args.n, dtype=np.int64)
    grad_rows = rng.standard_normal((args.n, args.dim), dtype=np.float32)
    n_bags = args.n // args.bag
    bag_ids = ids[: n_bags * args.bag]
    offsets = np.arange(n_bags, dtype=np.int64) * args.bag
    grad_bags = rng.standard_normal((n_bags, args.dim), dtype=np.float32)
    lr = np.float32(0.01)

    rows = numpy_and_fastw2v_rows(args, weight, ids, grad_rows, bag_ids, offsets, grad_bags, lr)
    torch_fns = ([None] * len(rows) if torch is None else
                 torch_rows(torch, weight, ids, grad_rows, bag_ids, offsets, grad_bags, lr))

    command = " ".join(["python bench/bench_lookup.py"] + list(sys.argv[1:] if argv is None
                                                               else argv))
    print(f"`{command}`\n")
    print(f"table {args.rows:,} x {args.dim} float32, {args.n:,} int64 ids, {n_bags:,} bags "
          f"of {args.bag}; best of {args.repeat}; {os.cpu_count()} CPUs; numpy "
          f"{np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "")
          + f", fastw2v {fastw2v.__version__}\n")
    print("| operation | fastw2v ms | numpy ms | torch ms | vs numpy | vs torch | max \\|diff\\| |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (name, ours_fn, np_fn), torch_fn in zip(rows, torch_fns):
        ours_ms, ours_out = best_ms(ours_fn, args.repeat)
        np_ms, np_out = best_ms(np_fn, min(args.repeat, 3))
        torch_ms = best_ms(torch_fn, args.repeat)[0] if torch_fn is not None else None
        # the in-place SGD rows ran different numbers of times: nothing to compare
        diff = ("n/a" if ours_out is None else
                f"{float(np.max(np.abs(ours_out - np_out), initial=0.0)):.1e}")
        torch_cells = (f"{torch_ms:.1f} | {np_ms / ours_ms:.1f}x | {torch_ms / ours_ms:.1f}x"
                       if torch_ms is not None else f" | {np_ms / ours_ms:.1f}x | ")
        print(f"| {name} | {ours_ms:.1f} | {np_ms:.1f} | {torch_cells} | {diff} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
