"""calibrate / bin_agreement: recovered cut points, objectives, the held-out estimate,
files, and the embedded sample campaign."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from judgeaudit.tables import human_coherence
from judgeaudit.coherence import (
    COHERENCE_BINS,
    CombinedScorer,
    bin_agreement,
    calibrate,
    load_calibration,
    save_calibration,
)
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.judges.base import align_prompts
from judgeaudit.datasets import load_sample_campaign

GRID = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
CUT_03_07 = ["incoherent"] * 3 + ["partially_coherent"] * 4 + ["coherent"] * 3


def _bins(scores, lo, hi):
    s = np.asarray(scores)
    return np.where(s <= lo, "incoherent", np.where(s <= hi, "partially_coherent", "coherent"))


@pytest.mark.parametrize("objective", ["quadratic_kappa", "kappa", "accuracy"])
def test_known_cut_points_are_recovered_exactly(objective):
    # Scores 0.05 ... 0.95; humans cut at 0.3 and 0.7.  Candidate cuts are the midpoints
    # 0.1, 0.2, ..., 0.9 (and one below 0.05); only (0.3, 0.7) puts every item in its
    # human bin, so every objective peaks there with value 1.
    cal = calibrate(GRID, CUT_03_07, objective=objective, folds=0, n_boot=50)
    assert cal.incoherent_max == pytest.approx(0.3) and cal.partial_max == pytest.approx(0.7)
    assert cal.objective_value == pytest.approx(1.0)
    assert cal.in_sample.accuracy == 1.0 and cal.in_sample.kappa.value == pytest.approx(1.0)
    assert cal.n_candidates == 11 and cal.cross_validated is None and cal.folds == 0
    assert cal.apply([0.29, 0.31, 0.71]).tolist() == ["incoherent", "partially_coherent", "coherent"]


def test_noisy_synthetic_cut_points_are_recovered_closely():
    # 1,000 uniform scores, true cuts 0.25 and 0.6; 10 % of labels moved one bin up or
    # down.  The noise is symmetric around each cut, so the fitted cuts stay close to it.
    rng = np.random.default_rng(7)
    s = rng.uniform(0, 1, 1000)
    codes = np.where(s <= 0.25, 2, np.where(s <= 0.6, 1, 0))
    flip = rng.random(1000) < 0.1
    codes = np.where(flip, np.clip(codes + rng.choice([-1, 1], 1000), 0, 2), codes)
    human = np.array(COHERENCE_BINS)[codes]
    cal = calibrate(s, human, folds=5, seed=3, n_boot=50, max_candidates=200)
    assert abs(cal.incoherent_max - 0.25) < 0.04 and abs(cal.partial_max - 0.6) < 0.04
    cv = cal.cross_validated
    assert cv is not None and cv.n == 1000 and cal.folds == 5
    # 800 items per fit pin the cuts down: the held-out estimate is close to the
    # in-sample one (pooled out-of-fold bins come from five pairs of cuts, so they may
    # even agree a little better)
    assert abs(cv.kappa_quadratic.value - cal.in_sample.kappa_quadratic.value) < 0.02
    assert sum(sum(r.values()) for r in cv.confusion.values()) == 1000
    # seeded: the same seed gives the same figures, another seed other folds
    again = calibrate(s, human, folds=5, seed=3, n_boot=50, max_candidates=200)
    assert again.to_dict() == cal.to_dict()


def test_ties_prefer_accuracy_then_the_default_cut_points():
    # Only coherent and incoherent humans, well separated: any partial_max in the gap and
    # an empty partial bin (incoherent_max == partial_max) fit perfectly.  The tie-break
    # picks the candidate pair closest to (1/3, 2/3): both cuts at the one midpoint 0.5.
    cal = calibrate([0.1, 0.2, 0.8, 0.9], ["incoherent"] * 2 + ["coherent"] * 2, folds=0, n_boot=20)
    assert (cal.incoherent_max, cal.partial_max) == (pytest.approx(0.5), pytest.approx(0.5))
    assert any("fewer than 3 bins" in note for note in cal.notes)


def test_a_cut_at_the_top_score_includes_it():
    # bins are "score <= cut": the highest candidate cut (the top score itself) makes every
    # item incoherent, which is what these humans said (accuracy 4/4); the fit must count
    # items equal to a cut the way bins_from_thresholds bins them
    cal = calibrate([0.2, 0.5, 0.9, 0.9], ["incoherent"] * 4, objective="accuracy", folds=0, n_boot=10)
    assert cal.incoherent_max == pytest.approx(0.9)
    assert cal.objective_value == 1.0 and cal.in_sample.accuracy == 1.0


def test_unlabelled_items_are_left_out_and_bad_input_is_an_error():
    scores = GRID + [0.5, 0.5]
    human = CUT_03_07 + [None, float("nan")]
    cal = calibrate(scores, human, folds=0, n_boot=20)
    assert cal.in_sample.n == 10 and cal.partial_max == pytest.approx(0.7)
    with pytest.raises(ValidationError, match="'fluent' at position 1"):
        calibrate([0.5, 0.6], ["fluent", "coherent"])
    with pytest.raises(ValidationError, match="3 scores for 2 human bins"):
        calibrate([0.1, 0.2, 0.3], ["coherent", "coherent"])
    with pytest.raises(ValidationError, match="at least 2 items"):
        calibrate([0.1, 0.2], ["coherent", None])
    with pytest.raises(ValidationError, match="NaN"):
        calibrate([np.nan, 0.2], ["coherent", "coherent"])
    with pytest.raises(ConfigError, match="objective must be one of"):
        calibrate(GRID, CUT_03_07, objective="f1")


def test_cross_validation_folds_never_split_a_cluster():
    # Two clusters only: 2 folds, each fitted on the other cluster alone.
    clusters = ["p1"] * 5 + ["p2"] * 5
    human = ["incoherent", "partially_coherent", "coherent"] * 3 + ["coherent"]
    scores = [0.1, 0.5, 0.9] * 3 + [0.95]
    cal = calibrate(scores, human, clusters=clusters, folds=5, n_boot=50)
    assert cal.folds == 2 and cal.cross_validated.kappa.n_clusters == 2
    one = calibrate(scores, human, clusters=["p"] * 10, folds=5, n_boot=20)
    assert one.cross_validated is None and "only 1 cluster" in one.notes[0]


def test_bin_agreement_matches_sklearn():
    rng = np.random.default_rng(0)
    human = rng.choice(COHERENCE_BINS, 120)
    auto = np.where(rng.random(120) < 0.7, human, rng.choice(COHERENCE_BINS, 120))
    got = bin_agreement(auto, human, n_boot=200)
    order = list(COHERENCE_BINS)
    assert got.kappa.value == pytest.approx(cohen_kappa_score(human, auto, labels=order))
    assert got.kappa_quadratic.value == pytest.approx(
        cohen_kappa_score(human, auto, labels=order, weights="quadratic"))
    cm = confusion_matrix(human, auto, labels=order)
    assert [[got.confusion[h][a] for a in order] for h in order] == cm.tolist()
    assert got.accuracy == pytest.approx(np.mean(auto == human))
    assert got.kappa.ci_low < got.kappa.value < got.kappa.ci_high
    with pytest.raises(ValidationError, match="drop unlabelled items"):
        bin_agreement(["coherent", None], ["coherent", "coherent"])


def test_save_and_load_a_calibration(tmp_path):
    cal = calibrate(GRID, CUT_03_07, folds=0, n_boot=20)
    path = save_calibration(cal, tmp_path / "cal.json")
    doc = json.loads(path.read_text())
    assert doc["kind"] == "judgeaudit.coherence.calibration" and doc["partial_max"] == pytest.approx(0.7)
    loaded = load_calibration(path)
    assert (loaded.incoherent_max, loaded.partial_max) == (cal.incoherent_max, cal.partial_max)
    scorer = CombinedScorer(calibration=path)
    assert (scorer.incoherent_max, scorer.partial_max) == (cal.incoherent_max, cal.partial_max)
    assert CombinedScorer(calibration=cal).partial_max == cal.partial_max
    # a CLI report holding several scorers: pick one by id
    report = {"scorers": {"combined": {"calibration": doc}, "perplexity": {"calibration": None}}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert load_calibration(tmp_path / "report.json").partial_max == cal.partial_max
    with pytest.raises(ConfigError, match="no calibration for scorer 'perplexity'"):
        load_calibration(tmp_path / "report.json", scorer_id="perplexity")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValidationError, match="not valid JSON"):
        load_calibration(tmp_path / "bad.json")
    for text in ('{"incoherent_max": Infinity, "partial_max": 0.2}', '[1, 2]',
                 '{"incoherent_max": true, "partial_max": 0.2}'):
        (tmp_path / "inf.json").write_text(text)
        with pytest.raises(ValidationError, match="finite numbers"):
            load_calibration(tmp_path / "inf.json")
    (tmp_path / "odd.json").write_text('{"incoherent_max": 0.8, "partial_max": 0.2}')
    with pytest.raises(ValidationError, match="exceeds"):
        load_calibration(tmp_path / "odd.json")
    with pytest.raises(ConfigError, match="not found"):
        load_calibration(tmp_path / "none.json")


def test_sample_campaign_calibration_figures(coherence_extra):
    """The combined scorer against the authors' coherence labels of the sample campaign.

    Measured when written (300 items, lower median of three authors: 223 coherent, 12
    partially coherent, 65 incoherent; 75 prompt clusters, seed 0, 1,000 resamples),
    with the reading of the degeneracy scorer v2 as a factor: default bins (1/3, 2/3):
    accuracy 0.967, kappa 0.915 [0.858, 0.960], quadratic kappa 0.975 [0.958, 0.989];
    no coherent item binned incoherent.  Calibrated (quadratic kappa): cuts 0.247 /
    0.623, in sample quadratic kappa 0.975; 5-fold cross-validated accuracy 0.957, kappa
    0.889, quadratic kappa 0.968 [0.948, 0.983].  (Before v2: accuracy 0.893, quadratic
    kappa 0.756; 19 human-incoherent items, token-piece salads and cut-off step
    templates, were binned coherent; now none is.)
    """
    tables = load_sample_campaign()
    gens = tables.generations
    human = human_coherence(tables.labels, gens["item_id"].tolist())
    assert human.value_counts().to_dict() == {"coherent": 223, "incoherent": 65, "partially_coherent": 12}
    scorer = CombinedScorer()
    scores = scorer.scores(gens["response"].tolist(), align_prompts(gens, tables.prompts))
    clusters = gens["prompt_id"].tolist()
    default = bin_agreement(_bins(scores, 1 / 3, 2 / 3), human, clusters=clusters)
    assert default.accuracy == pytest.approx(0.967, abs=5e-4)
    assert default.kappa.value == pytest.approx(0.915, abs=5e-4)
    assert default.kappa_quadratic.value == pytest.approx(0.975, abs=5e-4)
    assert default.confusion["coherent"]["incoherent"] == 0
    cal = calibrate(scores, human, clusters=clusters, folds=5, seed=0)
    assert (cal.incoherent_max, cal.partial_max) == (pytest.approx(0.247, abs=5e-4),
                                                     pytest.approx(0.623, abs=5e-4))
    assert cal.in_sample.kappa_quadratic.value == pytest.approx(0.975, abs=5e-4)
    cv = cal.cross_validated
    assert cv.accuracy == pytest.approx(0.957, abs=5e-4)
    assert cv.kappa.value == pytest.approx(0.889, abs=5e-4)
    assert cv.kappa_quadratic.value == pytest.approx(0.968, abs=5e-4)
    assert (cv.kappa_quadratic.ci_low, cv.kappa_quadratic.ci_high) == (
        pytest.approx(0.948, abs=5e-4), pytest.approx(0.983, abs=5e-4))
    assert cal.in_sample.confusion["incoherent"]["coherent"] == 0
    assert cv.kappa_quadratic.n_clusters == 75


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["incoherent_max", "partial_max", "scorers",
                                                       "calibration", "combined", "x"]), inner,
                                      max_size=4), max_leaves=12))
def test_load_calibration_reads_a_file_or_says_why_not(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("cal") / "c.json"
    path.write_text(json.dumps(doc))
    try:
        cal = load_calibration(path)
    except (ValidationError, ConfigError):
        return
    assert np.isfinite(cal.incoherent_max) and cal.incoherent_max <= cal.partial_max
