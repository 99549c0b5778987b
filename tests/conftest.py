import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def reads(monkeypatch):
    """The path of every read of a corpus file, in order: counting the vocabulary
    (fastw2v.vocab) and encoding (fastw2v.encoded) each start one."""
    import fastw2v.corpus
    import fastw2v.encoded
    import fastw2v.vocab
    paths = []

    def counted(path, *args, **kwargs):
        paths.append(path)
        return fastw2v.corpus.iter_chunks(path, *args, **kwargs)

    for module in (fastw2v.vocab, fastw2v.encoded):
        monkeypatch.setattr(module, "iter_chunks", counted)
    return paths


def write_lines(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(s) + "\n")
    return str(path)
