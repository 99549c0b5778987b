import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def write_lines(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(s) + "\n")
    return str(path)
