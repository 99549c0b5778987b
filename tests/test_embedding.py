"""Tests for fastw2v.embedding and its kernels (fastw2v._lookup).

The conformance suite runs the same seeded random cases through torch.nn.Embedding /
torch.nn.EmbeddingBag and through ours, and compares outputs, in-place weight updates
(max_norm), gradients, SGD steps and exception types. Where we deliberately differ from
torch, the test says so and checks ours against an explicit numpy reference instead.
"""
import importlib.util
import inspect
import pickle
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

# the suite compares with torch (the test extra installs it): without torch, skipped
torch = pytest.importorskip("torch")

from fastw2v import Embedding, EmbeddingBag, KeyedVectors, _lookup
from fastw2v.embedding import SparseGrad

REALS = [np.float32, np.float64]
IDS = [np.int32, np.int64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}
NORM_TYPES = [2.0, 1.0, 3.0, float("inf"), 0.5]


def close(ours, theirs, dtype=np.float32, **kw):
    """assert_allclose against a numpy array or a torch tensor."""
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, **{**TOL[dtype], **kw})


def as_dense(grad, shape):
    """A torch gradient (dense or sparse) or one of ours, as a dense numpy array."""
    if grad is None:
        return np.zeros(shape)
    if isinstance(grad, SparseGrad):
        return grad.to_dense()
    if isinstance(grad, torch.Tensor):
        return grad.to_dense().numpy() if grad.is_sparse else grad.numpy()
    return grad


def pair(cls, weight, **kw):
    """(ours, torch's) layer over two copies of weight, trainable."""
    torch_cls = torch.nn.Embedding if cls is Embedding else torch.nn.EmbeddingBag
    ours = cls.from_pretrained(weight.copy(), freeze=False, **kw)
    theirs = torch_cls.from_pretrained(torch.tensor(weight), freeze=False, **kw)
    return ours, theirs


# ---- conformance: random nn.Embedding cases ----------------------------------------------------

def embedding_case(seed):
    """A random nn.Embedding configuration and batch, the same for every run."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    dim = int(rng.integers(1, 10))
    dtype = np.float64 if seed % 5 == 4 else np.float32
    weight = rng.standard_normal((n, dim)).astype(dtype)
    ndim = int(rng.integers(0, 4))
    shape = tuple(int(s) for s in rng.integers(0 if seed % 6 == 0 else 1, 6, size=ndim))
    high = n if rng.random() < 0.5 else min(n, 3)      # few distinct ids: many duplicates
    indices = rng.integers(0, high, size=shape).astype(IDS[seed % 2])
    kw = dict(padding_idx=None if rng.random() < 0.4 else int(rng.integers(-n, n)),
              max_norm=None if rng.random() < 0.5 else float(rng.uniform(0.3, 1.5) * dim ** 0.5),
              norm_type=NORM_TYPES[seed % len(NORM_TYPES)],
              scale_grad_by_freq=bool(rng.random() < 0.5),
              sparse=bool(rng.random() < 0.5))
    grad_output = rng.standard_normal(shape + (dim,)).astype(dtype)
    return weight, indices, kw, grad_output


@pytest.mark.parametrize("seed", range(60))
def test_embedding_conformance_random_case(seed):
    weight, indices, kw, grad_output = embedding_case(seed)
    dtype = weight.dtype.type
    ours, theirs = pair(Embedding, weight, **kw)
    if kw["sparse"] and (kw["scale_grad_by_freq"] or indices.ndim == 0):
        # torch's sparse backward refuses scale_grad_by_freq ("not supported with sparse
        # gradients") and fails on a 0-d index equal to padding_idx (IndexError); ours
        # handles both, so compare with torch's dense gradient
        theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weight), freeze=False,
                                                    **{**kw, "sparse": False})
    out = ours(indices)
    out_t = theirs(torch.from_numpy(indices))
    assert out.shape == tuple(out_t.shape) and out.dtype == weight.dtype
    close(out, out_t, dtype, err_msg=f"forward, {kw}")
    close(ours.weight, theirs.weight, dtype, err_msg="weight after max_norm")

    grad = ours.backward(indices, grad_output)
    out_t.backward(torch.from_numpy(grad_output))
    assert isinstance(grad, SparseGrad) == kw["sparse"]
    close(as_dense(grad, weight.shape), as_dense(theirs.weight.grad, weight.shape), dtype,
          err_msg=f"gradient, {kw}")
    if kw["sparse"] and theirs.sparse:
        g_t = theirs.weight.grad.coalesce()
        np.testing.assert_array_equal(grad.ids, g_t.indices()[0].numpy())
        close(grad.rows, g_t.values(), dtype)

    ours.step(0.1)
    torch.optim.SGD([theirs.weight], lr=0.1).step()
    close(ours.weight, theirs.weight, dtype, err_msg="weight after step")


# ---- conformance: random nn.EmbeddingBag cases -------------------------------------------------

def bag_case(seed):
    """A random nn.EmbeddingBag configuration and batch (input, offsets, per_sample_weights)."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 25))
    dim = int(rng.integers(1, 9))
    dtype = np.float64 if seed % 5 == 4 else np.float32
    weight = rng.standard_normal((n, dim)).astype(dtype)
    mode = ["sum", "mean", "max"][seed % 3]
    id_dtype = IDS[(seed // 3) % 2]
    high = n if rng.random() < 0.5 else min(n, 3)
    include_last_offset = bool(rng.random() < 0.5)
    if rng.random() < 0.3:                                  # 2-D: equal-length bags
        shape = (int(rng.integers(0, 5)), int(rng.integers(1, 5)))
        input = rng.integers(0, high, size=shape).astype(id_dtype)
        offsets = None
        n_bags = shape[0]
    else:
        sizes = rng.integers(0, 5, size=int(rng.integers(0, 6)))   # empty bags included
        sizes[rng.random(sizes.size) < 0.2] = 0
        input = rng.integers(0, high, size=int(sizes.sum())).astype(id_dtype)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        offsets = (starts if include_last_offset else starts[:-1]).astype(IDS[seed % 2])
        n_bags = sizes.size
        if not include_last_offset and n_bags == 0:
            offsets = np.zeros(0, dtype=np.int64)
    use_psw = mode == "sum" and rng.random() < 0.6
    psw = rng.standard_normal(input.shape).astype(dtype) if use_psw else None
    kw = dict(mode=mode, include_last_offset=include_last_offset,
              padding_idx=None if rng.random() < 0.4 else int(rng.integers(-n, n)),
              max_norm=None if rng.random() < 0.5 else float(rng.uniform(0.3, 1.5) * dim ** 0.5),
              norm_type=NORM_TYPES[seed % len(NORM_TYPES)],
              scale_grad_by_freq=mode != "max" and bool(rng.random() < 0.5),
              sparse=mode != "max" and bool(rng.random() < 0.5))
    grad_output = rng.standard_normal((n_bags, dim)).astype(dtype)
    return weight, input, offsets, psw, kw, grad_output


@pytest.mark.parametrize("seed", range(72))
def test_bag_conformance_random_case(seed):
    weight, input, offsets, psw, kw, grad_output = bag_case(seed)
    dtype = weight.dtype.type
    ours, theirs = pair(EmbeddingBag, weight, **kw)
    if kw["sparse"] and kw["scale_grad_by_freq"]:
        # torch refuses this pair at backward; ours is checked against the reference below
        theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(weight), freeze=False,
                                                       **{**kw, "sparse": False})
    psw_t = None if psw is None else torch.tensor(psw, requires_grad=True)
    off_t = None if offsets is None else torch.from_numpy(offsets)
    out = ours(input, offsets, psw)
    out_t = theirs(torch.from_numpy(input), off_t, per_sample_weights=psw_t)
    assert out.shape == tuple(out_t.shape)
    close(out, out_t, dtype, err_msg=f"forward, {kw}")
    close(ours.weight, theirs.weight, dtype, err_msg="weight after max_norm")

    grad = ours.backward(input, grad_output, offsets, psw)
    out_t.backward(torch.from_numpy(grad_output))
    if psw is not None:
        close(ours.per_sample_weights_grad(input, grad_output, offsets), psw_t.grad, dtype)
    if kw["scale_grad_by_freq"]:
        # torch 2.13's CPU EmbeddingBag divides by the wrong id's count (pytorch#190063) and
        # refuses sparse=True here: check ours against the bag-matrix reference instead
        flat = input.reshape(-1)
        bounds = (np.arange(input.shape[0] + 1) * input.shape[1] if input.ndim == 2 else
                  offsets if kw["include_last_offset"] else np.append(offsets, flat.size))
        pad = None if kw["padding_idx"] is None else kw["padding_idx"] % len(weight)
        a = bag_matrix(flat, bounds, len(weight), None if psw is None else psw.reshape(-1),
                       kw["mode"] == "mean", pad,
                       np.bincount(flat, minlength=len(weight)))
        expected = a.T @ grad_output
        close(as_dense(grad, weight.shape), expected, dtype, err_msg=f"gradient, {kw}")
        before = ours.weight.copy()
        ours.step(0.05)
        close(ours.weight, before - dtype(0.05) * expected.astype(dtype), dtype)
        return
    close(as_dense(grad, weight.shape), as_dense(theirs.weight.grad, weight.shape), dtype,
          err_msg=f"gradient, {kw}")
    if kw["sparse"]:
        g_t = theirs.weight.grad.coalesce()
        np.testing.assert_array_equal(grad.ids, g_t.indices()[0].numpy())

    ours.step(0.05)
    torch.optim.SGD([theirs.weight], lr=0.05).step()
    close(ours.weight, theirs.weight, dtype, err_msg="weight after step")


def test_bag_scale_grad_by_freq_divides_by_each_ids_own_count():
    # pytorch#190063 (torch 2.13 CPU): id 3, once, sorts after id 1, twice, and torch
    # divides it by 2. Ours divides every id by its own count.
    layer = EmbeddingBag(4, 1, mode="sum", scale_grad_by_freq=True, rng=0)
    grad = layer.backward(np.array([1, 1, 3]), np.ones((1, 1)), np.array([0]))
    np.testing.assert_array_equal(grad[:, 0], [0, 1, 0, 1])


# ---- conformance: targeted semantics -------------------------------------------------------------

def test_embedding_forward_is_one_hot_matmul_and_grad_is_transpose(rng):
    n, dim = 13, 5
    layer = Embedding(n, dim, rng=rng)
    indices = rng.integers(0, n, size=(4, 7))
    grad_output = rng.standard_normal((4, 7, dim)).astype(np.float32)
    one_hot = np.eye(n, dtype=np.float64)[indices.reshape(-1)]      # (28, n)
    np.testing.assert_allclose(layer(indices).reshape(-1, dim),
                               one_hot @ layer.weight.astype(np.float64), rtol=1e-6)
    np.testing.assert_allclose(layer.backward(indices, grad_output),
                               one_hot.T @ grad_output.reshape(-1, dim), rtol=1e-5, atol=1e-6)


def bag_matrix(input, bounds, n, psw=None, mean=False, padding_idx=None, scale_by=None):
    """A (n_bags, n) with A @ weight = the sum/mean bag output (numpy reference)."""
    a = np.zeros((len(bounds) - 1, n))
    for b in range(len(bounds) - 1):
        kept = [i for i in range(bounds[b], bounds[b + 1]) if input[i] != padding_idx]
        for i in kept:
            c = 1.0 if psw is None else psw[i]
            c /= len(kept) if mean else 1
            c /= 1 if scale_by is None else scale_by[input[i]]
            a[b, input[i]] += c
    return a


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_bag_forward_is_bag_matrix_matmul_and_grad_is_transpose(rng, mode):
    n, dim = 11, 4
    layer = EmbeddingBag(n, dim, mode=mode, padding_idx=3, rng=rng)
    input = rng.integers(0, n, size=30)
    offsets = np.array([0, 0, 4, 9, 9, 20])
    psw = rng.random(30).astype(np.float32) if mode == "sum" else None
    bounds = np.append(offsets, 30)
    a = bag_matrix(input, bounds, n, psw, mode == "mean", 3)
    grad_output = rng.standard_normal((6, dim))
    np.testing.assert_allclose(layer(input, offsets, psw), a @ layer.weight, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.backward(input, grad_output, offsets, psw),
                               a.T @ grad_output, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bag_ids_past_last_offset_are_in_no_bag(rng, mode):
    # include_last_offset with offsets[-1] < len(input): ids past the end belong to no bag,
    # in forward and backward, in every mode. torch 2.13 on CPU agrees only for the sum
    # forward: its mean counts them in the divisor, its max includes them (pytorch#191965),
    # its dense backward adds them to the last bag and its sparse one raises IndexError.
    weight = (rng.standard_normal((7, 3)) * 5).astype(np.float32)
    input, offsets = np.array([1, 2, 3, 4]), np.array([0, 1, 2])
    ours, theirs = pair(EmbeddingBag, weight, mode=mode, include_last_offset=True, max_norm=2.0)
    out = ours(input, offsets)
    out_t = theirs(torch.from_numpy(input), torch.from_numpy(offsets))
    close(ours.weight, theirs.weight)                   # ids 3 and 4 renormalised too
    close(out, ours.weight[[1, 2]])                      # bags [1] and [2], whatever the mode
    if mode == "sum":
        close(out, out_t)
    grad = ours.backward(input, np.ones((2, 3), np.float32), offsets)
    expected = np.zeros((7, 3))
    expected[[1, 2]] = 1
    np.testing.assert_array_equal(grad, expected)


def test_bag_two_dim_input_with_no_bags_or_empty_bags():
    layer = EmbeddingBag(5, 3, mode="mean", rng=0)
    assert layer(np.zeros((0, 4), dtype=np.int64)).shape == (0, 3)
    # (2, 0): two empty bags; torch fails here building offsets with step 0
    np.testing.assert_array_equal(layer(np.zeros((2, 0), dtype=np.int64)), np.zeros((2, 3)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bag_empty_and_padding_only_bags_give_zeros(mode):
    ours, theirs = pair(EmbeddingBag, np.arange(15, dtype=np.float32).reshape(5, 3) + 1,
                        mode=mode, padding_idx=2)
    input, offsets = np.array([2, 2, 1, 4, 2]), np.array([0, 0, 2, 4, 4])
    out = ours(input, offsets)
    close(out, theirs(torch.from_numpy(input), torch.from_numpy(offsets)))
    np.testing.assert_array_equal(out[[0, 1, 3]], 0)


def test_bag_max_ties_send_gradient_to_first_id():
    weight = np.array([[1, 5], [1, 5], [0, 7]], dtype=np.float32)
    ours, theirs = pair(EmbeddingBag, weight, mode="max")
    input, offsets = np.array([1, 0, 2]), np.array([0])
    out_t = theirs(torch.from_numpy(input), torch.from_numpy(offsets))
    out_t.backward(torch.ones(1, 2))
    close(ours(input, offsets), out_t)
    close(ours.backward(input, np.ones((1, 2), np.float32), offsets), theirs.weight.grad)


def test_embedding_max_norm_renormalises_each_row_once_in_place():
    weight = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], dtype=np.float32)
    layer = Embedding.from_pretrained(weight, max_norm=1.0)
    out = layer(np.array([0, 0, 1, 0]))
    assert layer.weight is weight                       # renormalised in the caller's array
    expected = np.float32(1.0 / (5.0 + 1e-7)) * np.array([3.0, 4.0], np.float32)
    np.testing.assert_array_equal(weight[0], expected)
    np.testing.assert_array_equal(weight[1], np.float32([0.3, 0.4]))   # within max_norm
    np.testing.assert_array_equal(weight[2], [6.0, 8.0])   # not referenced: untouched
    np.testing.assert_array_equal(out[[0, 1, 3]], np.broadcast_to(expected, (3, 2)))


@pytest.mark.parametrize("norm_type", [0.0, 1.0, 2.0, 3.0, float("inf"), -1.0])
def test_embedding_max_norm_every_norm_type_matches_torch(rng, norm_type):
    weight = rng.standard_normal((6, 5)).astype(np.float32) * 2
    ours, theirs = pair(Embedding, weight, max_norm=1.5, norm_type=norm_type)
    idx = np.array([0, 2, 2, 5])
    close(ours(idx), theirs(torch.from_numpy(idx)))
    close(ours.weight, theirs.weight)


@pytest.mark.parametrize("max_norm", [0.0, -1.0, -0.25, float("inf"), -float("inf")])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_max_norm_zero_negative_and_infinite_match_torch(rng, max_norm, norm_type):
    # torch takes any max_norm: rows with norm > max_norm are scaled by max_norm / (norm +
    # 1e-7), so 0 zeroes them, a negative value flips them, +inf leaves them, -inf makes
    # them infinite
    weight = rng.standard_normal((6, 4)).astype(np.float32) * 2
    idx = np.array([0, 2, 2, 5])
    ours, theirs = pair(Embedding, weight, max_norm=max_norm, norm_type=norm_type)
    close(ours(idx), theirs(torch.from_numpy(idx)))
    close(ours.weight, theirs.weight)
    if max_norm == 0:
        np.testing.assert_array_equal(ours.weight[[0, 2, 5]], 0)
    if max_norm < 0 and np.isfinite(max_norm):
        assert np.all(np.sign(ours.weight[[0, 2, 5]]) == -np.sign(weight[[0, 2, 5]]))
    np.testing.assert_array_equal(ours.weight[[1, 3, 4]], weight[[1, 3, 4]])
    ours, theirs = pair(EmbeddingBag, weight, max_norm=max_norm, norm_type=norm_type,
                        mode="sum")
    offsets = np.array([0, 1])
    close(ours(idx, offsets), theirs(torch.from_numpy(idx), torch.from_numpy(offsets)))
    close(ours.weight, theirs.weight)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), -float("inf"), 3.0])
def test_max_norm_leaves_rows_holding_nan_as_torch_does(norm_type):
    # a row holding NaN has a NaN norm (for the inf norms too: max and min propagate NaN),
    # and norm > max_norm is false: torch leaves it as it is
    weight = np.array([[3.0, np.nan, 4.0], [30.0, 0.0, 40.0]], np.float32)
    idx = np.array([0, 1])
    ours, theirs = pair(Embedding, weight, max_norm=1.0, norm_type=norm_type)
    close(ours(idx), theirs(torch.from_numpy(idx)))
    close(ours.weight, theirs.weight)
    np.testing.assert_array_equal(ours.weight[0], weight[0])


def test_max_norm_nan_is_refused_where_torch_ignores_it():
    # deliberate difference: torch takes max_norm=nan and never renormalises (norm > nan is
    # false); a NaN here is almost surely a bug upstream, so it is a ValueError
    idx = np.array([0, 1])
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(W), max_norm=float("nan"))
    close(theirs(torch.from_numpy(idx)), W[idx])
    for cls in (Embedding, EmbeddingBag):
        with pytest.raises(ValueError, match="max_norm"):
            cls.from_pretrained(W.copy(), max_norm=float("nan"))
    assert Embedding(3, 2, max_norm=0).max_norm == 0.0


def test_embedding_frozen_layer_has_no_gradient_but_max_norm_still_applies():
    weight = np.full((4, 2), 3.0, dtype=np.float32)
    layer = Embedding.from_pretrained(weight, max_norm=1.0)         # freeze=True by default
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weight), max_norm=1.0)
    idx = np.array([1, 2])
    close(layer(idx), theirs(torch.from_numpy(idx)))
    close(layer.weight, theirs.weight)
    assert not layer.requires_grad and not theirs.weight.requires_grad
    before = layer.weight.copy()
    assert layer.backward(idx, np.ones((2, 2))) is None and layer.grad is None
    layer.step(1.0)
    layer.sgd_step(idx, np.ones((2, 2)), 1.0)
    np.testing.assert_array_equal(layer.weight, before)


def test_embedding_gradients_accumulate_until_zero_grad_like_torch(rng):
    weight = rng.standard_normal((9, 3)).astype(np.float32)
    for sparse in (False, True):
        ours, theirs = pair(Embedding, weight, sparse=sparse, padding_idx=0)
        for _ in range(2):
            idx = rng.integers(0, 9, size=5)
            g = rng.standard_normal((5, 3)).astype(np.float32)
            first = ours.backward(idx, g)
            first_copy = as_dense(first, weight.shape).copy()
            theirs(torch.from_numpy(idx)).backward(torch.from_numpy(g))
        close(as_dense(first, weight.shape), first_copy)         # returned grads never change
        close(as_dense(ours.grad, weight.shape), as_dense(theirs.weight.grad, weight.shape))
        ours.step(0.5)
        torch.optim.SGD([theirs.weight], lr=0.5).step()
        close(ours.weight, theirs.weight)
        ours.zero_grad()
        assert ours.grad is None


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_sgd_step_equals_backward_then_step(rng, sparse, scale_grad_by_freq):
    weight = rng.standard_normal((20, 4)).astype(np.float32)
    kw = dict(sparse=sparse, scale_grad_by_freq=scale_grad_by_freq, padding_idx=3)
    a = Embedding.from_pretrained(weight.copy(), freeze=False, **kw)
    b = Embedding.from_pretrained(weight.copy(), freeze=False, **kw)
    idx = rng.integers(0, 20, size=(6, 5)).astype(np.int32)
    g = rng.standard_normal((6, 5, 4)).astype(np.float32)
    a.backward(idx, g)
    a.step(0.3)
    b.sgd_step(idx, g, 0.3)
    np.testing.assert_allclose(a.weight, b.weight, rtol=1e-5, atol=1e-6)
    assert b.grad is None


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bag_sgd_step_equals_backward_then_step(rng, mode):
    weight = rng.standard_normal((15, 4)).astype(np.float32)
    kw = dict(mode=mode, padding_idx=1, scale_grad_by_freq=mode != "max")
    a = EmbeddingBag.from_pretrained(weight.copy(), freeze=False, **kw)
    b = EmbeddingBag.from_pretrained(weight.copy(), freeze=False, **kw)
    input, offsets = rng.integers(0, 15, size=20), np.array([0, 3, 3, 11])
    psw = rng.random(20).astype(np.float32) if mode == "sum" else None
    g = rng.standard_normal((4, 4)).astype(np.float32)
    a.backward(input, g, offsets, psw)
    a.step(0.2)
    b.sgd_step(input, g, 0.2, offsets, psw)
    np.testing.assert_allclose(a.weight, b.weight, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_sgd_step_with_grad_output_that_is_a_view_of_the_weight(sparse):
    weight = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
    idx, lr = np.array([1, 0]), 0.5
    a = Embedding.from_pretrained(weight.copy(), freeze=False, sparse=sparse)
    b = Embedding.from_pretrained(weight.copy(), freeze=False, sparse=sparse)
    # torch's dense gradient: its sparse one keeps grad_output as its values, so there the
    # step reads rows it has already changed
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weight), freeze=False)
    a.sgd_step(idx, a.weight[:2], lr)                 # grad_output aliases rows 0 and 1
    b.backward(idx, b.weight[:2])
    b.step(lr)
    theirs(torch.from_numpy(idx)).backward(theirs.weight.detach()[:2])
    torch.optim.SGD([theirs.weight], lr=lr).step()
    close(a.weight, theirs.weight)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.weight, [[-0.5, 0], [2.5, 3], [5, 6]])


def test_step_with_a_sparse_grad_whose_rows_are_a_view_of_the_weight():
    # a SparseGrad made by hand, its rows viewing weight rows 1 and 2 that the step writes:
    # the step must use the rows as they were, as torch's SGD does with a copy
    weight = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
    layer = Embedding.from_pretrained(weight.copy(), freeze=False, sparse=True)
    layer.grad = SparseGrad(np.array([2, 1]), layer.weight[1:3], weight.shape)
    layer.step(0.5)
    expected = weight.copy()
    expected[2] -= 0.5 * weight[1]
    expected[1] -= 0.5 * weight[2]
    np.testing.assert_array_equal(layer.weight, expected)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bag_sgd_step_with_arguments_that_are_views_of_the_weight(rng, mode):
    weight = rng.standard_normal((5, 4)).astype(np.float32)
    input, offsets = np.array([0, 1, 1, 2]), np.array([0, 2])
    a = EmbeddingBag.from_pretrained(weight.copy(), freeze=False, mode=mode)
    b = EmbeddingBag.from_pretrained(weight.copy(), freeze=False, mode=mode)
    # per_sample_weights alias row 1, which the step writes
    psw_a = a.weight[1] if mode == "sum" else None
    psw_b = b.weight[1] if mode == "sum" else None
    a.sgd_step(input, a.weight[:2], 0.3, offsets, psw_a)
    b.backward(input, b.weight[:2], offsets, psw_b)
    b.step(0.3)
    np.testing.assert_allclose(a.weight, b.weight, rtol=1e-5, atol=1e-6)


def test_sparse_grad_unique_ids_for_small_batches_in_big_tables(rng):
    # a batch much smaller than the table takes the sort path rather than counting
    layer = Embedding(100_000, 3, sparse=True, padding_idx=7, rng=rng)
    idx = np.array([99_999, 7, 5, 99_999, 12])
    grad = layer.backward(idx, np.ones((5, 3), np.float32))
    np.testing.assert_array_equal(grad.ids, [5, 12, 99_999])
    np.testing.assert_array_equal(grad.rows, [[1, 1, 1], [1, 1, 1], [2, 2, 2]])
    ids, rows = grad                                              # unpacks as (ids, rows)
    assert ids is grad.ids and rows is grad.rows
    summed = grad + grad
    np.testing.assert_array_equal(summed.rows, 2 * grad.rows)
    t = grad.to_torch()
    assert t.is_sparse and t.is_coalesced() and tuple(t.shape) == (100_000, 3)


def test_embedding_float64_layer_and_int32_indices_match_torch(rng):
    layer = Embedding(7, 3, dtype=np.float64, padding_idx=-2, rng=rng)
    assert layer.weight.dtype == np.float64 and layer.padding_idx == 5
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(layer.weight), freeze=False,
                                                padding_idx=5)
    idx = np.array([[5, 1], [6, 6]], dtype=np.int32)
    close(layer(idx), theirs(torch.from_numpy(idx)), np.float64)


def test_embedding_zero_dim_and_empty_indices(rng):
    layer = Embedding(6, 4, rng=rng)
    np.testing.assert_array_equal(layer(3), layer.weight[3])
    assert layer(np.int32(2)).shape == (4,)
    assert layer([]).shape == (0, 4)
    assert layer(np.zeros((2, 0, 3), dtype=np.int64)).shape == (2, 0, 3, 4)
    np.testing.assert_array_equal(layer.backward(np.zeros(0, np.int64), np.zeros((0, 4))), 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_zero_width_embedding_has_zero_width_gradients_like_torch(sparse):
    ours = Embedding(5, 0, sparse=sparse, rng=0)
    theirs = torch.nn.Embedding(5, 0, sparse=sparse)
    idx, g = np.array([[1, 2, 2]]), np.zeros((1, 3, 0), np.float32)
    out_t = theirs(torch.from_numpy(idx))
    assert ours(idx).shape == tuple(out_t.shape) == (1, 3, 0)
    out_t.backward(torch.from_numpy(g))
    grad = ours.backward(idx, g)
    assert grad.shape == tuple(theirs.weight.grad.shape) == (5, 0)
    if sparse:
        np.testing.assert_array_equal(grad.ids, [1, 2])
        assert grad.rows.shape == (2, 0)
    ours.step(0.1)
    ours.sgd_step(idx, g, 0.1)
    assert ours.weight.shape == (5, 0)
    assert Embedding(5, 0, rng=0).backward(np.zeros(0, np.int64), np.zeros((0, 0))).shape == (5, 0)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_zero_width_bag_has_zero_width_gradients_like_torch(mode):
    ours = EmbeddingBag(5, 0, mode=mode, rng=0)
    theirs = torch.nn.EmbeddingBag(5, 0, mode=mode)
    # one bag: torch 2.13 on CPU fails ("Expected i < index_size") on more bags of width 0
    input, offsets, g = np.array([1, 2]), np.array([0]), np.zeros((1, 0), np.float32)
    out_t = theirs(torch.from_numpy(input), torch.from_numpy(offsets))
    assert ours(input, offsets).shape == tuple(out_t.shape) == (1, 0)
    out_t.backward(torch.from_numpy(g))
    assert ours.backward(input, g, offsets).shape == tuple(theirs.weight.grad.shape) == (5, 0)
    input, offsets, g = np.array([1, 2, 4]), np.array([0, 1]), np.zeros((2, 0), np.float32)
    assert ours(input, offsets).shape == (2, 0)
    assert ours.backward(input, g, offsets).shape == (5, 0)
    ours.sgd_step(input, g, 0.1, offsets)
    if mode == "sum":
        np.testing.assert_array_equal(ours.per_sample_weights_grad(input, g, offsets), 0)


def test_embedding_accepts_lists_and_non_contiguous_indices(rng):
    layer = Embedding(6, 4, rng=rng)
    idx = np.arange(12).reshape(3, 4)[:, ::2] % 6            # not contiguous
    np.testing.assert_array_equal(layer(idx), layer.weight[idx])
    np.testing.assert_array_equal(layer([[1, 2], [3, 4]]), layer.weight[[[1, 2], [3, 4]]])


# ---- construction -------------------------------------------------------------------------------

def test_new_embedding_is_standard_normal_seeded_with_zero_padding_row():
    layer = Embedding(400, 250, padding_idx=-1, rng=7)
    assert layer.weight.dtype == np.float32 and layer.weight.flags.c_contiguous
    np.testing.assert_array_equal(layer.weight[-1], 0)
    body = layer.weight[:-1]
    assert abs(body.mean()) < 0.01 and abs(body.std() - 1) < 0.01
    np.testing.assert_array_equal(Embedding(400, 250, padding_idx=-1, rng=7).weight,
                                  layer.weight)
    bag = EmbeddingBag(10, 3, padding_idx=2, rng=np.random.default_rng(1))
    assert bag.mode == "mean" and np.all(bag.weight[2] == 0)


def test_forward_and_constructor_parameters_are_named_as_in_torch():
    for ours, theirs in [(Embedding, torch.nn.Embedding), (EmbeddingBag, torch.nn.EmbeddingBag)]:
        assert (list(inspect.signature(ours.forward).parameters)
                == list(inspect.signature(theirs.forward).parameters))
        # same positional order, device and dtype included; rng is keyword-only here
        theirs_init = list(inspect.signature(theirs.__init__).parameters)
        assert list(inspect.signature(ours.__init__).parameters)[:len(theirs_init)] == theirs_init


def test_forward_takes_torchs_keywords(rng):
    weight = rng.standard_normal((5, 3)).astype(np.float32)
    ours, theirs = pair(Embedding, weight)
    ids = np.array([[1, 4], [0, 0]])
    close(ours(input=ids), theirs(input=torch.from_numpy(ids)))
    np.testing.assert_array_equal(ours(ids), ours(input=ids))
    g = np.ones((2, 2, 3), np.float32)
    np.testing.assert_array_equal(ours.backward(input=ids, grad_output=g), ours.backward(ids, g))
    ours, theirs = pair(EmbeddingBag, weight, mode="sum")
    input, offsets, psw = np.array([1, 2, 4]), np.array([0, 2]), np.float32([0.5, 2, -1])
    close(ours(input=input, offsets=offsets, per_sample_weights=psw),
          theirs(input=torch.from_numpy(input), offsets=torch.from_numpy(offsets),
                 per_sample_weights=torch.from_numpy(psw)))


@pytest.mark.parametrize("cls", [Embedding, EmbeddingBag])
def test_constructors_take_torchs_device_and_dtype(cls):
    torch_cls = torch.nn.Embedding if cls is Embedding else torch.nn.EmbeddingBag
    for device in (None, "cpu", torch.device("cpu")):
        assert cls(4, 3, device=device).weight.shape == (4, 3)
        assert torch_cls(4, 3, device=device).weight.device.type == "cpu"
    for device in ("cuda", "meta", torch.device("meta"), "cuda:0"):
        with pytest.raises(ValueError, match="device"):
            cls(4, 3, device=device)
    # dtype=None is torch's default dtype, float32 (np.dtype(None) would be float64)
    assert torch_cls(4, 3, dtype=None).weight.dtype == torch.float32
    assert cls(4, 3, dtype=None).weight.dtype == np.float32
    assert cls(4, 3).weight.dtype == np.float32
    for dtype in (np.float64, "float64", torch.float64, torch.double):
        assert cls(4, 3, dtype=dtype).weight.dtype == np.float64
    assert cls(4, 3, dtype=torch.float32).weight.dtype == np.float32
    for dtype in (torch.float16, torch.bfloat16, np.int64):
        with pytest.raises(TypeError, match="float32 or float64"):
            cls(4, 3, dtype=dtype)
    # positional as in torch: ..., device, dtype
    args = ((4, 3, None, None, 2.0, False, False, None, False) if cls is Embedding
            else (4, 3, None, 2.0, False, "mean", False, None, False, None))
    assert cls(*args, "cpu", np.float64).weight.dtype == np.float64
    assert torch_cls(*args, "cpu", torch.float64).weight.dtype == torch.float64
    with pytest.raises(ValueError, match="looks like a dtype"):
        cls(*args, np.float64)


def test_from_pretrained_shares_memory_and_keeps_padding_row():
    weight = np.ones((5, 3), dtype=np.float32)
    layer = Embedding.from_pretrained(weight, padding_idx=1)
    assert layer.weight is weight and layer.weight[1].sum() == 3
    assert EmbeddingBag.from_pretrained(weight).weight is weight
    double = np.ones((5, 3))
    assert Embedding.from_pretrained(double).weight is double         # float64 kept as is
    strided = np.ones((5, 6), dtype=np.float32)[:, ::2]
    copied = Embedding.from_pretrained(strided)
    assert copied.weight.flags.c_contiguous and not np.shares_memory(copied.weight, strided)


def test_from_keyed_vectors_encode_with_unknown_policies():
    kv = KeyedVectors(np.arange(12, dtype=np.float32).reshape(4, 3), ["<pad>", "the", "cat", "sat"])
    layer = Embedding.from_keyed_vectors(kv, padding_idx=0)
    assert layer.weight is kv.vectors and layer.key_to_index == kv.key_to_index
    assert not layer.requires_grad
    np.testing.assert_array_equal(layer.encode("the cat sat".split()), [1, 2, 3])
    assert layer.encode(["the", "dog"], unknown="skip").tolist() == [1]
    assert layer.encode(["the", "dog"], unknown=0).tolist() == [1, 0]
    assert layer.encode(iter(["cat"])).dtype == np.int64
    with pytest.raises(KeyError, match="'dog' at position 1"):
        layer.encode(["the", "dog"])
    with pytest.raises(TypeError, match="split"):
        layer.encode("the cat")
    with pytest.raises(ValueError, match="unknown"):
        layer.encode(["the"], unknown=4)
    with pytest.raises(ValueError, match="unknown"):
        layer.encode(["the"], unknown="zero")
    with pytest.raises(ValueError, match="from_keyed_vectors"):
        Embedding(3, 2).encode(["the"])


def test_encode_a_batch_of_int_ids_keeps_its_shape():
    kv = KeyedVectors(np.eye(4, dtype=np.float32), [501, 77, 9, 12])
    layer = Embedding.from_keyed_vectors(kv)
    batch = np.array([[9, 501], [12, 77], [77, 77]])
    np.testing.assert_array_equal(layer.encode(batch), [[2, 0], [3, 1], [1, 1]])
    np.testing.assert_array_equal(layer.encode(np.array([[9, 5]]), unknown=0), [[2, 0]])
    with pytest.raises(ValueError, match="'skip' cannot keep the shape"):
        layer.encode(batch, unknown="skip")
    with pytest.raises(KeyError, match="token 5 at position 1"):
        layer.encode(np.array([[9, 5]]))
    assert layer.encode(torch.tensor([77, 12])).tolist() == [1, 3]     # not tensor(77)
    np.testing.assert_array_equal(layer.encode(torch.from_numpy(batch)), layer.encode(batch))


def test_a_layer_keeps_the_vocabulary_its_rows_were_taken_with():
    """KeyedVectors that grow after from_keyed_vectors (add_vectors writes into their
    own key_to_index) do not change the layer's vocabulary: a new key is unknown to it,
    not a row past its weight."""
    kv = KeyedVectors(np.eye(3, dtype=np.float32), ["a", "b", "c"])
    layer = Embedding.from_keyed_vectors(kv, freeze=False)
    kv.add_vectors(["d"], np.ones((1, 3), np.float32))
    assert len(layer.key_to_index) == len(layer.index_to_key) == layer.num_embeddings == 3
    assert layer.encode(["a", "d"], unknown="skip").tolist() == [0]
    assert layer.encode(["a", "d"], unknown=2).tolist() == [0, 2]
    with pytest.raises(KeyError, match="'d' at position 1"):
        layer.encode(["a", "d"])
    assert EmbeddingBag.from_keyed_vectors(kv).encode(["d"]).tolist() == [3]  # a new one


def test_bag_encode_bags_makes_sentence_vectors():
    kv = KeyedVectors(np.eye(4, dtype=np.float32), ["a", "b", "c", "d"])
    for last in (False, True):
        layer = EmbeddingBag.from_keyed_vectors(kv, mode="mean", include_last_offset=last)
        input, offsets = layer.encode_bags([["a", "b"], ["zz"], ["d"]], unknown="skip")
        np.testing.assert_array_equal(input, [0, 1, 3])
        np.testing.assert_array_equal(offsets, [0, 2, 2] + ([3] if last else []))
        np.testing.assert_array_equal(layer(input, offsets),
                                      [[0.5, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]])


def test_from_keyed_vectors_accepts_gensim_keyed_vectors():
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(3)
    kv.add_vectors(["x", "y"], np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    layer = Embedding.from_keyed_vectors(kv)
    np.testing.assert_array_equal(layer(layer.encode(["y", "x"])), [[4, 5, 6], [1, 2, 3]])


def test_fine_tuning_over_keyed_vectors_refreshes_their_queries():
    # the layer writes kv.vectors in place; the unit vectors kv caches for most_similar
    # were those of before (the README's fine-tuning path answered with stale neighbours)
    kv = KeyedVectors(np.array([[1, 0], [0, 1], [1, 0.1]], dtype=np.float32), list("abc"))
    layer = Embedding.from_keyed_vectors(kv, freeze=False)
    assert kv.most_similar("a", topn=1)[0][0] == "c"
    layer.sgd_step([0], np.array([[1.0, -1.0]]), lr=1.0)              # a -> (0, 1)
    assert kv.most_similar("a", topn=1)[0] == ("b", pytest.approx(1.0))
    layer.backward([0], np.array([[-1.0, 1.0]]))
    layer.step(1.0)                                                    # a -> (1, 0)
    assert kv.most_similar("a", topn=1)[0][0] == "c"
    big = Embedding.from_keyed_vectors(kv, max_norm=0.5)               # renorms in place
    kv.fill_norms()
    big([0, 1, 2])
    assert kv.norms is None
    kv.fill_norms()
    np.testing.assert_allclose(kv.norms, [0.5, 0.5, 0.5], rtol=1e-5)
    bag = EmbeddingBag.from_keyed_vectors(kv, mode="sum", freeze=False)
    kv.most_similar("a")
    bag.sgd_step([2], np.array([[0.5, -0.5]]), lr=1.0, offsets=[0])   # c -> (0, 0.5)
    assert kv.most_similar("c", topn=1)[0][0] == "b"
    # a layer given a copy of the weight, or pickled, has its own
    copy = Embedding.from_keyed_vectors(kv, freeze=False)
    copy.weight = np.array(copy.weight)
    kv.fill_norms()
    copy.sgd_step([0], np.ones((1, 2)), lr=1.0)
    assert kv.norms is not None
    again = pickle.loads(pickle.dumps(layer))
    again.sgd_step([0], np.ones((1, 2)), lr=1.0)
    assert kv.norms is not None


def test_pickle_and_deepcopy_keep_weights_shared_as_they_were():
    """Tied layers (one weight for input and output) and a layer over KeyedVectors stay
    tied through a checkpoint's pickle or deepcopy: the copies share one array again."""
    import copy
    a = Embedding(101, 3, rng=0)
    b = EmbeddingBag.from_pretrained(a.weight, freeze=False)
    kv = KeyedVectors(np.ones((4, 3), np.float32), list("wxyz"))
    c = Embedding.from_keyed_vectors(kv, freeze=False)
    for _ in range(4):
        for a2, b2, kv2, c2 in (copy.deepcopy((a, b, kv, c)),
                                pickle.loads(pickle.dumps((a, b, kv, c)))):
            assert a2.weight is b2.weight and not np.shares_memory(a2.weight, a.weight)
            assert np.shares_memory(kv2.vectors, c2.weight)
            np.testing.assert_array_equal(b2.weight, a.weight)


def test_shallow_copies_and_plain_objects_as_vocabulary_sources():
    import copy
    import types
    kv = KeyedVectors(np.array([[1, 0], [0, 1]], dtype=np.float32), ["a", "b"])
    layer = copy.copy(Embedding.from_keyed_vectors(kv, freeze=False))  # shares the weight
    kv.fill_norms()
    layer.sgd_step([0], np.array([[1.0, -1.0]]), lr=1.0)
    assert kv.norms is None
    # any object with vectors and index_to_key (no weak references) still works
    plain = types.SimpleNamespace(vectors=np.eye(2, dtype=np.float32), index_to_key=["x", "y"])
    other = Embedding.from_keyed_vectors(plain, freeze=False)
    other.sgd_step([0], np.ones((1, 2)), lr=1.0)
    assert plain.vectors[0].tolist() == [0, -1]


def test_fine_tuning_over_gensim_keyed_vectors_refreshes_their_norms():
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(2)
    kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [0, 1], [1, 0.1]], dtype=np.float32))
    layer = Embedding.from_keyed_vectors(kv, freeze=False)
    kv.fill_norms()
    layer.sgd_step([0], np.array([[1.0, -1.0]]), lr=1.0)
    assert kv.norms is None                   # gensim's fill_norms computes them again
    kv.fill_norms()
    np.testing.assert_allclose(kv.norms, [1.0, 1.0, np.hypot(1, 0.1)], rtol=1e-6)


def test_read_only_weight_can_be_looked_up_but_not_changed():
    weight = np.ones((4, 2), dtype=np.float32)
    weight.flags.writeable = False
    layer = Embedding.from_pretrained(weight, freeze=False)
    np.testing.assert_array_equal(layer([1, 2]), 1)
    layer.backward([1], np.ones((1, 2)))
    with pytest.raises(ValueError, match="read-only"):
        layer.step(0.1)
    with pytest.raises(ValueError, match="read-only"):
        Embedding.from_pretrained(weight, max_norm=1.0)([1])


def test_read_only_weight_is_not_handed_to_torch_to_write():
    # torch ignores numpy's read-only flag and writing a read-only memory map crashes the
    # process: training it (or max_norm) is refused, a frozen lookup shares it
    weight = np.ones((4, 2), dtype=np.float32)
    weight.flags.writeable = False
    for layer in (Embedding.from_pretrained(weight, freeze=False),
                  Embedding.from_pretrained(weight, max_norm=1.0),
                  EmbeddingBag.from_pretrained(weight, freeze=False)):
        with pytest.raises(ValueError, match="read-only.*writable copy"):
            layer.to_torch()
    with warnings.catch_warnings():          # torch warns (once a process) of read-only arrays
        warnings.simplefilter("ignore")
        frozen = Embedding.from_pretrained(weight).to_torch()
    assert frozen.weight.data_ptr() == weight.ctypes.data


def test_from_torch_refuses_a_weight_it_cannot_share():
    module = torch.nn.Embedding(3, 4)
    module.weight = torch.nn.Parameter(torch.randn(4, 3).t())      # a transposed view
    with pytest.raises(ValueError, match="not contiguous"):
        Embedding.from_torch(module)
    module.weight.data = module.weight.data.contiguous()
    assert Embedding.from_torch(module).weight.ctypes.data == module.weight.data_ptr()


def test_new_weight_forgets_the_gradient_and_step_checks_it(rng):
    # as a new torch Parameter starts without a gradient: the old one may name rows the
    # new weight does not have
    layer = Embedding(1000, 4, sparse=True, rng=rng)
    layer.backward(np.array([999]), np.ones((1, 4), np.float32))
    layer.weight = layer.weight[:10].copy()
    assert layer.grad is None
    layer.step(0.1)                                     # nothing to do
    layer.grad = SparseGrad(np.array([3]), np.ones((1, 4), np.float32), (1000, 4))
    with pytest.raises(ValueError, match="shape"):
        layer.step(0.1)
    dense = Embedding(1, 3, rng=rng)
    dense.grad = np.ones((1, 3), np.float32)           # would broadcast over 4 rows
    dense.weight = np.zeros((4, 3), np.float32)
    dense.grad = np.ones((1, 3), np.float32)
    with pytest.raises(ValueError, match="weight's shape"):
        dense.step(1.0)
    np.testing.assert_array_equal(dense.weight, 0)
    # what step() trusts cannot change: ids checked when the gradient was made
    ids = np.array([1])
    grad = SparseGrad(ids, np.ones((1, 3)), (4, 3))
    for name in ("ids", "rows", "shape"):
        with pytest.raises(AttributeError):
            setattr(grad, name, getattr(grad, name))
    with pytest.raises(ValueError, match="read-only"):
        grad.ids[0] = 10**9
    ids[0] = 10**9                                     # the caller's array is not the grad's
    dense.grad = grad
    dense.step(1.0)
    np.testing.assert_array_equal(dense.weight, [[0] * 3, [-1] * 3, [0] * 3, [0] * 3])
    made = Embedding(4, 3, sparse=True, rng=rng).backward(np.array([2]), np.ones((1, 3)))
    with pytest.raises(ValueError, match="read-only"):
        made.ids[0] = 10**9


def test_sparse_grad_made_by_hand_is_checked_and_coalesced():
    rows = np.arange(8, dtype=np.float32).reshape(4, 2)
    with pytest.raises(IndexError, match="out of range"):
        SparseGrad(np.array([0, 5]), rows[:2], (5, 2))
    with pytest.raises(IndexError, match="out of range"):
        SparseGrad(np.array([-1]), rows[:1], (5, 2))
    with pytest.raises(IndexError, match="out of range"):
        SparseGrad(np.array([2**64 - 1], dtype=np.uint64), rows[:1], (5, 2))
    with pytest.raises(TypeError, match="integer"):
        SparseGrad(np.array([0.0]), rows[:1], (5, 2))
    with pytest.raises(ValueError, match="rows has shape"):
        SparseGrad(np.array([0, 1]), rows[:1], (5, 2))
    with pytest.raises(TypeError, match="float32 or float64"):
        SparseGrad(np.array([0]), np.ones((1, 2), np.int64), (5, 2))
    with pytest.raises(ValueError, match="shape must be"):
        SparseGrad(np.array([0]), rows[:1], (5,))
    empty = SparseGrad([], np.zeros((0, 2), np.float32), (5, 2))      # no rows at all
    assert empty.ids.dtype == np.int64 and not empty.to_dense().any()
    g = SparseGrad(np.array([3, 1, 3, 0], dtype=np.int32), rows, (5, 2))
    expected = np.zeros((5, 2), np.float32)
    np.add.at(expected, [3, 1, 3, 0], rows)
    np.testing.assert_array_equal(g.ids, [0, 1, 3])
    assert g.ids.dtype == np.int64
    np.testing.assert_array_equal(g.to_dense(), expected)
    np.testing.assert_array_equal((g + g).to_dense(), 2 * expected)
    np.testing.assert_array_equal(g.to_torch().to_dense().numpy(), expected)
    with pytest.raises(TypeError, match="float32 and float64"):
        g + SparseGrad(np.array([0]), np.ones((1, 2)), (5, 2))


def test_sparse_grad_to_torch_checks_invariants_explicitly(monkeypatch):
    # torch 2.11 warns "Sparse invariant checks are implicitly disabled" on every
    # to_torch() unless the global switch is set around the constructor (the
    # constructor's own check_invariants=True does not silence it there)
    switch_seen = []
    original = torch.sparse_coo_tensor

    def recording(*args, **kwargs):
        switch_seen.append(torch.sparse.check_sparse_tensor_invariants.is_enabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "sparse_coo_tensor", recording)
    g = SparseGrad(np.array([2, 0]), np.ones((2, 3), np.float32), (4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = g.to_torch()
    assert switch_seen == [True]
    assert not torch.sparse.check_sparse_tensor_invariants.is_enabled()   # restored
    assert t.is_coalesced()
    np.testing.assert_array_equal(t.to_dense().numpy(), g.to_dense())


def test_sparse_grad_to_torch_from_two_threads_leaves_the_switch_off(monkeypatch):
    # the switch is one per process: two calls inside it at once could restore each
    # other's saved state in the wrong order and leave the checks on for everything else
    inside, most = [0], [0]
    original = torch.sparse_coo_tensor

    def slow(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.02)                      # lets the other thread run
        inside[0] -= 1
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "sparse_coo_tensor", slow)
    g = SparseGrad(np.array([1]), np.ones((1, 2), np.float32), (3, 2))
    start = threading.Barrier(2)
    errors = []

    def call():
        start.wait()
        try:
            for _ in range(3):
                g.to_torch()
        except Exception as e:             # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert most[0] == 1
    assert not torch.sparse.check_sparse_tensor_invariants.is_enabled()


@pytest.mark.parametrize("n_rows", [8, 100_000])     # counted in a table / by sorting
@pytest.mark.parametrize("sparse", [False, True])
def test_scale_grad_by_freq_counts_in_the_batch(rng, n_rows, sparse):
    weight = rng.standard_normal((n_rows, 3)).astype(np.float32)
    ours, theirs = pair(Embedding, weight, scale_grad_by_freq=True)
    ours.sparse = sparse                 # torch refuses sparse gradients scaled by frequency
    idx = np.array([[5, 2, 5], [7, 5, 2]])
    d_out = rng.standard_normal((2, 3, 3)).astype(np.float32)
    theirs(torch.from_numpy(idx)).backward(torch.from_numpy(d_out))
    close(as_dense(ours.backward(idx, d_out), weight.shape), as_dense(theirs.weight.grad,
                                                                        weight.shape))
    ours.sgd_step(idx, d_out, 0.5)
    torch.optim.SGD([theirs.weight], lr=0.5).step()
    close(ours.weight, theirs.weight)


@pytest.mark.parametrize("n_rows", [8, 100_000])     # counted in a table / by sorting
def test_sparse_scale_grad_by_freq_counts_the_batch_once(rng, n_rows, monkeypatch):
    import types
    from fastw2v import embedding
    calls = []

    def count_ids(*args):
        calls.append("table")
        return _lookup.count_ids(*args)

    def unique(*args, **kw):
        calls.append("sort")
        return np_unique(*args, **kw)

    np_unique = np.unique
    kernels = {k: getattr(_lookup, k) for k in dir(_lookup) if not k.startswith("__")}
    monkeypatch.setattr(embedding, "_lookup",
                        types.SimpleNamespace(**{**kernels, "count_ids": count_ids}))
    monkeypatch.setattr(embedding.np, "unique", unique)
    weight = rng.standard_normal((n_rows, 3)).astype(np.float32)
    idx = np.array([[5, 2, 5], [7, 5, 2], [3, 3, 5]])
    d_out = rng.standard_normal((3, 3, 3)).astype(np.float32)
    kw = dict(scale_grad_by_freq=True, padding_idx=3)
    sparse = Embedding.from_pretrained(weight, freeze=False, sparse=True, **kw)
    grad = sparse.backward(idx, d_out)
    assert calls == ["table" if n_rows == 8 else "sort"]
    dense = Embedding.from_pretrained(weight, freeze=False, **kw).backward(idx, d_out)
    np.testing.assert_array_equal(grad.ids, [2, 5, 7])
    close(grad.to_dense(), dense)


def test_numeric_settings_must_be_numbers():
    for kwargs in ({"max_norm": "1.5"}, {"norm_type": "2"}):
        with pytest.raises(TypeError, match="must be a number"):
            Embedding(3, 2, **kwargs)
    layer = Embedding(3, 2, max_norm=np.float32(1.5), norm_type=torch.tensor(2.0), rng=0)
    assert (layer.max_norm, layer.norm_type) == (1.5, 2.0)
    layer.backward([0], np.ones((1, 2)))
    with pytest.raises(TypeError, match="lr must be a number"):
        layer.step("0.1")
    layer.step(np.array(0.1))                          # numpy and torch scalars are numbers


def test_weight_assignment_is_checked(rng):
    layer = Embedding(5, 2, padding_idx=4, rng=rng)
    layer.weight = np.zeros((6, 3), dtype=np.float32)
    assert (layer.num_embeddings, layer.embedding_dim) == (6, 3)
    with pytest.raises(ValueError, match="padding_idx"):
        layer.weight = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        layer.weight = np.zeros((6, 3), dtype=np.float16)


def test_repr_names_the_settings():
    assert repr(Embedding(10, 3, padding_idx=0, sparse=True)) == \
        "Embedding(10, 3, padding_idx=0, sparse=True)"
    assert repr(EmbeddingBag(10, 3, mode="sum")) == "EmbeddingBag(10, 3, mode='sum')"


# ---- conformance: exception types ---------------------------------------------------------------
# Where torch raises a Python-level type (IndexError, ValueError, NotImplementedError) we raise
# the same; where it raises RuntimeError or AssertionError we raise TypeError / ValueError /
# IndexError instead (an assert disappears under python -O). The table pins every pair.

W = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)


def _emb(ns, **kw):
    return (Embedding.from_pretrained(W.copy(), **kw) if ns is np
            else torch.nn.Embedding.from_pretrained(torch.tensor(W), **kw))


def _bag(ns, **kw):
    return (EmbeddingBag.from_pretrained(W.copy(), **kw) if ns is np
            else torch.nn.EmbeddingBag.from_pretrained(torch.tensor(W), **kw))


def _arr(ns, values, dtype=None):
    a = np.array(values, dtype=dtype)
    return a if ns is np else torch.from_numpy(a)


ERROR_CASES = [
    # (name, call(ns), torch's type, ours)
    ("float indices", lambda ns: _emb(ns)(_arr(ns, [1.0])), RuntimeError, TypeError),
    ("bool indices", lambda ns: _emb(ns)(_arr(ns, [True])), RuntimeError, TypeError),
    ("int16 indices", lambda ns: _emb(ns)(_arr(ns, [1], np.int16)), RuntimeError, TypeError),
    ("uint8 indices", lambda ns: _emb(ns)(_arr(ns, [1], np.uint8)), RuntimeError, TypeError),
    ("index too large", lambda ns: _emb(ns)(_arr(ns, [0, 5])), IndexError, IndexError),
    ("negative index", lambda ns: _emb(ns)(_arr(ns, [-1])), IndexError, IndexError),
    ("index too large, max_norm", lambda ns: _emb(ns, max_norm=1.0)(_arr(ns, [5])),
     IndexError, IndexError),
    ("padding_idx too large", lambda ns: _emb(ns, padding_idx=5), AssertionError, ValueError),
    ("padding_idx too small", lambda ns: _emb(ns, padding_idx=-6), AssertionError, ValueError),
    ("1-D pretrained", lambda ns: (Embedding if ns is np else torch.nn.Embedding)
     .from_pretrained(_arr(ns, [1.0, 2.0])), AssertionError, ValueError),
    ("_weight shape", lambda ns: (Embedding if ns is np else torch.nn.Embedding)
     (4, 3, _weight=_arr(ns, W)), AssertionError, ValueError),
    ("negative size", lambda ns: (Embedding if ns is np else torch.nn.Embedding)(-1, 3),
     RuntimeError, ValueError),
    ("bag index too large", lambda ns: _bag(ns)(_arr(ns, [1, 5]), _arr(ns, [0])),
     RuntimeError, IndexError),
    ("bag negative index", lambda ns: _bag(ns)(_arr(ns, [-1]), _arr(ns, [0])),
     RuntimeError, IndexError),
    ("bag float input", lambda ns: _bag(ns)(_arr(ns, [1.0]), _arr(ns, [0])),
     RuntimeError, TypeError),
    ("bag float offsets", lambda ns: _bag(ns)(_arr(ns, [1]), _arr(ns, [0.0])),
     RuntimeError, TypeError),
    ("psw with mean", lambda ns: _bag(ns, mode="mean")(_arr(ns, [1, 2]), _arr(ns, [0]),
                                                       per_sample_weights=_arr(ns, [1.0, 1.0],
                                                                               np.float32)),
     NotImplementedError, NotImplementedError),
    ("psw with max", lambda ns: _bag(ns, mode="max")(_arr(ns, [1, 2]), _arr(ns, [0]),
                                                     per_sample_weights=_arr(ns, [1.0, 1.0],
                                                                             np.float32)),
     NotImplementedError, NotImplementedError),
    ("psw shape", lambda ns: _bag(ns, mode="sum")(_arr(ns, [1, 2]), _arr(ns, [0]),
                                                  per_sample_weights=_arr(ns, [1.0], np.float32)),
     ValueError, ValueError),
    ("2-D input with offsets", lambda ns: _bag(ns)(_arr(ns, [[1, 2]]), _arr(ns, [0])),
     ValueError, ValueError),
    ("1-D input without offsets", lambda ns: _bag(ns)(_arr(ns, [1, 2])), ValueError, ValueError),
    ("3-D input", lambda ns: _bag(ns)(_arr(ns, [[[1]]])), ValueError, ValueError),
    ("2-D offsets", lambda ns: _bag(ns)(_arr(ns, [1, 2]), _arr(ns, [[0]])),
     ValueError, ValueError),
    ("offsets[0] != 0", lambda ns: _bag(ns)(_arr(ns, [1, 2]), _arr(ns, [1])),
     RuntimeError, ValueError),
    ("offsets past input", lambda ns: _bag(ns)(_arr(ns, [1, 2, 3]), _arr(ns, [0, 4])),
     RuntimeError, ValueError),
    ("decreasing offsets", lambda ns: _bag(ns)(_arr(ns, [1, 2, 3]), _arr(ns, [0, 2, 1])),
     RuntimeError, ValueError),
    ("include_last_offset, no offsets",
     lambda ns: _bag(ns, include_last_offset=True)(_arr(ns, [1]), _arr(ns, [], np.int64)),
     RuntimeError, ValueError),
    ("bad mode", lambda ns: _bag(ns, mode="min")(_arr(ns, [1]), _arr(ns, [0])),
     ValueError, ValueError),
    ("max with scale_grad_by_freq",
     lambda ns: _bag(ns, mode="max", scale_grad_by_freq=True)(_arr(ns, [1]), _arr(ns, [0])),
     ValueError, ValueError),
    ("max with sparse", lambda ns: _bag(ns, mode="max", sparse=True)(_arr(ns, [1]), _arr(ns, [0])),
     ValueError, ValueError),
    ("bag padding_idx too large", lambda ns: _bag(ns, padding_idx=5), AssertionError, ValueError),
]


@pytest.mark.parametrize("name, call, torch_type, our_type", ERROR_CASES,
                         ids=[c[0] for c in ERROR_CASES])
def test_error_types_match_torch(name, call, torch_type, our_type):
    with pytest.raises(Exception) as theirs:
        call(torch)
    assert type(theirs.value) is torch_type, f"torch raised {theirs.value!r}"
    with pytest.raises(Exception) as ours:
        call(np)
    assert type(ours.value) is our_type, f"we raised {ours.value!r}"


ID_DTYPES_ALL = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.uint16,
                 np.uint32, np.uint64, np.float32]


@pytest.mark.parametrize("offsets_dtype", ID_DTYPES_ALL, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("input_dtype", ID_DTYPES_ALL, ids=lambda t: np.dtype(t).name)
def test_bag_input_and_offsets_dtypes_promote_as_in_torch(input_dtype, offsets_dtype):
    # torch converts input and offsets to their promoted type, which must be int32 or int64
    # (so int16 offsets work with int32 input, and int8 input with int64 offsets); it does
    # not promote uint16/32/64 (RuntimeError; TypeError here), nor floats
    input = np.array([1, 0, 1, 1]).astype(input_dtype)
    offsets = np.array([0, 1]).astype(offsets_dtype)
    ours, theirs = pair(EmbeddingBag, W, mode="sum")
    try:
        out_t = theirs(torch.from_numpy(input), torch.from_numpy(offsets))
    except RuntimeError:
        with pytest.raises(TypeError, match="int32 or int64"):
            ours(input, offsets)
        with pytest.raises(TypeError, match="int32 or int64"):
            ours.backward(input, np.ones((2, 3), np.float32), offsets)
        return
    close(ours(input, offsets), out_t)
    g = np.arange(6, dtype=np.float32).reshape(2, 3)
    out_t.backward(torch.from_numpy(g))
    close(ours.backward(input, g, offsets), theirs.weight.grad)
    ours, theirs = pair(EmbeddingBag, W, mode="max", include_last_offset=True)
    bounds = np.array([0, 1, 1]).astype(offsets_dtype)     # bags [input[0]] and []
    close(ours(input[:1], bounds), theirs(torch.from_numpy(input[:1]), torch.from_numpy(bounds)))


def test_index_error_names_the_index_position_and_range():
    layer = Embedding.from_pretrained(W.copy(), max_norm=0.1)
    with pytest.raises(IndexError, match=r"index 9 at position \(1, 0\).*0 <= index < 5"):
        layer(np.array([[0, 1], [9, 2]]))
    np.testing.assert_array_equal(layer.weight, W)       # checked before any renormalisation
    with pytest.raises(TypeError, match="int32 or int64"):
        layer(np.array([0.5]))
    with pytest.raises(IndexError, match="index -1 at position 2"):
        EmbeddingBag.from_pretrained(W)(np.array([0, 1, -1]), np.array([0]))


def test_bad_arguments_raise_with_the_fix():
    with pytest.raises(TypeError, match="float32 or float64"):
        Embedding(3, 2, dtype=np.float16)
    with pytest.raises(TypeError, match="int"):
        Embedding(3.0, 2)
    with pytest.raises(ValueError, match="max_norm"):
        Embedding(3, 2, max_norm=float("nan"))
    with pytest.raises(ValueError, match="device"):
        Embedding(3, 2, device="cuda")
    with pytest.raises(ValueError, match="lr"):
        Embedding(3, 2).step(float("nan"))
    layer = Embedding(3, 2)
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        layer.backward([0, 1], np.ones((2, 3)))
    with pytest.raises(TypeError, match="float"):
        layer.backward([0, 1], np.ones((2, 2), dtype=np.int64))


# ---- interop ------------------------------------------------------------------------------------

def test_import_fastw2v_does_not_import_torch():
    code = "import sys, fastw2v; fastw2v.Embedding(3, 2); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_embedding_to_torch_shares_memory_and_settings(rng):
    layer = Embedding(8, 3, padding_idx=-1, max_norm=2.0, norm_type=1.0,
                      scale_grad_by_freq=True, sparse=True, rng=rng)
    module = layer.to_torch()
    assert isinstance(module, torch.nn.Embedding)
    assert module.weight.data_ptr() == layer.weight.ctypes.data
    assert (module.padding_idx, module.max_norm, module.norm_type) == (7, 2.0, 1.0)
    assert module.scale_grad_by_freq and module.sparse and module.weight.requires_grad
    with torch.no_grad():
        module.weight[0] = 42.0
    np.testing.assert_array_equal(layer.weight[0], 42.0)
    assert not Embedding(3, 2, _freeze=True).to_torch().weight.requires_grad
    idx = np.array([1, 5, 5])
    close(layer(idx), module(torch.from_numpy(idx)))


def test_bag_to_torch_and_back_share_memory(rng):
    layer = EmbeddingBag(8, 3, mode="max", include_last_offset=True, padding_idx=2, rng=rng)
    module = layer.to_torch()
    assert isinstance(module, torch.nn.EmbeddingBag)
    assert (module.mode, module.include_last_offset, module.padding_idx) == ("max", True, 2)
    assert module.weight.data_ptr() == layer.weight.ctypes.data
    back = EmbeddingBag.from_torch(module)
    assert np.shares_memory(back.weight, layer.weight)
    assert (back.mode, back.include_last_offset, back.padding_idx) == ("max", True, 2)
    input, offsets = np.array([1, 2, 4, 7]), np.array([0, 2, 4])
    close(back(input, offsets), module(torch.from_numpy(input), torch.from_numpy(offsets)))


def test_embedding_from_torch_shares_memory_and_freeze():
    module = torch.nn.Embedding(6, 2, padding_idx=0, max_norm=3.0)
    layer = Embedding.from_torch(module)
    assert np.shares_memory(layer.weight, module.weight.detach().numpy())
    assert layer.requires_grad and layer.padding_idx == 0 and layer.max_norm == 3.0
    module.weight.requires_grad_(False)
    assert not Embedding.from_torch(module).requires_grad


def test_dlpack_exports_the_weight_without_a_copy(rng):
    layer = Embedding(5, 4, rng=rng)
    tensor = torch.from_dlpack(layer)
    assert tensor.data_ptr() == layer.weight.ctypes.data and tuple(tensor.shape) == (5, 4)
    tensor[1, 2] = 7.0
    assert layer.weight[1, 2] == 7.0
    assert np.shares_memory(np.from_dlpack(layer), layer.weight)
    assert layer.__dlpack_device__() == layer.weight.__dlpack_device__()
    assert torch.from_dlpack(EmbeddingBag(2, 2)).shape == (2, 2)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bags_of_a_2d_input_with_no_columns_are_empty_bags(mode):
    """(B, 0) ids are B empty bags: zero rows, as torch gives B empty bags made by
    offsets; torch itself raises "step must be nonzero" for the 2-D form."""
    layer = EmbeddingBag(5, 3, mode=mode, rng=0)
    module = layer.to_torch()
    by_offsets = module(torch.zeros(0, dtype=torch.long), torch.zeros(4, dtype=torch.long))
    np.testing.assert_array_equal(layer(np.zeros((4, 0), np.int64)), by_offsets.detach().numpy())
    assert layer(np.zeros((4, 0), np.int64)).shape == (4, 3)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        module(torch.zeros((4, 0), dtype=torch.long))


def test_dlpack_refuses_a_read_only_weight(tmp_path):
    """torch.from_dlpack ignores DLPack's read-only flag: a tensor over a read-only
    memory map, written, would crash the process (a segfault), so the export is refused
    with what to do instead."""
    path = tmp_path / "w.npy"
    np.save(path, np.ones((4, 3), np.float32))
    layer = Embedding.from_pretrained(np.load(path, mmap_mode="r"))
    with pytest.raises(BufferError, match=r"read-only.*np.array\(layer.weight\)"):
        torch.from_dlpack(layer)
    with pytest.raises(BufferError, match="read-only"):
        np.from_dlpack(EmbeddingBag.from_pretrained(np.load(path, mmap_mode="r")))
    layer.weight = np.array(layer.weight)                 # the fix the message gives
    torch.from_dlpack(layer).mul_(2)
    assert layer.weight[0, 0] == 2


def test_jax_shares_the_weight_memory():
    """JAX shares a numpy array's memory only when its data starts on a 64-byte boundary
    (it copies others): every weight fastw2v makes does, also after a copy to float32.
    In a child process: JAX starts threads, and the Ctrl-C tests fork."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    code = textwrap.dedent("""
        import numpy as np, jax.numpy as jnp
        from fastw2v import Embedding, EmbeddingBag
        layers = [Embedding(1000, 37), EmbeddingBag(3, 5),
                  Embedding.from_pretrained(np.ones((7, 3))[:, :2].astype(">f4"))]
        for layer in layers:
            array = jnp.from_dlpack(layer)
            assert array.unsafe_buffer_pointer() == layer.weight.ctypes.data, layer
            np.testing.assert_array_equal(np.asarray(array), layer.weight)
        print("shared")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "shared", out.stderr[-2000:]


def test_weights_made_here_start_on_64_byte_boundaries(rng):
    for _ in range(20):   # numpy's own allocations are 16-byte aligned
        layer = Embedding(int(rng.integers(1, 300)), int(rng.integers(1, 70)), rng=rng)
        assert layer.weight.ctypes.data % 64 == 0 and layer.weight.flags.c_contiguous
        assert layer.weight.flags.writeable and layer.weight.dtype == np.float32
    converted = Embedding.from_pretrained(np.ones((5, 6), np.float32)[:, ::2])   # a copy
    assert converted.weight.ctypes.data % 64 == 0 and converted.weight.flags.c_contiguous
    np.testing.assert_array_equal(converted.weight, np.ones((5, 3)))


# ---- kernels against numpy references -----------------------------------------------------------

def kernel_inputs(rng, real, id_type, n=12, dim=5, n_ids=40):
    weight = rng.standard_normal((n, dim)).astype(real)
    ids = rng.integers(0, n, size=n_ids).astype(id_type)
    bounds = np.array([0, 0, 7, 7, 20, 39, 40], dtype=np.int64)
    return weight, ids, bounds


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
def test_kernel_gather_rows(rng, real, id_type):
    weight, ids, _ = kernel_inputs(rng, real, id_type)
    out = np.empty((ids.size, weight.shape[1]), dtype=real)
    _lookup.gather_rows(weight, ids, out)
    np.testing.assert_array_equal(out, weight[ids])


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
@pytest.mark.parametrize("mean", [False, True])
@pytest.mark.parametrize("with_psw", [False, True])
def test_kernel_bag_sum(rng, real, id_type, mean, with_psw):
    weight, ids, bounds = kernel_inputs(rng, real, id_type)
    psw = rng.random(ids.size).astype(real) if with_psw else None
    pad = int(ids[3])
    out = np.full((bounds.size - 1, weight.shape[1]), np.nan, dtype=real)
    _lookup.bag_sum(weight, ids, bounds, psw, mean, pad, out)
    a = bag_matrix(ids, bounds, weight.shape[0], psw, mean, pad)
    np.testing.assert_allclose(out, a @ weight, **TOL[real])


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
def test_kernel_bag_max_and_its_scatter(rng, real, id_type):
    weight, ids, bounds = kernel_inputs(rng, real, id_type)
    pad = int(ids[0])
    n_bags, dim = bounds.size - 1, weight.shape[1]
    out = np.empty((n_bags, dim), dtype=real)
    arg = np.empty((n_bags, dim), dtype=np.int64)
    _lookup.bag_max(weight, ids, bounds, pad, out, arg)
    grad = rng.standard_normal((n_bags, dim)).astype(real)
    dst = np.zeros_like(weight)
    _lookup.bag_max_scatter(grad, arg, 2.0, dst)
    expected_dst = np.zeros_like(weight)
    for b in range(n_bags):
        kept = [int(i) for i in ids[bounds[b]:bounds[b + 1]] if i != pad]
        if not kept:
            np.testing.assert_array_equal(out[b], 0)
            np.testing.assert_array_equal(arg[b], -1)
            continue
        rows = weight[kept]                                        # (k, dim)
        np.testing.assert_array_equal(out[b], rows.max(axis=0))
        winners = np.array(kept)[rows.argmax(axis=0)]              # first maximum
        np.testing.assert_array_equal(arg[b], winners)
        expected_dst[winners, np.arange(dim)] += 2.0 * grad[b]
    np.testing.assert_allclose(dst, expected_dst, **TOL[real])


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
@pytest.mark.parametrize("mean, with_psw, with_counts, with_slot",
                         [(False, False, False, False), (True, False, True, False),
                          (False, True, True, True), (True, False, False, True)])
def test_kernel_bag_scatter(rng, real, id_type, mean, with_psw, with_counts, with_slot):
    weight, ids, bounds = kernel_inputs(rng, real, id_type)
    n, dim = weight.shape
    pad = int(ids[5])
    psw = rng.random(ids.size).astype(real) if with_psw else None
    counts = np.bincount(ids, minlength=n).astype(np.int64) if with_counts else None
    grad = rng.standard_normal((bounds.size - 1, dim)).astype(real)
    a = bag_matrix(ids, bounds, n, psw, mean, pad, counts)
    expected = -0.5 * (a.T @ grad)                                  # (n, dim)
    if with_slot:
        uniq = np.unique(ids)
        slot = np.searchsorted(uniq, ids).astype(np.int64)
        dst = np.zeros((uniq.size, dim), dtype=real)
        expected = expected[uniq]
    else:
        slot, dst = None, np.zeros_like(weight)
    per_position = None if counts is None else counts[ids]      # how often each id occurs
    _lookup.bag_scatter(grad, ids, bounds, psw, mean, per_position, slot, pad, -0.5, dst)
    np.testing.assert_allclose(dst, expected, **TOL[real])


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
def test_kernel_scatter_without_bounds_sums_duplicates_like_add_at(rng, real, id_type):
    weight, ids, _ = kernel_inputs(rng, real, id_type)
    grad = rng.standard_normal((ids.size, weight.shape[1])).astype(real)
    dst = np.zeros_like(weight)
    _lookup.bag_scatter(grad, ids, None, None, False, None, None, -1, 1.0, dst)
    expected = np.zeros_like(weight)
    np.add.at(expected, ids, grad)
    np.testing.assert_allclose(dst, expected, **TOL[real])


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
def test_kernel_bag_psw_grad(rng, real, id_type):
    weight, ids, bounds = kernel_inputs(rng, real, id_type)
    grad = rng.standard_normal((bounds.size - 1, weight.shape[1])).astype(real)
    pad = int(ids[9])
    gpsw = np.zeros(ids.size, dtype=real)
    _lookup.bag_psw_grad(weight, ids, bounds, grad, pad, gpsw)
    bag_of = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
    expected = np.einsum("ij,ij->i", grad[bag_of], weight[ids])
    expected[ids == pad] = 0
    np.testing.assert_allclose(gpsw, expected, **TOL[real])


@pytest.mark.parametrize("real", REALS)
@pytest.mark.parametrize("id_type", IDS)
@pytest.mark.parametrize("norm_type", NORM_TYPES + [0.0])
def test_kernel_renorm_rows(rng, real, id_type, norm_type):
    weight, ids, _ = kernel_inputs(rng, real, id_type)
    ids = ids[:10]
    before = weight.copy()
    _lookup.renorm_rows(weight, ids, 1.2, norm_type)
    for r in range(weight.shape[0]):
        row = before[r].astype(np.float64)
        norm = np.count_nonzero(row) if norm_type == 0 else np.linalg.norm(row, ord=norm_type)
        norm = float(real(norm))
        if r in ids and norm > 1.2:
            np.testing.assert_allclose(weight[r], before[r] * real(1.2 / (norm + 1e-7)),
                                       **TOL[real])
        else:
            np.testing.assert_array_equal(weight[r], before[r])


@pytest.mark.parametrize("id_type", IDS)
def test_kernel_find_bad_id_and_count_ids(rng, id_type):
    ids = rng.integers(0, 50, size=5000).astype(id_type)
    assert _lookup.find_bad_id(ids, 50) == -1
    assert _lookup.find_bad_id(ids[:0], 0) == -1
    for pos, value in [(0, 50), (1023, -1), (1024, 99), (4999, np.iinfo(id_type).min)]:
        bad = ids.copy()
        bad[pos] = value
        assert _lookup.find_bad_id(bad, 50) == pos
    np.testing.assert_array_equal(_lookup.count_ids(ids, 60), np.bincount(ids, minlength=60))


def test_kernel_wrappers_check_shapes():
    weight = np.zeros((4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="out has shape"):
        _lookup.gather_rows(weight, np.array([1], dtype=np.int64), np.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match="bounds"):
        _lookup.bag_sum(weight, np.array([1]), np.zeros(0, np.int64), None, False, -1,
                        np.empty((0, 3), np.float32))


def test_kernels_run_in_threads_without_the_gil(rng):
    # correctness from several threads at once; the kernels hold no global state
    weight = rng.standard_normal((1000, 16)).astype(np.float32)
    ids = rng.integers(0, 1000, size=(4, 50_000))
    outs = [np.empty((50_000, 16), np.float32) for _ in range(4)]
    threads = [threading.Thread(target=_lookup.gather_rows, args=(weight, ids[k], outs[k]))
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        np.testing.assert_array_equal(outs[k], weight[ids[k]])


# ---- memory safety under the range checks ----------------------------------------------------

_W = np.zeros((4, 3), np.float32)
_BAD = np.array([0, 4], np.int64)                   # 4: one past the last row
_BOUNDS = np.array([0, 1, 2], np.int64)
_G = np.ones((2, 3), np.float32)


@pytest.mark.parametrize("name, call", [
    ("gather_rows", lambda: _lookup.gather_rows(_W, _BAD, np.empty((2, 3), np.float32))),
    ("bag_sum", lambda: _lookup.bag_sum(_W, _BAD, _BOUNDS, None, False, -1,
                                        np.empty((2, 3), np.float32))),
    ("bag_max", lambda: _lookup.bag_max(_W, _BAD, _BOUNDS, -1, np.empty((2, 3), np.float32))),
    ("bag_scatter", lambda: _lookup.bag_scatter(_G, _BAD, None, None, False, None, None, -1,
                                                1.0, _W.copy())),
    ("bag_scatter slot", lambda: _lookup.bag_scatter(_G, np.zeros(2, np.int64), None, None,
                                                     False, None, _BAD, -1, 1.0, _W.copy())),
    ("bag_psw_grad", lambda: _lookup.bag_psw_grad(_W, _BAD, _BOUNDS, _G, -1,
                                                  np.zeros(2, np.float32))),
    ("renorm_rows", lambda: _lookup.renorm_rows(_W.copy(), _BAD, 1.0, 2.0)),
    ("count_ids", lambda: _lookup.count_ids(_BAD, 4)),
    ("bag_max_scatter", lambda: _lookup.bag_max_scatter(_G, np.array([[0, 1, 4], [0, 0, 0]]),
                                                        1.0, _W.copy())),
])
def test_kernels_refuse_ids_outside_the_array_they_index(name, call):
    # the layers check ids first; the kernels trusted that check, and another thread
    # replacing the weight (or writing the caller's ids) in between made them read and
    # write outside the weight: a crash, not an error
    with pytest.raises(IndexError, match=r"outside \[0, 4\)|outside the 4 rows"):
        call()


@pytest.mark.parametrize("bounds", [[0, 3, 2], [0, 1, 5], [-1, 1, 2]])
def test_bag_kernels_refuse_bounds_outside_the_ids(bounds):
    with pytest.raises(ValueError, match="bag bounds must rise from 0 to at most the 2 ids"):
        _lookup.bag_sum(_W, np.array([0, 1]), np.array(bounds, np.int64), None, False, -1,
                        np.empty((2, 3), np.float32))


def test_a_weight_replaced_during_a_call_gives_an_error_not_a_crash(monkeypatch):
    # what another thread's `layer.weight = smaller` between the check and the kernel
    # did, made to happen exactly there
    for layer, call in [
            (Embedding(100, 3), lambda m: m(np.array([99]))),
            (Embedding(100, 3), lambda m: m.sgd_step(np.array([99]), np.ones((1, 3)), 0.1)),
            (EmbeddingBag(100, 3, mode="max"),
             lambda m: m(np.array([99, 1]), np.array([0]))),
            (EmbeddingBag(100, 3, mode="sum"),
             lambda m: m.sgd_step(np.array([99, 1]), np.ones((1, 3)), 0.1,
                                  offsets=np.array([0])))]:
        checked = type(layer)._check_range

        def check_then_replace(self, flat, shape):
            checked(self, flat, shape)
            self.weight = np.zeros((2, 3), np.float32)
        monkeypatch.setattr(type(layer), "_check_range", check_then_replace)
        with pytest.raises(IndexError, match=r"99 is outside \[0, 2\)"):
            call(layer)
        monkeypatch.undo()


def test_the_callers_ids_and_offsets_are_copied_before_they_are_checked():
    # another thread writing them after the check made the kernels index outside the
    # weight; the layers now check and use arrays of their own
    ids, offsets = np.array([1, 2, 3], np.int64), np.array([0, 1, 3], np.int64)
    seen = []
    real = _lookup.bag_sum

    def spy(weight, flat, bounds, *rest):
        seen.append((flat, bounds))
        return real(weight, flat, bounds, *rest)
    _lookup.bag_sum = spy
    try:
        EmbeddingBag(10, 2, mode="sum")(ids, offsets[:2])
        EmbeddingBag(10, 2, mode="sum", include_last_offset=True)(ids, offsets)
        EmbeddingBag(10, 2, mode="sum")(ids.reshape(1, 3))
    finally:
        _lookup.bag_sum = real
    assert len(seen) == 3
    for flat, bounds in seen:
        assert not np.shares_memory(flat, ids) and not np.shares_memory(bounds, offsets)
    from fastw2v.embedding import _as_ids

    class Holder:                 # a container whose __array__ hands out its own array
        def __array__(self, dtype=None, copy=None):
            return ids
    for given in (ids, Holder(), torch.arange(3)):
        got = _as_ids(given, "input")
        assert not np.shares_memory(got, np.asarray(given))
    fresh = np.asarray([1, 2])
    assert _as_ids(fresh, "input", caller=[1, 2]) is fresh      # made here: not copied again


def test_a_query_between_the_layers_check_and_its_write_does_not_leave_stale_norms():
    """A query in another thread between the step's dropping of the KeyedVectors' cache
    and its write would cache the old vectors: the step drops the cache again after
    writing. The query is made here where that thread's would land."""
    kv = KeyedVectors(np.array([[1, 0], [0, 1], [1, 0.1]], dtype=np.float32), list("abc"))
    for make, step in (
            (lambda: Embedding.from_keyed_vectors(kv, freeze=False),
             lambda layer: layer.sgd_step([0], np.array([[1.0, -1.0]]), lr=1.0)),
            (lambda: EmbeddingBag.from_keyed_vectors(kv, freeze=False, mode="sum"),
             lambda layer: layer.sgd_step([0], np.array([[-1.0, 1.0]]), lr=1.0,
                                          offsets=[0]))):
        layer = make()
        real = layer._sgd_scatter

        def query_then_write(*args, real=real):
            kv.most_similar("a")                 # caches the vectors before the write
            return real(*args)

        layer._sgd_scatter = query_then_write
        step(layer)
        fresh = KeyedVectors(kv.vectors.copy(), list("abc"))
        assert kv.most_similar("a") == fresh.most_similar("a")
