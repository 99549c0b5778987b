import math

import numpy as np
import pytest

from fastw2v import Word2VecConfig
from fastw2v.config import default_workers


def test_config_defaults_match_gensim4():
    cfg = Word2VecConfig()
    assert (cfg.vector_size, cfg.window, cfg.min_count, cfg.sample, cfg.seed) == (
        100, 5, 5, 1e-3, 1)
    assert (cfg.alpha, cfg.min_alpha, cfg.sg, cfg.hs, cfg.negative) == (
        0.025, 0.0001, 0, 0, 5)
    assert (cfg.ns_exponent, cfg.cbow_mean, cfg.epochs, cfg.shrink_windows) == (
        0.75, 1, 5, True)
    assert cfg.max_vocab_size is None and cfg.max_final_vocab is None


def test_config_workers_default_is_all_cores():
    assert Word2VecConfig().resolved_workers() == default_workers() >= 1
    assert Word2VecConfig(workers=3).resolved_workers() == 3


@pytest.mark.parametrize("name, value, exc, fragment", [
    ("vector_size", 0, ValueError, ">= 1"),
    ("vector_size", -5, ValueError, "-5"),
    ("vector_size", 10.5, TypeError, "int"),
    ("vector_size", True, TypeError, "int"),
    ("window", 0, ValueError, "window"),
    ("min_count", -1, ValueError, "min_count"),
    ("epochs", 0, ValueError, "epochs"),
    ("workers", 0, ValueError, "workers"),
    ("workers", "4", TypeError, "workers"),
    ("alpha", float("nan"), ValueError, "finite"),
    ("alpha", -0.1, ValueError, "alpha"),
    ("alpha", 0.0, ValueError, "> 0"),
    ("min_alpha", -1e-3, ValueError, ">= 0"),
    ("min_alpha", 11.0, ValueError, "<= 10"),
    ("sample", 1.0, ValueError, "< 1"),
    ("sample", -1e-3, ValueError, "sample"),
    ("sample", math.inf, ValueError, "finite"),
    ("sg", 2, ValueError, "0 or 1"),
    ("hs", -1, ValueError, "0 or 1"),
    ("negative", -1, ValueError, "negative"),
    ("cbow_mean", 0.5, ValueError, "0 or 1"),
    ("max_vocab_size", 0, ValueError, "max_vocab_size"),
    ("max_final_vocab", 0, ValueError, "max_final_vocab"),
    ("max_sentence_length", 0, ValueError, "max_sentence_length"),
    ("unicode_errors", "bogus", ValueError, "unicode_errors"),
    ("shrink_windows", "yes", TypeError, "shrink_windows"),
    ("seed", -1, ValueError, ">= 0"),
    ("seed", 2**64, ValueError, "<= 18446744073709547520"),
    ("seed", 2**64 - 4095, ValueError, "64-bit unsigned"),
    ("seed", 1.5, TypeError, "int"),
])
def test_config_bad_value_names_parameter_and_value(name, value, exc, fragment):
    with pytest.raises(exc) as info:
        Word2VecConfig(**{name: value})
    assert name in str(info.value)
    assert fragment in str(info.value)


def test_config_nothing_to_train():
    with pytest.raises(ValueError, match="negative > 0"):
        Word2VecConfig(hs=0, negative=0)
    Word2VecConfig(hs=1, negative=0)   # hierarchical softmax alone is fine


def test_config_unknown_parameter_suggests_name():
    with pytest.raises(TypeError, match="did you mean 'vector_size'"):
        Word2VecConfig.from_params(size=50)
    with pytest.raises(TypeError, match="did you mean 'epochs'"):
        Word2VecConfig.from_params(iter=3)
    with pytest.raises(TypeError, match="did you mean 'window'"):
        Word2VecConfig.from_params(windw=3)


def test_config_is_frozen_and_normalised():
    cfg = Word2VecConfig(sg=True, alpha=1, sample=0)
    assert cfg.sg == 1 and type(cfg.sg) is int
    assert type(cfg.alpha) is float
    with pytest.raises(Exception):
        cfg.sg = 0
    assert cfg.replace(window=9).window == 9
    assert Word2VecConfig(**cfg.to_dict()) == cfg


def test_config_largest_seed_trains():
    from fastw2v import Word2Vec
    from fastw2v.config import MAX_SEED, MAX_WORKERS
    assert MAX_SEED + MAX_WORKERS - 1 == 2**64 - 1     # seed + thread number is a uint64
    assert Word2VecConfig(seed=MAX_SEED, workers=MAX_WORKERS).seed == MAX_SEED
    assert Word2VecConfig(seed=0).seed == 0
    model = Word2Vec([["a", "b", "c"] * 5] * 4, min_count=1, vector_size=4, epochs=1,
                     seed=MAX_SEED, workers=2)
    assert model.words_trained > 0


def test_config_accepts_numpy_bools_as_it_accepts_numpy_ints():
    cfg = Word2VecConfig(sg=np.True_, hs=np.bool_(True), cbow_mean=np.int64(0),
                         shrink_windows=np.False_, compute_loss=np.bool_(False),
                         shared_negatives=np.True_, epochs=np.int32(3))
    assert (cfg.sg, cfg.hs, cfg.cbow_mean, cfg.epochs) == (1, 1, 0, 3)
    assert type(cfg.sg) is int and type(cfg.hs) is int
    assert cfg.shrink_windows is False and cfg.compute_loss is False
    assert cfg.shared_negatives is True
    assert Word2VecConfig(**cfg.to_dict()) == cfg      # plain Python values, for JSON
    with pytest.raises(ValueError, match="sg must be 0 or 1"):
        Word2VecConfig(sg=np.array([1]))
    with pytest.raises(TypeError, match="shrink_windows must be True or False"):
        Word2VecConfig(shrink_windows=np.float64(1.0))


def test_check_learning_rate_names_the_parameter():
    from fastw2v.config import check_learning_rate
    assert check_learning_rate("start_alpha", np.float32(0.5)) == 0.5
    assert check_learning_rate("end_alpha", 0, zero_ok=True) == 0.0
    with pytest.raises(ValueError, match="start_alpha must be > 0"):
        check_learning_rate("start_alpha", 0)
    with pytest.raises(ValueError, match="end_alpha must be <= 10"):
        check_learning_rate("end_alpha", 11, zero_ok=True)
    with pytest.raises(TypeError, match="end_alpha must be a number"):
        check_learning_rate("end_alpha", True, zero_ok=True)
