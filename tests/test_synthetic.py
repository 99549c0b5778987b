"""The synthetic corpora: their planted structure and their argument checks."""
import numpy as np
import pytest

from fastw2v.synthetic import planted_groups, planted_sessions


def test_planted_sessions_default_ids_are_g_times_1000_plus_k():
    sessions, groups = planted_sessions(n_groups=3, items_per_group=5, n_sessions=200)
    assert groups == {g * 1000 + k: g for g in range(3) for k in range(5)}
    assert set(np.unique(sessions.ids).tolist()) <= set(groups)


@pytest.mark.parametrize("items_per_group", [999, 1000, 1001, 1500, 12345])
def test_planted_sessions_ids_never_collide(items_per_group):
    sessions, groups = planted_sessions(n_groups=3, items_per_group=items_per_group,
                                        n_sessions=300, seed=1)
    assert len(groups) == 3 * items_per_group              # no id overwritten
    assert sorted(groups.values()) == sorted(list(range(3)) * items_per_group)
    ids = np.unique(sessions.ids).tolist()
    assert set(ids) <= set(groups)
    # each id's group is the group it was drawn for: most items of a session share one
    for s in list(sessions)[:50]:
        owners = [groups[int(x)] for x in s]
        assert max(owners.count(g) for g in owners) >= len(owners) * 0.5


def test_planted_sessions_lengths_follow_session_length():
    sessions, _ = planted_sessions(n_sessions=300, session_length=(4, 4))
    assert np.all(np.diff(sessions.offsets) == 4)
    empty, groups = planted_sessions(n_sessions=0)
    assert len(empty.ids) == 0 and len(groups) == 300


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_groups=0), "n_groups must be an int >= 1, got 0"),
    (dict(n_groups=2.5), "n_groups must be an int >= 1, got float 2.5"),
    (dict(items_per_group=0), "items_per_group must be an int >= 1"),
    (dict(n_sessions=-1), "n_sessions must be an int >= 0"),
    (dict(session_length=(5, 3)), r"session_length\[1\] must be an int >= 5, got 3"),
    (dict(session_length=(-2, 1)), r"session_length\[0\] must be an int >= 1, got -2"),
    (dict(session_length=7), r"session_length must be a pair \(shortest, longest\)"),
    (dict(session_length=(1, 2, 3)), "session_length must be a pair"),
    (dict(seed=-1), "seed must be an int >= 0"),
    (dict(n_groups=10, items_per_group=10**18), "do not fit in 64-bit item ids"),
])
def test_planted_sessions_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        planted_sessions(**kwargs)


def test_planted_groups_words_and_fillers():
    sentences, groups = planted_groups(n_groups=3, words_per_group=4, n_sentences=50,
                                       sentence_length=6, n_shared=2, seed=1)
    assert groups == {f"g{g}w{w}": g for g in range(3) for w in range(4)}
    assert len(sentences) == 50 and all(len(s) == 6 for s in sentences)
    assert {w for s in sentences for w in s} <= set(groups) | {"the0", "the1"}
    plain, _ = planted_groups(n_sentences=50, n_shared=0, shared_rate=0.0)
    assert not any(w.startswith("the") for s in plain for w in s)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_groups=0), "n_groups must be an int >= 1, got 0"),
    (dict(words_per_group=0), "words_per_group must be an int >= 1"),
    (dict(n_sentences=-1), "n_sentences must be an int >= 0"),
    (dict(sentence_length=0), "sentence_length must be an int >= 1"),
    (dict(sentence_length=True), "sentence_length must be an int >= 1, got bool"),
    (dict(n_shared=-1), "n_shared must be an int >= 0"),
    (dict(n_shared=0), "n_shared must be >= 1 when shared_rate > 0"),
    (dict(shared_rate=1.5), r"shared_rate must be a number in \[0, 1\], got 1.5"),
    (dict(shared_rate=float("nan")), "shared_rate must be a number in"),
    (dict(seed=-3), "seed must be an int >= 0, got -3"),
])
def test_planted_groups_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        planted_groups(**kwargs)


def test_seed_none_draws_fresh_data_as_numpy_does():
    from fastw2v.synthetic import planted_groups, planted_sessions
    a, _ = planted_groups(n_sentences=50, seed=None)
    b, _ = planted_groups(n_sentences=50, seed=None)
    assert len(a) == len(b) == 50 and a != b
    sessions, _ = planted_sessions(n_sessions=20, seed=None)
    assert len(sessions) == 20
