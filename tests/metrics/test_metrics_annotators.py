"""The judge as one more annotator: spread, alt-test, soft-label scores (hand-derived values,
scipy / statsmodels / scikit-learn as oracles)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import brier_score_loss, cohen_kappa_score, log_loss
from statsmodels.stats.multitest import multipletests

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import (
    alt_test,
    annotator_spread,
    benjamini_yekutieli,
    soft_label_scores,
    vote_shares,
)

# Four items, three annotators and a judge:
#        a  b  c  judge
#   i1   1  1  1  1
#   i2   1  1  0  1
#   i3   0  0  0  1
#   i4   0  1  0  0
SMALL = pd.DataFrame({"a": [1, 1, 0, 0], "b": [1, 1, 0, 1], "c": [1, 0, 0, 0]},
                     index=["i1", "i2", "i3", "i4"])
JUDGE = pd.Series([1, 1, 1, 0], index=["i1", "i2", "i3", "i4"])


def test_alt_test_hand_derived():
    # leave a out: S_f / S_h per item = (1,1) (.5,.5) (0,1) (.5,.5) -> d = W_h - W_f = 0,0,1,0
    #   rho_f = 3/4, rho_h = 1; mean d .25, sd .5 -> t = (.25-.2)/(.5/2) = 0.2
    # leave b out: (1,1) (.5,.5) (0,1) (1,0) -> d = 0,0,1,-1; rho_f = rho_h = 3/4
    #   mean 0, sd sqrt(2/3) -> t = -.2/(sqrt(2/3)/2) = -0.4899
    # leave c out: (1,1) (1,0) (0,1) (.5,.5) -> d = 0,-1,1,0: the same as b
    r = alt_test(SMALL, JUDGE, epsilon=0.2, min_items=1)
    a, b, c = r.per_annotator
    assert (a.rho_judge, a.rho_human, b.rho_judge, b.rho_human) == (0.75, 1.0, 0.75, 0.75)
    assert a.t == pytest.approx(0.2) and b.t == pytest.approx(-0.2 / (math.sqrt(2 / 3) / 2))
    assert c.t == pytest.approx(b.t)
    for x, d in ((a, [0, 0, 1, 0]), (b, [0, 0, 1, -1])):
        oracle = stats.ttest_1samp(d, popmean=0.2, alternative="less")
        assert x.p_value == pytest.approx(oracle.pvalue) and x.t == pytest.approx(oracle.statistic)
    # BY, m = 3: thresholds k * .05 / (3 * 1.8333); p ~ .57, .33, .33: nothing rejected
    assert [x.rejected for x in r.per_annotator] == [False] * 3
    assert r.winning_rate == 0.0 and not r.passed
    assert r.advantage_probability == pytest.approx(0.75)
    assert r.notes == ()


def test_alt_test_judge_as_majority_passes_and_noise_fails():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 80)
    humans = pd.DataFrame({k: np.where(rng.random(80) < 0.15, 1 - truth, truth)
                           for k in ("a", "b", "c", "d")})
    majority = (humans.mean(axis=1) > 0.5).astype(int)  # ties (2-2) -> 0
    good = alt_test(humans, majority, epsilon=0.2)
    assert good.passed and good.winning_rate >= 0.5
    # the p-values are scipy's one-sided paired t-test; the rejections statsmodels' BY
    ps = [x.p_value for x in good.per_annotator]
    assert [x.rejected for x in good.per_annotator] == \
        multipletests(ps, alpha=0.05, method="fdr_by")[0].tolist()
    coin = pd.Series(rng.integers(0, 2, 80))
    bad = alt_test(humans, coin, epsilon=0.2)
    assert not bad.passed and bad.advantage_probability < good.advantage_probability


def test_alt_test_notes_and_errors():
    r = alt_test(SMALL[["a", "b"]], JUDGE)
    assert any("three annotators" in n for n in r.notes)
    assert any("fewer than 30" in n for n in r.notes)
    with pytest.raises(ValidationError, match="at least two annotators"):
        alt_test(SMALL[["a"]], JUDGE)
    with pytest.raises(ValidationError, match="epsilon"):
        alt_test(SMALL, JUDGE, epsilon=1.5)
    # mapping input and numeric alignment
    as_map = {k: SMALL[k].to_dict() for k in SMALL}
    assert alt_test(as_map, JUDGE.to_dict(), min_items=1).per_annotator[0].t == pytest.approx(0.2)
    num = alt_test(SMALL.astype(float), JUDGE.astype(float), alignment="neg_rmse", min_items=1)
    assert num.per_annotator[0].rho_judge == 0.75  # on 0/1 data, -RMSE ranks like accuracy


@pytest.mark.parametrize("m", [1, 2, 5, 12])
def test_benjamini_yekutieli_matches_statsmodels(m):
    rng = np.random.default_rng(m)
    p = np.concatenate([rng.uniform(0, 0.01, m // 2 + 1), rng.uniform(0, 1, m)])
    assert benjamini_yekutieli(p, q=0.05).tolist() == \
        multipletests(p, alpha=0.05, method="fdr_by")[0].tolist()


def test_annotator_spread_against_sklearn():
    s = annotator_spread(SMALL, JUDGE, n_boot=50)
    ab = cohen_kappa_score(SMALL["a"], SMALL["b"])
    ac = cohen_kappa_score(SMALL["a"], SMALL["c"])
    bc = cohen_kappa_score(SMALL["b"], SMALL["c"])
    assert s.pairs[("a", "b")].value == pytest.approx(ab)
    assert s.annotator_vs_others["a"] == pytest.approx((ab + ac) / 2)
    assert s.annotator_vs_others["c"] == pytest.approx((ac + bc) / 2)
    jk = [cohen_kappa_score(JUDGE, SMALL[k]) for k in "abc"]
    assert [s.judge_vs_annotator[k].value for k in "abc"] == pytest.approx(jk)
    assert s.judge_mean == pytest.approx(np.mean(jk))
    others = [s.annotator_vs_others[k] for k in "abc"]
    below = sum(o < s.judge_mean for o in others) + 0.5 * sum(o == s.judge_mean for o in others)
    assert s.position == pytest.approx(below / 3)
    d = s.to_dict()
    assert len(d["pairs"]) == 3 and d["n_annotators"] == 3


def test_annotator_spread_missing_labels():
    # b skipped i4: pairs with b use i1..i3 only
    h = SMALL.astype(object).copy()
    h.loc["i4", "b"] = None
    s = annotator_spread(h, JUDGE, n_boot=20)
    assert s.pairs[("a", "b")].n == 3
    assert s.pairs[("a", "b")].value == pytest.approx(cohen_kappa_score([1, 1, 0], [1, 1, 0]))


def test_soft_label_scores_hand_derived():
    p, s = [0.8, 0.5, 0.1], [1.0, 0.5, 0.0]
    out = soft_label_scores(p, s, n_boot=200, seed=1)
    # Brier: (0.2^2 + 0 + 0.1^2) / 3 = 0.05 / 3
    assert out["brier"].value == pytest.approx(0.05 / 3)
    # log loss: -(ln .8 + (.5 ln .5 + .5 ln .5) + ln .9) / 3
    expected = -(math.log(0.8) + math.log(0.5) + math.log(0.9)) / 3
    assert out["log_loss"].value == pytest.approx(expected)
    assert out["log_loss_floor"] == pytest.approx(math.log(2) / 3)
    # oracle: soft labels as weighted hard labels
    y = [1, 0] * 3
    w = [x for share in s for x in (share, 1 - share)]
    pp = [x for prob in p for x in (prob, prob)]
    assert out["log_loss"].value == pytest.approx(log_loss(y, pp, sample_weight=w))
    assert out["brier"].ci_low <= out["brier"].value <= out["brier"].ci_high
    # hard shares: the same as scikit-learn's Brier score
    hard = soft_label_scores([0.9, 0.2, 0.6], [1, 0, 0], n_boot=10)
    assert hard["brier"].value == pytest.approx(brier_score_loss([1, 0, 0], [0.9, 0.2, 0.6]))


def test_vote_shares_and_errors():
    h = SMALL.astype(object).copy()
    h.loc["i4", ["a", "b", "c"]] = None
    shares = vote_shares(h)
    assert shares.loc["i2"] == pytest.approx(2 / 3) and math.isnan(shares.loc["i4"])
    out = soft_label_scores([1.0, 1.0, 0.0, 0.3], shares.to_numpy(), n_boot=10)
    assert out["n"] == 3  # i4 has no votes
    with pytest.raises(ValidationError, match="in \\[0, 1\\]"):
        soft_label_scores([1.2], [1.0])
    with pytest.raises(ValidationError, match="one of each per item"):
        soft_label_scores([0.1, 0.2], [1.0])


def test_importing_the_metrics_stays_light(repo_root):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, judgeaudit.metrics; "
                          "print([m for m in ('pandas', 'scipy.stats') if m in sys.modules])"],
                         capture_output=True, text=True, cwd=repo_root, check=True,
                         env={"PYTHONPATH": str(repo_root), "PATH": ""})
    assert out.stdout.strip() == "[]"


def test_reproduces_the_authors_published_alt_test_results(repo_root):
    """The 52 winning rates and advantage probabilities of the AltTest authors' notebook.

    Their data (github.com/nitaytech/AltTest, no licence stated) are not copied here: set
    JUDGEAUDIT_ALTTEST_DATA to a checkout of that repository to run this check.
    """
    import os
    import subprocess
    import sys

    where = os.environ.get("JUDGEAUDIT_ALTTEST_DATA")
    if not where:
        pytest.skip("set JUDGEAUDIT_ALTTEST_DATA to a checkout of nitaytech/AltTest")
    out = subprocess.run([sys.executable, str(repo_root / "scripts" / "reproduce_alt_test.py"), where],
                         capture_output=True, text=True, cwd=repo_root,
                         env={**os.environ, "PYTHONPATH": str(repo_root), "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "52 of 52" in out.stdout
