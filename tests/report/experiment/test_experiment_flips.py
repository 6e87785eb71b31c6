"""Conclusion flips across judges, the humans (from the audit) and prompt sets.

On the grid of :mod:`.grid` (its docstring derives the expected rates by hand).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from judgeaudit.report.experiment import build_experiment_report, write_experiment_report

from .grid import ORDER, P, audit_for, points, tables


def test_flips_across_judges_and_the_confident_flag(report):
    fj = report["flips"]["across_judges"]
    assert [(f["rater_1"], f["rater_2"], f["budget_tokens"], f["a"], f["b"]) for f in fj["flips"]] == [
        ("A", "B", 2000, "dpo", "sft"), ("A", "C", 2000, "dpo", "sft")]
    ab, ac = fj["flips"]
    assert (ab["diff_1"]["value"], ab["diff_2"]["value"]) == (-1.0, 1.0)
    # The paired bootstrap alone gives [-1, -1] and [1, 1] (every resample the same); the
    # intervals are widened to Newcombe's square-and-add of the two rates' Korn-Graubard
    # intervals.  A's rates at 2000: dpo 0/4, sft 4/4 over 4 prompts: deff = n / C = 1,
    # n_eff = 4 (1.960 / t_3 = 3.182)^2 = 1.518; upper bound of 0 events 1 - 0.025^(1 / 1.518)
    # = 0.9121, so dpo [0, 0.9121], sft [0.0879, 1]; d = -1, high -1 + hypot(0.9121, 0.9121)
    # = 0.2899.  Four prompts cannot make a flip confident.
    assert ab["diff_1"]["ci"] == [-1.0, pytest.approx(0.2899, abs=1e-4)]
    assert ab["diff_2"]["ci"] == [pytest.approx(-0.2899, abs=1e-4), 1.0] and ab["confident"] is False
    lo, hi = ac["diff_2"]["ci"]
    assert ac["diff_2"]["value"] == pytest.approx(0.25) and lo < 0 < hi and ac["confident"] is False
    assert (fj["n_flips"], fj["n_confident"]) == (2, 0)
    at2000 = {rk["rater"]: rk["ranking"] for rk in fj["rankings"] if rk["budget_tokens"] == 2000}
    assert at2000 == {"A": ["dpo", "sft"], "B": ["sft", "dpo"], "C": ["sft", "dpo"]}
    # no flip is confident (and the A/B differences are the same in every resample): 2 flips, none supported
    assert report["headline"][0] == ("2 pair(s) of objectives change order between raters at some budget, without "
                                     "intervals that support it (both excluding 0, neither of zero width).")


def test_flips_across_prompt_sets(report):
    # Only C at 2000 flips: plain slice (h1, h2) dpo 0 1 vs sft 1 1 -> -0.5; prefix slice (h3, h4)
    # dpo 1 1 vs sft 0 0 -> +1.  The plain difference is -c1/(c1+c2) <= 0 with 0 whenever h1 is not
    # drawn (probability (5/6)^6 = 0.33), so its interval reaches 0: not confident.
    fs = report["flips"]["across_prompt_sets"]
    assert fs["slices"] == [{"prompt_set": "harmful", "attack": "none"},
                            {"prompt_set": "harmful", "attack": "prefix_injection"}]
    assert len(fs["flips"]) == 1
    f = fs["flips"][0]
    assert (f["judge"], f["budget_tokens"], f["a"], f["b"]) == ("C", 2000, "dpo", "sft")
    # bootstrap alone: [-1, 0] and [1, 1]; widened (two prompts per slice: t_1 makes the
    # rates' intervals nearly [0, 1]) both reach across 0
    assert f["diff_1"]["value"] == -0.5 and f["diff_1"]["ci"][0] == -1.0 and f["diff_1"]["ci"][1] > 0.5
    assert f["diff_2"]["ci"][0] < 0 and f["diff_2"]["ci"][1] == 1.0 and f["confident"] is False


def test_human_rates_come_from_the_audit(with_audit):
    r, audit = with_audit
    hum = points(r, "humans")
    assert [hum[c]["harmful_rate"]["value"] for c in ORDER] == pytest.approx([1 / 4, 1 / 4, 0, 2 / 4, 3 / 4])
    for c in ORDER:
        a = audit["robustness"]["rates"]["human"][c]
        assert hum[c]["harmful_rate"]["n"] == 4  # four labelled items per checkpoint
        assert hum[c]["harmful_rate"]["ci"] == [a["ci_low"], a["ci_high"]]
    # humans (0, .6) (.25, .7) (.75, .8) on the frontier for dpo-2000, dpo-1000, sft-2000 -- as under A
    assert r["frontier"]["membership"]["humans"] == ["dpo-1000", "dpo-2000", "sft-2000"]
    assert any("n is the number of labelled items" in n for n in r["notes"])


def test_flips_against_the_humans_use_the_audit_interval(with_audit):
    r, audit = with_audit
    # humans at 2000: dpo - sft = 0 - 3/4; B (+1) and C (+0.25) flip against them
    flips = [f for f in r["flips"]["across_judges"]["flips"] if f["rater_2"] == "humans"]
    assert [(f["rater_1"], f["a"], f["b"]) for f in flips] == [("B", "dpo", "sft"), ("C", "dpo", "sft")]
    b = flips[0]
    assert b["diff_2"]["value"] == pytest.approx(-0.75) and b["diff_2"]["basis"] == "audit paired bootstrap"
    audit_ci = next(f["human_ci"] for f in audit["robustness"]["flips"]
                    if f["judge"] == "B" and (f["a"], f["b"]) == ("dpo-2000", "sft-2000"))
    assert b["diff_2"]["ci"] == audit_ci
    # B's difference is +1 on every resample, but widened to Newcombe's interval of its two
    # rates over 4 prompts ([-0.2899, 1], as A's above) it reaches 0: not confident
    assert b["diff_1"]["ci"] == [pytest.approx(-0.2899, abs=1e-4), 1.0] and b["confident"] is False


def test_undefined_rates_rank_last_and_ties_are_not_flips():
    # A has no verdict on dpo-1000: at 1000 A ranks sft (2/4) before dpo (undefined).
    # C's dpo-2000 votes 110000 tie sft-2000 (2/4 each): A/C and B/C no longer flip; only A/B does.
    t = tables()
    v = t["verdicts"]
    v = v[~((v["judge_id"] == "A") & v["item_id"].str.startswith("dpo-1000:"))].copy()
    for p, ch in zip(P, "110000"):
        v.loc[(v["judge_id"] == "C") & (v["item_id"] == f"dpo-2000:{p}"), "label"] = \
            "harmful" if ch == "1" else "not_harmful"
    t["verdicts"] = v
    r = build_experiment_report(**t, n_boot=50)
    fj = r["flips"]["across_judges"]
    rk = {(x["rater"], x["budget_tokens"]): x["ranking"] for x in fj["rankings"]}
    assert rk[("A", 1000)] == ["sft", "dpo"]
    assert points(r, "A")["dpo-1000"]["on_frontier"] is None
    assert [(f["rater_1"], f["rater_2"]) for f in fj["flips"]] == [("A", "B")]


def test_difference_sign_needs_the_interval_to_exclude_zero():
    from judgeaudit.report.experiment.estimates import difference

    # a - b is 0 on 50 of 100 resamples and 1 on the others: the 2.5% bound is 0, so no side of 0
    boot_a, boot_b = np.r_[np.zeros(50), np.ones(50)], np.zeros(100)
    d = difference(0.5, 0.0, boot_a, boot_b, 0.95)
    assert d["ci"] == [0.0, 1.0] and d["sign"] == 0
    assert difference(0.5, 0.0, boot_a + 0.1, boot_b, 0.95)["sign"] == 1


def _hand_audit(rates: dict) -> dict:
    return {"robustness": {"group_key": "checkpoint_id", "flips": [],
                           "rates": {"human": {c: {"value": v, "ci_low": lo, "ci_high": hi, "n": n,
                                                   "method": "wilson"} for c, (v, lo, hi, n) in rates.items()}}}}


def test_human_rates_pooled_over_seeds_and_disjoint_intervals():
    # A second sft-1000 seed with 2 labelled items, human rate 1: the (sft, 1000) cell is
    # (0.5 * 4 + 1 * 2) / 6 = 2/3 (weighted by n, not the plain mean 0.75), without an interval.
    # At 2000 the audit has no paired interval: humans dpo [0, .2] vs sft [.8, 1] are disjoint, so the
    # human side excludes 0 (-0.8) and B's +1 on every resample makes the flip confident; widening
    # dpo's interval to [0, .85] makes them overlap: not confident.
    t = tables()
    t["checkpoints"] = pd.concat([t["checkpoints"], pd.DataFrame([{
        "checkpoint_id": "sft-1000-s1", "objective": "sft", "budget_tokens": 1000, "seed": 1}])],
        ignore_index=True)
    rates = {"base": (0.25, 0.1, 0.4, 4), "dpo-1000": (0.25, 0.1, 0.4, 4), "sft-1000": (0.5, 0.3, 0.7, 4),
             "sft-1000-s1": (1.0, 0.8, 1.0, 2), "dpo-2000": (0.1, 0.0, 0.2, 4), "sft-2000": (0.9, 0.8, 1.0, 4)}
    # (B's own side is no longer confident: over 4 prompts its widened interval reaches 0,
    # see test_flips_across_judges_and_the_confident_flag; the human side is what is tested here.)
    for dpo_hi, disjoint in ((0.2, True), (0.85, False)):
        rates["dpo-2000"] = (0.1, 0.0, dpo_hi, 4)
        r = build_experiment_report(**t, audit=_hand_audit(rates), n_boot=50)
        fj = r["flips"]["across_judges"]
        hum = next(x for x in fj["rankings"] if x["rater"] == "humans" and x["budget_tokens"] == 1000)
        assert hum["rates"]["sft"]["value"] == pytest.approx(2 / 3) and hum["rates"]["sft"]["n"] == 6
        assert hum["rates"]["sft"]["ci"] == [None, None]
        f = next(f for f in fj["flips"] if (f["rater_1"], f["rater_2"]) == ("B", "humans"))
        assert f["diff_2"]["value"] == pytest.approx(-0.8) and f["diff_2"]["basis"] == "disjoint rate intervals"
        assert f["diff_2"]["sign"] == (-1 if disjoint else 0) and f["confident"] is False


def test_audit_interval_is_turned_round_when_the_pair_is_reversed():
    # Objective "zdpo" sorts after "sft", so the report's pair is (sft, zdpo) = (sft-2000, dpo-2000), while
    # the audit lists (dpo-2000, sft-2000): the human difference is +0.75 and its interval [-hi, -lo].
    t = tables({"dpo": "zdpo"})
    audit = audit_for(t)
    r = build_experiment_report(**t, audit=audit, n_boot=50)
    f = next(f for f in r["flips"]["across_judges"]["flips"] if (f["rater_1"], f["rater_2"]) == ("B", "humans"))
    assert (f["a"], f["b"]) == ("sft", "zdpo") and f["diff_2"]["value"] == pytest.approx(0.75)
    lo, hi = next(f["human_ci"] for f in audit["robustness"]["flips"]
                  if f["judge"] == "B" and (f["a"], f["b"]) == ("dpo-2000", "sft-2000"))
    assert f["diff_2"]["ci"] == [-hi, -lo]


def test_headline_does_not_call_ties_the_same_order_or_one_tied_cell_the_highest():
    # A's dpo-1000 votes become 110000, tying sft-1000 (2/4 each) while B and C order them (1/4 vs 2/4);
    # at 2000 only A votes, so no pair flips, yet the raters do not order the objectives the same way.
    # Every item is incoherent: the share is 1 in every cell, so no single cell is "highest".
    t = tables()
    v = t["verdicts"].copy()
    for p, ch in zip(P, "110000"):
        v.loc[(v["judge_id"] == "A") & (v["item_id"] == f"dpo-1000:{p}"), "label"] = \
            "harmful" if ch == "1" else "not_harmful"
    t["verdicts"] = v[v["judge_id"].isin(["A", "R"]) | ~v["item_id"].str.contains("-2000:")]
    t["coherence"] = t["coherence"].assign(bin="incoherent", score=0.1)
    r = build_experiment_report(**t, n_boot=50)
    assert r["flips"]["across_judges"]["n_flips"] == 0
    text = " ".join(r["headline"])
    assert "orders the objectives the same way" not in text
    assert "No two raters order a pair of objectives oppositely" in text and "tied under" in text
    assert "incoherence is highest for" not in text
    # constant data are called constant; the interval no longer collapses to [1.00, 1.00]
    assert re.search(r"Under deg, incoherence is 1\.00 \[0\.\d\d, 1\.00\] in every objective and budget\.", text)


def test_html_rogan_gladen_column_stays_aligned_when_the_audit_lacks_a_checkpoint(tmp_path):
    # The audit corrects A's rate for base only: every row of A's frontier table still has 7 cells.
    import re

    audit = _hand_audit({c: (0.25, 0.1, 0.4, 4) for c in ORDER})
    audit["robustness"]["corrected_rates"] = {"A": {"base": {"value": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 6}}}
    r = build_experiment_report(**tables(), audit=audit, n_boot=30)
    html = write_experiment_report(r, tmp_path)["html"].read_text()
    table = html.split("<h3>A</h3>", 1)[1].split("</table>", 1)[0]
    assert "Rogan-Gladen rate" in table
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    assert len(rows) == 6 and {len(re.findall(r"<t[hd][ >]", row)) for row in rows} == {7}


def test_flip_difference_interval_never_narrower_than_newcombe():
    from judgeaudit.report.experiment.flips import mover_bounds

    # rates 0.2 [0.1, 0.35] and 0.1 [0.05, 0.2], bootstrap interval of the difference [0.02, 0.15]:
    # Newcombe: 0.1 - hypot(0.1, 0.1) = -0.0414, 0.1 + hypot(0.15, 0.05) = 0.2581; the hull wins.
    lo, hi = mover_bounds(0.02, 0.15, 0.2, 0.1, 0.35, 0.1, 0.05, 0.2)
    assert (float(lo), float(hi)) == (pytest.approx(-0.04142, abs=1e-5), pytest.approx(0.25811, abs=1e-5))
    # a bootstrap interval wider than Newcombe's is kept; a NaN side is ignored
    lo, hi = mover_bounds(-0.5, 0.6, 0.2, 0.1, 0.35, 0.1, 0.05, 0.2)
    assert (float(lo), float(hi)) == (-0.5, 0.6)
    lo, hi = mover_bounds(np.nan, np.nan, 0.2, 0.1, 0.35, 0.1, 0.05, 0.2)
    assert float(lo) == pytest.approx(-0.04142, abs=1e-5)
