import numpy as np
import pytest

from fastw2v import KeyedVectors


@pytest.fixture
def kv(rng):
    return KeyedVectors(rng.normal(size=(50, 8)).astype(np.float32),
                        [f"k{i}" for i in range(50)])


def brute_force(kv, positive, negative, topn):
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    q = sum(unit[kv.key_to_index[k]] for k in positive) - sum(
        unit[kv.key_to_index[k]] for k in negative)
    q = q / np.linalg.norm(q)
    scores = unit @ q
    order = [i for i in np.argsort(-scores) if kv.index_to_key[i] not in positive + negative]
    return [kv.index_to_key[i] for i in order[:topn]], scores


def test_most_similar_matches_brute_force(kv):
    for pos, neg in ((["k1"], []), (["k1", "k2"], ["k3"]), ([], ["k4"])):
        got = kv.most_similar(positive=pos, negative=neg, topn=7)
        keys, scores = brute_force(kv, pos, neg, 7)
        assert [k for k, _ in got] == keys
        for k, s in got:
            assert s == pytest.approx(scores[kv.key_to_index[k]], abs=1e-5)


def test_most_similar_accepts_vectors_and_single_key(kv):
    by_key = kv.most_similar("k5", topn=3)
    by_vec = kv.most_similar(positive=[kv["k5"] * 3.0], topn=4)
    assert by_vec[0][0] == "k5"
    assert [k for k, _ in by_vec[1:]] == [k for k, _ in by_key]


def test_lookups(kv):
    assert len(kv) == 50 and "k3" in kv and "zz" not in kv
    assert kv.get_index("k3") == 3 and kv.get_index("zz", -1) == -1
    np.testing.assert_array_equal(kv[["k1", "k2"]], kv.vectors[[1, 2]])
    assert np.linalg.norm(kv.get_vector("k1", norm=True)) == pytest.approx(1.0, abs=1e-6)
    assert kv.similarity("k1", "k1") == pytest.approx(1.0, abs=1e-6)


def test_unknown_key_names_key_and_close_matches(kv):
    with pytest.raises(KeyError, match="'k100' not present.*close matches"):
        kv["k100"]
    with pytest.raises(ValueError, match="at least one"):
        kv.most_similar()


def test_vectors_not_copied_when_float32_c_contiguous(rng):
    m = rng.normal(size=(4, 3)).astype(np.float32)
    assert KeyedVectors(m, list("abcd")).vectors is m
    with pytest.raises(ValueError, match="3 keys for 4 vectors"):
        KeyedVectors(m, list("abc"))
