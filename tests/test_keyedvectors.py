import copy
import pickle
import re

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


def test_copied_vectors_are_64_byte_aligned(rng):
    # a converted copy is aligned like every matrix fastw2v allocates (JAX shares it);
    # several sizes, since a plain allocation is sometimes aligned by chance
    for n in range(2, 10):
        m = rng.normal(size=(n, 6))
        for given in (m, m.astype(np.float32)[:, ::2], np.asfortranarray(m, np.float32)):
            kv = KeyedVectors(given, list(range(n)))
            assert kv.vectors.ctypes.data % 64 == 0
            assert kv.vectors.dtype == np.float32 and kv.vectors.flags.c_contiguous
            np.testing.assert_array_equal(kv.vectors, given.astype(np.float32))


# ---------------------------------------------------------------------------------------
# same answers as gensim 4 on the same vectors

@pytest.fixture
def pair(rng):
    """A fastw2v and a gensim KeyedVectors over the same matrix."""
    models = pytest.importorskip("gensim.models")
    keys = [f"w{i}" for i in range(300)]
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    g = models.KeyedVectors(16)
    g.add_vectors(keys, vectors)
    return KeyedVectors(vectors, keys), g


def same_neighbours(ours, theirs):
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


QUERIES = [
    dict(positive=["w1"]),
    dict(positive="w1", topn=3),
    dict(positive=["w1", "w2"], negative=["w3"]),
    dict(negative=["w4"]),
    dict(positive=[("w1", 2.0), "w5"], negative=[("w7", -0.5)]),
    dict(positive=["w9", "PLACEHOLDER_VECTOR"]),
    dict(positive=["w1"], restrict_vocab=50),
    dict(positive=["w1"], clip_start=10, clip_end=100),
    dict(positive=["w1"], topn=400),
]


@pytest.mark.parametrize("query", QUERIES)
def test_most_similar_matches_gensim(pair, query):
    kv, g = pair
    query = {k: [kv.vectors[3] * 5 if x == "PLACEHOLDER_VECTOR" else x for x in v]
             if isinstance(v, list) else v for k, v in query.items()}
    same_neighbours(kv.most_similar(**query), g.most_similar(**query))


def test_most_similar_topn_none_zero_and_2d_positive(pair):
    kv, g = pair
    np.testing.assert_allclose(kv.most_similar("w1", topn=None),
                               g.most_similar("w1", topn=None), atol=1e-6)
    assert kv.most_similar("w1", topn=0) == [] == g.most_similar("w1", topn=0)
    # a 2-D array is a list of vectors (their mean), as in gensim
    same_neighbours(kv.most_similar(positive=kv.vectors[:3]), g.most_similar(
        positive=kv.vectors[:3]))


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`")
@pytest.mark.parametrize("query", [dict(positive=["w1"]), dict(positive=["w1", "w2"],
                                   negative=["w3"]), dict(positive="w1", negative="w2",
                                                          topn=20)])
def test_most_similar_cosmul_matches_gensim(pair, query):
    kv, g = pair
    same_neighbours(kv.most_similar_cosmul(**query), g.most_similar_cosmul(**query))
    np.testing.assert_allclose(kv.most_similar_cosmul(**{**query, "topn": None}),
                               g.most_similar_cosmul(**{**query, "topn": None}), rtol=1e-5)


def test_wmdistance_matches_gensim(pair, rng):
    pytest.importorskip("ot")
    kv, g = pair
    docs = [["w1", "w2", "w3"], ["w3", "w4", "w4", "w9"], ["w1"], ["w1", "w1"],
            ["w5", "nope", "w6"], ["w7"] * 3 + ["w8"], [f"w{i}" for i in range(40)],
            [f"w{i}" for i in rng.integers(0, 300, 25)]]
    for d1 in docs:
        for d2 in docs:
            for norm in (True, False):
                ours = kv.wmdistance(d1, d2, norm=norm)
                assert type(ours) is float
                assert ours == pytest.approx(g.wmdistance(d1, d2, norm=norm), rel=1e-6,
                                             abs=1e-9), (d1, d2, norm)
    assert kv.wmdistance(["w1"], ["w1", "w1"]) == 0.0
    assert kv.wmdistance(["nope"], ["w1"]) == g.wmdistance(["nope"], ["w1"]) == float("inf")
    assert kv.wmdistance([], ["w1"]) == float("inf")
    twins = KeyedVectors(np.ones((2, 3), np.float32), ["a", "b"])   # equal vectors
    assert twins.wmdistance(["a"], ["b"]) == 0.0
    # the vectors as they are now, as similarity() reads them (not a stale cache)
    edited = KeyedVectors(rng.normal(size=(5, 4)).astype(np.float32), list("abcde"))
    edited.most_similar("a")                                         # caches unit vectors
    edited.vectors[2] *= -3
    fresh = KeyedVectors(edited.vectors.copy(), list("abcde"))
    assert edited.wmdistance(["a", "b"], ["c"]) == fresh.wmdistance(["a", "b"], ["c"])
    with pytest.raises(TypeError, match="not one string"):
        kv.wmdistance("w1 w2", ["w1"])
    with pytest.raises(TypeError, match="document2 must be a list of keys"):
        kv.wmdistance(["nope"], "w1 w2")


def test_wmdistance_without_pot_says_what_to_install(kv, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pot(name, *args, **kwargs):
        if name == "ot":
            raise ImportError("No module named 'ot'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pot)
    with pytest.raises(ImportError, match=r"pip install 'fastw2v\[wmd\]'"):
        kv.wmdistance(["k1"], ["k2"])


def test_pairwise_queries_match_gensim(pair):
    kv, g = pair
    v = kv.vectors
    assert kv.similarity("w1", "w2") == pytest.approx(g.similarity("w1", "w2"), abs=1e-6)
    assert kv.distance("w1", "w2") == pytest.approx(g.distance("w1", "w2"), abs=1e-6)
    assert kv.n_similarity(["w1", "w3"], ["w2", "w4"]) == pytest.approx(
        g.n_similarity(["w1", "w3"], ["w2", "w4"]), abs=1e-6)
    np.testing.assert_allclose(kv.distances("w1"), g.distances("w1"), atol=1e-6)
    # numpy float32 scalars, as gensim's (code calling .item() on them works on both)
    for ours, theirs in [(kv.similarity("w1", "w2"), g.similarity("w1", "w2")),
                         (kv.distance("w1", "w2"), g.distance("w1", "w2")),
                         (kv.n_similarity(["w1"], ["w2"]), g.n_similarity(["w1"], ["w2"]))]:
        assert type(ours) is type(theirs) is np.float32
    np.testing.assert_allclose(kv.cosine_similarities(v[1], v),
                               g.cosine_similarities(v[1], v), atol=1e-6)
    np.testing.assert_allclose(kv.distances(v[5], ["w1", "w7"]),
                               g.distances(v[5], ["w1", "w7"]), atol=1e-6)
    as_list = [float(x) for x in v[5]]              # a list is a vector (gensim's rule too)
    np.testing.assert_allclose(kv.distances(as_list), g.distances(as_list), atol=1e-6)
    with pytest.raises(TypeError, match="must hold numbers"):
        kv.distances(["w1"] * v.shape[1])
    words = ["w1", "w2", "w3", "w4", "w5"]
    assert kv.doesnt_match(words) == g.doesnt_match(words)
    assert [w for _, w in kv.rank_by_centrality(words)] == \
           [w for _, w in g.rank_by_centrality(words)]
    assert kv.rank("w1", "w2") == g.rank("w1", "w2")
    assert kv.closer_than("w1", "w50") == g.closer_than("w1", "w50")
    assert kv.most_similar_to_given("w1", words[1:]) == g.most_similar_to_given("w1",
                                                                                words[1:])
    assert kv.relative_cosine_similarity("w1", "w2") == pytest.approx(
        g.relative_cosine_similarity("w1", "w2"), rel=1e-5)
    same_neighbours(kv.similar_by_vector(v[4], topn=5), g.similar_by_vector(v[4], topn=5))
    same_neighbours(kv.similar_by_word("w4", topn=5), g.similar_by_word("w4", topn=5))
    same_neighbours(kv.similar_by_key("w4", topn=5), g.similar_by_key("w4", topn=5))
    for args in (dict(keys=["w1", "w2"]), dict(keys=["w1", v[3]], weights=[1.0, -2.0],
                                                post_normalize=True),
                 dict(keys=["w1", "unknown"], pre_normalize=False)):
        np.testing.assert_allclose(kv.get_mean_vector(**args), g.get_mean_vector(**args),
                                   atol=1e-6)
    np.testing.assert_array_equal(kv[["w1", "w2"]], g[["w1", "w2"]])
    np.testing.assert_allclose(kv.get_vector("w3", norm=True), g.get_vector("w3", norm=True),
                               atol=1e-7)
    # an int that is not a key is a row number, as in gensim
    np.testing.assert_array_equal(kv[7], g[7])
    assert (7 in kv) == (7 in g) and kv.get_index(7) == g.get_index(7)
    assert (1000 in kv) == (1000 in g)


# ---------------------------------------------------------------------------------------
# batched queries

def brute_force_top(kv, queries, topn, restrict=None, exclude=()):
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    unit = unit[:restrict] if restrict else unit
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    scores = q.astype(np.float64) @ unit.T.astype(np.float64)
    out = []
    for i, row in enumerate(scores):
        order = [j for j in np.lexsort((np.arange(len(row)), -row))
                 if j not in set(exclude[i] if len(exclude) else ())]
        out.append(order[:topn])
    return out, scores


@pytest.mark.parametrize("n_rows", [50, 20000])        # 20000: the lane-max fast path
def test_most_similar_batch_matches_brute_force(rng, n_rows):
    kv = KeyedVectors(rng.normal(size=(n_rows, 8)).astype(np.float32),
                      [f"k{i}" for i in range(n_rows)])
    queries = rng.normal(size=(40, 8)).astype(np.float32)
    for restrict in (None, n_rows // 2):
        ids, scores = kv.most_similar_batch(queries, topn=7, restrict_vocab=restrict)
        ref, ref_scores = brute_force_top(kv, queries, 7, restrict)
        assert ids.shape == (40, 7) and ids.dtype == np.int64 and scores.dtype == np.float32
        assert ids.tolist() == ref
        np.testing.assert_allclose(scores, np.take_along_axis(ref_scores, ids, 1), atol=1e-5)


def test_most_similar_batch_exclude_keys_and_padding(rng):
    kv = KeyedVectors(rng.normal(size=(30, 4)).astype(np.float32),
                      [f"k{i}" for i in range(30)])
    exclude = rng.integers(-1, 30, size=(5, 4))
    ids, _ = kv.most_similar_batch(kv.vectors[:5], topn=6, exclude=exclude)
    ref, _ = brute_force_top(kv, kv.vectors[:5], 6, exclude=exclude)
    assert ids.tolist() == ref
    # keys: each key's own row is left out, like most_similar(key)
    ids, scores = kv.most_similar_batch(["k1", "k2"], topn=5)
    for row, key in zip(ids, ["k1", "k2"]):
        assert [kv.index_to_key[i] for i in row] == [k for k, _ in kv.most_similar(key, topn=5)]
    # fewer rows than topn after exclusions: padded with -1 / -inf
    ids, scores = kv.most_similar_batch(kv.vectors[:1], topn=30, exclude=[[0, 1, 2]])
    assert ids.shape == (1, 30) and (ids[0, 27:] == -1).all()
    assert np.isneginf(scores[0, 27:]).all() and (ids[0, :27] >= 0).all()


@pytest.mark.parametrize("n_rows", [40, 16384])
def test_most_similar_batch_ties_go_to_the_lower_row(rng, n_rows):
    base = rng.normal(size=(n_rows // 8, 4)).astype(np.float32)
    vectors = np.tile(base, (8, 1))                    # every vector 8 times: exact ties
    kv = KeyedVectors(vectors, list(range(n_rows)))
    ids, scores = kv.most_similar_batch(base[:3], topn=10)
    ref, _ = brute_force_top(kv, base[:3], 10)
    assert ids.tolist() == ref
    assert ids[0, :8].tolist() == [j * (n_rows // 8) for j in range(8)]


def test_most_similar_batch_errors(kv):
    with pytest.raises(ValueError, match="at least one query"):
        kv.most_similar_batch(np.zeros((0, 8), np.float32))
    with pytest.raises(ValueError, match="at least one query"):
        kv.most_similar_batch([])
    with pytest.raises(ValueError, match=r"shape \(n_queries, 8\)"):
        kv.most_similar_batch(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="query 1 holds NaN"):
        kv.most_similar_batch(np.array([[1] * 8, [np.nan] * 8], np.float32))
    with pytest.raises(ValueError, match="topn"):
        kv.most_similar_batch(kv.vectors[:2], topn=0)
    with pytest.raises(KeyError, match="'nope' not present"):
        kv.most_similar_batch(["k1", "nope"])


def test_most_similar_batch_many_queries_several_blocks(rng, monkeypatch):
    from fastw2v import keyedvectors
    monkeypatch.setattr(keyedvectors, "_BLOCK_FLOATS", 1 << 20)     # ~35 blocks, threads
    kv = KeyedVectors(rng.normal(size=(30000, 32)).astype(np.float32), list(range(30000)))
    ids, _ = kv.most_similar_batch(rng.normal(size=(2000, 32)).astype(np.float32), topn=10)
    assert ids.shape == (2000, 10) and (ids >= 0).all()


# ---------------------------------------------------------------------------------------
# semantics and errors

def test_nonfinite_and_zero_vectors(rng, caplog):
    v = rng.normal(size=(6, 3)).astype(np.float32)
    v[2, 0] = np.nan
    v[3] = 0.0
    kv = KeyedVectors(v, list("abcdef"))
    got = kv.most_similar("a", topn=5)
    assert "c" not in [k for k, _ in got] and len(got) == 4
    assert dict(got)["d"] == 0.0                       # a zero vector: similarity 0
    assert "hold NaN or inf" in caplog.text
    assert np.isnan(kv.similarity("a", "c"))
    ids, _ = kv.most_similar_batch(v[:1], topn=6)
    assert 2 not in ids[0] and ids[0, -1] == -1


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
def test_nonfinite_query_raises_instead_of_returning_nothing(rng):
    v = rng.normal(size=(6, 4)).astype(np.float32)
    v[5, 1] = np.inf
    kv = KeyedVectors(v, list("abcdef"))
    nan = np.array([np.nan, 1, 2, 3], np.float32)
    for call in (lambda: kv.most_similar(positive=[nan], topn=3),
                 lambda: kv.most_similar(positive=["a"], negative=[nan], topn=None),
                 lambda: kv.similar_by_vector(np.array([np.inf, 1, 2, 3], np.float32)),
                 lambda: kv.most_similar_cosmul(positive=[nan], topn=3),
                 lambda: kv.most_similar_cosmul(positive=["a"], negative=[nan])):
        with pytest.raises(ValueError, match=r"query vector \d holds NaN or inf: it has no "
                                             r"neighbours; give finite vectors"):
            call()
    with pytest.raises(ValueError, match=r"query item 0 has the weight nan.*finite weights"):
        kv.most_similar(positive=[("a", float("nan"))])
    with pytest.raises(ValueError, match=r"query item 1 has the weight inf.*finite weights"):
        kv.most_similar(positive=[("a", 1.0), ("b", float("inf"))])
    # huge or tiny finite weights are only a scale: the mean is the same
    assert kv.most_similar(positive=[("a", 1e39)]) == kv.most_similar("a")
    assert kv.most_similar(positive=[("a", 3e307), ("b", 9e307)]) == \
        kv.most_similar(positive=[("a", 1.0), ("b", 3.0)])
    assert kv.most_similar(positive=[("a", 1e-46), ("b", 3e-46)]) == \
        kv.most_similar(positive=[("a", 1.0), ("b", 3.0)])
    for call in (lambda: kv.most_similar("f"), lambda: kv.similar_by_key("f"),
                 lambda: kv.most_similar_cosmul(positive=["a"], negative=["f"])):
        with pytest.raises(ValueError, match=r"the vector of key 'f' holds NaN or inf"):
            call()
    with pytest.raises(ValueError, match=r"query 1 \(key 'f'\) holds NaN or inf"):
        kv.most_similar_batch(["a", "f"])
    assert len(kv.most_similar("a", topn=3)) == 3                  # others still answer


def test_norms_of_huge_and_tiny_vectors_are_exact(rng, monkeypatch):
    from fastw2v import keyedvectors
    v = rng.normal(size=(5, 8)).astype(np.float32)
    v[1] *= 1e-22                            # float32 squares underflow
    v[2] *= 1e20                             # float32 squares overflow (finite vector)
    v[3] = v[0] * 1e-22                      # same direction as row 0
    for block in (1 << 16, 8):               # several row blocks, too
        monkeypatch.setattr(keyedvectors, "_NORM_BLOCK_FLOATS", block)
        kv = KeyedVectors(v, list("abcde"))
        for a, b in (("b", "b"), ("c", "c"), ("a", "d")):
            assert kv.similarity(a, b) == pytest.approx(1.0, abs=1e-6)
        assert len(kv.nonfinite_rows) == 0
        exact = np.linalg.norm(v.astype(np.float64), axis=1)
        np.testing.assert_allclose(kv.norms, exact, rtol=1e-12)
        assert kv.norms.dtype == np.float64
        unit = kv.unit_vectors()
        assert unit.dtype == np.float32 and unit.ctypes.data % 64 == 0
        np.testing.assert_allclose(unit, v / exact[:, None], atol=1e-7)
        top = kv.most_similar("a", topn=4)
        assert top[0][0] == "d" and top[0][1] == pytest.approx(1.0, abs=1e-6)
        assert [k for k, _ in kv.similar_by_vector(v[2], topn=1)] == ["c"]
        ids, scores = kv.most_similar_batch(v[[1, 2]], topn=1)
        assert ids[:, 0].tolist() == [1, 2]
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-6)
        # the same float64 lengths, block by block
        cos = KeyedVectors.cosine_similarities(v[0], v)
        np.testing.assert_allclose(cos, unit @ unit[0], atol=1e-6)
        assert cos[3] == pytest.approx(1.0, abs=1e-6)


def test_norms_of_rows_near_float32_max_are_finite_and_exact(rng):
    keys = list("abcdef")
    v = rng.normal(size=(6, 8)).astype(np.float32)
    v[2] = 3e38                          # finite; its length (~8.5e38) is not a float32
    v[3] = 3e38
    v[3, ::3] = -3e38
    v[4] = v[0] / np.abs(v[0]).max() * 3e38
    kv = KeyedVectors(v, keys)
    kv.fill_norms()
    v64 = v.astype(np.float64)
    exact = np.linalg.norm(v64, axis=1)
    np.testing.assert_allclose(kv.norms, exact, rtol=1e-12)
    assert kv.norms.dtype == np.float64 and len(kv.nonfinite_rows) == 0
    cos = (v64 @ v64.T) / np.outer(exact, exact)               # float64 reference
    for i, j in ((2, 0), (2, 3), (3, 4), (4, 0), (2, 2)):
        assert kv.similarity(keys[i], keys[j]) == pytest.approx(cos[i, j], abs=1e-6)
    got = dict(kv.most_similar("c", topn=10))
    assert set(got) == set(keys) - {"c"}
    for k, score in got.items():
        assert score == pytest.approx(cos[2, keys.index(k)], abs=1e-6)
    top = kv.similar_by_vector(v[2], topn=1)
    assert top[0][0] == "c" and top[0][1] == pytest.approx(1.0, abs=1e-6)
    ids, scores = kv.most_similar_batch(["c", "d"], topn=5)
    np.testing.assert_allclose(scores, cos[[2, 3]][np.arange(2)[:, None], ids], atol=1e-6)
    np.testing.assert_allclose(kv.distances("c"), 1 - cos[2], atol=1e-6)
    np.testing.assert_allclose(kv.cosine_similarities(v[2], v), cos[2], rtol=1e-6)
    # the mean of two such rows fits float32 though their sum does not
    mean = v64[[2, 3]].mean(axis=0)
    expected = mean @ v64[0] / (np.linalg.norm(mean) * exact[0])
    assert kv.n_similarity(["c", "d"], ["a"]) == pytest.approx(expected, abs=1e-6)


def test_cosine_similarities_match_float64_reference(rng):
    v1 = rng.normal(size=300).astype(np.float32)
    # rows nearly orthogonal to v1: their cosines (~1e-8) are below float32's rounding
    # error of the dot product (~1e-7 of the norms), so only float64 gets them right
    others = rng.normal(size=(20, 300))
    others -= np.outer(others @ v1 / (v1 @ v1), v1)
    others = np.vstack([others * 1e3, rng.normal(size=(5, 300))]).astype(np.float32)
    ref = (others.astype(np.float64) @ v1.astype(np.float64)) / (
        np.linalg.norm(v1.astype(np.float64)) * np.linalg.norm(others.astype(np.float64),
                                                               axis=1))
    got = KeyedVectors.cosine_similarities(v1, others)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=0)
    got64 = KeyedVectors.cosine_similarities(v1.astype(np.float64),
                                             others.astype(np.float64))
    assert got64.dtype == np.float64
    np.testing.assert_allclose(got64, ref, rtol=1e-12, atol=0)


@pytest.fixture
def eval_files(tmp_path):
    (tmp_path / "q.txt").write_text(": s\nk1 k2 k3 k4\nk5 k6 k7 k8\n")
    (tmp_path / "p.txt").write_text("k1\tk2\t3\nk3\tk4\t1\nk5\tk6\t2\n")
    return tmp_path / "q.txt", tmp_path / "p.txt"


# each method taking a number of rows: (kv, (analogy file, pairs file), value) -> call
ROW_COUNT_CALLS = {
    "most_similar:restrict_vocab": lambda kv, f, x: kv.most_similar("k1",
                                                                    restrict_vocab=x),
    "most_similar:clip_start": lambda kv, f, x: kv.most_similar("k1", clip_start=x),
    "most_similar:clip_end": lambda kv, f, x: kv.most_similar("k1", clip_end=x),
    "similar_by_key": lambda kv, f, x: kv.similar_by_key("k1", restrict_vocab=x),
    "similar_by_word": lambda kv, f, x: kv.similar_by_word("k1", restrict_vocab=x),
    "similar_by_vector": lambda kv, f, x: kv.similar_by_vector(kv["k1"],
                                                                restrict_vocab=x),
    "most_similar_cosmul": lambda kv, f, x: kv.most_similar_cosmul("k1",
                                                                    restrict_vocab=x),
    "most_similar_batch": lambda kv, f, x: kv.most_similar_batch(["k1"],
                                                                  restrict_vocab=x),
    "evaluate_word_analogies": lambda kv, f, x: kv.evaluate_word_analogies(
        f[0], restrict_vocab=x),
    "evaluate_word_pairs": lambda kv, f, x: kv.evaluate_word_pairs(f[1],
                                                                    restrict_vocab=x),
}


@pytest.mark.parametrize("bad", [-1, -100, 2.5, 3.0, True, np.bool_(False), "3"])
@pytest.mark.parametrize("call", ROW_COUNT_CALLS)
def test_row_count_arguments_refuse_bad_values(kv, eval_files, call, bad):
    name = call.split(":")[1] if ":" in call else "restrict_vocab"
    match = (rf"^{name} must be None or a non-negative int \(a number of rows\), got "
             rf"{re.escape(repr(bad))}$")
    with pytest.raises(ValueError, match=match):
        ROW_COUNT_CALLS[call](kv, eval_files, bad)


@pytest.mark.parametrize("call", ROW_COUNT_CALLS)
def test_row_count_arguments_accept_numpy_ints(kv, eval_files, call):
    a = ROW_COUNT_CALLS[call](kv, eval_files, np.int64(20))
    b = ROW_COUNT_CALLS[call](kv, eval_files, 20)
    if call == "most_similar_batch":
        a, b = a[0], b[0]
    assert repr(a) == repr(b)


def test_row_count_zero_means_all_rows_in_queries_and_is_refused_in_evaluations(
        kv, eval_files):
    # 0 and None mean the whole vocabulary in queries (gensim's rule) ...
    assert kv.most_similar("k1", restrict_vocab=0) == kv.most_similar("k1")
    assert kv.most_similar("k1", clip_start=None, clip_end=None) == kv.most_similar("k1")
    np.testing.assert_array_equal(kv.most_similar_batch(["k1"], restrict_vocab=0)[0],
                                  kv.most_similar_batch(["k1"])[0])
    # ... while gensim's evaluations would score nothing, silently
    for call in ("evaluate_word_analogies", "evaluate_word_pairs"):
        with pytest.raises(ValueError, match=r"restrict_vocab=0 leaves no word to "
                                             r"evaluate; pass None"):
            ROW_COUNT_CALLS[call](kv, eval_files, 0)


def test_counts_must_be_whole_non_negative_numbers(rng):
    m = rng.normal(size=(3, 2)).astype(np.float32)
    assert KeyedVectors(m, list("abc"), counts=[3.0, 2, 1]).counts.tolist() == [3, 2, 1]
    for counts, match in (([2.7, 1, 1], r"counts: 2.7 is not a whole number; round the "
                                        r"counts first"),
                          ([np.nan, 1, 1], "counts: nan is not a whole number"),
                          ([2, 1, -5], "counts: -5 is negative"),
                          ([2.0 ** 63, 1, 1], "does not fit in int64")):
        with pytest.raises(ValueError, match=match):
            KeyedVectors(m, list("abc"), counts=counts)
    with pytest.raises(TypeError, match="counts must be integers, got <U1"):
        KeyedVectors(m, list("abc"), counts=["1", "2", "3"])
    kv = KeyedVectors(m, list("abc"), counts=[5, 3, 1])
    with pytest.raises(ValueError, match=r"the count of 'a': 3.9 is not a whole number"):
        kv.set_vecattr("a", "count", 3.9)
    with pytest.raises(ValueError, match=r"the count of 'b': -1 is negative"):
        kv.set_vecattr("b", "count", -1)
    with pytest.raises(TypeError, match=r"the count of 'b' must be integers, got complex"):
        kv.set_vecattr("b", "count", 1 + 2j)
    assert kv.counts.tolist() == [5, 3, 1]                       # unchanged by the refusals
    kv.set_vecattr("a", "count", 4.0)
    assert kv.get_vecattr("a", "count") == 4


def test_complex_vectors_are_refused(rng):
    with pytest.raises(TypeError, match=r"vectors must be real, got complex128: converting "
                                        r"would drop the imaginary parts"):
        KeyedVectors(np.array([[1 + 5j, 2]]), ["z"])


def test_int_keys_are_keys_not_row_numbers(rng):
    kv = KeyedVectors(rng.normal(size=(3, 2)).astype(np.float32), [10, 20, 30])
    np.testing.assert_array_equal(kv[20], kv.vectors[1])
    assert 0 not in kv and np.int64(30) in kv
    with pytest.raises(KeyError, match="key 1 not present"):
        kv[1]


def test_tuple_keys(rng):
    keys = [("new", "york"), ("a", "b"), "a", "b"]
    kv = KeyedVectors(rng.normal(size=(4, 3)).astype(np.float32), keys)
    np.testing.assert_array_equal(kv[("a", "b")], kv.vectors[1])      # a key, not 2 keys
    np.testing.assert_array_equal(kv[(("a", "b"), "b")], kv.vectors[[1, 3]])  # not a key
    np.testing.assert_array_equal(kv[[("a", "b"), "a"]], kv.vectors[[1, 2]])
    assert [k for k, _ in kv.most_similar(("new", "york"), topn=3)] == [
        k for k, _ in kv.most_similar([("new", "york")], topn=3)]
    assert ("new", "york") not in [k for k, _ in kv.most_similar(("new", "york"))]


def test_vecattr_counts(rng):
    kv = KeyedVectors(rng.normal(size=(3, 2)).astype(np.float32), list("abc"), [5, 3, 1])
    assert kv.get_vecattr("b", "count") == 3
    kv.set_vecattr("b", "count", 7)
    assert kv.counts.tolist() == [5, 7, 1]
    with pytest.raises(KeyError, match="'sample_int' does not exist"):
        kv.get_vecattr("a", "sample_int")
    bare = KeyedVectors(kv.vectors, list("abc"))
    with pytest.raises(KeyError, match="no 'count' attribute"):
        bare.get_vecattr("a", "count")


def test_empty_queries_and_unknown_keys(kv):
    with pytest.raises(ValueError, match="at least one"):
        kv.most_similar(positive=[], negative=[])
    with pytest.raises(ValueError, match="at least one positive"):
        kv.most_similar_cosmul(negative=["k1"])
    with pytest.raises(ValueError) as info:
        kv.n_similarity([], ["k1"])
    assert isinstance(info.value, ZeroDivisionError)       # what gensim raises
    with pytest.raises(KeyError, match="'nope'"):
        kv.n_similarity(["nope"], ["k1"])
    with pytest.raises(ValueError, match="no keys"):
        kv.get_mean_vector([])
    with pytest.raises(KeyError, match="'nope'"):
        kv.most_similar(positive=["k1"], negative=["nope"])
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        kv.most_similar(positive=[np.ones(3)])


def test_unknown_key_message_is_lazy_and_suggests_case_variants(rng):
    kv = KeyedVectors(rng.normal(size=(3, 2)).astype(np.float32), ["Paris", "rome", "x"])
    with pytest.raises(KeyError, match="'paris' not present.*close matches: 'Paris'"):
        kv["paris"]
    try:
        kv["zzz"]
    except KeyError as exc:
        assert exc.args == ("zzz",) and exc._kv is kv      # message built only on demand


def test_constructor_checks(rng):
    m = rng.normal(size=(3, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="'a' appears more than once"):
        KeyedVectors(m, ["a", "b", "a"])
    with pytest.raises(ValueError, match="one entry per key"):
        KeyedVectors(m, list("abc"), counts=[1, 2])
    with pytest.raises(ValueError, match="2-D"):
        KeyedVectors(m[0], ["a", "b"])


def test_get_vector_is_read_only_and_fill_norms_force(kv):
    v = kv.get_vector("k1")
    with pytest.raises(ValueError, match="read-only"):
        v[0] = 1.0
    kv.fill_norms()
    kv.vectors[1] = kv.vectors[2] * 3                 # changed in place, as training does
    kv.fill_norms(force=True)
    assert kv.similarity("k1", "k2") == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(kv.norms, np.linalg.norm(kv.vectors, axis=1), rtol=1e-6)
    assert np.shares_memory(kv.get_normed_vectors(), kv.unit_vectors())


def test_normed_vectors_are_a_read_only_view_of_the_cache(kv):
    # a caller scaling them in place changed every later query (gensim returns a new array)
    unit = kv.get_normed_vectors()
    with pytest.raises(ValueError, match="read-only"):
        unit *= 3
    kv.unit_normalize_all()                   # the cache is then the vectors themselves
    with pytest.raises(ValueError, match="read-only"):
        kv.get_normed_vectors()[0, 0] = 5.0


def test_pair_queries_read_the_vectors_as_they_are_now(kv):
    # gensim's similarity, distance(s) and get_vector(norm=True) read the current
    # vectors; the cache of fill_norms serves the searches (most_similar, ...)
    kv.fill_norms()
    kv.vectors[1] = kv.vectors[2] * 3                 # changed in place, no fill_norms
    assert kv.similarity("k1", "k2") == pytest.approx(1.0, abs=1e-6)
    assert kv.distance("k1", "k2") == pytest.approx(0.0, abs=1e-6)
    assert kv.distances("k1", ["k2", "k0"])[0] == pytest.approx(0.0, abs=1e-6)
    assert kv.distances("k2")[1] == pytest.approx(0.0, abs=1e-6)
    v = kv.vectors[2].astype(np.float64)
    np.testing.assert_allclose(kv.get_vector("k1", norm=True), v / np.linalg.norm(v),
                               rtol=1e-6)


# ---------------------------------------------------------------------------------------
# native save / load

@pytest.mark.parametrize("keys", [
    ["a", "é", "日本", "new york", ""],
    [3, 1, 2, -7, 2 ** 40],
    [101, "x", (1, "x"), None, 2.5],
])
def test_save_load_round_trip(tmp_path, rng, keys):
    kv = KeyedVectors(rng.normal(size=(len(keys), 4)).astype(np.float32), keys,
                      counts=np.arange(len(keys)) + 1)
    kv.save(tmp_path / "kv.fw2v")
    for mmap in (None, "r"):
        back = KeyedVectors.load(tmp_path / "kv.fw2v", mmap=mmap)
        assert back.index_to_key == keys
        assert [type(k) for k in back.index_to_key] == [type(k) for k in keys]
        np.testing.assert_array_equal(back.vectors, kv.vectors)
        np.testing.assert_array_equal(back.counts, kv.counts)
        assert back.most_similar(keys[0], topn=2) == kv.most_similar(keys[0], topn=2)
    assert not back.vectors.flags.writeable              # the read-only memory map itself
    KeyedVectors(kv.vectors, keys).save(tmp_path / "nocounts.fw2v")
    assert KeyedVectors.load(tmp_path / "nocounts.fw2v").counts is None


def test_save_refuses_unstorable_keys_and_load_other_kinds(tmp_path, rng):
    from fastw2v import native
    kv = KeyedVectors(rng.normal(size=(2, 2)).astype(np.float32), ["a", frozenset("b")])
    with pytest.raises(TypeError, match="frozenset cannot be stored"):
        kv.save(tmp_path / "kv.fw2v")
    assert not (tmp_path / "kv.fw2v").exists()
    native.save_arrays(tmp_path / "model.fw2v", {"x": np.zeros(1)}, {}, kind="word2vec")
    with pytest.raises(ValueError, match="Word2Vec.load"):
        KeyedVectors.load(tmp_path / "model.fw2v")
    native.save_arrays(tmp_path / "odd.fw2v", {"vectors": np.zeros((2, 2))}, {"n_keys": 2},
                       kind="keyedvectors")
    with pytest.raises(ValueError, match="is corrupt"):
        KeyedVectors.load(tmp_path / "odd.fw2v")


def test_load_gensim_pickle_explains_conversion(tmp_path, pair):
    _, g = pair
    g.save(str(tmp_path / "gensim.kv"))
    with pytest.raises(ValueError, match="pickle.*save_word2vec_format"):
        KeyedVectors.load(tmp_path / "gensim.kv")


def test_empty_keyed_vectors_filled_as_in_gensim_4():
    # gensim's idiom: kv = KeyedVectors(vector_size); kv.add_vectors(keys, vectors)
    for kv in (KeyedVectors(3), KeyedVectors(3, 0), KeyedVectors(3, count=0,
                                                                   dtype=np.float32)):
        assert len(kv) == 0 and kv.vectors.shape == (0, 3) and kv.index_to_key == []
        kv.add_vectors(["a", "b"], np.array([[1, 0, 0], [0, 2, 0]]))
        kv["c"] = [0, 0, 3]
        assert kv.index_to_key == ["a", "b", "c"]
        assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(0.0)
    for bad in (-1, 2.5, True):
        with pytest.raises((ValueError, TypeError), match="count"):
            KeyedVectors(3, count=bad)
    with pytest.raises(TypeError, match="float32"):
        KeyedVectors(3, dtype=np.float64)
    with pytest.raises(ValueError, match="positive"):
        KeyedVectors(0)
    with pytest.raises(TypeError, match="keys of the rows are missing"):
        KeyedVectors(np.ones((2, 3)))
    with pytest.raises(TypeError, match="vector_size"):
        KeyedVectors(np.ones((2, 3)), ["a", "b"], count=2)
    with pytest.raises(TypeError, match="add_vectors"):
        KeyedVectors(3, ["a"])
    # gensim's keyword and its positional dtype
    assert KeyedVectors(vector_size=5).vectors.shape == (0, 5)
    assert KeyedVectors(4, 0, np.float32).vectors.shape == (0, 4)
    with pytest.raises(TypeError, match="not both"):
        KeyedVectors(np.ones((1, 2)), ["a"], vector_size=2)
    with pytest.raises(TypeError, match="add_vectors"):
        KeyedVectors(3, True)
    with pytest.raises(TypeError, match=r"KeyedVectors\(vector_size\)"):
        KeyedVectors()


def test_setitem_adds_or_replaces_as_gensim_4():
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    kv.fill_norms()
    kv["a"] = np.array([0.0, 5.0])                  # replaced
    kv["z"] = [1, 1]                                # added
    kv[["b", "y"]] = np.array([[3, 0], [0, 4]])     # a list: rows of a matrix
    assert kv.index_to_key == ["a", "b", "z", "y"]
    np.testing.assert_array_equal(kv.vectors, [[0, 5], [3, 0], [1, 1], [0, 4]])
    assert kv.most_similar("a", topn=1)[0] == ("y", pytest.approx(1.0))
    with pytest.raises(ValueError, match=r"shape \(1, 2\)"):
        kv["a"] = [1, 2, 3]
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(2)
    theirs.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
    theirs["a"] = np.array([0.0, 5.0])
    theirs["z"] = np.array([1.0, 1.0])
    theirs[["b", "y"]] = np.array([[3, 0], [0, 4]])
    assert theirs.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)


def test_add_vectors_as_gensim_4():
    kv = KeyedVectors(np.eye(3, 4, dtype=np.float32), ["a", "b", "c"], [5, 3, 1])
    kv.fill_norms()                                    # norms computed, then invalidated
    assert kv.add_vector("d", [0, 0, 0, 2]) == 3
    assert kv.most_similar("d", topn=1)[0][1] == pytest.approx(0.0)
    kv.add_vectors(["a", "e", "f"], np.full((3, 4), 7.0), extras={"count": [9, 2, 4]})
    assert kv.index_to_key == ["a", "b", "c", "d", "e", "f"]
    np.testing.assert_array_equal(kv["a"], [1, 0, 0, 0])          # kept: replace=False
    np.testing.assert_array_equal(kv["f"], [7, 7, 7, 7])
    assert [kv.get_vecattr(k, "count") for k in "abcdef"] == [5, 3, 1, 0, 2, 4]
    assert kv.vectors.ctypes.data % 64 == 0
    assert kv.most_similar("e", topn=1) == [("f", pytest.approx(1.0))]
    kv.add_vectors(["a"], np.ones((1, 4)), replace=True)
    np.testing.assert_array_equal(kv["a"], [1, 1, 1, 1])
    assert kv.similarity("a", "f") == pytest.approx(1.0)        # norms recomputed
    with pytest.raises(ValueError, match="shape"):
        kv.add_vectors(["x", "y"], np.ones((3, 4)))
    with pytest.raises(ValueError, match="shape"):
        kv.add_vector("x", np.ones((2, 2)))            # 4 numbers, but not one vector
    with pytest.raises(ValueError, match="unique"):
        kv.add_vectors(["x", "x"], np.ones((2, 4)))
    with pytest.raises(KeyError, match="'norm'"):
        kv.add_vectors(["x"], np.ones((1, 4)), extras={"norm": [1]})
    with pytest.raises(ValueError, match="whole number"):
        kv.add_vectors(["x"], np.ones((1, 4)), extras={"count": [1.5]})
    assert "x" not in kv                                          # nothing half-added
    # keys all present, no replace: nothing changes, not even the cached norms
    plain = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    unit = plain.unit_vectors()
    plain.add_vectors(["a"], np.ones((1, 2)), extras={"count": [4]})
    assert plain.counts is None and plain.unit_vectors().base is unit.base
    np.testing.assert_array_equal(plain["a"], [1, 0])


def test_add_vectors_one_key_or_an_iterable_of_keys():
    # gensim's rule: a str or an int is one key; anything else holds keys (a generator
    # was added as one key)
    kv = KeyedVectors(np.eye(2, 3, dtype=np.float32), ["a", "b"])
    kv.add_vectors((k for k in ["x", "y"]), np.ones((2, 3)))
    kv.add_vectors("z", np.ones(3))
    kv.add_vectors(np.int64(7), np.ones(3))
    kv.add_vectors(b"w", np.ones(3))
    kv.add_vectors(np.array([8, 9]), np.ones((2, 3)))
    kv.add_vectors(("t", "u"), np.ones((2, 3)))                # a tuple holds keys
    kv.add_vector(("p", "q"), np.ones(3))                     # unless given to add_vector
    assert kv.index_to_key == ["a", "b", "x", "y", "z", 7, b"w", 8, 9, "t", "u", ("p", "q")]
    with pytest.raises(TypeError, match=r"keys must be a key \(str, bytes or int\) or an "
                                        r"iterable of keys, got None; .*add_vector"):
        kv.add_vectors(None, np.ones(3))
    assert len(kv) == 12


def test_int_keys_added_are_keys_not_row_numbers():
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    np.testing.assert_array_equal(kv[1], [0, 1])                  # row 1, as gensim
    kv.add_vector(7, [3, 4])
    with pytest.raises(KeyError):
        kv[1]                                  # an int key exists now: ints are keys
    np.testing.assert_array_equal(kv[7], [3, 4])


def test_vectors_for_all_unit_normalize_all_init_sims_words_closer_than():
    kv = KeyedVectors(np.array([[3, 4], [1, 0], [0, 2]], np.float32), ["a", "b", "c"],
                      [1, 2, 3])
    sub = kv.vectors_for_all(["c", "zz", "a", "c"], copy_vecattrs=True)
    assert sub.index_to_key == ["c", "a"] and sub.counts.tolist() == [3, 1]
    np.testing.assert_array_equal(sub.vectors, [[0, 2], [3, 4]])
    assert kv.vectors_for_all(["zz"]).vectors.shape == (0, 2)
    assert kv.words_closer_than("b", "c") == kv.closer_than("b", "c") == ["a"]
    with pytest.warns(DeprecationWarning, match="init_sims"):
        kv.init_sims()
    np.testing.assert_array_equal(kv["a"], [3, 4])                 # not replaced
    kv.unit_normalize_all()
    np.testing.assert_allclose(kv.vectors, [[0.6, 0.8], [1, 0], [0, 1]], rtol=1e-6)
    np.testing.assert_allclose(kv.norms, 1.0, rtol=1e-6)


def test_unit_normalize_all_is_one_pass_and_sets_norms(rng, monkeypatch):
    from fastw2v import keyedvectors
    v = rng.normal(size=(5, 4)).astype(np.float32)
    v[1] = 0.0
    v[2, 0] = np.nan
    v[3] = 3e38                                      # its length is beyond float32
    kv = KeyedVectors(v.copy(), list("abcde"))
    calls = []
    real = keyedvectors._unit_rows
    monkeypatch.setattr(keyedvectors, "_unit_rows", lambda m: calls.append(m) or real(m))
    kv.unit_normalize_all()
    assert len(calls) == 1                            # normalised once, not twice
    v64 = v.astype(np.float64)
    rows = [0, 3, 4]
    expected = v64[rows] / np.linalg.norm(v64[rows], axis=1, keepdims=True)
    np.testing.assert_allclose(kv.vectors[rows], expected, rtol=1e-6)
    assert (kv.vectors[1] == 0).all() and np.isnan(kv.vectors[2]).all()
    np.testing.assert_array_equal(kv.norms, [1, 0, np.nan, 1, 1])  # as gensim: exact ones
    assert kv.unit_vectors().base is kv.vectors       # one matrix kept, not two
    assert kv.nonfinite_rows.tolist() == [2]
    assert kv.similarity("a", "d") == pytest.approx(expected[0] @ expected[1], abs=1e-6)


def test_read_only_vectors_refuse_changes_and_say_how(tmp_path, rng):
    kv = KeyedVectors(rng.normal(size=(4, 3)).astype(np.float32), list("abcd"),
                      counts=[4, 3, 2, 1])
    kv.save(tmp_path / "kv.fw2v")
    ro = KeyedVectors.load(tmp_path / "kv.fw2v", mmap="r")
    fix = r"load them with mmap=None \(into memory\) or mmap='c' \(copy-on-write\)"
    for call in (ro.unit_normalize_all,
                 lambda: ro.add_vectors(["a"], np.ones((1, 3)), replace=True),
                 lambda: ro.add_vectors(["z", "a"], np.ones((2, 3)), replace=True,
                                        extras={"count": [7, 8]})):
        with pytest.raises(ValueError, match=r"would change kv\.vectors, which are "
                                             r"read-only \(as when loaded with "
                                             r"KeyedVectors\.load\(path, mmap='r'\)\); "
                                             + fix):
            call()
    # nothing was half-done
    assert ro.index_to_key == list("abcd") and ro.counts.tolist() == [4, 3, 2, 1]
    np.testing.assert_array_equal(ro.vectors, kv.vectors)
    # new keys need no write into the map; and the fixes the message names work
    ro = KeyedVectors.load(tmp_path / "kv.fw2v", mmap="r")
    ro.add_vectors(["z"], np.ones((1, 3)))
    assert ro.index_to_key == list("abcdz")
    cow = KeyedVectors.load(tmp_path / "kv.fw2v", mmap="c")
    cow.add_vectors(["a"], np.ones((1, 3)), replace=True)
    cow.unit_normalize_all()
    np.testing.assert_allclose(np.linalg.norm(cow.vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(cow.vectors[0], np.full(3, 3 ** -0.5), rtol=1e-6)
    np.testing.assert_array_equal(KeyedVectors.load(tmp_path / "kv.fw2v").vectors,
                                  kv.vectors)                 # the file is unchanged


def test_add_vectors_counts_on_vectors_without_counts():
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    kv.add_vectors(["a", "z"], np.ones((2, 2)), extras={"count": [9, 2]}, replace=True)
    assert kv.counts.tolist() == [9, 0, 2]          # the replaced key's count kept too
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    kv.add_vectors(["b"], np.ones((1, 2)), extras={"count": [4]}, replace=True)
    assert kv.get_vecattr("b", "count") == 4 and kv.get_vecattr("a", "count") == 0
    assert kv.vectors_for_all(["b", "a"]).vectors.ctypes.data % 64 == 0


def test_gensim3_names_say_what_replaced_them(kv):
    with pytest.raises(AttributeError, match="'index2word' is gensim 3's name.*index_to_key"):
        kv.index2word
    with pytest.raises(AttributeError, match="'vocab' is gensim 3's.*key_to_index"):
        kv.vocab
    with pytest.raises(AttributeError, match="'KeyedVectors' object has no attribute 'zz'"):
        kv.zz
    assert not hasattr(kv, "syn0")


def test_setitem_with_an_int_adds_that_key_as_gensim():
    # gensim 4.4 appends key 0 (though wv[0] reads row 0 where no key is an int)
    kv = KeyedVectors(np.eye(2, dtype=np.float32), ["a", "b"])
    kv[0] = [5, 5]
    assert kv.index_to_key == ["a", "b", 0] and kv["a"].tolist() == [1, 0]
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(2)
    theirs.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
    theirs[0] = np.array([5.0, 5.0])
    assert theirs.index_to_key == kv.index_to_key


def test_old_pickles_without_the_new_attributes_still_work(kv):
    import pickle
    del kv.__dict__["vectors_lockf"]                 # as pickled before it existed
    back = pickle.loads(pickle.dumps(kv))
    assert back.vectors_lockf is None
    back.add_vectors(["new"], np.ones((1, kv.vector_size)))
    assert "new" in back


def test_pair_queries_compute_without_copying_the_matrix():
    import tracemalloc
    big = KeyedVectors(np.random.default_rng(0).normal(size=(20000, 50)),
                       [f"w{i}" for i in range(20000)])
    tracemalloc.start()
    d = big.distances("w1")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < big.vectors.nbytes / 2             # blocks, not a float64 copy of all
    unit = big.vectors / np.linalg.norm(big.vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(d, 1 - unit @ unit[1], atol=1e-6)
    assert d.dtype == np.float32


def test_sort_by_descending_frequency_and_word_vec_as_gensim():
    kv = KeyedVectors(np.arange(8, dtype=np.float32).reshape(4, 2), ["a", "b", "c", "d"],
                      counts=[1, 5, 3, 5])
    kv.vectors_lockf = np.array([0, 1, 0.5, 2], np.float32)
    kv.fill_norms()
    held = kv.vectors
    kv.sort_by_descending_frequency()
    assert kv.index_to_key == ["d", "b", "c", "a"] and kv.counts.tolist() == [5, 5, 3, 1]
    assert kv["a"].tolist() == [0, 1] and kv.get_index("b") == 1
    assert kv.vectors_lockf.tolist() == [2, 1, 0.5, 0]
    assert held[0].tolist() == [0, 1] and kv.vectors is not held      # a new matrix
    assert kv.most_similar("a", topn=1)[0][0] == "b"          # the cache followed
    np.testing.assert_array_equal(kv.word_vec("c"), kv.get_vector("c"))
    gensim_models = pytest.importorskip("gensim.models")
    theirs = gensim_models.KeyedVectors(2)
    theirs.add_vectors(["a", "b", "c", "d"], np.arange(8, dtype=np.float32).reshape(4, 2))
    for key, count in zip("abcd", (1, 5, 3, 5)):     # (gensim 4.4's extras= fails)
        theirs.set_vecattr(key, "count", count)
    theirs.sort_by_descending_frequency()
    assert theirs.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(theirs.vectors, kv.vectors)
    with pytest.raises(ValueError, match="no counts"):
        KeyedVectors(np.eye(2), ["x", "y"]).sort_by_descending_frequency()
    KeyedVectors(2).sort_by_descending_frequency()             # empty: nothing to do


@pytest.mark.parametrize("change", ["add_vectors", "assign", "in_place", "sort"])
def test_a_cache_computed_while_the_vectors_changed_is_not_kept(rng, monkeypatch, change):
    """Another thread may change the vectors while a query computes the unit vectors
    (add_vectors, sort_by_descending_frequency, a lookup layer's step, training): the
    query answers from what it computed, but the cache it would store is stale and is
    dropped, so that later queries see the change. The change is made here from inside
    the computation, where another thread's would land."""
    import fastw2v.keyedvectors as module
    kv = KeyedVectors(rng.normal(size=(50, 8)).astype(np.float32), [f"k{i}" for i in range(50)],
                      counts=np.arange(50, 0, -1) if change != "sort" else np.arange(1, 51))
    real = module._unit_rows
    done = []

    def racing(vectors):
        out = real(vectors)
        if not done:
            done.append(1)
            if change == "add_vectors":
                kv.add_vectors(["new"], np.ones((1, 8), np.float32))
            elif change == "assign":
                kv.vectors = -kv.vectors
            elif change == "in_place":
                kv.vectors[0] *= -1
                kv._forget_norms()              # what training and the lookup layer do
            else:
                kv.sort_by_descending_frequency()
        return out

    monkeypatch.setattr(module, "_unit_rows", racing)
    kv.most_similar("k1")                       # computed before the change: not kept
    monkeypatch.setattr(module, "_unit_rows", real)
    fresh = KeyedVectors(kv.vectors.copy(), list(kv.index_to_key))
    np.testing.assert_array_equal(kv.unit_vectors(), fresh.unit_vectors())
    assert kv.most_similar("k1", topn=3) == fresh.most_similar("k1", topn=3)


def test_unit_vectors_survive_the_cache_dropped_meanwhile(rng, monkeypatch):
    import fastw2v.keyedvectors as module
    kv = KeyedVectors(rng.normal(size=(20, 4)).astype(np.float32), [f"k{i}" for i in range(20)])
    real = module._unit_rows

    def dropped(vectors):
        out = real(vectors)
        kv._forget_norms()
        return out

    monkeypatch.setattr(module, "_unit_rows", dropped)
    unit = kv.unit_vectors()                    # raised AttributeError on None before
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1, rtol=1e-6)
    assert kv.most_similar_batch(["k1", "k2"], topn=2)[0].shape == (2, 2)


def test_assigning_new_vectors_drops_the_cache(rng):
    kv = KeyedVectors(np.eye(3, dtype=np.float32), list("abc"))
    assert kv.most_similar("a", topn=1)[1 - 1][1] == 0.0
    kv.vectors = np.array([[1, 0, 0], [1, 0.1, 0], [0, 0, 1]], np.float32)
    assert kv.most_similar("a", topn=1)[0][0] == "b"
    assert kv.most_similar("a", topn=1)[0][1] == pytest.approx(0.995, abs=1e-3)
    assert kv.norms[1] == pytest.approx(np.sqrt(1.01))


def test_new_vectors_drop_the_old_cache_and_pickles_carry_only_a_valid_one(rng):
    kv = KeyedVectors(rng.normal(size=(300, 16)).astype(np.float32),
                      [f"k{i}" for i in range(300)])
    kv.most_similar("k1")
    assert kv._cache is not None
    kv.vectors = kv.vectors * 2                      # the old unit matrix is let go
    assert kv._cache is None and kv._cache_of is None
    kv.fill_norms()
    state = pickle.loads(pickle.dumps(kv))
    assert state._valid_cache() is not None          # a valid cache travels
    np.testing.assert_array_equal(state.norms, kv.norms)
    kv._cache_of = None                              # (as if stale)
    assert pickle.loads(pickle.dumps(kv))._cache is None


def test_objects_pickled_with_the_old_cache_attributes_keep_their_cache(rng):
    """Before session 11 the cache was three attributes, _unit, _norms and _bad_rows."""
    vectors = rng.normal(size=(30, 4)).astype(np.float32)
    new = KeyedVectors(vectors.copy(), [f"k{i}" for i in range(30)])
    unit, norms, bad = new._cached()
    state = {k: v for k, v in new.__dict__.items() if not k.startswith("_cache")}
    state.update(_unit=unit, _norms=norms, _bad_rows=bad)
    old = KeyedVectors.__new__(KeyedVectors)
    old.__setstate__(state)
    assert not {"_unit", "_norms", "_bad_rows"} & set(old.__dict__)
    assert old.norms is norms and np.shares_memory(old.unit_vectors(), unit)
    assert old.most_similar("k1") == new.most_similar("k1")
    # normalised in place (one matrix: the unit vectors are the vectors)
    state.update(vectors=unit, _unit=unit, _norms=np.ones(30), _bad_rows=bad)
    old.__setstate__(state)
    assert np.shares_memory(old.unit_vectors(), old.vectors) and (old.norms == 1).all()


def _data(a):
    return a.__array_interface__["data"][0]


def test_count_reserves_room_that_add_vector_fills_without_copying():
    # gensim's idiom: kv = KeyedVectors(size, count=N), then add_vector N times
    models = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((4, 3)).astype(np.float32)
    kv = KeyedVectors(3, count=4)
    g = models.KeyedVectors(3, count=4)
    assert len(kv) == 0 and kv.vectors.shape == (0, 3)   # (gensim: 4 rows under None)
    start = _data(kv.vectors)
    held = []
    for i, key in enumerate("abcd"):
        assert kv.add_vector(key, rows[i]) == g.add_vector(key, rows[i]) == i
        held.append((kv.vectors, kv.vectors.copy()))      # (an array and its values)
        assert _data(kv.vectors) == start                   # in the reserved rows
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.index_to_key == g.index_to_key and kv.key_to_index == g.key_to_index
    kv.add_vector("e", np.ones(3))                          # past the room: a new matrix
    assert _data(kv.vectors) != start
    np.testing.assert_array_equal(kv.vectors[:4], rows)
    np.testing.assert_array_equal(kv["e"], np.ones(3, np.float32))
    for array, values in held:           # arrays handed out earlier keep what they held
        np.testing.assert_array_equal(array, values)
    assert kv.most_similar("e", topn=1)[0][0] in "abcd"     # no stale unit vectors


def test_add_vector_one_by_one_copies_the_matrix_a_logarithmic_number_of_times():
    kv = KeyedVectors(np.ones((2, 5)), ["x", "y"], counts=[7, 8])
    kv.vectors_lockf = np.array([0.0, 0.5], np.float32)
    places = set()
    for i in range(3000):
        if i % 2:
            kv.add_vector(f"k{i}", np.full(5, i))
        else:
            kv[f"k{i}"] = np.full(5, i)                   # wv[key] = vector alike
        places.add(_data(kv.vectors))
    assert len(places) < 20              # (grown by half each time: 16, 24, 36, ...)
    assert len(kv) == 3002 and kv.vectors.shape == (3002, 5)
    np.testing.assert_array_equal(kv.vectors[2:, 0], np.arange(3000))
    np.testing.assert_array_equal(kv.vectors[:2], np.ones((2, 5)))
    np.testing.assert_array_equal(kv.counts, [7, 8] + [0] * 3000)
    np.testing.assert_array_equal(kv.vectors_lockf, [0.0, 0.5] + [1.0] * 3000)
    assert kv.counts.dtype == np.int64 and kv.vectors_lockf.dtype == np.float32
    assert kv.get_index("k2999") == 3001 and kv.get_vecattr("k5", "count") == 0
    # add_vectors grows to fit: no room left for later
    kv2 = KeyedVectors(5)
    kv2.add_vectors(["a", "b"], np.ones((2, 5)))
    first = _data(kv2.vectors)
    kv2.add_vectors(["c"], np.ones((1, 5)))
    assert _data(kv2.vectors) != first


def test_room_is_not_shared_by_copies_nor_pickled():
    for copier in (copy.deepcopy, lambda kv: pickle.loads(pickle.dumps(kv))):
        kv = KeyedVectors(4, count=1000)
        kv.add_vector("a", np.ones(4))
        assert len(pickle.dumps(kv)) < 4 * 4 * 1000    # the free rows are not pickled
        other = copier(kv)
        other.add_vector("b", np.full(4, 2.0))
        kv.add_vector("c", np.full(4, 3.0))           # (the row "b" took, in a shared room)
        np.testing.assert_array_equal(other["b"], np.full(4, 2.0, np.float32))
        assert "b" not in kv and "c" not in other
    # a buffer the vectors no longer live in is let go (it may be 1.5x the matrix)
    import gc
    import weakref
    kv = KeyedVectors(4, count=1000)
    kv.add_vector("a", np.ones(4))
    buffer = weakref.ref(kv.vectors.base)
    kv.vectors = kv.vectors.copy()
    gc.collect()
    assert buffer() is None
    # vectors assigned by the caller are never written past their end
    kv = KeyedVectors(4, count=10)
    kv.add_vector("a", np.ones(4))
    kv.add_vector("b", np.ones(4))
    mine = kv.vectors
    kv.vectors = mine[:1]
    kv.index_to_key, kv.key_to_index = ["a"], {"a": 0}
    kv.add_vector("z", np.zeros(4))
    np.testing.assert_array_equal(mine, np.ones((2, 4)))


def test_resize_vectors_as_gensim():
    models = pytest.importorskip("gensim.models")
    rows = np.arange(8, dtype=np.float32).reshape(2, 4)
    kv = KeyedVectors(rows.copy(), ["a", "b"], counts=[5, 6])
    g = models.KeyedVectors(4)
    g.add_vectors(["a", "b"], rows.copy())
    for k in (kv, g):
        k.index_to_key.extend(["c", "d", "e"])
        k.resize_vectors(seed=3)
    np.testing.assert_array_equal(kv.vectors, g.vectors)     # same random start
    assert np.abs(kv.vectors[2:]).max() <= 1 / 4
    assert kv.get_index("e") == 4 and kv.most_similar("a", topn=1)[0][0] in "bcde"
    np.testing.assert_array_equal(kv.counts, [5, 6, 0, 0, 0])
    kv.index_to_key = ["a", "b"]                             # shrink
    kv.resize_vectors()
    assert kv.vectors.shape == (2, 4) and "c" not in kv and len(kv.counts) == 2
    np.testing.assert_array_equal(kv.vectors, rows)
    before = kv.vectors
    kv.resize_vectors()                                      # nothing to do
    assert kv.vectors is before
    kv.index_to_key.append("a")
    with pytest.raises(ValueError, match="'a' appears more than once"):
        kv.resize_vectors()
    # the old rows' draws are skipped in blocks of 2^20 numbers: the same as gensim's
    n = (1 << 18) + 3                                        # 4n: two blocks and a bit
    kv = KeyedVectors(np.zeros((n, 4)), range(1, n + 1))
    kv.index_to_key.append(-1)
    kv.resize_vectors(seed=9)
    keyedvectors = pytest.importorskip("gensim.models.keyedvectors")
    expected = keyedvectors.prep_vectors((n + 1, 4), np.zeros((n, 4)), seed=9)[n]
    np.testing.assert_array_equal(kv[-1], expected)
    # int keys appended by hand are looked up as keys, not as row numbers
    kv = KeyedVectors(rows.copy(), ["a", "b"])
    kv.index_to_key.append(0)
    kv.resize_vectors()
    assert kv.get_index(0) == 2


def test_keys_assigned_by_hand_decide_what_an_int_means():
    # gensim's recipes fill index_to_key, key_to_index and vectors by hand
    kv = KeyedVectors(3, count=2)
    kv.index_to_key, kv.key_to_index = [10, 20], {10: 0, 20: 1}
    kv.vectors = np.eye(3, dtype=np.float32)[:2]
    np.testing.assert_array_equal(kv[20], [0, 1, 0])
    with pytest.raises(KeyError):
        kv[0]                            # an int key set: 0 is an unknown key, not row 0
    kv.index_to_key, kv.key_to_index = ["a", "b"], {"a": 0, "b": 1}
    np.testing.assert_array_equal(kv[0], [1, 0, 0])     # no int key: a row number


def test_most_similar_batch_takes_a_1d_array_of_int_keys():
    rng = np.random.default_rng(1)
    kv = KeyedVectors(rng.standard_normal((6, 4)).astype(np.float32), [10, 20, 30, 40, 50, 60])
    ids, scores = kv.most_similar_batch(np.array([30, 10]), topn=2)
    ids_list, scores_list = kv.most_similar_batch([30, 10], topn=2)
    np.testing.assert_array_equal(ids, ids_list)
    np.testing.assert_array_equal(scores, scores_list)
    with pytest.raises(ValueError, match="for one vector use most_similar"):
        kv.most_similar_batch(np.ones(4, np.float32))       # a 1-D float array: a vector


def test_load_word2vec_format_with_int_keys_back(tmp_path):
    kv = KeyedVectors(np.eye(3, dtype=np.float32), [501, 77, 9])
    kv.save_word2vec_format(tmp_path / "v.txt")
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.txt", key_type=int)
    assert back.index_to_key == [501, 77, 9]
    np.testing.assert_array_equal(back[77], [0, 1, 0])
    assert KeyedVectors.load_word2vec_format(tmp_path / "v.txt").index_to_key == [
        "501", "77", "9"]                                     # (as gensim: text)
    (tmp_path / "bad.txt").write_text("2 2\n5 1 2\nx 3 4\n")
    with pytest.raises(ValueError, match=r"key 1 \('x'\) cannot be converted by key_type=int"):
        KeyedVectors.load_word2vec_format(tmp_path / "bad.txt", key_type=int)
    (tmp_path / "big.txt").write_text("1 2\n18446744073709551615 1 2\n")
    with pytest.raises(ValueError, match="key 0 .* cannot be converted by key_type=int64"):
        KeyedVectors.load_word2vec_format(tmp_path / "big.txt", key_type=np.int64)
    assert type(KeyedVectors.load_word2vec_format(tmp_path / "v.txt", key_type=np.int64)
                .index_to_key[0]) is int
    (tmp_path / "same.txt").write_text("2 2\n5 1 2\n05 3 4\n")
    with pytest.raises(ValueError, match="keys '5' and '05' both become 5"):
        KeyedVectors.load_word2vec_format(tmp_path / "same.txt", key_type=int)


def test_intersect_with_int_keys_says_why_nothing_matched(tmp_path, caplog):
    import logging
    KeyedVectors(np.ones((2, 3), np.float32), [501, 77]).save_word2vec_format(tmp_path / "v.txt")
    kv = KeyedVectors(np.zeros((3, 3), np.float32), [77, 9, 501])
    with caplog.at_level(logging.WARNING, logger="fastw2v"):
        assert kv.intersect_word2vec_format(tmp_path / "v.txt") == 0
    assert "took no vector" in caplog.text and "pass key_type=int" in caplog.text
    assert kv.intersect_word2vec_format(tmp_path / "v.txt", key_type=int) == 2
    np.testing.assert_array_equal(kv.vectors, [[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(kv.vectors_lockf, [0, 1, 0])


def test_keyed_vectors_to_gensim_and_back():
    models = pytest.importorskip("gensim.models")
    rng = np.random.default_rng(3)
    kv = KeyedVectors(rng.standard_normal((5, 4)).astype(np.float32), ["a", "b", 7, "d", "e"],
                      counts=[9, 8, 7, 6, 5])
    g = kv.to_gensim()
    assert isinstance(g, models.KeyedVectors) and g.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(g.vectors, kv.vectors)
    assert not np.shares_memory(g.vectors, kv.vectors)
    assert [g.get_vecattr(k, "count") for k in ["a", "e"]] == [9, 5]
    assert g.most_similar("a", topn=2) == [(k, pytest.approx(s)) for k, s in
                                           kv.most_similar("a", topn=2)]
    back = KeyedVectors.from_gensim(g)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    np.testing.assert_array_equal(back.counts, kv.counts)
    # gensim's numpy keys become Python keys; no counts: none
    g2 = models.KeyedVectors(2)
    g2.add_vectors([np.int64(5), np.int64(6)], np.eye(2))
    plain = KeyedVectors.from_gensim(g2)
    assert [type(k) for k in plain.index_to_key] == [int, int]
    assert KeyedVectors.from_gensim(g2).vectors.dtype == np.float32
    with pytest.raises(TypeError, match="gensim 4 KeyedVectors"):
        KeyedVectors.from_gensim(np.eye(2))
