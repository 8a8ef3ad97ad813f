"""shuffle_floor against brute-force averages over the mismatched (output, reference) pairs."""

import itertools

import numpy as np
import pytest

from assay.stats import shuffle_floor


def test_matches_loop_over_mismatched_pairs():
    sim = np.random.default_rng(0).random((6, 6))
    pairs = [sim[i, j] for i, j in itertools.product(range(6), repeat=2) if i != j]
    assert shuffle_floor(sim) == pytest.approx(np.mean(pairs))


def test_known_values():
    # 4 x 4 by hand: the 12 off-diagonal entries of 0..15 sum to 120 - (0 + 5 + 10 + 15) = 90
    sim = np.arange(16, dtype=float).reshape(4, 4)
    scores = [sim[i, j] for i in range(4) for j in range(4) if i != j]
    assert shuffle_floor(sim.tolist()) == pytest.approx(sum(scores) / 12) == pytest.approx(7.5)
    assert shuffle_floor([[1.0, 0.2], [0.4, 1.0]]) == pytest.approx(0.3)


@pytest.mark.parametrize("bad", [[[1.0]], [1.0, 2.0], [[1, 2, 3], [4, 5, 6]], [[1, float("nan")], [1, 1]],
                                 [["a", "b"], ["c", "d"]]])
def test_bad_input_names_argument(bad):
    with pytest.raises(ValueError, match="similarity"):
        shuffle_floor(bad)
