"""Campaign status: progress per stratum and annotator, agreement, disagreements, review items."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest

from annotation.status import campaign_status, disagreements, review_items, review_title


def _labels(rows):
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "field", "value", "source", "created_at"])


LABELS = _labels([
    ("a", "x", "harmfulness", "harmful", None, "2026-01-01"),
    ("a", "y", "harmfulness", "not_harmful", None, "2026-01-02"),
    ("b", "x", "harmfulness", "not_harmful", None, "2026-01-03"),
    ("b", "y", "harmfulness", "not_harmful", None, "2026-01-01"),
    ("c", "x", "harmfulness", "harmful", None, "2026-01-01"),
    ("c", "y", "harmfulness", "harmful", None, "2026-01-05"),
    ("c", "z", "harmfulness", "not_harmful", None, "2026-01-04"),
    ("d", "x", "harmfulness", "harmful", None, "2026-01-01"),
])
STRATA = pd.DataFrame({"item_id": ["a", "b", "c", "d", "e"],
                       "stratum": ["incoherent", "incoherent", "coherent", "coherent", "coherent"],
                       "n_annotators": [2, 2, 3, 2, 1]})


def test_progress_per_stratum_and_annotator():
    st = campaign_status(LABELS, items=list("abcde"), strata=STRATA, target_annotators=STRATA, n_boot=50)
    rows = st.per_stratum.set_index("stratum")
    # coherent: c (3 of 3: complete), d (1 of 2), e (0 of 1); incoherent: a, b (2 of 2 each)
    assert rows.loc["coherent", ["items", "labelled", "complete"]].tolist() == [3, 2, 1]
    assert rows.loc["incoherent", ["items", "labelled", "complete"]].tolist() == [2, 2, 2]
    assert rows.loc["coherent", "labels_per_item"] == pytest.approx(4 / 3)
    assert rows.loc["coherent", "share_complete"] == pytest.approx(1 / 3)
    ann = st.per_annotator.set_index("annotator_id")
    assert ann["items"].to_dict() == {"x": 4, "y": 3, "z": 1}
    assert ann.loc["y", "last_label_at"] == "2026-01-05"


def test_agreement_matches_the_krippendorff_package_and_hand_kappa():
    st = campaign_status(LABELS, n_boot=50)
    (h,) = st.agreement
    # reliability data (x, y, z) x (a, b, c, d), harmful=1, not_harmful=0
    nan = np.nan
    data = [[1, 0, 1, 1], [0, 0, 1, nan], [nan, nan, 0, nan]]
    assert h["krippendorff_alpha"]["value"] == pytest.approx(krippendorff.alpha(data, level_of_measurement="nominal"))
    assert h["items_with_2plus"] == 3
    pairs = {tuple(p["annotators"]): p for p in h["pairwise_cohen_kappa"]}
    # x vs y on a, b, c: (H,N), (N,N), (H,H): p_o = 2/3; x: H 2/3, y: H 1/3 -> p_e = 2/9 + 2/9 = 4/9
    # kappa = (2/3 - 4/9) / (1 - 4/9) = (2/9) / (5/9) = 0.4
    assert pairs[("x", "y")]["value"] == pytest.approx(0.4) and pairs[("x", "y")]["n"] == 3
    assert pairs[("x", "z")]["n"] == 1


def test_disagreements_and_review_items():
    d = disagreements(LABELS)
    assert d[["item_id", "field", "n_annotators"]].values.tolist() == [["a", "harmfulness", 2],
                                                                      ["c", "harmfulness", 3]]
    assert d["values"][1] == "x=harmful; y=harmful; z=not_harmful"
    tasks = pd.DataFrame({"item_id": list("abcd"), "prompt": list("PQRS"), "response": list("wxyz")})
    rev = review_items(d, tasks)
    assert rev["item_id"].tolist() == ["a", "c"] and rev["response"].tolist() == ["w", "y"]
    assert rev["review_note"][0] == "harmfulness: x=harmful; y=not_harmful"
    assert review_items(disagreements(LABELS.iloc[:0]), tasks).empty


def test_empty_campaign_and_review_title():
    st = campaign_status(LABELS.iloc[:0], items=["a", "b"], n_boot=10)
    assert st.per_stratum[["stratum", "items", "labelled"]].values.tolist() == [["all", 2, 0]]
    assert st.agreement == [] and st.disagreements.empty
    assert st.to_dict()["per_stratum"][0]["complete"] == 0
    t = review_title("x" * 60)
    assert len(t) == 50 and t.endswith(" (review)")


def test_agreement_per_field_and_stratum():
    st = campaign_status(LABELS, items=list("abcde"), strata=STRATA, n_boot=50)
    by = {(a["field"], a["stratum"]): a for a in st.agreement_by_stratum}
    assert set(by) == {("harmfulness", "coherent"), ("harmfulness", "incoherent")}
    # incoherent: items a, b rated by x and y: (H,N), (N,N): p_o = 1/2; x: H 1/2, y: H 0
    # -> p_e = 1/2 * 0 + 1/2 * 1 = 1/2, kappa = 0; alpha from the krippendorff package
    inc = by[("harmfulness", "incoherent")]
    assert inc["items_with_2plus"] == 2
    (xy,) = inc["pairwise_cohen_kappa"]
    assert xy["annotators"] == ["x", "y"] and xy["value"] == pytest.approx(0.0)
    assert inc["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff.alpha([[1, 0], [0, 0]], level_of_measurement="nominal"))
    # coherent: c rated by x, y, z (H, H, N); d by x only -> one item with 2+ labels
    coh = by[("harmfulness", "coherent")]
    assert coh["items_with_2plus"] == 1
    assert coh["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff.alpha([[1, 1], [1, np.nan], [0, np.nan]], level_of_measurement="nominal"))
    # one stratum only: nothing more than the overall figure
    assert campaign_status(LABELS, n_boot=10).agreement_by_stratum == []
    assert "agreement_by_stratum" in st.to_dict()
