"""The Python API end to end: training recovers planted structure, is reproducible, and
fails clearly on misuse."""
import copy
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types

import numpy as np
import pytest

from fastw2v import KeyedVectors, Word2Vec, _train, native, word2vec
from fastw2v.vocab import select_words
from fastw2v.synthetic import group_purity, planted_groups

from conftest import write_lines

SMALL = dict(vector_size=24, min_count=1, epochs=5, seed=3)


@pytest.fixture(scope="module")
def planted():
    return planted_groups(n_groups=6, words_per_group=10, n_sentences=3000, seed=1)


@pytest.mark.parametrize("sg", [1, 0])
@pytest.mark.parametrize("hs, negative", [(0, 5), (1, 0), (1, 5)])
def test_training_recovers_planted_groups(planted, sg, hs, negative):
    sentences, groups = planted
    model = Word2Vec(sentences, sg=sg, hs=hs, negative=negative, workers=2, **SMALL)
    assert model.wv.vectors.dtype == np.float32
    assert model.wv.vectors.flags.c_contiguous
    assert model.wv.vectors.shape == (len(groups) + 10, 24)
    assert group_purity(model.wv, groups, topn=5) > 0.95    # chance is 1/6
    assert len(model.epoch_losses) == 5
    assert model.epoch_losses[-1] < model.epoch_losses[0]


def test_training_cbow_sum_recovers_groups(planted):
    sentences, groups = planted
    model = Word2Vec(sentences, sg=0, cbow_mean=0, alpha=0.01, workers=2, **SMALL)
    assert group_purity(model.wv, groups) > 0.95


def test_training_untrained_vectors_do_not_recover_groups(planted):
    """The purity check itself can fail: vectors straight after build_vocab score near
    chance."""
    sentences, groups = planted
    model = Word2Vec(**SMALL)
    model.build_vocab(sentences)
    assert group_purity(model.wv, groups) < 0.5


def test_training_reproducible_with_one_worker(planted):
    sentences, _ = planted
    a = Word2Vec(sentences, workers=1, sg=1, **SMALL)
    b = Word2Vec(sentences, workers=1, sg=1, **SMALL)
    c = Word2Vec(sentences, workers=1, sg=1, **{**SMALL, "seed": 4})
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    assert a.epoch_losses == b.epoch_losses
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_training_file_and_iterable_give_identical_vectors(planted, tmp_path):
    sentences, _ = planted
    path = write_lines(tmp_path / "c.txt", sentences)
    a = Word2Vec(sentences, workers=1, hs=1, **SMALL)
    b = Word2Vec(corpus_file=path, workers=1, hs=1, **SMALL)
    assert a.wv.index_to_key == b.wv.index_to_key
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)


def test_training_initialisation_follows_word2vec_c(planted):
    sentences, _ = planted
    model = Word2Vec(hs=1, **SMALL)
    model.build_vocab(sentences)
    v = model.wv.vectors
    assert v.min() >= -0.5 / 24 and v.max() < 0.5 / 24
    assert v.std() == pytest.approx(1 / 24 / np.sqrt(12), rel=0.05)   # uniform
    assert not model.syn1neg.any() and not model.syn1.any()
    assert model.syn1.shape == (len(v) - 1, 24)


def test_training_build_vocab_then_train_equals_constructor(planted):
    sentences, _ = planted
    a = Word2Vec(sentences, workers=1, **SMALL)
    b = Word2Vec(workers=1, **SMALL)
    b.build_vocab(sentences)
    assert b.train() == a.words_trained
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert b.corpus_count == len(sentences)
    assert b.corpus_total_words == sum(map(len, sentences))


@pytest.mark.parametrize("workers, sync", [(2, 1000), (3, 500), (16, 66)])
def test_hot_huffman_copies_merge_more_often_with_more_workers(planted, workers, sync):
    """Between two merges a thread does not see the other threads' changes to the hot
    Huffman nodes: with 16 threads on 16 cores, merging every 1,000 words (as with 2)
    lost most of the analogy accuracy, so the interval shrinks with the thread count."""
    sentences, _ = planted
    model = Word2Vec(hs=1, negative=0, workers=workers, **SMALL)
    model.build_vocab(sentences)
    trainer = model._make_trainer(model.corpus, 0.025, 0.0001, 1, None)
    assert trainer.hot_rows == _train.HOT_ROWS
    assert trainer.hot_sync_words == sync
    one = Word2Vec(hs=1, negative=0, workers=1, **SMALL)
    one.build_vocab(sentences)
    assert one._make_trainer(one.corpus, 0.025, 0.0001, 1, None).hot_rows == 0


def test_sixteen_workers_with_hot_node_copies_still_learn_the_groups(planted):
    """A smoke test of 16 threads with private hot Huffman nodes (merged as they train and
    at the end). On this small corpus the merge interval makes no visible difference;
    its effect on quality was measured on the big one (bench/RESULTS.md); the interval
    itself is tested above."""
    sentences, groups = planted
    model = Word2Vec(sentences, sg=1, hs=1, negative=0, workers=16, **SMALL)
    assert group_purity(model.wv, groups, topn=5) > 0.95


def test_training_several_workers_all_shards_trained(planted):
    sentences, groups = planted
    model = Word2Vec(sentences, workers=3, sample=0, **SMALL)
    # without subsampling every token of every epoch is trained, whatever the threads
    assert model.words_trained == 5 * sum(map(len, sentences))
    assert np.isfinite(model.wv.vectors).all()
    assert group_purity(model.wv, groups) > 0.95


@pytest.mark.parametrize("sg, hs, negative", [(1, 1, 0), (1, 0, 3), (0, 1, 0), (1, 1, 2)])
def test_examples_and_steps_counted_exactly(sg, hs, negative):
    """Without subsampling or window shrinking the work is known: every (centre, context)
    pair (skip-gram) or window (CBOW), and one step per output row."""
    sentences = [["a", "b", "c", "d", "a"], ["b", "a"], ["c", "d", "c", "b", "a", "d"]]
    window = 2
    model = Word2Vec(sentences, sg=sg, hs=hs, negative=negative, window=window, sample=0,
                     shrink_windows=False, min_count=1, vector_size=8, epochs=3,
                     workers=2, shared_negatives=True)
    off, _, _ = model.vocab.huffman()
    path_len = dict(zip(model.vocab.index_to_key, np.diff(off)))
    examples = steps = 0
    for s in sentences:
        for i, word in enumerate(s):
            n_ctx = min(len(s) - 1, i + window) - max(0, i - window)
            outputs = (path_len[word] if hs else 0) + (1 + negative if negative else 0)
            examples += n_ctx if sg else 1
            steps += (n_ctx if sg else 1) * outputs
    assert model.examples_trained == 3 * examples
    if negative:   # a noise word equal to the centre word is skipped
        assert 0.5 * 3 * steps < model.steps_trained <= 3 * steps
    else:
        assert model.steps_trained == 3 * steps


def test_build_vocab_from_file_reads_it_once_and_encodes_like_a_second_read(tmp_path):
    from fastw2v.encoded import encode_file
    (tmp_path / "a.txt").write_text("a b c a b\nd a\n\nb b c e\n")
    (tmp_path / "b.txt").write_text("f f a f g\ng f\n")
    model = Word2Vec(min_count=2, vector_size=8, workers=1)
    for path, update in ((tmp_path / "a.txt", False), (tmp_path / "b.txt", True)):
        model.build_vocab(corpus_file=path, update=update)
        again = encode_file(str(path), model.vocab, model.config.max_sentence_length)
        np.testing.assert_array_equal(model.corpus.ids, again.ids)
        np.testing.assert_array_equal(model.corpus.offsets, again.offsets)
    assert model.wv.index_to_key == ["b", "a", "c", "f", "g"]


def test_training_more_workers_than_sentences():
    model = Word2Vec([["a", "b", "c"], ["b", "c", "a"]], workers=8, **SMALL)
    assert np.isfinite(model.wv.vectors).all()


def test_training_text8_style_single_line(tmp_path):
    # one line of 25,000 tokens: cut into chunks of max_sentence_length, none dropped
    rng = np.random.default_rng(0)
    tokens = [f"w{x}" for x in rng.integers(0, 100, 25_000)]
    (tmp_path / "text8").write_text(" ".join(tokens))
    model = Word2Vec(corpus_file=tmp_path / "text8", sample=0, max_sentence_length=1000,
                     workers=2, **SMALL)
    assert model.corpus.n_sentences == 25
    assert model.words_trained == 5 * 25_000


def test_training_encoded_dir_memory_maps_corpus(planted, tmp_path):
    sentences, _ = planted
    model = Word2Vec(sentences, encoded_dir=tmp_path / "enc", workers=1, **SMALL)
    ref = Word2Vec(sentences, workers=1, **SMALL)
    assert isinstance(model.corpus.ids, np.memmap)
    np.testing.assert_array_equal(model.wv.vectors, ref.wv.vectors)


def test_encoded_dir_reused_leaves_earlier_corpora_intact(planted, tmp_path):
    """A corpus encoded into a directory stays memory-mapped; encoding another corpus
    into the same directory (this model's train(corpus), or another model) must not
    rewrite the files under it (that truncated them: a bus error, or ids beyond the
    vocabulary)."""
    sentences, _ = planted
    enc = tmp_path / "enc"
    model = Word2Vec(sentences, encoded_dir=enc, workers=1, **SMALL)
    ids = np.array(model.corpus.ids)
    other = Word2Vec([[f"x{i}" for i in range(600)]] * 2, encoded_dir=enc, min_count=1,
                     **{k: v for k, v in SMALL.items() if k != "min_count"})
    model.train([sentences[0][:3]], encoded_dir=enc)
    np.testing.assert_array_equal(model.corpus.ids, ids)        # unchanged under its map
    model.train()                                               # and trains as before
    assert other.corpus.n_ids == 1200 and np.isfinite(model.wv.vectors).all()
    assert sorted(p.name for p in enc.iterdir()) == ["ids.npy", "offsets.npy"]
    newest = [model.wv.key_to_index[w] for w in sentences[0][:3]]
    np.testing.assert_array_equal(np.load(enc / "ids.npy"), newest)


def test_training_any_hashable_tokens():
    sessions = [[101, 102, 103, 101], [(1, "x"), 102, 101]]
    model = Word2Vec(sessions, **SMALL)
    assert set(model.wv.index_to_key) == {101, 102, 103, (1, "x")}
    assert model.wv[101].shape == (24,)


def test_training_callbacks_on_calling_thread(planted):
    sentences, _ = planted
    seen = []

    class Recorder:
        def on_train_begin(self, model):
            seen.append(("train_begin", threading.current_thread() is threading.main_thread()))

        def on_epoch_end(self, model):
            seen.append(("epoch_end", len(model.epoch_losses)))

        def on_train_end(self, model):
            seen.append(("train_end", None))

    Word2Vec(sentences, callbacks=[Recorder()], epochs=3, min_count=1, vector_size=8)
    assert seen == [("train_begin", True), ("epoch_end", 1), ("epoch_end", 2),
                    ("epoch_end", 3), ("train_end", None)]


def test_training_progress_bar_and_log(planted, capsys, caplog, monkeypatch):
    sentences, _ = planted
    model = Word2Vec(**SMALL)
    model.build_vocab(sentences)
    with caplog.at_level(logging.INFO, logger="fastw2v"):
        model.train(progress=True, report_delay=0.0)
    # stderr is not a terminal here: one line per report, no carriage returns
    err = capsys.readouterr().err
    assert "\r" not in err and re.search(r"^epoch 5/5: +\d+\.\d% \(\d+\.\d% of all\)", err,
                                         re.M)
    messages = [r.getMessage() for r in caplog.records]
    assert any(re.match(r"epoch 5/5: \d+ words trained .* words/s; loss \d", m)
               for m in messages)
    assert any(m.startswith("training on ") for m in messages)
    assert any(re.match(r"trained \d+ words .* words/s", m) for m in messages)
    assert not any(m.startswith("epoch 1/5:  ") for m in messages)  # (the bar has them)
    # on a terminal the bar is redrawn in place, and its line ended before a log record
    monkeypatch.setattr(word2vec, "_is_terminal", lambda stream: True)
    model.train(progress=True, report_delay=0.0, epochs=1, compute_loss=False)
    err = capsys.readouterr().err
    assert err.startswith("\r[") and err.endswith("\n")
    # without the bar the reports go to the log; a loss not computed is not logged as 0
    with caplog.at_level(logging.INFO, logger="fastw2v"):
        model.train(progress=False, report_delay=0.0, epochs=1)
    assert any("loss not computed (compute_loss=False)" in r.getMessage()
               for r in caplog.records)
    assert any(re.match(r"epoch 1/1: +\d", r.getMessage()) for r in caplog.records)


def test_training_nonfinite_weights_raise_with_advice(planted):
    sentences, _ = planted
    model = Word2Vec(**SMALL)
    model.build_vocab(sentences)
    model.wv.vectors[0, 0] = np.inf
    with pytest.raises(FloatingPointError, match=r"model.wv.vectors holds NaN or inf "
                                                 r"before training.*build_vocab"):
        model.train()
    model.build_vocab(sentences)
    model.w_out_ns[1, 1] = np.nan
    with pytest.raises(FloatingPointError, match="model.w_out_ns holds NaN"):
        model.train()


def test_training_divergence_says_the_weights_are_unusable_and_the_fix():
    rng = np.random.default_rng(0)
    sentences = [[f"w{x}" for x in rng.integers(0, 50, 10)] for _ in range(300)]
    model = Word2Vec(min_count=1, vector_size=8, workers=1, alpha=10, min_alpha=10,
                     cbow_mean=0, window=20, epochs=3, sample=0)
    model.build_vocab(sentences)
    with pytest.raises(FloatingPointError, match=r"unusable.*started at alpha 10.0.*"
                                                 r"build the vocabulary again"):
        model.train()
    # a lower rate cannot repair them: the error says so rather than "lower the rate"
    with pytest.raises(FloatingPointError, match="holds NaN or inf before training"):
        model.train(start_alpha=0.01, end_alpha=0.0001)
    model.build_vocab(sentences)                    # the fix the message gives
    model.train(start_alpha=0.01, end_alpha=0.0001)
    assert np.isfinite(model.wv.vectors).all()


def test_training_explicit_schedule_and_totals(planted):
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    model.train(epochs=2, start_alpha=0.01, end_alpha=0.001,
                total_examples=model.corpus_count, total_words=model.corpus_total_words)
    assert len(model.epoch_losses) == 7
    with pytest.raises(ValueError, match="total_examples=5 but the corpus has"):
        model.train(total_examples=5)
    # gensim's total_examples=len(sentences) counts an empty sentence; corpus_count not
    with_empty = list(sentences) + [[]]
    model.train(with_empty, total_examples=len(with_empty), epochs=1)
    model.train(with_empty, total_examples=model.corpus_count, epochs=1)
    with pytest.raises(ValueError, match="total_examples=3 but the corpus has 3000 non-empty"):
        model.train(with_empty, total_examples=3, epochs=1)
    with pytest.raises(ValueError, match="end_alpha"):
        model.train(start_alpha=0.01, end_alpha=-0.1)
    with pytest.raises(ValueError, match="epochs"):
        model.train(epochs=0)


def test_train_accepts_a_rising_rate_as_gensim_and_names_bad_rates(planted):
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    model.train(epochs=1, start_alpha=0.001, end_alpha=0.02)     # gensim trains it too
    assert model._threads[0].alpha == pytest.approx(0.02)          # and it rose to there
    for bad, exc, name in [(dict(start_alpha=0), ValueError, "start_alpha must be > 0"),
                           (dict(start_alpha=11), ValueError, "start_alpha must be <= 10"),
                           (dict(start_alpha="0.1"), TypeError, "start_alpha"),
                           (dict(end_alpha=-0.1), ValueError, "end_alpha must be >= 0"),
                           (dict(end_alpha=float("nan")), ValueError, "end_alpha")]:
        with pytest.raises(exc, match=name):
            model.train(**bad)

    assert (model.epochs, model.alpha, model.min_alpha) == (1, 0.001, 0.02)  # kept


def test_train_keeps_the_rates_and_epochs_given_as_gensim_does(planted):
    """gensim's train() stores epochs, start_alpha and end_alpha on the model: a later
    call without them trains the same schedule again."""
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    assert (model.epochs, model.alpha, model.min_alpha) == (5, 0.025, 0.0001)
    losses = len(model.epoch_losses)
    model.train(epochs=2, start_alpha=0.01, end_alpha=0.002)
    assert (model.epochs, model.alpha, model.min_alpha) == (2, 0.01, 0.002)
    model.train()
    assert len(model.epoch_losses) == losses + 4
    assert model.min_alpha_yet_reached == 0.002
    with pytest.raises(ValueError, match="start_alpha"):
        model.train(epochs=3, start_alpha=0)                      # refused: nothing kept
    assert (model.epochs, model.alpha) == (2, 0.01)


def test_the_hand_written_learning_rate_loop_of_gensim_tutorials(planted):
    """Lowering alpha below min_alpha and then min_alpha to it (the loop of many gensim
    tutorials) is allowed, as a rising schedule is, at every step."""
    sentences, _ = planted
    model = Word2Vec(workers=1, **{**SMALL, "epochs": 1})
    model.build_vocab(sentences)
    reached = []
    for _ in range(3):
        model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
        reached.append(model.min_alpha_yet_reached)
        model.alpha -= 0.002
        model.min_alpha = model.alpha
    assert reached == pytest.approx([0.0001, 0.023, 0.021])
    assert model._threads[0].alpha == pytest.approx(0.021)      # the rate trained last
    rising = Word2Vec(sentences, workers=1, alpha=0.01, min_alpha=0.02, **SMALL)
    assert rising._threads[0].alpha == pytest.approx(0.02)


class _LossLog:
    """gensim's documented callback: get_latest_training_loss() at each epoch's end."""

    def __init__(self):
        self.seen = []

    def on_epoch_end(self, model):
        self.seen.append(model.get_latest_training_loss())

    def on_train_begin(self, model):    # (gensim calls every hook)
        pass

    on_train_end = on_epoch_begin = on_train_begin


def test_latest_training_loss_sums_the_current_train_call_as_gensim():
    gensim_models = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(0)
    sentences = [[f"w{x}" for x in rng.integers(0, 30, 8)] for _ in range(300)]
    params = dict(min_count=1, vector_size=16, workers=1, sg=1, compute_loss=True)
    for make in (gensim_models.Word2Vec, Word2Vec):
        log = _LossLog()
        model = make(sentences, epochs=3, callbacks=[log], **params)
        first = list(log.seen)
        assert 0 < first[0] < first[1] < first[2]            # summed over the call
        assert model.get_latest_training_loss() == first[-1]
        model.train(sentences, total_examples=len(sentences), epochs=2, callbacks=[log],
                    compute_loss=True)
        second = log.seen[3:]
        assert second[0] < first[-1] / 2 and second[0] < second[1]   # from 0 again
        assert model.get_latest_training_loss() == second[-1]
    np.testing.assert_allclose(first, np.cumsum(model.epoch_losses[:3]), rtol=1e-12)
    np.testing.assert_allclose(second, np.cumsum(model.epoch_losses[3:]), rtol=1e-12)


def test_training_new_corpus_with_existing_vocabulary(planted):
    sentences, groups = planted
    model = Word2Vec(sentences, **SMALL)
    before = model.wv.vectors.copy()
    model.train([["g0w1", "g0w2", "unknown", "g0w3"]] * 50, epochs=1)
    assert not np.array_equal(before, model.wv.vectors)
    with pytest.raises(ValueError, match="no word of the vocabulary"):
        model.train([["unknown", "words"]])


def test_train_takes_a_generator_as_it_reads_the_corpus_once(planted, tmp_path):
    # train() encodes its corpus once, then every epoch runs over the encoded ids: a
    # one-shot iterable is enough
    sentences, _ = planted
    a, b = (Word2Vec(workers=1, **SMALL) for _ in range(2))
    a.build_vocab(sentences)
    b.build_vocab(sentences)
    a.train(sentences + [[]], epochs=2)
    # one-shot sentences too; gensim's total_examples counts the empty ones, and a
    # generator has no len()
    b.train(((w for w in s) for s in sentences + [[]]), epochs=2,
            total_examples=len(sentences) + 1)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    with pytest.raises(ValueError, match="total_examples=7"):
        b.train((s for s in sentences), total_examples=7)
    with pytest.raises(TypeError, match="one-shot iterator.*second pass.*max_vocab_size"):
        b.build_vocab((s for s in sentences), update=True, encoded_dir=tmp_path / "enc")


def test_generator_corpus_is_read_once(planted, tmp_path):
    """build_vocab reads its corpus once (the counter keeps the token stream), so a
    generator of one-shot sentences trains as the list would; with max_vocab_size or
    encoded_dir it is read twice and refused before it is read."""
    sentences, _ = planted
    ref = Word2Vec(sentences, workers=1, **SMALL)
    model = Word2Vec((iter(s) for s in sentences), workers=1, **SMALL)
    np.testing.assert_array_equal(model.wv.vectors, ref.wv.vectors)
    assert model.corpus_count == ref.corpus_count == len(sentences)
    for twice in ({"max_vocab_size": 10_000}, {"encoded_dir": tmp_path / "enc"}):
        gen = (s for s in sentences)
        with pytest.raises(TypeError, match="corpus_iterable is a one-shot iterator.*"
                                            "max_vocab_size or encoded_dir"):
            Word2Vec(gen, workers=1, **SMALL, **twice)
        assert next(gen) == sentences[0]                  # refused before it was read
        with pytest.raises(TypeError, match="sentence 1 is a one-shot iterator"):
            Word2Vec([sentences[0], iter(sentences[1])], workers=1, **SMALL, **twice)
    # gensim's two calls with one generator: the second finds it empty
    gen = (s for s in sentences)
    model = Word2Vec(workers=1, **SMALL)
    model.build_vocab(gen)
    with pytest.raises(ValueError, match="yielded no sentence.*train\\(\\) without a corpus"):
        model.train(gen, total_examples=model.corpus_count, epochs=model.epochs)
    model.train()
    np.testing.assert_array_equal(model.wv.vectors, ref.wv.vectors)
    # sentences that are iterators: fine in the one read, empty in a second
    once = [iter(s) for s in sentences]
    model = Word2Vec(workers=1, **SMALL)
    model.build_vocab(once)
    with pytest.raises(ValueError, match="3000 sentences of corpus_iterable hold no token.*"
                                         "give them as lists"):
        model.train(once)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: Word2Vec().train(), RuntimeError, "build_vocab"),
    (lambda: Word2Vec((s for s in [["a"]]), max_vocab_size=100), TypeError, "one-shot"),
    (lambda: Word2Vec("corpus.txt"), TypeError, "corpus_file="),
    (lambda: Word2Vec(["a b c"], min_count=1), TypeError, "split"),
    (lambda: Word2Vec([["a"], map(str.lower, ["B"])], min_count=1, max_vocab_size=100),
     TypeError, r"sentence 1 is a one-shot iterator.*list\(map"),
    (lambda: Word2Vec([["a"]], corpus_file="x"), ValueError, "not both"),
    (lambda: Word2Vec([], min_count=1), ValueError, "Empty vocabulary"),
    (lambda: Word2Vec([["a", "b"]]), ValueError, "min_count=5"),
    (lambda: Word2Vec(corpus_file="/nonexistent/file"), FileNotFoundError, "does not exist"),
    (lambda: Word2Vec(size=10), TypeError, "vector_size"),
    (lambda: Word2Vec(workers=0), ValueError, "workers"),
    (lambda: Word2Vec(hs=0, negative=0), ValueError, "negative > 0"),
])
def test_word2vec_bad_input_raises_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_word2vec_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n \n\t\n")
    with pytest.raises(ValueError, match="Empty vocabulary.*no tokens"):
        Word2Vec(corpus_file=path, min_count=1)


def test_config_values_read_and_set_as_model_attributes_like_gensim(planted):
    sentences, _ = planted
    model = Word2Vec(workers=2, **SMALL)
    assert (model.epochs, model.vector_size, model.window) == (5, 24, 5)
    model.epochs = 2                                   # gensim's model.epochs = ...
    model.window = 3
    assert model.config.epochs == 2 and model.config.window == 3
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        model.epochs = 0
    model.build_vocab(sentences)
    with pytest.raises(AttributeError, match="vector_size cannot change once the "
                                             "vocabulary is built"):
        model.vector_size = 8
    with pytest.raises(AttributeError, match="seed cannot change"):  # was kept, unused
        model.seed = 99
    # gensim's idiom for training again
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    assert len(model.epoch_losses) == 2
    rng_states = [t.rng_state for t in model._threads]
    model.window = 12            # wider than the threads' buffers were made for
    states = model._thread_states(2)
    assert [t.window for t in states] == [12, 12]
    assert [t.rng_state for t in states] == rng_states           # the streams go on
    model.train(epochs=1)
    assert len(model.epoch_losses) == 3
    with pytest.raises(AttributeError, match="no attribute 'epoch'"):
        model.epoch


def test_vectors_added_to_model_wv_are_not_trained_or_saved_silently(planted, tmp_path):
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    model.train(epochs=1, compute_loss=False)             # gensim's keyword
    assert model.config.compute_loss is False and model.get_latest_training_loss() == 0.0
    model.wv.add_vector("extra", np.ones(24))
    for call in (model.train, lambda: model.save(tmp_path / "m.fw2v"),
                 lambda: model.build_vocab(sentences, update=True)):
        with pytest.raises(RuntimeError, match="vectors added to model.wv are not part"):
            call()
    model.wv.save(tmp_path / "v.fw2v")                    # as the message says
    assert "extra" in KeyedVectors.load(tmp_path / "v.fw2v")


def test_word2vec_signature_lists_config_parameters():
    import inspect
    params = inspect.signature(Word2Vec).parameters
    assert params["vector_size"].default == 100 and params["sg"].default == 0


INTERRUPT_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from fastw2v import Word2Vec
    from fastw2v.synthetic import planted_groups
    sentences, _ = planted_groups(n_sentences=20000, sentence_length=20)
    model = Word2Vec(vector_size=32, min_count=1, sg=1, window=8, epochs=10000, workers=2)
    model.build_vocab(sentences)
    before = model.wv.vectors.copy()
    print("ready", flush=True)
    try:
        model.train()
    except KeyboardInterrupt:
        print("interrupted", bool(np.isfinite(model.wv.vectors).all()),
              not np.array_equal(before, model.wv.vectors), flush=True)
        sys.exit(0)
    print("finished", flush=True)
""")


def _default_sigint():
    """In the child: Ctrl-C handled as usual even when the test run itself was started in
    the background (a shell without job control starts it with SIGINT ignored, which a
    child inherits, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_training_ctrl_c_stops_and_keeps_vectors():
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPT_SCRIPT],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        assert proc.stdout.readline().strip() == "ready"
        threading.Event().wait(1.0)      # let the workers get going
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)   # a hang fails here
    finally:
        proc.kill()
    assert out.strip() == "interrupted True True", err


# ---- id sequences, vocabulary updates, continued training ----

def test_ids_give_same_vectors_as_strings():
    from fastw2v.synthetic import planted_sessions
    sessions, _ = planted_sessions(n_sessions=500, seed=2)
    as_str = [[str(x) for x in s] for s in sessions]
    a = Word2Vec(sessions, workers=1, sg=1, **SMALL)
    b = Word2Vec(as_str, workers=1, sg=1, **SMALL)
    assert a.wv.index_to_key == [int(k) for k in b.wv.index_to_key]
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    # a list of int arrays is the same corpus
    arrays = [np.array(s, np.int32) for s in sessions]
    c = Word2Vec(arrays, workers=1, sg=1, **SMALL)
    np.testing.assert_array_equal(a.wv.vectors, c.wv.vectors)
    assert isinstance(a.wv.index_to_key[0], int)


def test_id_input_in_every_form_gives_the_same_vectors():
    # fixed-length walks: a 2-D array, a torch tensor, lists of either's rows, an object
    # array, numpy scalars in token lists: one corpus, int keys
    walks = np.random.default_rng(4).integers(0, 60, size=(300, 8))
    as_objects = np.empty(len(walks), object)           # (what a groupby into arrays gives)
    as_objects[:] = list(walks)
    forms = [walks, list(walks), as_objects,
             [[np.int32(x) if i % 2 else np.uint16(x) for i, x in enumerate(w)]
              for w in walks.tolist()], walks.tolist()]
    torch = pytest.importorskip("torch")
    tensors = list(torch.from_numpy(walks))

    class Walks:                                  # a restartable stream of tensors
        def __iter__(self):
            return iter(tensors)

    forms += [torch.from_numpy(walks), tensors, Walks(), (t for t in tensors)]
    models = [Word2Vec(f, workers=1, sg=1, **SMALL) for f in forms]
    for m in models:
        assert all(type(k) is int for k in m.wv.index_to_key)
        assert m.wv.index_to_key == models[0].wv.index_to_key
        np.testing.assert_array_equal(m.wv.vectors, models[0].wv.vectors)


def test_ids_into_a_vocabulary_of_other_keys_are_refused_by_update():
    model = Word2Vec([["1", "2"], ["2", "3"]] * 5, workers=1, **SMALL)
    with pytest.raises(TypeError, match="keys are not integers"):
        model.build_vocab([np.array([1, 2])], update=True)
    assert model.wv.index_to_key == ["2", "1", "3"]


def test_an_epoch_that_keeps_no_token_is_reported(caplog):
    sessions = [[501, 77, 501], [9, 77, 12, 9]]
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        model = Word2Vec(sessions, min_count=1, vector_size=8, sample=1e-4, epochs=3,
                         workers=1)
    assert model.words_trained == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "trained no word: subsampling (sample=0.0001)" in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        Word2Vec(sessions, min_count=1, vector_size=8, sample=0, epochs=1, workers=1)
    assert not caplog.records


def test_ids_planted_item_groups_recovered():
    from fastw2v.synthetic import planted_sessions
    sessions, groups = planted_sessions(seed=5)
    model = Word2Vec(sessions, vector_size=32, window=20, shrink_windows=False,
                     sample=1e-3, ns_exponent=0.5, min_count=1, sg=1, epochs=5, workers=1)
    assert group_purity(model.wv, groups, topn=5) > 0.9        # chance: 0.1
    item = next(iter(groups))
    assert all(groups[k] == groups[item] for k, _ in model.wv.most_similar(item, topn=3))


def test_build_vocab_update_keeps_old_vectors_and_learns_new_words(planted):
    sentences, groups = planted
    # one worker: reproducible (with two, about one run in a hundred put a word of another
    # group among new0's four nearest)
    model = Word2Vec(sentences, workers=1, hs=1, **SMALL)
    before = model.wv.vectors.copy()
    n_old = len(model.wv)
    # new words that behave like group 0 members
    rng = np.random.default_rng(9)
    g0 = [w for w, g in groups.items() if g == 0]
    new = [list(rng.choice(g0, size=10)) + ["new0", "new1"] for _ in range(400)]
    model.build_vocab(new, update=True)
    assert model.wv.index_to_key[:n_old] == model.vocab.index_to_key[:n_old]
    assert {"new0", "new1"} <= set(model.wv.index_to_key[n_old:])
    np.testing.assert_array_equal(model.wv.vectors[:n_old], before)   # untouched so far
    assert model.syn1neg.shape == (n_old + 2, 24) and model.syn1.shape == (n_old + 1, 24)
    assert model.wv.counts[model.wv.get_index("g0w0")] > model.vocab.counts.min()
    model.train(epochs=5)
    near = [w for w, _ in model.wv.most_similar("new0", topn=5) if w != "new1"]
    assert all(groups.get(w) == 0 for w in near)
    with pytest.raises(RuntimeError, match="existing vocabulary"):
        Word2Vec(**SMALL).build_vocab(new, update=True)


def test_vocab_update_keeps_the_same_wv_object_as_gensim(planted):
    gensim_models = pytest.importorskip("gensim.models")
    sentences, _ = planted
    new = [["brand", "new", "words"]] * 3
    for make in (gensim_models.Word2Vec, Word2Vec):
        model = make(sentences[:500], min_count=1, vector_size=8, workers=1, epochs=1)
        wv = model.wv
        model.build_vocab(new, update=True)
        assert model.wv is wv and "brand" in wv
        assert len(wv.vectors) == len(wv.index_to_key) == len(model.wv)
    model.train(new, epochs=1)
    assert model.wv is wv


def test_trim_rule_as_gensim_in_every_vocabulary_builder(tmp_path):
    import fastw2v
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)] + ["the", "of"]
    sentences = [[words[i] for i in rng.integers(0, len(words), size=8)] + ["the", "of"]
                 for _ in range(60)]                  # "the", "of": 60 times or more

    def rule(word, count, min_count):
        if word in ("the", "of"):
            return fastw2v.RULE_DISCARD
        if word.endswith("7"):
            return fastw2v.RULE_KEEP
        return fastw2v.RULE_DEFAULT

    settings = dict(vector_size=4, min_count=18, epochs=1, workers=1)
    ours = Word2Vec(sentences, trim_rule=rule, **settings)
    assert "the" not in ours.wv and "of" not in ours.wv and "w7" in ours.wv
    assert ours.wv.get_vecattr("w7", "count") < 18          # kept by the rule alone
    path = write_lines(tmp_path / "c.txt", sentences)
    from_file = Word2Vec(**settings)
    from_file.build_vocab(corpus_file=path, trim_rule=rule)
    from_freq = Word2Vec(**settings)
    freq = dict(zip(ours.wv.index_to_key, ours.wv.counts.tolist()))
    freq.update({"the": 10**6, "w27": 1})
    from_freq.build_vocab_from_freq(freq, trim_rule=rule)
    assert set(from_file.wv.index_to_key) == set(ours.wv.index_to_key)
    assert "the" not in from_freq.wv and "w27" in from_freq.wv
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.Word2Vec(sentences, trim_rule=rule, **settings)
    assert sorted(theirs.wv.index_to_key) == sorted(ours.wv.index_to_key)
    # update: new words pass the rule; known words stay whatever it says
    ours.build_vocab([["the", "x17"] * 3, ["w7", "zz"] * 40], update=True,
                     trim_rule=lambda w, c, m: fastw2v.RULE_DISCARD if w != "x17" else
                     fastw2v.RULE_KEEP)
    assert "x17" in ours.wv and "zz" not in ours.wv and "w7" in ours.wv


def test_build_vocab_from_freq_takes_gensim_s_corpus_count(planted):
    sentences, _ = planted
    freq = {}
    for s in sentences:
        for w in s:
            freq[w] = freq.get(w, 0) + 1
    model = Word2Vec(workers=1, **SMALL)
    model.build_vocab_from_freq(freq, corpus_count=len(sentences))
    assert model.corpus_count == len(sentences)
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    model.build_vocab_from_freq(freq)
    assert model.corpus_count == 0                   # no corpus, none said: gensim's 0
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError, match="corpus_count must be None or a non-negative"):
            model.build_vocab_from_freq(freq, corpus_count=bad)
    model.build_vocab_from_freq(freq, corpus_count=7)
    with pytest.raises(ValueError, match="total_examples=7"):
        model.train(sentences, total_examples=model.corpus_count)


@pytest.mark.parametrize("sg, hs", [(1, 0), (0, 0), (1, 1)])
def test_intersect_word2vec_format_freezes_or_trains_the_vectors_taken(planted, tmp_path,
                                                                      sg, hs):
    # gensim's recipe to start from pretrained vectors: take the file's vectors for the
    # shared words with a lock factor (0: frozen in training, 1: trained on)
    sentences, _ = planted
    model = Word2Vec(workers=2, sg=sg, hs=hs, negative=0 if hs else 5, **SMALL)
    model.build_vocab(sentences)
    words = model.wv.index_to_key
    pretrained = KeyedVectors(np.random.default_rng(0).normal(size=(4, 24)),
                              words[:3] + ["notinvocab"])
    pretrained.save_word2vec_format(tmp_path / "p.bin", binary=True)
    assert model.wv.intersect_word2vec_format(tmp_path / "p.bin", binary=True) == 3
    np.testing.assert_array_equal(model.wv.vectors[:3], pretrained.vectors[:3])
    assert model.wv.vectors_lockf.tolist() == [0, 0, 0] + [1] * (len(words) - 3)
    before = model.wv.vectors.copy()
    model.train()
    np.testing.assert_array_equal(model.wv.vectors[:3], pretrained.vectors[:3])
    assert not np.any(np.all(model.wv.vectors[3:] == before[3:], axis=1))
    # lockf=1.0: taken, then trained like the rest
    model.wv.intersect_word2vec_format(tmp_path / "p.bin", lockf=1.0, binary=True)
    model.train()
    assert not np.any(np.all(model.wv.vectors[:3] == pretrained.vectors[:3], axis=1))


def test_vectors_lockf_saved_grown_and_checked(planted, tmp_path):
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    n = len(model.wv)
    model.wv.vectors_lockf = np.ones(n, np.float32)
    model.wv.vectors_lockf[5] = 0.0
    for path, load in ((tmp_path / "m.fw2v", Word2Vec.load),):
        model.save(path)
        for mmap in (None, "r"):
            back = load(path, mmap=mmap)
            np.testing.assert_array_equal(back.wv.vectors_lockf, model.wv.vectors_lockf)
    model.wv.save(tmp_path / "kv.fw2v")
    np.testing.assert_array_equal(KeyedVectors.load(tmp_path / "kv.fw2v").vectors_lockf,
                                  model.wv.vectors_lockf)
    # new words get 1: they train as usual
    model.build_vocab([["brandnew"] * 3], update=True)
    assert len(model.wv.vectors_lockf) == n + 1 and model.wv.vectors_lockf[-1] == 1.0
    row5 = model.wv.vectors[5].copy()
    model.train(sentences, epochs=1)
    np.testing.assert_array_equal(model.wv.vectors[5], row5)
    model.wv.add_vectors(["added"], np.ones((1, 24)))
    assert len(model.wv.vectors_lockf) == n + 2
    # one factor for every row, as gensim's default ones(1): 0 freezes them all
    model.build_vocab(sentences)
    assert model.wv.vectors_lockf is None            # a new vocabulary: all 1 again
    model.wv.vectors_lockf = np.zeros(1, np.float32)
    before = model.wv.vectors.copy()
    model.train(epochs=1)
    np.testing.assert_array_equal(model.wv.vectors, before)
    for bad, match in ((np.ones(3), "one per key"), ([np.nan] * len(model.wv), "NaN"),
                       (np.ones((len(model.wv), 1)), "1-D")):
        model.wv.vectors_lockf = bad
        with pytest.raises(ValueError, match=f"model.wv.vectors_lockf.*{match}"):
            model.train(epochs=1)
    model.wv.vectors_lockf = None
    KeyedVectors(np.ones((1, 5)), ["g0w0"]).save_word2vec_format(tmp_path / "5.txt")
    with pytest.raises(ValueError, match="size 5, these have 24"):
        model.wv.intersect_word2vec_format(tmp_path / "5.txt")
    with pytest.raises(ValueError, match="lockf must be a finite number"):
        model.wv.intersect_word2vec_format(tmp_path / "5.txt", lockf=float("nan"))


def test_intersect_word2vec_format_as_gensim(planted, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    sentences, _ = planted
    sentences = sentences[:300]
    pretrained = KeyedVectors(np.random.default_rng(0).normal(size=(3, 24)),
                              ["g0w1", "g1w2", "nothere"])
    pretrained.save_word2vec_format(tmp_path / "p.txt")
    theirs = gensim_models.Word2Vec(sentences, workers=1, **SMALL)
    theirs.wv.vectors_lockf = np.ones(len(theirs.wv), np.float32)   # gensim 4 needs this
    theirs.wv.intersect_word2vec_format(str(tmp_path / "p.txt"), lockf=0.0)
    ours = Word2Vec(sentences, workers=1, **SMALL)
    assert ours.wv.intersect_word2vec_format(tmp_path / "p.txt") == 2
    np.testing.assert_array_equal(ours.wv.vectors_lockf, theirs.wv.vectors_lockf[
        [theirs.wv.key_to_index[k] for k in ours.wv.index_to_key]])
    for model in (theirs, ours):
        other = model.wv["g0w2"].copy()
        model.train(sentences, total_examples=len(sentences), epochs=1)
        np.testing.assert_array_equal(model.wv[["g0w1", "g1w2"]], pretrained.vectors[:2])
        assert not np.array_equal(model.wv["g0w2"], other)          # trained as usual


def test_vocabulary_update_applies_max_final_vocab_and_trim_rule_as_gensim():
    # gensim raises min_count over the new corpus's words so that at most max_final_vocab
    # of them are added, and gives trim_rule that raised min_count
    old = [[f"w{i}"] * (i + 1) for i in range(40)]
    new = [[f"n{i}" for i in range(30) for _ in range(i + 1)]]
    seen = set()

    def rule(word, count, min_count):
        seen.add(min_count)

    ours = Word2Vec(vector_size=8, min_count=1, max_final_vocab=10, workers=1)
    ours.build_vocab(old)
    ours.build_vocab(new, update=True, trim_rule=rule)
    assert seen == {21} and len(ours.wv) == 20
    ours.build_vocab_from_freq({f"m{i}": i + 1 for i in range(30)}, update=True)
    assert len(ours.wv) == 30
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.Word2Vec(vector_size=8, min_count=1, max_final_vocab=10,
                                    workers=1)
    theirs.build_vocab(old)
    theirs.build_vocab(new, update=True)
    assert sorted(theirs.wv.index_to_key) == sorted(ours.wv.index_to_key[:20])


def test_lock_factors_of_a_one_word_vocabulary_grow_per_key(tmp_path):
    model = Word2Vec(vector_size=4, min_count=1, workers=1, sample=0)
    model.build_vocab([["a"] * 3])
    KeyedVectors(np.ones((1, 4)), ["a"]).save_word2vec_format(tmp_path / "a.txt")
    model.wv.intersect_word2vec_format(tmp_path / "a.txt", lockf=0.0)
    model.build_vocab([["a", "b", "c", "b", "c"] * 3], update=True)
    assert model.wv.vectors_lockf.tolist() == [0.0, 1.0, 1.0]
    before = model.wv.vectors.copy()
    model.train(epochs=2)
    assert np.array_equal(model.wv.vectors[0], before[0])
    assert not np.array_equal(model.wv.vectors[1:], before[1:])


def test_lock_factors_checked_before_an_update_and_one_for_all_grows_per_key(planted):
    sentences, _ = planted
    model = Word2Vec(sentences[:200], workers=1, **SMALL)
    n = len(model.wv)
    model.wv.vectors_lockf = ["x"] * n
    with pytest.raises(ValueError, match="vectors_lockf must be None or a 1-D array"):
        model.build_vocab([["brandnew"] * 3], update=True)
    assert len(model.vocab) == len(model.wv) == n    # nothing changed
    model.wv.vectors_lockf = np.zeros(1, np.float32)  # one factor for all: 0
    model.build_vocab([["brandnew"] * 3], update=True)
    assert model.wv.vectors_lockf.tolist() == [0.0] * n + [1.0]


def test_trim_rule_asked_about_new_words_only_and_counts_of_zero_refused():
    model = Word2Vec(vector_size=4, min_count=1, workers=1)
    model.build_vocab([["a", "b"]] * 3)
    asked = []
    model.build_vocab([["a", "new"]] * 2, update=True,
                      trim_rule=lambda w, c, m: asked.append(w))
    assert asked == ["new"]
    with pytest.raises(ValueError, match="trim_rule keeps 'z', whose count is 0"):
        Word2Vec(vector_size=4, workers=1).build_vocab_from_freq(
            {"a": 5, "z": 0}, trim_rule=lambda w, c, m: 2)


def test_intersect_on_a_memory_mapped_model_after_copying_its_vectors(tmp_path):
    kv = KeyedVectors(np.zeros((3, 2)), ["a", "b", "c"])
    kv.vectors_lockf = np.array([1, 0, 1], np.float32)
    kv.save(tmp_path / "kv")
    KeyedVectors(np.ones((2, 2)), ["a", "x"]).save_word2vec_format(tmp_path / "p.txt")
    mapped = KeyedVectors.load(tmp_path / "kv", mmap="r")
    with pytest.raises(ValueError, match="read-only"):
        mapped.intersect_word2vec_format(tmp_path / "p.txt")
    mapped.vectors = mapped.vectors.copy()                # as the error says
    assert mapped.intersect_word2vec_format(tmp_path / "p.txt", lockf=0.5) == 1
    assert mapped.vectors_lockf.tolist() == [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(mapped.vectors, [[1, 1], [0, 0], [0, 0]])


def test_failed_vocabulary_update_leaves_the_model_as_it_was(planted, monkeypatch):
    model = Word2Vec(min_count=1, vector_size=4, workers=1)
    model.build_vocab_from_freq({"a": 2**62, "b": 2**62 - 1})    # total: 2**63 - 1
    vocab, wv = model.vocab, model.wv
    for update in ({"a": 2**62}, {"b": 1}, {"c": 2**62}):
        with pytest.raises(ValueError, match="must fit in 64-bit integers"):
            model.build_vocab_from_freq(update, update=True)
    assert model.vocab is vocab and model.wv is wv and wv.index_to_key == ["a", "b"]
    assert vocab.counts.tolist() == [2**62, 2**62 - 1]
    # build_vocab(update=True) failing after counting (here: no memory for the grown
    # weights) changes nothing either
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    vocab, corpus, keys = model.vocab, model.corpus, list(model.wv.index_to_key)
    vectors, w_out_ns = model.wv.vectors, model.w_out_ns

    def no_memory(shape, dtype):
        raise MemoryError(f"cannot allocate {shape}")

    monkeypatch.setattr(native, "aligned_empty", no_memory)
    with pytest.raises(MemoryError):
        model.build_vocab([["brand", "new"]] * 3, update=True)
    monkeypatch.undo()
    assert model.vocab is vocab and model.corpus is corpus
    assert model.wv.index_to_key == keys and model.wv.vectors is vectors
    assert model.w_out_ns is w_out_ns
    model.train(epochs=1)                                        # still consistent


def test_predict_output_word(planted):
    sentences, groups = planted
    model = Word2Vec(sentences, workers=1, **SMALL)     # (reproducible: strict checks)
    out = model.predict_output_word(["g2w0", "g2w1", "g2w3"], topn=5)
    assert len(out) == 5 and all(groups.get(w, 2) == 2 for w, _ in out)
    probs = [p for _, p in out]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1
    # numpy reference of the same softmax
    h = model.wv[["g2w0", "g2w1", "g2w3"]].mean(axis=0).astype(np.float64)
    p = np.exp(model.syn1neg @ h - (model.syn1neg @ h).max())
    p /= p.sum()
    assert out[0][1] == pytest.approx(p.max(), rel=1e-5)
    with pytest.raises(KeyError, match="none of the context words"):
        model.predict_output_word(["nope"])
    with pytest.raises(RuntimeError, match="negative sampling"):
        Word2Vec(sentences, hs=1, negative=0, **SMALL).predict_output_word(["g2w0"])


def test_predict_output_word_topn_as_gensim(planted):
    matutils = pytest.importorskip("gensim.matutils")
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    context = ["g2w0", "g2w1"]
    every = model.predict_output_word(context, topn=None)
    assert len(every) == len(model.wv)
    prob = np.array([dict(every)[w] for w in model.wv.index_to_key])
    assert prob.sum() == pytest.approx(1.0)
    for topn in (None, 5, 1, np.int64(3), 0, -1, -100, len(model.wv) + 5):
        expected = [model.wv.index_to_key[i]
                    for i in matutils.argsort(prob, topn=topn, reverse=True)]
        assert [w for w, _ in model.predict_output_word(context, topn=topn)] == expected
    for bad in (True, 2.5, "3"):
        with pytest.raises(TypeError, match="topn must be an int"):
            model.predict_output_word(context, topn=bad)


@pytest.mark.parametrize("hs, negative, name, change", [
    (1, 0, "w_out_hs", lambda m: setattr(m, "w_out_hs", None)),
    (0, 5, "w_out_ns", lambda m: setattr(m, "w_out_ns", None)),
    (0, 5, "w_out_ns", lambda m: setattr(m, "w_out_ns", np.zeros((2, 24), np.float32))),
    (0, 5, "w_out_ns", lambda m: setattr(m, "w_out_ns", m.w_out_ns.astype(np.float64))),
    (1, 0, "w_out_hs", lambda m: setattr(m, "w_out_hs", np.zeros((10, 24), np.float32))),
    (1, 0, "w_out_hs", lambda m: setattr(m, "w_out_hs", np.asfortranarray(m.w_out_hs))),
    (0, 5, "wv.vectors", lambda m: setattr(m.wv, "vectors", m.wv.vectors[:10].copy())),
    (1, 5, "wv.vectors", lambda m: setattr(m.wv, "vectors", m.wv.vectors[:, :12].copy())),
    (0, 5, "wv.vectors", lambda m: setattr(m.wv, "vectors", np.zeros(
        (len(m.wv), 48), np.float32)[:, ::2])),
])
def test_reassigned_weights_of_wrong_shape_dtype_or_layout_are_named(planted, hs, negative,
                                                                     name, change):
    """The kernels write through raw pointers: a matrix the user put in place of a
    model's weights is checked first, and the error names it and the shape it needs."""
    sentences, _ = planted
    model = Word2Vec(sentences[:300], workers=1, hs=hs, negative=negative,
                     **{**SMALL, "epochs": 1})
    n = len(model.vocab)
    rows = n - 1 if name == "w_out_hs" else n
    change(model)
    pattern = re.escape(f"model.{name}") + r".*" + re.escape(f"({rows}, 24)")
    with pytest.raises(ValueError, match=pattern):
        model.train()
    with pytest.raises(ValueError, match=pattern):
        model.build_vocab([["brand", "new"]] * 2, update=True)
    assert len(model.vocab) == n


class _StopAfter:
    def __init__(self, n):
        self.n = n

    def on_epoch_end(self, model):
        if len(model.epoch_losses) == self.n:
            raise RuntimeError("simulated crash")


def test_resume_after_interruption_equals_uninterrupted(planted):
    sentences, _ = planted
    full = Word2Vec(sentences, workers=1, sg=1, **{**SMALL, "epochs": 4})
    part = Word2Vec(workers=1, sg=1, **{**SMALL, "epochs": 4})
    part.build_vocab(sentences)
    with pytest.raises(RuntimeError, match="simulated crash"):
        part.train(callbacks=[_StopAfter(2)])
    assert len(part.epoch_losses) == 2
    part.train(resume=True)
    np.testing.assert_array_equal(part.wv.vectors, full.wv.vectors)
    assert part.epoch_losses == full.epoch_losses
    with pytest.raises(RuntimeError, match="nothing to resume"):
        part.train(resume=True)


def _ctrl_c_mid_epoch(monkeypatch, times):
    """Make the next `times` train() calls see Ctrl-C at the first progress check (0.1 s
    in, while the workers are inside an epoch), as the join loop would on a real one."""
    from fastw2v import word2vec
    left = [times]
    real = word2vec._Progress.update

    def update(self, done, epoch):
        if left[0] and done > 0:
            left[0] -= 1
            raise KeyboardInterrupt
        return real(self, done, epoch)

    monkeypatch.setattr(word2vec._Progress, "update", update)


@pytest.fixture(scope="module")
def long_sentences():
    # 1.2 M tokens: an epoch without subsampling outlasts the 0.1 s before the first check
    return planted_groups(n_groups=6, words_per_group=10, n_sentences=100_000, seed=2)[0]


LONG = dict(workers=1, sg=1, negative=3, vector_size=16, min_count=1, epochs=2, seed=4,
            sample=0)


@pytest.fixture(scope="module")
def long_reference(long_sentences):
    """An uninterrupted run on long_sentences, which the interrupted ones must equal."""
    return Word2Vec(long_sentences, **LONG)


def test_resume_after_ctrl_c_inside_an_epoch_equals_uninterrupted(long_sentences,
                                                                  long_reference,
                                                                  monkeypatch):
    """One thread stops where it stands; resume=True continues from that word, with the
    same random stream and learning rate: equal bit for bit, even interrupted twice."""
    full = long_reference
    part = Word2Vec(**LONG)
    part.build_vocab(long_sentences)
    _ctrl_c_mid_epoch(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        part.train()
    left = part._schedule["left"]
    assert len(left) == 1 and 0 < left[0][0] < left[0][1] == part.corpus.n_ids
    with pytest.raises(KeyboardInterrupt):
        part.train(resume=True)
    assert part._schedule["left"][0][0] > left[0][0]              # it got further
    part.train(resume=True)
    np.testing.assert_array_equal(part.wv.vectors, full.wv.vectors)
    np.testing.assert_array_equal(part.w_out_ns, full.w_out_ns)
    assert part.words_trained == full.words_trained
    assert part.examples_trained == full.examples_trained
    np.testing.assert_allclose(part.epoch_losses, full.epoch_losses, rtol=1e-9)


def test_resume_after_ctrl_c_with_threads_trains_every_word_once(long_sentences,
                                                                monkeypatch, tmp_path):
    part = Word2Vec(**{**LONG, "workers": 3})
    part.build_vocab(long_sentences)
    _ctrl_c_mid_epoch(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        part.train()
    n_ids = part.corpus.n_ids
    assert 0 < part.words_trained < n_ids
    part.save(tmp_path / "m.fw2v")                     # what is left survives a save
    part = Word2Vec.load(tmp_path / "m.fw2v")
    part.train(long_sentences, resume=True)
    # without subsampling every token is trained once per epoch, interrupted or not
    assert part.words_trained == 2 * n_ids
    assert len(part.epoch_losses) == 2 and part._schedule is None


class _Running:
    """Callbacks that tell whether train() is running (between its first and last
    callback), so that a Ctrl-C arriving after it returned can be dropped."""
    running = False

    def on_train_begin(self, model):
        self.running = True

    def on_train_end(self, model):
        self.running = False


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_resume_after_real_ctrl_c_equals_uninterrupted(long_sentences, long_reference):
    """A real SIGINT, at different moments, while the calling thread waits for the
    workers: there a Ctrl-C inside Thread.join could mark a worker finished while it ran
    on (CPython 3.9-3.12, bpo-45274), and what it left was read before it wrote it. Each
    interrupted train() must keep exactly what is left: resuming until done ends bit for
    bit equal to an uninterrupted run, with every word trained once per epoch."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are set on the main thread only")
    full = long_reference
    state = _Running()
    part = Word2Vec(callbacks=[state], **LONG)
    part.build_vocab(long_sentences)

    def ctrl_c(signum, frame):
        if state.running:        # (one that comes after train() returned is dropped)
            raise KeyboardInterrupt

    delays = [0.03, 0.11, 0.002, 0.07, 0.16, 0.05]
    interrupts = rounds = 0
    finished = False
    # also when the test run ignores SIGINT (started in the background)
    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        while not finished:
            assert rounds < 200, "training never finished"
            timer = threading.Timer(delays[rounds % len(delays)], signal.pthread_kill,
                                    (threading.main_thread().ident, signal.SIGINT))
            timer.start()
            try:
                part.train(resume=rounds > 0)
                finished = True
            except KeyboardInterrupt:
                interrupts += 1
            finally:
                state.running = False       # a Ctrl-C from now on is dropped
                timer.cancel()
                timer.join()                # (its signal, if sent, is handled in there)
            rounds += 1
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupts >= 2       # each epoch takes ~0.3 s, the delays are shorter
    n_ids = part.corpus.n_ids
    assert part.words_trained == full.words_trained == 2 * n_ids
    assert part.examples_trained == full.examples_trained
    np.testing.assert_array_equal(part.wv.vectors, full.wv.vectors)
    np.testing.assert_array_equal(part.w_out_ns, full.w_out_ns)
    np.testing.assert_allclose(part.epoch_losses, full.epoch_losses, rtol=1e-9)
    # the interrupted call and its resumptions are one train() call for the loss too
    assert part.get_latest_training_loss() == pytest.approx(
        full.get_latest_training_loss(), rel=1e-9)
    # no worker left running (one that has just set its done event may still be on its
    # way out of the thread: a loaded machine has been seen to catch one there)
    deadline = time.monotonic() + 10
    while ([t for t in threading.enumerate() if t.name.startswith("fastw2v-worker")]
           and time.monotonic() < deadline):
        time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name.startswith("fastw2v-worker")]


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_second_ctrl_c_while_workers_stop_does_not_abandon_them(long_sentences,
                                                                long_reference,
                                                                monkeypatch, caplog):
    """A second Ctrl-C while the stopped workers finish (here: a worker slow to report)
    is absorbed: train() raises once, after every worker returned, and resuming still
    ends bit for bit equal to an uninterrupted run."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are set on the main thread only")
    full = long_reference
    state = _Running()
    part = Word2Vec(callbacks=[state], **LONG)
    part.build_vocab(long_sentences)
    events, raised, timers = [], [], []
    main = threading.main_thread().ident

    class SlowEvent(threading.Event):
        """A worker that, once stopped, takes 0.3 s more to return."""
        def __init__(self):
            super().__init__()
            events.append(self)

        def set(self):
            if raised:
                threading.Event().wait(0.3)
            super().set()

    def send_ctrl_c(delay):
        timers.append(threading.Timer(delay, signal.pthread_kill, (main, signal.SIGINT)))
        timers[-1].start()

    def ctrl_c(signum, frame):
        if state.running:
            raised.append(all(e.is_set() for e in events))
            if len(raised) == 1:
                send_ctrl_c(0.05)            # again, while the worker is returning
            raise KeyboardInterrupt

    # (word2vec's own threading only: Thread and Timer make events too)
    monkeypatch.setattr(word2vec, "threading", types.SimpleNamespace(
        Thread=threading.Thread, Lock=threading.Lock, Event=SlowEvent,
        get_ident=threading.get_ident))
    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        send_ctrl_c(0.05)
        with caplog.at_level(logging.WARNING, logger="fastw2v"):
            with pytest.raises(KeyboardInterrupt):
                part.train()
        assert all(e.is_set() for e in events)       # every worker had returned
    finally:
        state.running = False
        for timer in timers:
            timer.cancel()
            timer.join()
        signal.signal(signal.SIGINT, previous)
    assert raised == [False, False]      # two Ctrl-C, both while a worker still ran
    assert sum("Ctrl-C again" in r.getMessage() for r in caplog.records) == 1
    monkeypatch.undo()
    part.train(resume=True)
    np.testing.assert_array_equal(part.wv.vectors, full.wv.vectors)
    assert part.words_trained == full.words_trained == 2 * part.corpus.n_ids


@pytest.mark.parametrize("started", [False, True])
def test_ctrl_c_while_starting_workers_stops_those_started(long_sentences, monkeypatch,
                                                           started):
    """Ctrl-C while the second of three workers starts (before or after its thread was
    created): the first is stopped and waited for, nothing trains after train() raised,
    and resuming trains every word exactly once per epoch."""
    part = Word2Vec(**{**LONG, "workers": 3})
    part.build_vocab(long_sentences)
    starts = []

    class Thread(threading.Thread):
        def start(self):
            starts.append(self)
            if len(starts) == 2:
                if started:
                    super().start()
                raise KeyboardInterrupt
            super().start()

    monkeypatch.setattr(word2vec, "threading", types.SimpleNamespace(
        Thread=Thread, Lock=threading.Lock, Event=threading.Event,
        get_ident=threading.get_ident))
    with pytest.raises(KeyboardInterrupt):
        part.train()
    monkeypatch.undo()
    # every thread train() started is one of starts: none left, so nothing trains on
    assert not any(t.is_alive() for t in starts[:1 + started])
    part.train(resume=True)
    assert part.words_trained == 2 * part.corpus.n_ids
    assert len(part.epoch_losses) == 2


BOUNDED_SCRIPT = textwrap.dedent("""
    import resource, sys
    limit = int(sys.argv[1])
    # RLIMIT_DATA bounds the heap and anonymous memory, not file-backed memory maps
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    from fastw2v import Word2Vec
    encoded_dir = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        m = Word2Vec(corpus_file=sys.argv[2], encoded_dir=encoded_dir, vector_size=8,
                     window=2, negative=1, min_count=1, sample=0, epochs=1, workers=2)
    except MemoryError:
        print("MemoryError")
        sys.exit(0)
    print(m.corpus.n_ids, m.words_trained, int(open("/proc/self/status").read()
          .split("VmData:")[1].split()[0]) * 1024)
""")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA semantics")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer reserves more memory than the limit allows")
def test_training_corpus_larger_than_memory_limit(tmp_path):
    """A corpus whose encoded ids alone are larger than the process may allocate trains
    with encoded_dir (memory-mapped), and fails cleanly without it."""
    limit = 160 << 20
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(2000)])
    lines = [" ".join(rng.choice(words, size=20)) for _ in range(40000)]
    block = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        while f.tell() < 3 * limit:
            f.write(block)
    n_tokens = 20 * 40000 * (path.stat().st_size // len(block))
    assert 4 * n_tokens > 1.5 * limit               # the ids alone do not fit
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    run = [sys.executable, "-c", BOUNDED_SCRIPT, str(limit), str(path)]
    out = subprocess.run(run + [str(tmp_path / "enc")], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    n_ids, trained, vm_data = map(int, out.stdout.split())
    assert n_ids == trained == n_tokens
    assert vm_data <= limit
    out = subprocess.run(run, capture_output=True, text=True, env=env, timeout=300)
    assert out.stdout.strip() == "MemoryError", out.stderr


def test_training_shared_negatives(planted):
    sentences, groups = planted
    a = Word2Vec(sentences, sg=1, workers=1, shared_negatives=True, **SMALL)
    b = Word2Vec(sentences, sg=1, workers=1, **SMALL)
    assert group_purity(a.wv, groups) > 0.95
    assert not np.array_equal(a.wv.vectors, b.wv.vectors)   # a different noise stream
    c = Word2Vec(sentences, sg=0, workers=1, shared_negatives=True, **SMALL)
    d = Word2Vec(sentences, sg=0, workers=1, **SMALL)
    np.testing.assert_array_equal(c.wv.vectors, d.wv.vectors)   # CBOW: no effect


# ---- saving and loading whole models ----

class _SaveAfter:
    def __init__(self, n, path):
        self.n, self.path = n, path

    def on_epoch_end(self, model):
        if len(model.epoch_losses) == self.n:
            model.save(self.path)


@pytest.mark.parametrize("hs, negative", [(0, 5), (1, 0), (1, 3)])
def test_save_load_continue_equals_uninterrupted(planted, tmp_path, hs, negative):
    sentences, _ = planted
    params = dict(SMALL, epochs=4, hs=hs, negative=negative, sg=1, workers=1)
    full = Word2Vec(sentences, **params)
    path = tmp_path / "mid.fw2v"
    Word2Vec(sentences, callbacks=[_SaveAfter(2, path)], **params)   # saved mid-run
    loaded = Word2Vec.load(path)
    assert len(loaded.epoch_losses) == 2 and loaded.wv.index_to_key == full.wv.index_to_key
    loaded.train(sentences, resume=True)
    np.testing.assert_array_equal(loaded.wv.vectors, full.wv.vectors)
    assert loaded.epoch_losses == full.epoch_losses
    if negative:
        np.testing.assert_array_equal(loaded.syn1neg, full.syn1neg)


def test_save_load_round_trip_and_mmap(planted, tmp_path):
    from fastw2v.corpus import IdSequences
    sentences, _ = planted
    model = Word2Vec(sentences, hs=1, **SMALL)
    path = tmp_path / "m.fw2v"
    model.save(path)
    back = Word2Vec.load(path)
    assert back.config == model.config
    np.testing.assert_array_equal(back.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(back.syn1, model.syn1)
    assert back.wv.most_similar("g1w1") == model.wv.most_similar("g1w1")
    assert (back.words_trained, back.examples_trained, back.steps_trained) == (
        model.words_trained, model.examples_trained, model.steps_trained)
    assert model.steps_trained > model.examples_trained > 0
    back.train(sentences, epochs=1)                       # a loaded model trains on
    mapped = Word2Vec.load(path, mmap="r")
    assert not mapped.wv.vectors.flags.writeable and not mapped.wv.vectors.flags.owndata
    assert mapped.wv.most_similar("g1w1") == model.wv.most_similar("g1w1")
    with pytest.raises(ValueError, match="mmap=None"):
        mapped.train(sentences)
    # an update copies the weights into new arrays: read-only ones are fine
    mapped.build_vocab([["brand", "new"]] * 10, update=True)
    assert mapped.wv.index_to_key[-2:] == ["brand", "new"]
    np.testing.assert_array_equal(mapped.wv.vectors[:len(model.wv)], model.wv.vectors)
    ids = Word2Vec(IdSequences(np.array([7, 8, 9, 7]), [0, 4]), **SMALL)
    ids.save(tmp_path / "ids.fw2v")
    assert Word2Vec.load(tmp_path / "ids.fw2v").wv.index_to_key == ids.wv.index_to_key


def test_corpus_sizes_and_loss_survive_save_and_load(planted, tmp_path):
    """gensim's documented way to train a loaded model on needs corpus_count."""
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    path = tmp_path / "m.fw2v"
    model.save(path)
    loaded = Word2Vec.load(path)
    assert (loaded.corpus_count, loaded.corpus_total_words) == (
        len(sentences), sum(map(len, sentences)))
    assert loaded.get_latest_training_loss() == model.get_latest_training_loss() > 0
    loaded.train(sentences, total_examples=loaded.corpus_count, epochs=loaded.epochs)
    # a file written before these entries were saved still loads
    arrays, meta = native.load_arrays(path, kind="word2vec")
    for key in ("corpus_count", "corpus_total_words", "running_training_loss"):
        del meta[key]
    native.save_arrays(tmp_path / "old.fw2v", arrays, meta, kind="word2vec")
    old = Word2Vec.load(tmp_path / "old.fw2v")
    assert (old.corpus_count, old.corpus_total_words) == (0, 0)
    np.testing.assert_array_equal(old.wv.vectors, model.wv.vectors)
    loaded.build_vocab_from_freq({"a": 3, "b": 2})      # no corpus: 0, as in gensim
    assert (loaded.corpus_count, loaded.corpus_total_words) == (0, 0)


def test_padded_output_rows_train_exactly_as_contiguous_ones(planted):
    """With several workers the output matrices' rows are padded to whole cache lines,
    with one they are C-contiguous (as are assigned or unpickled ones): both train to
    the same bits, and a layout the kernels cannot follow is refused."""
    sentences, _ = planted
    padded = Word2Vec(hs=1, negative=3, **{**SMALL, "workers": 2})
    padded.build_vocab(sentences)
    padded.workers = 1                   # the same layout, trained reproducibly
    plain = Word2Vec(hs=1, negative=3, **{**SMALL, "workers": 1})
    plain.build_vocab(sentences)
    for m, stride in ((padded, 32), (plain, 24)):
        assert m.syn1neg.strides == m.syn1.strides == (stride * 4, 4)
    padded.train(sentences)
    plain.train(sentences)
    for a, b in ((padded.wv.vectors, plain.wv.vectors), (padded.syn1neg, plain.w_out_ns),
                 (padded.syn1, plain.w_out_hs)):
        assert b.flags.c_contiguous
        np.testing.assert_array_equal(a, b)
    wide = np.zeros((len(plain.vocab), 64), np.float32)[:, :24]      # rows 64 floats apart
    plain.w_out_ns = wide
    with pytest.raises(ValueError, match="w_out_ns must be a float32"):
        plain.train(sentences)
    plain.w_out_ns = np.asfortranarray(padded.syn1neg)
    with pytest.raises(ValueError, match="w_out_ns must be a float32"):
        plain.train(sentences)


def test_padded_hot_huffman_copies_train_exactly_as_contiguous_ones(planted):
    """With several threads each keeps private copies of the hot Huffman nodes, loaded
    from and merged into the (padded) shared rows. One sentence is one chunk, so one
    thread of two trains it, reproducibly: padded and contiguous rows give the same bits,
    and the padding is never written."""
    sentences, _ = planted
    one = [[w for s in sentences for w in s][:9000]]
    models = []
    for layout in ("padded", "contiguous"):
        m = Word2Vec(hs=1, negative=0, **{**SMALL, "vector_size": 20, "workers": 2})
        m.build_vocab(one)
        if layout == "contiguous":
            m.w_out_hs = np.ascontiguousarray(m.w_out_hs)
        m.train(one)
        models.append(m)
    padded, plain = models
    assert padded.w_out_hs.strides[0] == 32 * 4 and plain.w_out_hs.flags.c_contiguous
    np.testing.assert_array_equal(padded.wv.vectors, plain.wv.vectors)
    np.testing.assert_array_equal(padded.w_out_hs, plain.w_out_hs)
    a = padded.w_out_hs            # its whole rows, padding included (inside the array)
    whole = np.lib.stride_tricks.as_strided(a, shape=(len(a), 32), strides=a.strides)
    assert not whole[:, 20:].any()


def test_pickled_and_copied_models_keep_their_output_layout(planted):
    sentences, _ = planted
    for workers, stride, dim in ((2, 32, 24), (1, 24, 24), (2, 32, 32)):
        model = Word2Vec(sentences, hs=1, negative=3,
                         **{**SMALL, "workers": workers, "vector_size": dim})
        shallow = copy.copy(model)                  # shares the matrices, as it always did
        assert shallow.w_out_ns is model.w_out_ns and shallow.w_out_hs is model.w_out_hs
        for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            for mine, theirs in ((model.w_out_ns, other.w_out_ns),
                                 (model.w_out_hs, other.w_out_hs)):
                assert theirs.strides == (stride * 4, 4)
                assert theirs.ctypes.data % 64 == 0
                np.testing.assert_array_equal(theirs, mine)
            other.train(sentences, epochs=1)          # and trains


def test_trainer_refuses_output_rows_it_cannot_follow():
    from fastw2v import _train
    assert [_train.padded_width(d) for d in (1, 16, 17, 100, 300)] == [16, 16, 32, 112, 304]
    n, dim = 5, 8
    w_in = np.zeros((n, dim), np.float32)
    args = (np.zeros(4, np.int32), np.array([0, 4]), None, np.full(n, 0.2, np.float32),
            np.zeros(n, np.int32), None, None, None)
    kwargs = dict(sg=1, hs=0, negative=2, window=2, shrink_windows=True, cbow_mean=1,
                  compute_loss=False, max_span=100, alpha_start=0.025, alpha_end=0.0001,
                  schedule_words=4)
    empty = np.zeros((0, dim), np.float32)
    for ok in (np.zeros((n, dim), np.float32), np.zeros((n, 16), np.float32)[:, :dim]):
        _train.Trainer(w_in, ok, empty, *args, **kwargs)
    for bad in (np.zeros((n, 32), np.float32)[:, :dim],       # wider than padded_width
                np.zeros((n, 2 * dim), np.float32)[:, ::2],   # rows not contiguous
                np.zeros((n, dim), np.float32)[::-1]):        # rows backwards
        with pytest.raises(ValueError, match="w_out_ns must have contiguous float32 rows"):
            _train.Trainer(w_in, bad, empty, *args, **kwargs)
    for bad in (np.zeros((1, 2 * dim), np.float32)[:, ::2],   # one row, not contiguous
                np.zeros((1, dim), np.float32)[:, ::-1]):
        with pytest.raises(ValueError, match="w_out_ns must have contiguous float32 rows"):
            _train.Trainer(w_in[:1], bad, empty, *args[:2], None,
                           np.full(1, 0.2, np.float32), np.zeros(1, np.int32), None, None,
                           None, **{**kwargs, "schedule_words": 4})


def test_weights_start_on_64_byte_boundaries(planted, tmp_path):
    """So that JAX shares them without a copy (see test_embedding) and every row of a
    dim-16 matrix starts a cache line: new, grown, loaded and memory-mapped weights."""
    sentences, _ = planted
    model = Word2Vec(sentences, hs=1, negative=3, workers=2, **SMALL)
    model.build_vocab([["brand", "new", "words"]], update=True)
    model.train([["brand", "new", "words"]], epochs=1)
    model.save(tmp_path / "m.fw2v")
    model.wv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    model.wv.save_word2vec_format(tmp_path / "v.txt")
    loaded, mapped = Word2Vec.load(tmp_path / "m.fw2v"), Word2Vec.load(tmp_path / "m.fw2v",
                                                                       mmap="r")
    for m in (model, loaded, mapped):
        for weights in (m.wv.vectors, m.syn1neg, m.syn1):
            assert weights.ctypes.data % 64 == 0
        assert m.wv.vectors.flags.c_contiguous
    for m in (model, loaded):
        # the output rows each start a cache line (a view of rows padded to 32 floats)
        for weights in (m.syn1neg, m.syn1):
            assert weights.strides == (32 * 4, 4) and weights.shape[1] == 24
    for weights in (mapped.syn1neg, mapped.syn1):      # as the file holds them
        assert weights.flags.c_contiguous
    for name in ("v.bin", "v.txt"):
        vectors = KeyedVectors.load_word2vec_format(tmp_path / name, binary=name.endswith("bin"))
        assert vectors.vectors.ctypes.data % 64 == 0


def test_save_load_keeps_the_byte_forms_of_non_utf8_words(tmp_path):
    """A word read with unicode_errors='replace' keeps its original bytes, so that the
    same file encodes to it again; after save/load too (none of its tokens dropped)."""
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait\n" * 50 + b"the cat sat\n" * 50)
    model = Word2Vec(corpus_file=str(path), vector_size=8, min_count=1, sample=0,
                     unicode_errors="replace", workers=1, epochs=1)
    assert model.vocab.raw_forms == {"caf\ufffd": [b"caf\xe9"]}
    assert model.train(corpus_file=str(path), epochs=1) == 300     # every token
    model.save(tmp_path / "m.w2v")
    loaded = Word2Vec.load(tmp_path / "m.w2v")
    assert loaded.vocab.raw_forms == model.vocab.raw_forms
    assert loaded.train(corpus_file=str(path), epochs=1) == 300
    # a file whose byte forms are not what save() writes: a clear error, not a crash
    from fastw2v import native
    arrays, meta = native.load_arrays(tmp_path / "m.w2v", kind="word2vec")
    for bad in ([1, 2], {"caf\ufffd": ["zz"]}, {"caf\ufffd": "e9"}, {"nope": ["e9"]}):
        native.save_arrays(tmp_path / "bad.w2v", arrays, {**meta, "raw_forms": bad},
                           kind="word2vec")
        with pytest.raises(ValueError, match="'raw_forms' entry is not a map"):
            Word2Vec.load(tmp_path / "bad.w2v")


@pytest.mark.parametrize("encoded_dir", [False, True])
def test_training_file_spells_a_word_with_other_invalid_bytes(tmp_path, encoded_dir):
    """train(corpus_file=) decodes as build_vocab did: under 'replace', other invalid
    bytes that decode to a vocabulary word are that word (none dropped), also when the
    file is read twice (encoded_dir); under 'strict' invalid UTF-8 raises."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"caf\xe9 au lait\n" * 50)
    b.write_bytes(b"caf\xe8 au lait\n" * 50)
    enc = {"encoded_dir": tmp_path / "enc"} if encoded_dir else {}
    model = Word2Vec(corpus_file=str(a), vector_size=8, min_count=1, sample=0,
                     unicode_errors="replace", workers=1, epochs=1)
    assert model.train(corpus_file=str(b), epochs=1, **enc) == 150      # every token
    assert model.vocab.raw_forms == {"caf\ufffd": [b"caf\xe9", b"caf\xe8"]}
    strict = Word2Vec([["au", "lait"]], vector_size=8, min_count=1, workers=1, epochs=1)
    with pytest.raises(ValueError, match="not valid UTF-8.*unicode_errors='replace'"):
        strict.train(corpus_file=str(b), epochs=1, **enc)


@pytest.mark.parametrize("options", [{}, {"max_vocab_size": 1000}])
@pytest.mark.parametrize("encoded_dir", [False, True])
def test_train_reads_a_new_corpus_file_once(tmp_path, reads, options, encoded_dir):
    # train(corpus_file=) checks the file's undecodable tokens while encoding it: one
    # read (it was counted first, and read again with encoded_dir or max_vocab_size)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"caf\xe9 au lait\n" * 50)
    b.write_bytes(b"caf\xe9 au lait du jour\n" * 30 + b"\xff\xfe\n")
    model = Word2Vec(corpus_file=str(a), vector_size=8, min_count=1, sample=0, workers=1,
                     epochs=1, unicode_errors="replace", **options)
    assert reads and set(reads) == {str(a)}
    reads.clear()
    enc = {"encoded_dir": tmp_path / "enc"} if encoded_dir else {}
    assert model.train(corpus_file=str(b), epochs=1, **enc) == 90   # du, jour: not words
    assert reads == [str(b)]


@pytest.mark.parametrize("encoded_dir", [False, True])
def test_vocab_update_learns_other_spellings_of_known_words(tmp_path, encoded_dir):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"cat dog\n")
    b.write_bytes(b"cat\xff dog\n")
    model = Word2Vec(vector_size=4, min_count=1, unicode_errors="ignore", workers=1)
    model.build_vocab(corpus_file=str(a))
    enc = {"encoded_dir": tmp_path / "enc"} if encoded_dir else {}
    model.build_vocab(corpus_file=str(b), update=True, **enc)
    assert model.vocab.counts.tolist() == [2, 2]
    assert model.corpus.ids.tolist() == [0, 1]          # cat\xff is cat, not dropped
    assert model.vocab.raw_forms == {"cat": [b"cat\xff"]}


def test_load_rejects_vectors_file_and_garbage(planted, tmp_path):
    sentences, _ = planted
    model = Word2Vec(sentences, **SMALL)
    model.wv.save(tmp_path / "v.fw2v")
    with pytest.raises(ValueError, match="keyedvectors"):
        Word2Vec.load(tmp_path / "v.fw2v")
    (tmp_path / "junk").write_bytes(b"not a model at all")
    with pytest.raises(ValueError):
        Word2Vec.load(tmp_path / "junk")
    with pytest.raises(RuntimeError, match="nothing to save"):
        Word2Vec(**SMALL).save(tmp_path / "empty.fw2v")


SAVE_LOOP_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from fastw2v import Word2Vec
    path = sys.argv[1]
    model = Word2Vec(vector_size=100, min_count=1)
    model.build_vocab_from_freq({f"w{i}": 1000000 - i for i in range(150000)})
    model.wv.vectors[:] = 0.0
    model.save(path)                       # the old file: all zeros
    model.wv.vectors[:] = 1.0
    print("ready", flush=True)
    while True:
        model.save(path)                   # new files: all ones
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_ctrl_c_during_save_leaves_old_or_new_file(tmp_path, delay):
    path = tmp_path / "model.fw2v"
    proc = subprocess.Popen([sys.executable, "-c", SAVE_LOOP_SCRIPT, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        assert proc.stdout.readline().strip() == "ready"
        threading.Event().wait(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err
    loaded = Word2Vec.load(path)                      # complete and consistent
    values = np.unique(loaded.wv.vectors)
    assert values.tolist() in ([0.0], [1.0])
    assert [p.name for p in tmp_path.iterdir()] == ["model.fw2v"]   # no temp file left


def test_worker_exception_stops_all_and_is_raised_on_caller(planted, monkeypatch):
    sentences, _ = planted
    model = Word2Vec(workers=3, **{**SMALL, "epochs": 50})
    model.build_vocab(sentences)
    real = Word2Vec._thread_states

    def broken(self, n):
        states = list(real(self, n))
        # the last worker's state does not fit the trainer: its run fails at once
        states[-1] = _train.ThreadState(self.config.vector_size + 1, 1, 1, 1, 0)
        return states

    monkeypatch.setattr(Word2Vec, "_thread_states", broken)
    with pytest.raises(ValueError, match="this ThreadState was made for"):
        model.train()
    assert model.epoch_losses == []     # raised in the first epoch, none recorded


@pytest.mark.slow
def test_single_line_of_50_million_tokens_is_counted_and_encoded_whole(tmp_path):
    from fastw2v.encoded import encode_file
    from fastw2v.vocab import count_file
    path = tmp_path / "one_line.txt"
    block = b"a bb ccc dddd e " * 62500           # 312,500 tokens, 1 MB
    with open(path, "wb") as f:
        for _ in range(160):                      # 50,000,000 tokens, no newline at all
            f.write(block)
    raw = count_file(str(path))
    assert raw.n_tokens == 50_000_000 and raw.n_sentences == 1
    assert dict(zip(raw.keys, raw.counts.tolist())) == {
        "a": 10_000_000, "bb": 10_000_000, "ccc": 10_000_000, "dddd": 10_000_000,
        "e": 10_000_000}
    vocab = select_words(raw, 1)
    enc = encode_file(str(path), vocab, 10000)
    assert enc.n_ids == 50_000_000 and enc.n_sentences == 5000
    assert np.bincount(enc.ids).tolist() == [10_000_000] * 5


def test_tokens_of_ten_thousand_characters(tmp_path):
    long_a, long_b = "x" * 10_000, "é" * 12_345
    sentences = [[long_a, "b", long_b], [long_b, long_a]] * 10
    path = write_lines(tmp_path / "long.txt", sentences)
    for model in (Word2Vec(sentences, **SMALL), Word2Vec(corpus_file=path, **SMALL)):
        assert {long_a, long_b} <= set(model.wv.index_to_key)
        assert model.wv.get_vecattr(long_b, "count") == 20


@pytest.mark.parametrize("hs, negative", [(0, 5), (1, 0)])
def test_a_trained_model_copies_and_pickles_and_trains_on_alike(planted, hs, negative):
    import copy
    import pickle
    sentences, _ = planted
    model = Word2Vec(sentences, hs=hs, negative=negative, **{**SMALL, "workers": 1})
    twins = [copy.deepcopy(model), pickle.loads(pickle.dumps(model))]
    for m in [model] + twins:                        # the random streams continue alike
        m.train(sentences, total_examples=len(sentences), epochs=1)
    for twin in twins:
        np.testing.assert_array_equal(twin.wv.vectors, model.wv.vectors)
        assert twin.wv.vectors is not model.wv.vectors


def test_train_refuses_before_reading_a_new_corpus(planted, tmp_path):
    # what does not depend on the corpus is checked before the corpus is read and
    # written to encoded_dir
    sentences, _ = planted
    model = Word2Vec(sentences, **SMALL)
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences))
    enc = tmp_path / "enc"
    with pytest.raises(RuntimeError, match="nothing to resume"):
        model.train(corpus_file=path, encoded_dir=enc, resume=True)
    with pytest.raises(ValueError, match="epochs"):
        model.train(corpus_file=path, encoded_dir=enc, epochs=0)
    model.wv.vectors[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="holds NaN or inf before training"):
        model.train(corpus_file=path, encoded_dir=enc)
    assert not enc.exists()
    with pytest.raises(TypeError, match="compute_loss"):
        model.train(compute_loss="no")


class _OnEpoch:
    """Calls fn(model) at the end of the first epoch and keeps what it returned or
    raised."""
    def __init__(self, fn, hook="on_epoch_end"):
        self.fn, self.result, self.raised = fn, None, None
        setattr(self, hook, self._run)

    def _run(self, model):
        if self.result is None and self.raised is None:
            try:
                self.result = self.fn(model)
            except Exception as exc:       # (kept, so that train() goes on)
                self.raised = exc


def _in_other_thread(fn):
    """What fn() raises (or None) when called from another thread, waited for."""
    out = []

    def run():
        try:
            fn()
            out.append(None)
        except Exception as exc:
            out.append(exc)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out[0]


@pytest.mark.parametrize("call", [
    lambda m: m.train(),
    lambda m: m.build_vocab([["a", "b"]] * 5, update=True),
    lambda m: m.build_vocab_from_freq({"a": 5}),
])
def test_a_callback_cannot_train_or_rebuild_the_model_it_runs_in(planted, call):
    # a nested train() shared the threads' random streams and cleared the outer call's
    # schedule; a nested build_vocab() replaced the arrays being trained (silently lost)
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 3})
    model.build_vocab(sentences)
    cb = _OnEpoch(call)
    model.train(callbacks=[cb])
    assert isinstance(cb.raised, RuntimeError)
    assert "is running on this model, called from within it" in str(cb.raised)
    assert len(model.epoch_losses) == 3 and model._schedule is None
    model.train(epochs=1)                  # and the model is free again afterwards
    assert len(model.epoch_losses) == 4


def test_other_threads_cannot_train_rebuild_or_save_while_training(planted, tmp_path):
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 2})
    model.build_vocab(sentences)
    errors = {}

    def during(m):
        errors["train"] = _in_other_thread(m.train)
        errors["build_vocab"] = _in_other_thread(lambda: m.build_vocab(sentences))
        errors["save"] = _in_other_thread(lambda: m.save(tmp_path / "other.w2v"))
        m.save(tmp_path / "callback.w2v")     # the training thread itself may save
        return True

    model.train(callbacks=[_OnEpoch(during, "on_epoch_begin")])
    for what in ("train", "build_vocab"):
        assert isinstance(errors[what], RuntimeError)
        assert "train() is running on this model, in another thread" in str(errors[what])
    assert isinstance(errors["save"], RuntimeError)
    assert "while train() runs on this model in another thread" in str(errors["save"])
    assert not (tmp_path / "other.w2v").exists()
    assert Word2Vec.load(tmp_path / "callback.w2v")._schedule["epochs_done"] == 0
    # build_vocab holds the model too: train() from another thread waits for nothing
    gate, go = threading.Event(), threading.Event()

    def slow_corpus():
        gate.set()
        go.wait()
        return iter(sentences)

    class Slow:
        def __iter__(self):
            return slow_corpus()
    t = threading.Thread(target=model.build_vocab, args=(Slow(),))
    t.start()
    gate.wait()
    err = _in_other_thread(model.train)
    go.set()
    t.join()
    assert isinstance(err, RuntimeError)
    assert "build_vocab() is running on this model, in another thread" in str(err)


def test_settings_cannot_change_while_training(planted):
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 2})
    model.build_vocab(sentences)
    cb = _OnEpoch(lambda m: setattr(m, "window", 2))
    model.train(callbacks=[cb])
    assert isinstance(cb.raised, AttributeError)
    assert "window cannot change while train() runs" in str(cb.raised)
    assert model.window == 5
    model.window = 2                         # between calls, as before
    assert model.window == 2


@pytest.mark.parametrize("replace", [
    lambda m: setattr(m.wv, "vectors", m.wv.vectors.copy()),
    lambda m: setattr(m, "w_out_ns", m.w_out_ns.copy()),
    lambda m: m.wv.add_vectors(["new"], np.zeros((1, m.vector_size), np.float32)),
])
def test_weights_replaced_by_a_callback_stop_training_with_an_error(planted, replace):
    # train() went on writing the old arrays: every later epoch was lost without a word
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 3})
    model.build_vocab(sentences)

    class Replace:
        def on_epoch_end(self, m):
            replace(m)
    with pytest.raises(RuntimeError, match="were replaced during train\\(\\) .by "
                                           "on_epoch_end"):
        model.train(callbacks=[Replace()])
    assert len(model.epoch_losses) == 1
    assert model._schedule["epochs_done"] == 1


def test_training_over_on_train_end_and_the_last_epoch_end_may_change_the_model(planted):
    # nothing trains after them: replacing weights, changing settings or training again
    # there is the user's business (it raised after the whole training had run)
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 2})
    model.build_vocab(sentences)

    class Finish:
        def on_epoch_end(self, m):
            if len(m.epoch_losses) == 2:
                m.wv.vectors = m.wv.unit_vectors().copy()

        def on_train_end(self, m):
            m.alpha, m.min_alpha = m.alpha / 2, m.min_alpha / 2
            m.w_out_ns = m.w_out_ns.copy()
            self.trained = m.train(sentences, total_examples=len(sentences), epochs=1,
                                   callbacks=())
            m.wv.add_vectors(["oov"], np.zeros((1, m.vector_size), np.float32))
    finish = Finish()
    assert model.train(callbacks=[finish]) > 0
    assert model.alpha == 0.025 / 2 and "oov" in model.wv
    assert finish.trained > 0 and len(model.epoch_losses) == 3


def test_a_train_started_while_on_train_end_runs_keeps_the_model(planted):
    # the model is free during on_train_end; the outer call must not free it again
    # under the feet of a train() that another thread started meanwhile
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 1})
    model.build_vocab(sentences)
    started, release = threading.Event(), threading.Event()

    class Slow:
        def on_train_begin(self, m):
            started.set()
            release.wait()

    class StartOther:
        def on_train_end(self, m):
            self.thread = threading.Thread(target=m.train, kwargs={"callbacks": [Slow()]},
                                           daemon=True)
            self.thread.start()
            assert started.wait(10), "the other train() did not start"
    other = StartOther()
    try:
        model.train(callbacks=[other])
        assert model._busy is not None and model._busy[0] == "train()"   # the other's
        err = _in_other_thread(model.train)
    finally:
        release.set()
    other.thread.join(30)
    assert isinstance(err, RuntimeError) and "in another thread" in str(err)
    assert model._busy is None


def test_epochs_as_a_numpy_int_can_be_saved_mid_training(planted, tmp_path):
    sentences, _ = planted
    model = Word2Vec(**SMALL)
    model.build_vocab(sentences)
    model.train(epochs=np.int64(2), callbacks=[_SaveAfter(1, tmp_path / "m.fw2v")])
    assert Word2Vec.load(tmp_path / "m.fw2v")._schedule["epochs"] == 2


def test_queries_in_a_callback_see_the_vectors_trained_so_far(planted):
    # the cached unit vectors were those of the first query, whatever trained since
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 3, "workers": 1})
    model.build_vocab(sentences)
    seen = []

    class Query:
        def on_epoch_end(self, m):
            word = m.wv.index_to_key[0]
            fresh = KeyedVectors(m.wv.vectors.copy(), m.wv.index_to_key)
            seen.append((m.wv.most_similar(word, topn=3), fresh.most_similar(word, topn=3)))
    model.train(callbacks=[Query()])
    assert len(seen) == 3
    for got, expected in seen:
        assert [k for k, _ in got] == [k for k, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-6)
    assert seen[0][0] != seen[2][0]


def test_a_copy_made_in_a_callback_can_train(planted):
    import copy
    sentences, _ = planted
    model = Word2Vec(**{**SMALL, "epochs": 2, "workers": 1})
    model.build_vocab(sentences)
    cb = _OnEpoch(copy.deepcopy)
    model.train(callbacks=[cb])
    twin = cb.result
    twin.train(resume=True)                  # the copy is not itself training
    np.testing.assert_array_equal(twin.wv.vectors, model.wv.vectors)


@pytest.mark.parametrize("change, match", [
    (lambda s: True, "is a bool, not a dict"),
    (lambda s: {**s, "epochs": 2**40}, r"epochs 1099511627776, not a whole number in \[1, "),
    (lambda s: {**s, "epochs": None}, "epochs None"),
    (lambda s: {k: v for k, v in s.items() if k != "words_per_epoch"}, "words_per_epoch None"),
    (lambda s: {**s, "alpha_start": -1}, "alpha_start"),
    (lambda s: {**s, "epochs_done": 5}, r"epochs_done 5, not a whole number in \[0, 3\]"),
    (lambda s: {**s, "words_done": -5}, "words_done -5"),
    (lambda s: {**s, "left": [[0, 10], [5, 20]]}, "in order and apart"),
    (lambda s: {**s, "left": [[0, 10 ** 9]]}, "in order and apart"),
    (lambda s: {**s, "epoch_loss": "x"}, "epoch_loss 'x'"),
    (lambda s: {**s, "typo": 1}, r"unknown entries \['typo'\]"),
])
def test_load_checks_the_saved_schedule(planted, tmp_path, change, match):
    # a schedule altered in the file (checksums mended) resumed for ever (epochs 2**40),
    # at a negative rate, or trained parts of the corpus twice
    sentences, _ = planted
    path = tmp_path / "mid.fw2v"
    Word2Vec(sentences, callbacks=[_SaveAfter(1, path)], **{**SMALL, "epochs": 3})
    arrays, meta = native.load_arrays(path, kind="word2vec")
    assert Word2Vec.load(path)._schedule == meta["schedule"]      # as written, it loads
    meta["schedule"] = change(meta["schedule"])
    native.save_arrays(path, dict(arrays), meta, kind="word2vec")
    with pytest.raises(ValueError, match="the saved learning-rate schedule") as info:
        Word2Vec.load(path)
    assert re.search(match, str(info.value))


@pytest.mark.parametrize("counts, match", [
    ([2**62, 2**62], r"m.fw2v: the word counts add up to 9223372036854775808, more "
                     r"than 2\*\*63 - 1"),
    ([5, -1], "negative"),
])
def test_load_checks_the_saved_counts(planted, tmp_path, counts, match):
    path = tmp_path / "m.fw2v"
    Word2Vec([["a", "b"]] * 3, min_count=1, vector_size=4, epochs=1).save(path)
    arrays, meta = native.load_arrays(path, kind="word2vec")
    arrays = {**arrays, "counts": np.array(counts, np.int64)}
    native.save_arrays(path, arrays, meta, kind="word2vec")
    with pytest.raises(ValueError, match=match):
        Word2Vec.load(path)


def test_build_vocab_frees_the_corpus_counts_before_the_weights(tmp_path, monkeypatch):
    # the counts of every distinct token (most of them rare) stayed alive while the
    # weights were allocated: 20 MB more at the peak on the benchmark corpus
    import gc
    from fastw2v.vocab import RawCounts
    path = tmp_path / "c.txt"
    write_lines(path, [["a", "b", "c", f"rare{i}"] for i in range(2000)])
    released, alive = [], []
    monkeypatch.setattr(native, "release_free_memory", lambda: released.append(1))
    new_weights = Word2Vec._new_weights

    def spy(self, vocab):
        gc.collect()
        alive.append(sum(type(o) is RawCounts for o in gc.get_objects()))
        return new_weights(self, vocab)
    monkeypatch.setattr(Word2Vec, "_new_weights", spy)
    Word2Vec(vector_size=4, min_count=2).build_vocab(corpus_file=path)
    assert alive == [0] and released == [1]


def test_release_free_memory_finds_malloc_trim_on_glibc(monkeypatch):
    native.release_free_memory()                     # harmless anywhere
    import platform
    if platform.libc_ver()[0] == "glibc":
        assert callable(native._malloc_trim)
    # a Python built without ctypes (no libffi) skips it instead of failing build_vocab
    monkeypatch.setattr(native, "_malloc_trim", None)
    monkeypatch.setitem(sys.modules, "ctypes", None)
    native.release_free_memory()
    assert native._malloc_trim is False


def test_repr_and_gensim3_names():
    model = Word2Vec([["a", "b"]] * 10, min_count=1, vector_size=8, workers=1, epochs=1)
    assert repr(model) == "Word2Vec<vocab=2, vector_size=8, alpha=0.025>"
    assert repr(Word2Vec()) == "Word2Vec<vocab=0, vector_size=100, alpha=0.025>"
    with pytest.raises(AttributeError, match="'iter' is gensim 3's name.*use epochs"):
        model.iter
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        model.nothing


def test_min_alpha_yet_reached_follows_the_epochs(tmp_path):
    seen = []

    class Watch:
        def on_epoch_end(self, model):
            seen.append(model.min_alpha_yet_reached)

    model = Word2Vec(min_count=1, vector_size=8, workers=1, epochs=4, alpha=0.05,
                     min_alpha=0.01, callbacks=[Watch()])
    assert model.min_alpha_yet_reached == 0.05
    model.build_vocab([["a", "b", "c"]] * 20)
    model.train()
    assert seen == pytest.approx([0.04, 0.03, 0.02, 0.01]) and seen[-1] == 0.01
    model.save(tmp_path / "m")
    assert Word2Vec.load(tmp_path / "m").min_alpha_yet_reached == 0.01
    model.build_vocab([["a", "b", "c"]] * 5, update=True)         # the same weights
    assert model.min_alpha_yet_reached == 0.01
    model.build_vocab([["a", "b", "c"]] * 20)                    # new weights, untrained
    assert model.min_alpha_yet_reached == 0.05


def test_sorting_the_model_s_vectors_is_refused_at_train_with_the_way_out():
    model = Word2Vec([["a", "b", "b"]] * 5, min_count=1, vector_size=4, workers=1)
    model.build_vocab([["c"] * 50], update=True)
    copy = model.wv.vectors_for_all(model.wv.index_to_key, copy_vecattrs=True)
    copy.sort_by_descending_frequency()
    assert copy.index_to_key == ["c", "b", "a"]
    model.wv.sort_by_descending_frequency()
    with pytest.raises(RuntimeError, match="another order.*copy_vecattrs=True"):
        model.train([["a", "c"]] * 3, epochs=1)

    class SortAfterFirstEpoch:                 # a new matrix: training stops, clearly
        def on_epoch_end(self, model):
            model.wv.sort_by_descending_frequency()

    model = Word2Vec([["a", "b", "b"]] * 5, min_count=1, vector_size=4, workers=1)
    model.build_vocab([["c"] * 50], update=True)
    with pytest.raises(RuntimeError, match="replaced during train"):
        model.train([["a", "c"]] * 3, epochs=2, callbacks=[SortAfterFirstEpoch()])


def test_models_pickled_before_this_version_train_and_report():
    import pickle
    model = Word2Vec([["a", "b"]] * 10, min_count=1, vector_size=4, workers=1, epochs=1)
    for obj, name in ((model, "_alpha_reached"), (model.corpus, "n_iterated"),
                      (model.wv, "vectors_lockf")):
        del obj.__dict__[name]                       # as pickled before it existed
    old = pickle.loads(pickle.dumps(model))
    assert old.min_alpha_yet_reached == 0.025
    old.train(total_examples=10, epochs=1)
    assert old.min_alpha_yet_reached == old.min_alpha



def test_a_ctrl_c_while_an_epoch_is_counted_waits_until_it_is_counted(monkeypatch):
    # cut between its statements, the bookkeeping that closes an epoch left it trained
    # but not counted: a resume trained it again
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are set on the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    close = Word2Vec._close_epoch

    def ctrl_c_then_close(self, *counts):
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(0.05)                         # (delivered by now)
        close(self, *counts)

    monkeypatch.setattr(Word2Vec, "_close_epoch", ctrl_c_then_close)
    try:
        model = Word2Vec(min_count=1, vector_size=4, workers=1, epochs=3)
        model.build_vocab([["a", "b", "c"]] * 20)
        with pytest.raises(KeyboardInterrupt):
            model.train()
        # the first epoch counted whole, and a resume trains the other two only
        assert len(model.epoch_losses) == model._schedule["epochs_done"] == 1
        monkeypatch.setattr(Word2Vec, "_close_epoch", close)
        model.train(resume=True)
        assert len(model.epoch_losses) == 3 and model.words_trained > 0
        steps = []
        with pytest.raises(KeyboardInterrupt):
            with word2vec._interrupts_held():
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                time.sleep(0.05)                 # (delivered by now, and held)
                steps.append("counted")
        assert steps == ["counted"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with pytest.raises(FloatingPointError):       # an exception in the block wins
            with word2vec._interrupts_held():
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                time.sleep(0.05)
                raise FloatingPointError
    finally:
        signal.signal(signal.SIGINT, previous)


def test_gensim_only_parameters_accepted_where_they_change_nothing(planted):
    """gensim's sorted_vocab=1, null_word=0, batch_words, hashfxn=hash, comment=None,
    progress_per, keep_raw_vocab=False, word_count=0 and queue_factor ask for what
    fastw2v does anyway: accepted, and the model trains as without them."""
    sentences, _ = planted
    plain = Word2Vec(sentences, workers=1, **SMALL)
    model = Word2Vec(workers=1, sorted_vocab=1, null_word=0, batch_words=10000,
                     hashfxn=hash, comment=None, **SMALL)
    model.build_vocab(sentences, progress_per=10000, keep_raw_vocab=False)
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs,
                word_count=0, queue_factor=2)
    np.testing.assert_array_equal(model.wv.vectors, plain.wv.vectors)
    model.build_vocab_from_freq({"a": 3, "b": 2}, keep_raw_vocab=False)
    assert Word2Vec(sentences, workers=1, sorted_vocab=True, **SMALL).wv.index_to_key == \
        plain.wv.index_to_key


@pytest.mark.parametrize("call, exc, message", [
    (lambda m, s: Word2Vec(sorted_vocab=0), ValueError,
     r"Word2Vec\(\): sorted_vocab=0 is not supported \(the vocabulary is always sorted"),
    (lambda m, s: Word2Vec(null_word=1), ValueError, "null_word=1 is not supported"),
    (lambda m, s: Word2Vec(hashfxn=len), ValueError, "hashfxn=<built-in function len>.*seed"),
    (lambda m, s: Word2Vec(comment="x"), ValueError, "comment='x' is not supported.*beside"),
    (lambda m, s: m.build_vocab(s, keep_raw_vocab=True), ValueError,
     "keep_raw_vocab=True is not supported.*count_iterable"),
    (lambda m, s: m.build_vocab(s, progress_pr=1), TypeError,
     r"build_vocab\(\) got an unexpected keyword argument 'progress_pr'"),
    (lambda m, s: m.build_vocab_from_freq({"a": 1}, keep_raw_vocab=1.5), ValueError,
     "keep_raw_vocab=1.5"),
    (lambda m, s: m.train(s, word_count=10), ValueError, "word_count=10.*resume=True"),
    (lambda m, s: m.train(s, total_exmples=3), TypeError, "unexpected keyword"),
    (lambda m, s: m.train(s, word_count="0"), ValueError, "word_count='0'"),
])
def test_gensim_only_parameters_refused_with_the_reason(planted, call, exc, message):
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    before = model.wv.vectors.copy()
    with pytest.raises(exc, match=message):
        call(model, sentences)
    np.testing.assert_array_equal(model.wv.vectors, before)          # nothing trained


def test_drop_corpus_frees_the_encoded_corpus_and_keeps_its_sizes(planted):
    sentences, _ = planted
    model = Word2Vec(sentences, workers=1, **SMALL)
    count, words = model.corpus_count, model.corpus_total_words
    assert len(pickle.dumps(model)) > 4 * words                     # the ids go along
    model.drop_corpus()
    assert model.corpus is None and len(pickle.dumps(model)) < 4 * words
    assert (model.corpus_count, model.corpus_total_words) == (count, words)
    with pytest.raises(ValueError, match="no corpus to train on"):
        model.train()
    model.train(sentences, total_examples=model.corpus_count, total_words=words, epochs=1)
    model.drop_corpus()                                               # twice: nothing to do

    class Drop:
        def on_epoch_end(self, m):
            m.drop_corpus()

    with pytest.raises(RuntimeError, match="drop_corpus.*cannot start.*train"):
        model.train(sentences, epochs=1, callbacks=[Drop()])


def _gensim_twin(model):
    """A gensim Word2Vec holding this model's vocabulary order, weights and Huffman tree,
    so that its score() runs on exactly what ours does."""
    gensim_models = pytest.importorskip("gensim.models")
    cfg = model.config
    twin = gensim_models.Word2Vec(vector_size=cfg.vector_size, sg=cfg.sg, hs=1, negative=0,
                                  cbow_mean=cfg.cbow_mean, window=cfg.window, min_count=1,
                                  workers=1)
    twin.build_vocab([list(model.wv.index_to_key)])
    twin.wv.index_to_key = list(model.wv.index_to_key)
    twin.wv.key_to_index = {k: i for i, k in enumerate(twin.wv.index_to_key)}
    twin.wv.vectors = model.wv.vectors.copy()
    twin.syn1 = np.ascontiguousarray(model.w_out_hs)
    off, points, codes = model.vocab.huffman()
    n = len(model.wv)
    twin.wv.expandos["code"] = np.empty(n, object)
    twin.wv.expandos["point"] = np.empty(n, object)
    for i in range(n):
        twin.wv.expandos["code"][i] = codes[off[i]:off[i + 1]].astype(np.uint8)
        twin.wv.expandos["point"][i] = points[off[i]:off[i + 1]].astype(np.uint32)
    return twin


@pytest.mark.parametrize("sg, cbow_mean", [(1, 1), (0, 1), (0, 0)])
def test_score_equals_gensims_on_the_same_weights(planted, sg, cbow_mean):
    sentences, _ = planted
    model = Word2Vec(sentences[:500], sg=sg, hs=1, negative=0, cbow_mean=cbow_mean,
                     window=3, workers=1, **{**SMALL, "epochs": 2})
    probe = sentences[:40] + [[], ["not-a-word"], sentences[0] + ["not-a-word"] + sentences[1],
                              sentences[2][:1]]
    ours = model.score(probe)
    theirs = _gensim_twin(model).score(probe, total_sentences=len(probe))
    assert ours.dtype == np.float32 and ours.shape == (len(probe),)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-4)
    assert ours[40] == ours[41] == 0 and (ours[:40] < 0).all()
    assert model.score(iter(probe), total_sentences=3).tolist() == ours[:3].tolist()


def test_score_does_not_cut_long_sentences_and_blocks_change_nothing(planted, monkeypatch):
    """gensim scores only a sentence's first 10,000 words; here all of them, the same
    whatever the sizes of the blocks the work is cut into."""
    sentences, _ = planted
    model = Word2Vec(sentences[:500], sg=1, hs=1, negative=0, window=2, workers=1, **SMALL)
    long = [w for s in sentences[:1500] for w in s]
    assert len(long) > 10_000
    probe = [long, sentences[3], long[:10_000]]
    whole = model.score(probe)
    assert whole[0] < whole[2] < 0                   # the words past 10,000 count
    monkeypatch.setattr(word2vec, "_SCORE_CHUNK_IDS", 7)
    monkeypatch.setattr(word2vec, "_SCORE_WORDS", 5)
    monkeypatch.setattr(word2vec, "_SCORE_BLOCK", 3)
    np.testing.assert_allclose(model.score(probe), whole, rtol=1e-6)


def test_score_refuses_what_it_cannot_score(planted):
    sentences, _ = planted
    with pytest.raises(RuntimeError, match="no vocabulary"):
        Word2Vec(hs=1, negative=0).score(sentences)
    with pytest.raises(RuntimeError, match="hs=1"):
        Word2Vec(sentences[:100], workers=1, **SMALL).score(sentences)
    model = Word2Vec(sentences[:100], hs=1, negative=0, workers=1, **SMALL)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="total_sentences"):
            model.score(sentences, total_sentences=bad)
    with pytest.raises(TypeError, match="not one string"):
        model.score("a b c")
    with pytest.raises(TypeError, match="sentence 1 is one string"):
        model.score([["a"], "a b"])
    assert model.score([]).shape == (0,)
    assert model.score(sentences[:5], chunksize=10, queue_factor=4, report_delay=0).shape == (5,)


@pytest.mark.parametrize("params", [dict(workers=1), dict(workers=2, hs=1),
                                    dict(workers=3, hs=1, negative=0, vector_size=33)])
def test_estimate_memory_counts_the_arrays_as_laid_out(planted, tmp_path, params):
    """gensim's keys, with fastw2v's sizes: the weights as allocated (padded output rows
    with several workers), and the encoded corpus while it is in memory."""
    sentences, _ = planted
    model = Word2Vec(sentences[:300], **{**SMALL, "epochs": 1, **params})

    def allocated(a):
        return (a if a.base is None else a.base).nbytes

    got = model.estimate_memory()
    assert 0 <= allocated(model.wv.vectors) - got["vectors"] <= 64     # (alignment)
    assert ("syn1neg" in got) == (model.w_out_ns is not None)
    assert ("syn1" in got) == (model.w_out_hs is not None)
    for key, array in (("syn1neg", model.w_out_ns), ("syn1", model.w_out_hs)):
        if array is not None:
            assert 0 <= allocated(array) - got[key] <= 64
    assert got["corpus"] == model.corpus.ids.nbytes + model.corpus.offsets.nbytes
    assert got["total"] == sum(v for k, v in got.items() if k != "total")
    big = model.estimate_memory(10 * len(model.wv), report={"mine": 1})
    assert big["vectors"] == 10 * got["vectors"] and big["mine"] == 1
    assert big["total"] == sum(v for k, v in big.items() if k != "total")
    model.workers = 1 if params["workers"] > 1 else 2    # the matrices stay as they are
    assert model.estimate_memory() == got
    on_disk = Word2Vec(sentences[:300], encoded_dir=tmp_path, **{**SMALL, "epochs": 1, **params})
    assert "corpus" not in on_disk.estimate_memory()
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="vocab_size"):
            model.estimate_memory(bad)
    assert Word2Vec().estimate_memory(1000)["vectors"] == 1000 * 100 * 4


def test_reset_from_shares_the_vocabulary_and_corpus_and_starts_new_weights(planted,
                                                                            tmp_path):
    sentences, groups = planted
    first = Word2Vec(sentences, workers=1, **SMALL)
    second = Word2Vec(workers=1, vector_size=16, sg=1, hs=1, negative=0, seed=7, epochs=3)
    second.reset_from(first)
    assert second.vocab is first.vocab and second.corpus is first.corpus
    assert second.wv.index_to_key == first.wv.index_to_key
    assert second.wv.vectors.shape == (len(first.wv), 16) and second.w_out_ns is None
    assert second.w_out_hs.shape == (len(first.wv) - 1, 16) and not second.w_out_hs.any()
    assert (second.corpus_count, second.corpus_total_words) == (first.corpus_count,
                                                                first.corpus_total_words)
    fresh = Word2Vec(sentences, workers=1, vector_size=16, sg=1, hs=1, negative=0, seed=7,
                     epochs=3, min_count=1)
    second.train()
    np.testing.assert_array_equal(second.wv.vectors, fresh.wv.vectors)   # as if counted
    assert group_purity(second.wv, groups) > 0.95
    first.save(tmp_path / "m")
    third = Word2Vec(workers=1, vector_size=8)
    third.reset_from(Word2Vec.load(tmp_path / "m"))
    assert third.corpus is None and third.corpus_count == first.corpus_count
    third.train(sentences, total_examples=third.corpus_count, epochs=1)
    with pytest.raises(ValueError, match="no vocabulary"):
        third.reset_from(Word2Vec())
    with pytest.raises(TypeError, match="fastw2v Word2Vec"):
        third.reset_from(first.wv)


def test_save_holds_the_model_so_that_no_train_starts_meanwhile(planted, tmp_path,
                                                                monkeypatch):
    """A train() or build_vocab() started by another thread while save() writes would
    change the weights being written: it is refused until the save is done."""
    sentences, _ = planted
    model = Word2Vec(sentences[:200], workers=1, **{**SMALL, "epochs": 1})
    real = native.save_arrays

    def while_writing(action):
        """native.save_arrays that first runs `action` in another thread (once: a save
        in that thread comes here too)."""
        ran = []

        def save_arrays(*args, **kwargs):
            if not ran:
                ran.append(1)
                thread = threading.Thread(target=action)
                thread.start()
                thread.join()
            return real(*args, **kwargs)
        return save_arrays

    refused = []

    def train():
        try:
            model.train()
        except RuntimeError as e:
            refused.append(str(e))

    monkeypatch.setattr(native, "save_arrays", while_writing(train))
    model.save(tmp_path / "m")
    assert len(refused) == 1 and "save() or to_gensim() is copying this model" in refused[0]
    monkeypatch.setattr(native, "save_arrays", real)
    assert model.train() > 0                         # free again after the save
    model.save(tmp_path / "m")

    class SaveFromCallback:                          # this thread's train(): allowed
        def on_epoch_end(self, m):
            m.save(tmp_path / "cb")

    model.train(callbacks=[SaveFromCallback()])
    assert Word2Vec.load(tmp_path / "cb").epoch_losses == model.epoch_losses
    # saves, copies and settings in other threads may run beside a save
    others = []

    def beside():
        model.save(tmp_path / "other")
        others.append(pickle.loads(pickle.dumps(model)))
        model.epochs = 2

    monkeypatch.setattr(native, "save_arrays", while_writing(beside))
    model.save(tmp_path / "m2")
    monkeypatch.setattr(native, "save_arrays", real)
    assert len(others) == 1 and others[0].vocab is not None and model.epochs == 2
    assert Word2Vec.load(tmp_path / "other").epoch_losses == model.epoch_losses
    assert model.__dict__["_saving"] == 0 and model.train() > 0


def test_weights_replaced_during_the_last_epoch_are_reported(planted, monkeypatch):
    """Another thread replacing model.wv.vectors while the last epoch trains used to go
    unnoticed (the check ran only before later epochs): that epoch's updates went into
    the old array. Replaced here right after the epoch, where that thread's would be."""
    sentences, _ = planted
    model = Word2Vec(sentences[:200], workers=1, **{**SMALL, "epochs": 1})
    real = Word2Vec._run_epoch

    def replaced_meanwhile(self, *args):
        real(self, *args)
        self.wv.vectors = self.wv.vectors.copy()

    monkeypatch.setattr(Word2Vec, "_run_epoch", replaced_meanwhile)
    with pytest.raises(RuntimeError, match="replaced while an epoch trained"):
        model.train()


def held_inside(monkeypatch, owner, name):
    """Patch owner.name so that a call sets the first event returned and waits for the
    second before going on: another thread's call is then held at that point."""
    inside, release = threading.Event(), threading.Event()
    real = getattr(owner, name)

    def held(*args, **kwargs):
        inside.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    return inside, release


def test_model_queries_refused_while_another_thread_changes_the_vocabulary(planted,
                                                                           monkeypatch):
    sentences, _ = planted
    model = Word2Vec(sentences[:200], workers=1, hs=1, **{**SMALL, "epochs": 1})
    inside, release = held_inside(monkeypatch, word2vec, "select_words")
    thread = threading.Thread(target=model.build_vocab, args=(sentences[:100],))
    thread.start()
    try:
        assert inside.wait(10)
        with pytest.raises(RuntimeError, match=r"score\(\) cannot run while build_vocab"):
            model.score(sentences[:3])
        with pytest.raises(RuntimeError, match="predict_output_word.*changes this model"):
            model.predict_output_word(sentences[0][:2])
        with pytest.raises(RuntimeError, match=r"save\(\) cannot run while build_vocab"):
            model.save("never-written")
    finally:
        release.set()
        thread.join()
    assert model.score(sentences[:3]).shape == (3,)


def test_a_vocabulary_update_drops_the_old_unit_vectors(planted):
    sentences, _ = planted
    model = Word2Vec(sentences[:200], workers=1, **{**SMALL, "epochs": 1})
    model.wv.most_similar(sentences[0][0])
    assert model.wv._cache is not None
    model.build_vocab([["brand", "new", "words"]] * 10, update=True)
    assert model.wv._cache is None                  # not kept alive beside the new vectors
    assert "brand" in [k for k, _ in model.wv.most_similar("new", topn=len(model.wv))]


def test_a_byte_order_mark_leaves_training_unchanged(tmp_path):
    text = "".join(f"w{i % 7} w{i % 5} w{i % 3} w{i % 11}\n" for i in range(400)).encode()
    (tmp_path / "plain.txt").write_bytes(text)
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text)
    a, b = (Word2Vec(corpus_file=str(tmp_path / name), min_count=1, vector_size=8,
                     epochs=2, workers=1, seed=3) for name in ("plain.txt", "bom.txt"))
    assert a.wv.index_to_key == b.wv.index_to_key
    assert a.corpus_total_words == b.corpus_total_words
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)


def test_to_gensim_and_back_carries_the_model_exactly(planted):
    gensim_models = pytest.importorskip("gensim.models")
    sentences, _ = planted
    model = Word2Vec(sentences, workers=2, **SMALL)
    model.wv.vectors_lockf = np.linspace(0, 1, len(model.wv), dtype=np.float32)
    g = model.to_gensim()
    assert isinstance(g, gensim_models.Word2Vec)
    assert (g.vector_size, g.window, g.sg, g.hs, g.negative, g.sample, g.epochs) == (
        24, 5, 0, 0, 5, 1e-3, 5)
    assert g.wv.index_to_key == model.wv.index_to_key      # (ties as fastw2v has them)
    np.testing.assert_array_equal(g.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(g.syn1neg, model.syn1neg)
    np.testing.assert_array_equal(g.wv.vectors_lockf, model.wv.vectors_lockf)
    assert [g.wv.get_vecattr(k, "count") for k in model.wv.index_to_key] == \
        model.wv.counts.tolist()
    # gensim's noise distribution over that order is the recipe's (unigram^0.75)
    p = model.wv.counts ** 0.75
    np.testing.assert_allclose(np.diff(np.r_[0, g.cum_table]) / g.cum_table[-1], p / p.sum(),
                               atol=1e-8)
    assert g.corpus_count == model.corpus_count
    # gensim's own queries on the converted weights answer as fastw2v's
    context = model.wv.index_to_key[:2]
    ours, theirs = model.predict_output_word(context, topn=5), g.predict_output_word(context,
                                                                                    topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([p for _, p in ours], [p for _, p in theirs], rtol=1e-5)
    back = Word2Vec.from_gensim(g, workers=1)
    assert back.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(back.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(back.syn1neg, model.syn1neg)
    np.testing.assert_array_equal(back.wv.counts, model.wv.counts)
    np.testing.assert_array_equal(back.wv.vectors_lockf, model.wv.vectors_lockf)
    assert back.config.workers == 1 and back.corpus_count == model.corpus_count
    # both train on
    before = back.wv.vectors.copy()
    assert back.train(sentences, epochs=1) > 0 and not np.array_equal(back.wv.vectors, before)
    g.train(sentences, total_examples=g.corpus_count, epochs=1)


def test_from_gensim_takes_gensim_training_and_its_unsorted_vocabularies(planted):
    gensim_models = pytest.importorskip("gensim.models")
    sentences, _ = planted
    g = gensim_models.Word2Vec(sentences, vector_size=12, min_count=1, sg=1, epochs=2,
                               workers=1, seed=2, sorted_vocab=0, window=3, sample=0)
    model = Word2Vec.from_gensim(g)
    counts = model.wv.counts
    assert (np.diff(counts) <= 0).all()                  # fastw2v's order: by count
    for key in g.wv.index_to_key[:50]:
        np.testing.assert_array_equal(model.wv[key], g.wv[key])
        np.testing.assert_array_equal(model.syn1neg[model.wv.get_index(key)],
                                      g.syn1neg[g.wv.get_index(key)])
    assert (model.config.sg, model.config.window, model.config.sample) == (1, 3, 0)
    ours, theirs = (kv.most_similar(g.wv.index_to_key[0], topn=3) for kv in (model.wv, g.wv))
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-6)


def test_gensim_conversion_refuses_hierarchical_softmax(planted, monkeypatch):
    gensim_models = pytest.importorskip("gensim.models")
    sentences, _ = planted
    with pytest.raises(ValueError, match="Huffman tree"):
        Word2Vec(sentences, hs=1, negative=0, workers=1, **SMALL).to_gensim()
    g = gensim_models.Word2Vec(sentences[:50], hs=1, negative=0, min_count=1, workers=1)
    with pytest.raises(ValueError, match="Huffman tree"):
        Word2Vec.from_gensim(g)
    with pytest.raises(TypeError, match="gensim 4 Word2Vec"):
        Word2Vec.from_gensim(g.wv)
    monkeypatch.setitem(sys.modules, "gensim.models", None)
    with pytest.raises(ImportError, match="pip install gensim"):
        Word2Vec(sentences[:50], workers=1, **SMALL).to_gensim()


def test_gensim_conversion_of_int_keys_odd_settings_and_lock_factors():
    gensim_models = pytest.importorskip("gensim.models")
    # item ids 0..19 with a long tail: gensim's own cum_table code looks counts up by row
    # number through a lookup that takes an int for a key first
    walks = 19 - np.random.default_rng(0).zipf(1.5, (400, 10)) % 20
    model = Word2Vec(walks, vector_size=8, min_count=1, workers=1, epochs=1,
                     compute_loss=False)
    g = model.to_gensim()
    p = model.wv.counts ** 0.75
    np.testing.assert_allclose(np.diff(np.r_[0, g.cum_table.astype(float)]) / g.cum_table[-1],
                               p / p.sum(), atol=1e-8)
    assert g.compute_loss is False and g.wv.index_to_key == model.wv.index_to_key
    # gensim's absolute sample (>= 1), null_word, compute_loss, workers and a lock-factor
    # array shorter than the vocabulary (gensim takes factor i % its length)
    sentences = [["a", "b", "c", "a"], ["b", "c", "d"]] * 50
    g = gensim_models.Word2Vec(sentences, vector_size=6, min_count=1, sample=20, workers=1,
                               null_word=1, compute_loss=True, epochs=1)
    g.wv.vectors_lockf = np.array([0.0, 1.0], np.float32)
    model = Word2Vec.from_gensim(g)
    assert "\0" not in model.wv and len(model.wv) == 4
    # gensim keeps each word with the probability its sample_int says: so does fastw2v
    kept = [g.wv.get_vecattr(k, "sample_int") / 2**32 for k in model.wv.index_to_key]
    np.testing.assert_allclose(model.vocab.keep_probs(model.config.sample), kept, atol=1e-7)
    assert model.config.compute_loss and model.config.workers == 1
    expected = {k: [0.0, 1.0][g.wv.key_to_index[k] % 2] for k in "abcd"}
    assert dict(zip(model.wv.index_to_key, model.wv.vectors_lockf.tolist())) == expected
    # np.int64 keys of gensim become Python ints; settings fixed by the weights are refused
    g = gensim_models.Word2Vec([list(map(np.int64, w)) for w in walks.tolist()],
                               vector_size=4, min_count=1, workers=1, epochs=1)
    assert all(type(k) is int for k in Word2Vec.from_gensim(g).wv.index_to_key)
    with pytest.raises(ValueError, match="vector_size come with the gensim model"):
        Word2Vec.from_gensim(g, vector_size=16)
    assert Word2Vec.from_gensim(g, vector_size=4, negative=5).config.negative == 5


def test_token_forms_that_are_not_plain_keys():
    # datetime64 tokens stay themselves (their .item() is an int or a date); tensors
    # anywhere in a list are arrays
    days = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
    sessions = [[days[i], days[(i + 1) % 10], days[(i + 3) % 10]] for i in range(10)] * 5
    model = Word2Vec(sessions, vector_size=8, min_count=1, workers=1, epochs=1, sample=0)
    assert model.words_trained == 150 and model.wv.index_to_key[0] in days
    torch = pytest.importorskip("torch")
    walks = np.random.default_rng(0).integers(0, 30, (100, 6))
    mixed = [walks[0].tolist(), torch.from_numpy(walks[1])] + walks[2:].tolist()
    model = Word2Vec(mixed, vector_size=8, min_count=1, workers=1, epochs=1, sample=0)
    assert all(type(k) is int for k in model.wv.index_to_key)
    assert len(model.wv) == len(np.unique(walks))
    as_objects = np.empty(len(walks), object)             # a groupby into tensors
    as_objects[:] = [torch.from_numpy(w[:3 + i % 3].copy()) for i, w in enumerate(walks)]
    model = Word2Vec(as_objects, vector_size=8, min_count=1, workers=1, epochs=1, sample=0)
    assert all(type(k) is int for k in model.wv.index_to_key)


def test_to_gensim_refused_while_another_thread_trains(planted, monkeypatch):
    pytest.importorskip("gensim.models")
    sentences, _ = planted
    model = Word2Vec(sentences[:200], workers=1, **{**SMALL, "epochs": 1})
    inside, release = held_inside(monkeypatch, model, "_run_epoch")
    thread = threading.Thread(target=model.train, kwargs={"epochs": 1})
    thread.start()
    try:
        assert inside.wait(10)
        with pytest.raises(RuntimeError, match=r"to_gensim\(\) cannot run while train"):
            model.to_gensim()
    finally:
        release.set()
        thread.join()
    assert model.to_gensim().wv.index_to_key == model.wv.index_to_key


def test_callbacks_stay_out_of_copies_and_pickles(planted):
    sentences, _ = planted

    class KeepBest:                      # gensim recipe: keep a copy of the best epoch
        def __init__(self):
            self.best, self.log = None, open(os.devnull, "w")    # (a file: unpicklable)

        def on_epoch_end(self, model):
            self.best = copy.deepcopy(model)

    keeper = KeepBest()
    model = Word2Vec(sentences[:300], callbacks=[keeper], workers=1, **SMALL)
    assert model.callbacks == (keeper,)
    assert keeper.best.callbacks == ()               # no chain of copies inside copies
    back = pickle.loads(pickle.dumps(model))
    assert back.callbacks == () and back.wv.index_to_key == model.wv.index_to_key
    keeper.log.close()


def test_train_checks_report_delay_and_warns_of_a_rate_going_up(planted, caplog):
    sentences, _ = planted
    model = Word2Vec(sentences[:300], workers=1, **SMALL)
    for bad in (None, "1", -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="report_delay must be a number of seconds"):
            model.train(epochs=1, report_delay=bad)
    assert model._schedule is None                    # refused before anything started
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        model.train(epochs=1)                          # 0.025 again, after 0.0001
    assert "Effective 'alpha' higher than previous training cycles" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        model.train(epochs=1, start_alpha=0.0001, end_alpha=0.00005)
    assert "Effective 'alpha'" not in caplog.text


def test_encoded_dir_checked_first_shared_by_copies_and_read_only(planted, tmp_path,
                                                                   monkeypatch):
    sentences, _ = planted
    path = write_lines(tmp_path / "c.txt", sentences)
    (tmp_path / "afile").write_text("x")
    model = Word2Vec(workers=1, **SMALL)
    counted = []
    monkeypatch.setattr(word2vec, "count_file", lambda *a, **k: counted.append(1))
    for bad, error, message in ((tmp_path / "afile", NotADirectoryError, "is a file"),
                                ("", ValueError, "must be a directory path")):
        with pytest.raises(error, match=message):
            model.build_vocab(corpus_file=path, encoded_dir=bad)
    assert not counted                               # refused before reading the corpus
    monkeypatch.undo()
    enc = tmp_path / "enc"
    model.build_vocab(corpus_file=path, encoded_dir=enc)
    assert {p.stat().st_mode & 0o777 for p in enc.glob("*.npy")} == {0o444}
    twin = copy.deepcopy(model)                      # shares the mapped corpus
    assert twin.corpus is model.corpus
    twin.train(epochs=1)
    np.testing.assert_array_equal(twin.corpus.ids, model.corpus.ids)


def test_a_corpus_file_changed_between_its_two_reads_is_refused(planted, tmp_path,
                                                                monkeypatch):
    sentences, _ = planted
    path = write_lines(tmp_path / "c.txt", sentences)
    real = word2vec.count_file

    def count_then_change(*args, **kwargs):
        raw = real(*args, **kwargs)
        write_lines(tmp_path / "c.txt", sentences[:100])       # (a log file growing, say)
        return raw

    monkeypatch.setattr(word2vec, "count_file", count_then_change)
    with pytest.raises(ValueError, match="changed between counting and encoding"):
        Word2Vec(workers=1, **SMALL).build_vocab(corpus_file=path,
                                                 encoded_dir=tmp_path / "enc")


def test_a_full_disk_while_encoding_names_the_directory_and_leaves_nothing(tmp_path,
                                                                          monkeypatch):
    from fastw2v import encoded
    enc = tmp_path / "enc"

    def fails(errno):
        def raising(*args):
            raise OSError(errno, os.strerror(errno))
        return raising

    with monkeypatch.context() as patch:             # the headers' write, in finish()
        patch.setattr(encoded, "_npy_header", fails(28))
        with pytest.raises(OSError, match=r"encoded_dir .*enc.*No space left on device.*"
                                          r"4 bytes"):
            Word2Vec([["a", "b"]] * 10, workers=1, encoded_dir=enc, **SMALL)
    assert list(enc.iterdir()) == []                 # no half-written file left
    # a file system that refuses the read-only mode (exFAT, vfat) still takes the corpus
    with monkeypatch.context() as patch:
        patch.setattr(encoded.os, "chmod", fails(1))
        model = Word2Vec([["a", "b"]] * 10, workers=1, encoded_dir=enc, **SMALL)
    assert model.corpus.n_ids == 20
