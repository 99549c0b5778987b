"""The compiled kernels against a numpy reference of the same update (WORD2VEC.md), and
training behaviour that does not depend on the Python API."""
import numpy as np
import pytest

from fastw2v import _train
from fastw2v.encoded import encode_iterable
from fastw2v.vocab import Vocab, count_iterable, select_words

N_WORDS, DIM = 30, 16
MAX_EXP, TABLE = _train.MAX_EXP, _train.EXP_TABLE_SIZE


def make_trainer(rng, *, sg, hs, negative, cbow_mean=1, window=3, counts=None,
                 ids=None, offsets=None, keep_prob=None, dim=DIM, **kw):
    counts = counts if counts is not None else np.sort(rng.integers(1, 500, N_WORDS))[::-1]
    vocab = Vocab([f"w{i}" for i in range(N_WORDS)], counts)
    # non-zero output weights, so every term of the update is exercised
    w_in = rng.uniform(-0.5, 0.5, (N_WORDS, dim)).astype(np.float32)
    w_ns = rng.uniform(-0.5, 0.5, (N_WORDS, dim)).astype(np.float32)
    w_hs = rng.uniform(-0.5, 0.5, (N_WORDS - 1, dim)).astype(np.float32)
    prob, alias = vocab.noise_table(0.75)
    off, points, codes = vocab.huffman()
    ids = np.zeros(0, np.int32) if ids is None else ids
    offsets = np.zeros(1, np.int64) if offsets is None else offsets
    params = dict(sg=sg, hs=hs, negative=negative, window=window, shrink_windows=True,
                  cbow_mean=cbow_mean, compute_loss=True, max_span=1000,
                  alpha_start=0.025, alpha_end=0.0001, schedule_words=1)
    params.update(kw)
    trainer = _train.Trainer(w_in, w_ns, w_hs, ids, offsets, keep_prob, prob, alias, off,
                             points, codes, **params)
    state = _train.ThreadState(dim, 1000, window, max(negative, 1), 7)
    return trainer, state, (w_in, w_ns, w_hs), (off, points, codes)


def train_whole(trainer, state, n_ids):
    """One pass over the corpus's ids [0, n_ids) as one chunk, as one thread trains it."""
    trainer.start_epoch([[0, n_ids]])
    return trainer.run_chunks(state)


def ref_step(h, v, e, y, alpha, sig, logsig, skip_saturated):
    """One binary-logistic step, exactly as WORD2VEC.md states it (table sigmoid).
    Returns the loss term."""
    f = np.float32(np.dot(h.astype(np.float64), v.astype(np.float64)))
    if -MAX_EXP < f < MAX_EXP:
        # just under MAX_EXP the float32 product rounds up to TABLE: the last entry. In
        # float32 throughout, as the kernels (numpy 1.x would promote a Python float
        # operand to float64 and now and then pick the neighbouring entry)
        idx = min(int(np.float32(f + np.float32(MAX_EXP)) * np.float32(TABLE / MAX_EXP / 2)),
                  TABLE - 1)
        g = np.float32((y - sig[idx]) * alpha)
        loss = -logsig[idx] if y else f - logsig[idx]
    elif skip_saturated:
        return 0.0
    else:
        g = np.float32((y - (1.0 if f > 0 else 0.0)) * alpha)
        loss = abs(f) if (f > 0) != (y == 1) else 0.0
    e += g * v
    v += g * h
    return float(loss)


def ref_predict(h, word, negs, alpha, w_ns, w_hs, paths, sig, logsig, hs, negative):
    e = np.zeros_like(h)
    loss = 0.0
    if hs:
        off, points, codes = paths
        for k in range(off[word], off[word + 1]):
            loss += ref_step(h, w_hs[points[k]], e, 1 - int(codes[k]), alpha, sig, logsig,
                             True)
    if negative:
        loss += ref_step(h, w_ns[word], e, 1, alpha, sig, logsig, False)
        for n in negs:
            if n != word:
                loss += ref_step(h, w_ns[n], e, 0, alpha, sig, logsig, False)
    return e, loss


def ref_outputs(word, negs, w_ns, w_hs, paths, hs, negative):
    """The output rows an example trains against, in the kernel's order:
    (matrix, row, label, skip_saturated)."""
    out = []
    if hs:
        off, points, codes = paths
        out += [(w_hs, points[k], 1 - int(codes[k]), True) for k in range(off[word], off[word + 1])]
    if negative:
        out.append((w_ns, word, 1, False))
        out += [(w_ns, n, 0, False) for n in negs if n != word]
    return out


def ref_block(xs, word, negs, alpha, w_ns, w_hs, paths, sig, logsig, hs, negative):
    """Inputs xs (n_in, dim) all predicting `word` as one block (w2v_train_impl.h,
    predict_block): every score with the output rows as they were on entry, then
    errs = G V and V += G^T X. Returns (errs, loss); the inputs are not changed."""
    outputs = ref_outputs(word, negs, w_ns, w_hs, paths, hs, negative)
    old = [mat[row].copy() for mat, row, _, _ in outputs]
    errs = np.zeros_like(xs)
    loss = 0.0
    for c, x in enumerate(xs):
        for (mat, row, y, skip), v in zip(outputs, old):
            v_work = v.copy()
            loss += ref_step(x, v_work, errs[c], y, alpha, sig, logsig, skip)
            mat[row] += v_work - v          # the update is g * x, applied to the live row
    return errs, loss


def test_block_reference_is_the_sequence_of_steps(rng):
    """With one input and distinct output rows, the block update equals WORD2VEC.md's
    sequence of steps exactly; so the kernels, tested against ref_block, follow it."""
    for hs, negative in ((0, 5), (1, 0), (1, 3)):
        w_ns = rng.uniform(-0.5, 0.5, (N_WORDS, DIM)).astype(np.float32)
        w_hs = rng.uniform(-0.5, 0.5, (N_WORDS - 1, DIM)).astype(np.float32)
        vocab = Vocab([f"w{i}" for i in range(N_WORDS)], np.arange(N_WORDS, 0, -1) * 10)
        paths = vocab.huffman()
        sig = (1 / (1 + np.exp(-((np.arange(TABLE) / TABLE * 2 - 1) * MAX_EXP)))).astype(np.float32)
        logsig = np.log(sig)
        x = rng.uniform(-1, 1, DIM).astype(np.float32)
        word = 3
        negs = rng.choice(np.arange(4, N_WORDS), size=negative, replace=False)
        a_ns, a_hs, b_ns, b_hs = w_ns.copy(), w_hs.copy(), w_ns.copy(), w_hs.copy()
        e_seq, loss_seq = ref_predict(x.copy(), word, negs, np.float32(0.3), a_ns, a_hs, paths,
                                      sig, logsig, hs, negative)
        e_blk, loss_blk = ref_block(x[None].copy(), word, negs, np.float32(0.3), b_ns, b_hs,
                                    paths, sig, logsig, hs, negative)
        np.testing.assert_allclose(e_blk[0], e_seq, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(b_ns, a_ns, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(b_hs, a_hs, rtol=1e-6, atol=1e-7)
        assert loss_blk == pytest.approx(loss_seq)
        assert not np.array_equal(a_ns if negative else a_hs, w_ns if negative else w_hs)


def assert_same_weights(weights, reference):
    for live, ref in zip(weights, reference):
        np.testing.assert_allclose(live, ref, rtol=1e-5, atol=1e-6)


# (sg, hs, negative, cbow_mean): skip-gram and CBOW (mean and sum) x NS, HS, both
COMBINATIONS = [(sg, hs, neg, mean) for sg, mean in ((1, 1), (0, 1), (0, 0))
                for hs, neg in ((0, 5), (1, 0), (1, 3))]


# 16: whole vectors only; 100: blocks of four vectors and a half-vector tail, as in real
# use; 37: every tail of the kernels (vector, half vector and single floats)
DIMS = (16, 100, 37)


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].split() for line in f
                        if line.startswith("flags"))
    except (OSError, StopIteration):
        pytest.skip("needs /proc/cpuinfo")


@pytest.mark.parametrize("simd", _train.available_simd())
def test_rows_are_prefetched_for_writing_only_where_the_cpu_lists_it(rng, simd):
    # PREFETCHW is emitted by the AVX2 kernels only, and used only where CPUID lists it
    # (Linux names the flag 3dnowprefetch)
    trainer = make_trainer(rng, sg=1, hs=0, negative=5, cbow_mean=1, simd=simd, dim=16)[0]
    assert trainer.prefetch_write == (simd == "avx2" and "3dnowprefetch" in cpu_flags())


@pytest.mark.parametrize("simd", _train.available_simd())
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("sg, hs, negative, cbow_mean", COMBINATIONS)
def test_kernel_step_equals_numpy_reference(rng, sg, hs, negative, cbow_mean, dim, simd):
    trainer, state, (w_in, w_ns, w_hs), paths = make_trainer(
        rng, sg=sg, hs=hs, negative=negative, cbow_mean=cbow_mean, simd=simd, dim=dim)
    assert trainer.simd == simd
    sig, logsig = trainer.sigmoid_tables()
    r_in, r_ns, r_hs = w_in.copy(), w_ns.copy(), w_hs.copy()
    alpha = np.float32(0.05)
    total_loss = 0.0
    for step in range(40):
        word = int(rng.integers(N_WORDS))
        negs = rng.integers(0, N_WORDS, size=negative).astype(np.int32)
        if negative and step % 5 == 0:
            negs[0] = word                  # a noise word equal to the target is skipped
        if sg:
            ctx = int(rng.integers(N_WORDS))
            rc = trainer.sg_example(state, ctx, word, negs, alpha)
            e, loss = ref_block(r_in[ctx][None].copy(), word, negs, alpha, r_ns, r_hs, paths,
                                sig, logsig, hs, negative)
            r_in[ctx] += e[0]
        else:
            ctx = rng.integers(0, N_WORDS, size=int(rng.integers(1, 7))).astype(np.int32)
            rc = trainer.cbow_example(state, ctx, word, negs, alpha)
            h = np.zeros(dim, np.float32)
            for c in ctx:
                h += r_in[c]
            if cbow_mean:
                h /= np.float32(len(ctx))
            e, loss = ref_block(h[None], word, negs, alpha, r_ns, r_hs, paths, sig, logsig, hs,
                                negative)
            e = e[0]
            if not cbow_mean:
                e /= np.float32(len(ctx))
            for c in ctx:            # a repeated context word is updated once per use
                r_in[c] += e
        total_loss += loss
        assert rc == _train.RUN_OK
        assert_same_weights((w_in, w_ns, w_hs), (r_in, r_ns, r_hs))
    assert not np.allclose(w_in, make_trainer(np.random.default_rng(12345), sg=sg, hs=hs,
                                              negative=negative, dim=dim)[2][0])
    assert state.take_counters()[0] == pytest.approx(total_loss, rel=1e-4)


@pytest.mark.parametrize("simd", _train.available_simd())
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("hs, negative, window", ((0, 5, 4), (1, 0, 4), (1, 3, 4), (1, 2, 21)))
def test_window_kernel_equals_numpy_reference(rng, hs, negative, window, dim, simd):
    """Skip-gram over a window at once (hierarchical softmax, shared negatives): every
    context row against the same output rows, as a block; repeated context words too.
    A window of more than MAX_INPUTS context words goes in consecutive blocks."""
    trainer, state, (w_in, w_ns, w_hs), paths = make_trainer(
        rng, sg=1, hs=hs, negative=negative, window=window, simd=simd, dim=dim)
    sig, logsig = trainer.sigmoid_tables()
    r_in, r_ns, r_hs = w_in.copy(), w_ns.copy(), w_hs.copy()
    alpha = np.float32(0.05)
    total_loss = 0.0
    for step in range(30):
        word = int(rng.integers(N_WORDS))
        negs = rng.integers(0, N_WORDS, size=negative).astype(np.int32)
        if negative and step % 5 == 0:
            negs[-1] = word
        size = 2 * window if step % 4 == 1 else int(rng.integers(1, 2 * window + 1))
        ctx = rng.integers(0, N_WORDS, size=size).astype(np.int32)
        if step % 3 == 0:
            ctx[0] = ctx[-1]                 # the same word twice in one window
        rc = trainer.sg_window(state, ctx, word, negs, alpha)
        for c0 in range(0, len(ctx), _train.MAX_INPUTS):
            part = ctx[c0:c0 + _train.MAX_INPUTS]
            errs, loss = ref_block(r_in[part].copy(), word, negs, alpha, r_ns, r_hs, paths,
                                   sig, logsig, hs, negative)
            for c, e in zip(part, errs):
                r_in[c] += e
            total_loss += loss
        assert rc == _train.RUN_OK
        assert_same_weights((w_in, w_ns, w_hs), (r_in, r_ns, r_hs))
    assert state.take_counters()[0] == pytest.approx(total_loss, rel=1e-4)
    with pytest.raises(ValueError, match="more context words"):
        trainer.sg_window(state, np.zeros(2 * window + 1, np.int32), 0, negs, alpha)


@pytest.mark.parametrize("simd", _train.available_simd())
@pytest.mark.parametrize("sg, hs, negative, cbow_mean", COMBINATIONS)
def test_kernels_scale_input_updates_by_lockf(rng, sg, hs, negative, cbow_mean, simd):
    """gensim's vectors_lockf: each input row's update is multiplied by its factor (0:
    the row stays as it is); the output rows train as without it."""
    dim = 37
    lockf = rng.choice(np.array([0.0, 1.0, 0.5, 2.0], np.float32), size=N_WORDS)
    lockf[:3] = [0.0, 1.0, 0.5]
    trainer, state, (w_in, w_ns, w_hs), paths = make_trainer(
        rng, sg=sg, hs=hs, negative=negative, cbow_mean=cbow_mean, simd=simd, dim=dim,
        lockf=lockf)
    sig, logsig = trainer.sigmoid_tables()
    r_in, r_ns, r_hs = w_in.copy(), w_ns.copy(), w_hs.copy()
    frozen, initial = w_in[lockf == 0].copy(), w_in.copy()
    alpha = np.float32(0.05)
    for step in range(30):
        word = int(rng.integers(N_WORDS))
        negs = rng.integers(0, N_WORDS, size=negative).astype(np.int32)
        ctx = rng.integers(0, N_WORDS, size=int(rng.integers(1, 7))).astype(np.int32)
        ctx[0] = step % 3                        # factors 0, 1 and 0.5 every time
        if sg and step % 2:
            rc = trainer.sg_window(state, ctx, word, negs, alpha)
            errs, _ = ref_block(r_in[ctx].copy(), word, negs, alpha, r_ns, r_hs, paths, sig,
                                logsig, hs, negative)
            for c, e in zip(ctx, errs):
                r_in[c] += lockf[c] * e
        elif sg:
            rc = trainer.sg_example(state, int(ctx[0]), word, negs, alpha)
            e, _ = ref_block(r_in[ctx[0]][None].copy(), word, negs, alpha, r_ns, r_hs, paths,
                             sig, logsig, hs, negative)
            r_in[ctx[0]] += lockf[ctx[0]] * e[0]
        else:
            rc = trainer.cbow_example(state, ctx, word, negs, alpha)
            h = r_in[ctx].sum(axis=0, dtype=np.float32)
            if cbow_mean:
                h /= np.float32(len(ctx))
            e, _ = ref_block(h[None], word, negs, alpha, r_ns, r_hs, paths, sig, logsig, hs,
                             negative)
            e = e[0] if cbow_mean else e[0] / np.float32(len(ctx))
            for c in ctx:
                r_in[c] += lockf[c] * e
        assert rc == _train.RUN_OK
        assert_same_weights((w_in, w_ns, w_hs), (r_in, r_ns, r_hs))
    np.testing.assert_array_equal(w_in[lockf == 0], frozen)
    assert not np.array_equal(w_in[1:3], initial[1:3])       # factors 1 and 0.5: trained
    with pytest.raises(ValueError, match="lockf"):
        make_trainer(rng, sg=sg, hs=hs, negative=negative, lockf=lockf[:-1])


def test_kernel_saturated_steps(rng):
    """Outside (-6, 6): negative sampling applies the saturated gradient, hierarchical
    softmax skips the node."""
    trainer, state, (w_in, w_ns, w_hs), paths = make_trainer(rng, sg=1, hs=1, negative=1)
    w_in[0] = 1.0
    w_ns[:] = 1.0          # f = 16 for every output row: saturated
    w_hs[:] = 1.0
    before_hs = w_hs.copy()
    trainer.sg_example(state, 0, 1, np.array([2], np.int32), np.float32(0.1))
    np.testing.assert_array_equal(w_hs, before_hs)          # skipped
    np.testing.assert_array_equal(w_ns[1], 1.0)             # y=1, sigmoid=1: no change
    np.testing.assert_allclose(w_ns[2], 1.0 - 0.1 * 1.0)    # y=0: g = -alpha
    np.testing.assert_allclose(w_in[0], 1.0 - 0.1 * 1.0)    # e = g * v_old


@pytest.mark.parametrize("simd", _train.available_simd())
def test_kernel_score_just_under_max_exp(rng, simd):
    """A score just under MAX_EXP maps onto the table's last entry (the float32 index
    computation rounds up to the table size there; it used to read past the table)."""
    trainer, state, (w_in, w_ns, _), _ = make_trainer(rng, sg=1, hs=0, negative=1, simd=simd)
    sig, logsig = trainer.sigmoid_tables()
    f = np.nextafter(np.float32(MAX_EXP), np.float32(0))
    w_in[0] = 0.0
    w_in[0, 0] = f
    w_ns[1] = 0.0
    w_ns[1, 0] = 1.0       # score of the target: exactly f
    w_ns[2] = 0.0          # score of the noise word: 0
    state.take_counters()
    trainer.sg_example(state, 0, 1, np.array([2], np.int32), np.float32(0.1))
    g = np.float32((1 - sig[TABLE - 1]) * np.float32(0.1))
    assert w_ns[1, 0] == pytest.approx(1.0 + g * f, rel=1e-6)
    assert w_in[0, 0] == pytest.approx(f + g, rel=1e-6)
    loss = -logsig[TABLE - 1] + (0.0 - logsig[TABLE // 2])
    assert state.take_counters()[0] == pytest.approx(loss, rel=1e-5)


def test_kernel_unknown_simd_rejected(rng):
    with pytest.raises(ValueError, match="simd must be one of"):
        make_trainer(rng, sg=1, hs=0, negative=1, simd="avx9000")


def test_kernel_nonfinite_is_reported(rng):
    trainer, state, (w_in, _, _), _ = make_trainer(rng, sg=1, hs=0, negative=2)
    w_in[3, 0] = np.nan
    rc = trainer.sg_example(state, 3, 1, np.array([2, 4], np.int32), np.float32(0.1))
    assert rc == _train.RUN_NONFINITE


def test_kernels_reject_a_thread_state_too_small_for_the_trainer(rng):
    """The kernels write into the state's buffers unchecked: a mismatch is an error."""
    trainer, _, _, _ = make_trainer(rng, sg=1, hs=0, negative=5, window=3)
    for args in ((DIM + 1, 1000, 3, 5), (DIM, 1000, 2, 5), (DIM, 1000, 3, 4), (DIM, 10, 3, 5)):
        small = _train.ThreadState(*args, 7)
        with pytest.raises(ValueError, match="ThreadState was made for"):
            trainer.start_epoch(np.zeros((0, 2), np.int64))
            trainer.run_chunks(small)
        with pytest.raises(ValueError, match="ThreadState was made for"):
            trainer.sg_example(small, 0, 1, np.zeros(5, np.int32), 0.1)


def test_kernel_twins_reject_bad_ids(rng):
    trainer, state, _, _ = make_trainer(rng, sg=1, hs=0, negative=2)
    with pytest.raises(IndexError):
        trainer.sg_example(state, N_WORDS, 0, np.zeros(2, np.int32), 0.1)
    with pytest.raises(IndexError):
        trainer.cbow_example(state, np.array([-1], np.int32), 0, np.zeros(2, np.int32), 0.1)


def small_corpus(rng, n_sent=200):
    sents = [[f"w{int(x) % N_WORDS}" for x in rng.zipf(1.5, size=20)] for _ in range(n_sent)]
    vocab = select_words(count_iterable(sents), 1)
    return encode_iterable(sents, vocab, 1000), vocab


def test_learning_rate_decays_linearly_to_end(rng):
    enc, vocab = small_corpus(rng)
    counts = np.zeros(N_WORDS, np.int64)
    counts[:len(vocab)] = vocab.counts
    trainer, state, _, _ = make_trainer(
        rng, sg=1, hs=0, negative=2, counts=np.maximum(counts, 1), ids=enc.ids,
        offsets=enc.offsets, alpha_start=0.5, alpha_end=0.01, schedule_words=2 * enc.n_ids)
    assert train_whole(trainer, state, enc.n_ids) == _train.RUN_OK
    assert trainer.words_done == enc.n_ids
    assert state.alpha == pytest.approx(0.5 - 0.49 * 0.5)    # half the schedule done
    train_whole(trainer, state, enc.n_ids)
    assert state.alpha == pytest.approx(0.01)
    loss, words, trained, examples, steps = state.take_counters()
    assert words == trained == 2 * enc.n_ids                 # no subsampling
    assert examples > 0 and loss > 0


def test_subsampling_keeps_expected_fraction(rng):
    enc, vocab = small_corpus(rng, n_sent=2000)
    keep = vocab.keep_probs(1e-2)
    trainer, state, _, _ = make_trainer(
        rng, sg=0, hs=0, negative=2, counts=np.maximum(np.r_[vocab.counts, np.ones(
            N_WORDS - len(vocab), np.int64)], 1), ids=enc.ids, offsets=enc.offsets,
        keep_prob=np.r_[keep, np.ones(N_WORDS - len(vocab), np.float32)],
        schedule_words=10 * enc.n_ids)
    for _ in range(10):
        train_whole(trainer, state, enc.n_ids)
    _, words, trained, _, _ = state.take_counters()
    expected = 10 * float(np.dot(vocab.counts, keep))
    sd = np.sqrt(10 * float(np.dot(vocab.counts, keep * (1 - keep))))
    assert words == 10 * enc.n_ids
    assert abs(trained - expected) < 5 * sd


def test_stop_flag_stops_run(rng):
    enc, vocab = small_corpus(rng, n_sent=3000)
    trainer, state, _, _ = make_trainer(
        rng, sg=1, hs=0, negative=2, counts=np.ones(N_WORDS, np.int64), ids=enc.ids,
        offsets=enc.offsets, schedule_words=enc.n_ids)
    trainer.request_stop()
    assert train_whole(trainer, state, enc.n_ids) == _train.RUN_STOPPED
    _, words, _, _, _ = state.take_counters()
    assert words == 0 and state.left == (0, 0)       # seen before the chunk was taken


def chunk_trainer(enc, vocab, **kw):
    counts = np.zeros(N_WORDS, np.int64)
    counts[:len(vocab)] = vocab.counts
    return make_trainer(np.random.default_rng(1), sg=1, hs=1, negative=2,
                        counts=np.maximum(counts, 1), ids=enc.ids, offsets=enc.offsets,
                        schedule_words=enc.n_ids, **kw)


def test_one_thread_over_chunks_trains_like_one_range(rng):
    """Taking the chunks one after another is training the whole range: at a constant
    learning rate (the rate is re-read at each chunk's start) the weights are equal bit
    for bit."""
    enc, vocab = small_corpus(rng, n_sent=300)
    results = []
    for chunked in (False, True):
        trainer, state, weights, _ = chunk_trainer(enc, vocab, alpha_start=0.05,
                                                   alpha_end=0.05)
        if chunked:
            chunks = enc.chunks(4)                              # 32 chunks
            trainer.start_epoch(chunks[np.argsort(chunks[:, 0])])
            assert trainer.run_chunks(state) == _train.RUN_OK
            assert trainer.run_chunks(state) == _train.RUN_OK  # none left: nothing done
        else:
            assert train_whole(trainer, state, enc.n_ids) == _train.RUN_OK
        results.append((weights, state.take_counters(), trainer.words_done))
    (whole, counters_whole, done_whole), (chunked, counters_chunked, done_chunked) = results
    for a, b in zip(chunked, whole):
        np.testing.assert_array_equal(a, b)
    assert counters_chunked[1:] == counters_whole[1:]          # words, trained, pairs, steps
    assert counters_chunked[0] == pytest.approx(counters_whole[0], rel=1e-6)
    assert done_chunked == done_whole == enc.n_ids


def test_threads_share_the_chunks_each_trained_once(rng):
    import threading
    enc, vocab = small_corpus(rng, n_sent=3000)
    trainer, _, _, _ = chunk_trainer(enc, vocab)
    states = [_train.ThreadState(DIM, 1000, 3, 2, seed) for seed in range(4)]
    for epoch in range(2):
        trainer.start_epoch(enc.chunks(len(states)))
        results = [None] * len(states)

        def work(i):
            results[i] = trainer.run_chunks(states[i])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(states))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [_train.RUN_OK] * len(states)
        words = [state.take_counters()[1] for state in states]
        assert sum(words) == enc.n_ids                   # every sentence exactly once
        assert trainer.words_done == (epoch + 1) * enc.n_ids


def test_chunks_checked_and_stop_flag_honoured(rng):
    enc, vocab = small_corpus(rng, n_sent=300)
    trainer, state, _, _ = chunk_trainer(enc, vocab)
    with pytest.raises(RuntimeError, match="start_epoch"):
        trainer.run_chunks(state)
    for bad in ([], [0, 5], [[0, enc.n_ids + 1]], [[-1, 3]], [[5, 4]], [[0, 1, 2]]):
        with pytest.raises(ValueError, match="chunks must be an"):
            trainer.start_epoch(bad)
    trainer.start_epoch(np.zeros((0, 2), np.int64))               # nothing to do
    assert trainer.run_chunks(state) == _train.RUN_OK
    trainer.start_epoch(enc.chunks(2))
    trainer.request_stop()
    assert trainer.run_chunks(state) == _train.RUN_STOPPED
    assert state.take_counters()[1] == 0                       # not one word taken
    assert state.left == (0, 0)                                # stopped between chunks
    # all left, in corpus order
    assert trainer.unfinished([state]).tolist() == sorted(enc.chunks(2).tolist())


@pytest.mark.parametrize("hot_rows, sync", [(5, _train.HOT_SYNC_WORDS),
                                           (_train.HOT_ROWS, _train.HOT_SYNC_WORDS), (5, 7)])
@pytest.mark.parametrize("sg", [1, 0])
def test_hot_nodes_in_private_copies_train_like_shared_ones(hot_rows, sync, sg):
    """With hot rows, a thread trains the heaviest Huffman nodes in a private copy and
    merges it every `sync` words; alone, it must give exactly the shared-matrix result.
    5 rows: some nodes private, some shared; 64: all 29 nodes of this vocabulary are
    private."""
    enc, vocab = small_corpus(np.random.default_rng(0), n_sent=300)   # 6,000 words: merges
    counts = np.zeros(N_WORDS, np.int64)
    counts[:len(vocab)] = vocab.counts
    results = []
    for hot in (0, hot_rows):
        trainer, state, weights, _ = make_trainer(
            np.random.default_rng(1), sg=sg, hs=1, negative=2, counts=np.maximum(counts, 1),
            ids=enc.ids, offsets=enc.offsets, schedule_words=3 * enc.n_ids, hot_rows=hot,
            hot_sync_words=sync)
        before = [w.copy() for w in weights]
        for _ in range(3):
            assert train_whole(trainer, state, enc.n_ids) == _train.RUN_OK
        assert not np.allclose(weights[2], before[2])          # the nodes were trained
        results.append((weights, state.take_counters()))
    (shared, counters_shared), (private, counters_private) = results
    for a, b in zip(private, shared):
        np.testing.assert_array_equal(a, b)
    assert counters_private == counters_shared                  # loss, words, pairs, steps


def test_hot_rows_checked(rng):
    with pytest.raises(ValueError, match="hot_rows must be within"):
        make_trainer(rng, sg=1, hs=1, negative=0, hot_rows=_train.HOT_ROWS + 1)
    with pytest.raises(ValueError, match="hot_sync_words must be at least 1"):
        make_trainer(rng, sg=1, hs=1, negative=0, hot_rows=4, hot_sync_words=0)
    trainer, state, _, _ = make_trainer(rng, sg=1, hs=1, negative=0, hot_rows=4)
    with pytest.raises(ValueError, match="hot_rows=0"):
        trainer.sg_example(state, 0, 1, np.zeros(0, np.int32), 0.1)


def _trainer_settings(max_span, kw):
    params = dict(sg=1, hs=0, negative=2, window=3, shrink_windows=True, cbow_mean=1,
                  compute_loss=True, max_span=max_span, alpha_start=0.025,
                  alpha_end=0.0001, schedule_words=1)
    params.update(kw)
    return params


@pytest.mark.parametrize("sg", [1, 0])
def test_long_span_refreshes_the_learning_rate_inside_it(sg):
    """A span longer than W2V_PROGRESS_WORDS (one sentence of 40,000 ids here) publishes
    its progress, and so lowers the learning rate, as its centre word advances, not only
    at its end. The schedule reaches alpha 0 after 10,000 words, so the words after
    those change nothing, and the weights must equal those of training the first
    10,000 words (with the ids after them as context): the same draws, bit for bit."""
    ids = np.random.default_rng(5).integers(0, N_WORDS, 40_000).astype(np.int32)
    kw = dict(sg=sg, hs=1, negative=2, alpha_start=0.05, alpha_end=0.0,
              schedule_words=10_000)
    counts = np.maximum(np.bincount(ids, minlength=N_WORDS), 1)     # one vocabulary
    weights = []
    for n in (40_000, 10_005):
        trainer, _, w, _ = make_trainer(np.random.default_rng(3), counts=counts,
                                        ids=ids[:n].copy(), offsets=np.array([0, n]),
                                        max_span=50_000, **kw)
        state = _train.ThreadState(DIM, 50_000, 3, 2, 11)
        before = [a.copy() for a in w]
        assert train_whole(trainer, state, n) == _train.RUN_OK
        assert trainer.words_done == n
        assert all(not np.array_equal(a, b) for a, b in zip(w, before))   # trained
        weights.append(w)
    for long_run, short_run in zip(*weights):
        np.testing.assert_array_equal(long_run, short_run)


def test_stop_inside_long_spans_resumes_exactly():
    """A stop lands at the end of the span being trained, right after a publish; the run
    resumed from there (the ranges left, the word count reached, the same thread state)
    ends bit for bit where an uninterrupted run ends. Sentences of 15,000 ids (spans of
    12,000: a sentence is two spans) at stops timed at random: whatever the moment."""
    rng = np.random.default_rng(9)
    ids = rng.integers(0, N_WORDS, 8 * 15_000).astype(np.int32)
    offsets = np.arange(0, len(ids) + 1, 15_000)
    kw = dict(sg=1, hs=1, negative=2, alpha_start=0.05, alpha_end=0.001,
              schedule_words=len(ids))

    def trainer_over(weights):
        counts = np.maximum(np.bincount(ids, minlength=N_WORDS), 1)
        vocab = Vocab([f"w{i}" for i in range(N_WORDS)], counts)
        trainer = _train.Trainer(*weights, ids, offsets, None, *vocab.noise_table(0.75),
                                 *vocab.huffman(), **_trainer_settings(12_000, kw))
        trainer.start_epoch([[0, len(ids)]])
        return trainer

    start = [np.random.default_rng(1).uniform(-0.5, 0.5, shape).astype(np.float32)
             for shape in ((N_WORDS, DIM), (N_WORDS, DIM), (N_WORDS - 1, DIM))]
    whole = [a.copy() for a in start]
    import threading
    import time
    began = time.perf_counter()
    assert trainer_over(whole).run_chunks(_train.ThreadState(DIM, 12_000, 3, 2, 4)) == \
        _train.RUN_OK
    took = time.perf_counter() - began
    stopped_inside = 0
    for share in (0.05, 0.2, 0.4, 0.6, 0.8):       # stops spread over the run
        delay = share * took
        weights = [a.copy() for a in start]
        state = _train.ThreadState(DIM, 12_000, 3, 2, 4)
        first = trainer_over(weights)
        worker = threading.Thread(target=first.run_chunks, args=(state,))
        worker.start()
        time.sleep(delay)
        first.request_stop()
        worker.join()
        left = first.unfinished([state])
        if state.left != (0, 0):
            stopped_inside += 1
            assert state.left[0] % 15_000 == 12_000       # at a span's end, inside a sentence
        second = trainer_over(weights)
        second.words_done = first.words_done
        second.start_epoch(left)
        assert second.run_chunks(state) == _train.RUN_OK
        assert second.words_done == len(ids)
        for a, b in zip(weights, whole):
            np.testing.assert_array_equal(a, b)
    assert stopped_inside > 0          # at least one stop landed inside the range


def test_a_run_with_no_chunks_leaves_nothing_of_an_earlier_stop(rng):
    enc, vocab = small_corpus(rng, n_sent=3000)
    trainer, state, _, _ = chunk_trainer(enc, vocab)
    trainer.start_epoch(enc.chunks(1))
    import threading
    worker = threading.Thread(target=trainer.run_chunks, args=(state,))
    worker.start()
    while trainer.words_done < 10_000 and worker.is_alive():
        pass
    trainer.request_stop()
    worker.join()
    if state.left == (0, 0):
        pytest.skip("the run ended before the stop")
    again, _, _, _ = chunk_trainer(enc, vocab)
    again.start_epoch(np.zeros((0, 2), np.int64))
    assert again.run_chunks(state) == _train.RUN_OK
    assert state.left == (0, 0) and again.unfinished([state]).size == 0


def test_trainer_refuses_arrays_of_the_wrong_size(rng):
    """The kernels index every array by word id without bounds checks: a size that does
    not match the input vectors is a ValueError, never a write outside an array."""
    counts = np.sort(rng.integers(1, 500, N_WORDS))[::-1]
    vocab = Vocab([f"w{i}" for i in range(N_WORDS)], counts)
    prob, alias = vocab.noise_table(0.75)
    off, points, codes = vocab.huffman()
    w_in = np.zeros((N_WORDS, DIM), np.float32)
    w_ns, w_hs = np.zeros((N_WORDS, DIM), np.float32), np.zeros((N_WORDS - 1, DIM), np.float32)
    ids, offsets = np.array([1, 2, 3], np.int32), np.array([0, 3])

    def make(**changes):
        args = dict(w_in=w_in, w_ns=w_ns, w_hs=w_hs, ids=ids, offsets=offsets, keep=None,
                    prob=prob, alias=alias, off=off, points=points, codes=codes)
        args.update(changes)
        return _train.Trainer(*args.values(), **_trainer_settings(100, dict(hs=1)))

    make()                                                          # as they should be
    for changes, message in (
            (dict(w_in=w_in[:0]), "no rows"),
            (dict(w_ns=w_ns[:5]), "w_out_ns has shape"),
            (dict(w_hs=w_hs[:0]), "w_out_hs has shape"),
            (dict(w_hs=np.zeros((N_WORDS - 1, DIM + 1), np.float32)), "w_out_hs has shape"),
            (dict(prob=prob[:-1]), "noise_prob has"),
            (dict(alias=alias[:-1]), "noise_alias has"),
            (dict(off=off[:-1]), "path_off has"),
            (dict(points=points[:3]), "shorter than path_off"),
            (dict(keep=np.ones(3, np.float32)), "keep_prob has"),
            (dict(offsets=np.array([0, 2])), "offsets must run from 0 to len"),
            (dict(offsets=np.array([0, 50_000_000, 3])), "offsets must run from 0 to len"),
            (dict(offsets=np.array([1, 3])), "offsets must run from 0 to len")):
        with pytest.raises(ValueError, match=message):
            make(**changes)
