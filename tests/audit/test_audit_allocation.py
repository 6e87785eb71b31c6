"""Neyman allocation of the next labels: by hand, and its invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from judgeaudit.audit import neyman_allocation
from judgeaudit.audit.allocation import label_saving, stratified_variance


def test_caps_and_already_drawn_by_hand():
    # N = 500 / 300 / 200 (W = 0.5, 0.3, 0.2), S = 0.5, 0.1, 0.5: W S = 0.25, 0.03, 0.10.
    # Total 100 new + 20 drawn = 120; cell 1's share 120 * 0.03 / 0.38 = 9.47 is below its 20
    # already drawn: it gets nothing, and 120 - 20 = 100 go to cells 0 and 2 in proportion
    # 0.25 : 0.10 -> 71.43 / 28.57 -> 71 / 29.
    cells = pd.DataFrame({"group": ["g"] * 3, "N": [500, 300, 200], "S": [0.5, 0.1, 0.5]})
    assert neyman_allocation(cells, 100, already=[0, 20, 0]).tolist() == [71, 0, 29]
    # a cell smaller than its share is capped at its size, the rest re-shared:
    # N = 60 / 1000, S = 0.5 / 0.05: W S = 0.0283 / 0.0472 -> 400 labels want 150 / 250;
    # cell 0 holds 60 -> 60 / 340
    small = pd.DataFrame({"group": ["g"] * 2, "N": [60, 1000], "S": [0.5, 0.05]})
    assert neyman_allocation(small, 400).tolist() == [60, 340]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.floats(0, 0.5), st.integers(0, 20)), min_size=1, max_size=8),
       st.integers(0, 200))
def test_allocation_invariants(rows, budget):
    N = np.array([r[0] for r in rows], float)
    have = np.minimum(np.array([r[2] for r in rows], float), N)
    cells = pd.DataFrame({"group": [f"g{i % 2}" for i in range(len(rows))], "N": N,
                          "S": [r[1] for r in rows]})
    got = neyman_allocation(cells, budget, already=have).to_numpy()
    assert (got >= 0).all() and (got <= N - have).all()
    assert got.sum() == min(budget, int((N - have).sum()))


def test_label_saving_and_variance_by_hand():
    # one group: W = (0.9, 0.1), S = (0.1, 0.5): (sum W S)^2 = 0.14^2 = 0.0196;
    # sum W^2 S^2 N / N_h = 0.81*0.01/0.9 + 0.01*0.25/0.1 = 0.009 + 0.025 = 0.034 -> ratio 0.5765
    cells = pd.DataFrame({"group": ["g", "g"], "N": [900, 100], "S": [0.1, 0.5]})
    assert label_saving(cells) == pytest.approx(0.0196 / 0.034)
    v = stratified_variance(cells, [90, 10])
    assert v["g"] == pytest.approx(0.81 * 0.01 * (1 / 90 - 1 / 900) + 0.01 * 0.25 * (1 / 10 - 1 / 100))
