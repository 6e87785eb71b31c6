"""Trait score and drift intervals: statsmodels as the oracle, pairing, pooling, coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from judgeaudit.persona import mean_interval, trait_drift, trait_scores


def test_symmetric_data_give_the_t_interval_of_statsmodels():
    from statsmodels.stats.weightstats import DescrStatsW

    half = np.random.default_rng(3).beta(2, 5, size=20)
    x = np.concatenate([half, 1 - half])  # skewness exactly 0
    r = mean_interval(x)
    assert r.value == pytest.approx(0.5) and r.n == 40 and r.n_clusters == 40
    assert (r.ci_low, r.ci_high) == pytest.approx(DescrStatsW(x).tconfint_mean(alpha=0.05), abs=1e-12)
    r90 = mean_interval(x, confidence=0.9)
    assert (r90.ci_low, r90.ci_high) == pytest.approx(DescrStatsW(x).tconfint_mean(alpha=0.1), abs=1e-12)


def test_skewed_data_hall_interval_by_numeric_inversion():
    """Hall (1992): the bounds solve g(T) = t quantile with
    g(T) = T + gamma T^2 / (3 sqrt n) + gamma^2 T^3 / (27 n) + gamma / (6 sqrt n);
    solved here with brentq on g itself (the library inverts it in closed form)."""
    from scipy import optimize, stats

    x = np.array([0.01, 0.02, 0.02, 0.03, 0.05, 0.08, 0.1, 0.4, 0.9])
    n, m, s = len(x), x.mean(), x.std(ddof=1)
    gamma = ((x - m) ** 3).mean() / x.std(ddof=0) ** 3
    assert gamma > 1  # right-skewed: the interval reaches further up than down

    def g(t):
        return t + gamma * t ** 2 / (3 * np.sqrt(n)) + gamma ** 2 * t ** 3 / (27 * n) + gamma / (6 * np.sqrt(n))

    q_hi, q_lo = stats.t.ppf([0.975, 0.025], n - 1)
    t_hi = optimize.brentq(lambda t: g(t) - q_hi, -50, 50)
    t_lo = optimize.brentq(lambda t: g(t) - q_lo, -50, 50)
    r = mean_interval(x)
    assert r.ci_low == pytest.approx(m - t_hi * s / np.sqrt(n), abs=1e-10)
    assert r.ci_high == pytest.approx(m - t_lo * s / np.sqrt(n), abs=1e-10)
    assert r.ci_high - m > m - r.ci_low


def test_mean_interval_edge_cases():
    assert math.isnan(mean_interval([]).value) and mean_interval([]).undefined == "no items"
    one = mean_interval([0.3])
    assert one.value == 0.3 and math.isnan(one.ci_low) and "one item" in one.note
    flat = mean_interval([0.5, 0.5, 0.5])
    assert (flat.ci_low, flat.ci_high) == (0.5, 0.5) and "same value" in flat.note


def _table(p_base, p_ckpt, trait="t", ckpt="sft/seed0/budget-1"):
    n = len(p_base)
    ids = [f"i{k}" for k in range(n)]
    base = pd.DataFrame({"checkpoint_id": "base", "condition": "test", "prompt_key": "none", "trait": trait,
                         "item_id": ids, "p_matching": p_base})
    other = base.assign(checkpoint_id=ckpt, p_matching=p_ckpt)
    return pd.concat([base, other], ignore_index=True)


def test_drift_is_paired():
    # items spread widely (0.1..0.9), every one moved up by 0.02 +- 0.005: the paired interval is
    # mean(d) +- t * sd(d)/sqrt(n) with d in [0.015, 0.025], far from 0, while the two unpaired
    # score intervals overlap.
    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.9, size=40)
    ckpt = base + 0.02 + rng.uniform(-0.005, 0.005, size=40)
    table = _table(base, ckpt)
    d = trait_drift(table).iloc[0]
    diffs = ckpt - base
    want = mean_interval(diffs)  # the interval of the per-item differences (checked above)
    assert d["drift"] == pytest.approx(diffs.mean())
    assert (d["drift_low"], d["drift_high"]) == pytest.approx((want.ci_low, want.ci_high))
    assert d["excludes_zero"] and d["n_items"] == 40 and d["n_unpaired"] == 0
    scores = trait_scores(table).set_index("checkpoint_id")
    assert scores.loc["base", "score_high"] > scores.loc["sft/seed0/budget-1", "score_low"]


def test_drift_pairs_on_prompt_and_reports_unpaired():
    table = _table([0.5, 0.6, 0.7], [0.5, 0.6, 0.7])
    table.loc[table["checkpoint_id"] != "base", "prompt_key"] = "abc"  # base never saw prompt abc
    d = trait_drift(table).iloc[0]
    assert math.isnan(d["drift"]) and d["n_unpaired"] == 3 and not d["excludes_zero"]


def test_seeds_pooled_within_items():
    # two seeds of one objective: per item the mean of the seeds, then the interval over items
    base = np.array([0.2, 0.4, 0.6, 0.8])
    s0, s1 = base + [0.1, 0.0, 0.2, 0.1], base + [0.1, 0.2, 0.0, 0.1]
    table = pd.concat([_table(base, s0, ckpt="a"), _table(base, s1, ckpt="b")[lambda f: f.checkpoint_id == "b"]])
    table["objective"] = np.where(table["checkpoint_id"] == "base", "base", "sft")
    d = trait_drift(table, group=("objective",)).iloc[0]
    assert d["drift"] == pytest.approx(0.1) and d["n_items"] == 4  # item means: 0.1, 0.1, 0.1, 0.1
    assert d["drift_low"] == pytest.approx(0.1) and d["drift_high"] == pytest.approx(0.1)


def test_coverage_small_simulation():
    """Seeded small version of ``bench/bench_persona.py --coverage``: 48 items whose true
    probabilities come from a skewed Beta population; the score and the paired drift intervals
    cover the population means in at least 93% of 400 draws (each miss is counted)."""
    rng = np.random.default_rng(2024)
    a, b = 0.6, 1.4  # skewed, many items near 0 as on real models
    true_mean = a / (a + b)
    shift_a, shift_b = 1.0, 1.4  # fine-tuned population: mean 1/2.4
    true_drift = shift_a / (shift_a + shift_b) - true_mean
    from scipy.stats import beta

    hits_score = hits_drift = 0
    n_sim = 400
    pop_drift = _population_drift()  # mean of ckpt - base over 200,000 simulated items
    for _ in range(n_sim):
        u = rng.uniform(size=48)
        base = beta.ppf(u, a, b)  # paired: the same quantile of each item under both models
        ckpt = beta.ppf(np.clip(u + rng.normal(0, 0.1, size=48), 1e-6, 1 - 1e-6), shift_a, shift_b)
        r = mean_interval(base)
        hits_score += r.ci_low <= true_mean <= r.ci_high
        # the drift's target: the mean of ckpt - base over the item population, by simulation below
        d = mean_interval(ckpt - base)
        hits_drift += d.ci_low <= pop_drift <= d.ci_high
    assert hits_score / n_sim >= 0.93
    assert hits_drift / n_sim >= 0.93
    assert true_drift != 0


def _population_drift() -> float:
    from scipy.stats import beta

    rng = np.random.default_rng(99)
    u = rng.uniform(size=200_000)
    base = beta.ppf(u, 0.6, 1.4)
    ckpt = beta.ppf(np.clip(u + rng.normal(0, 0.1, size=u.size), 1e-6, 1 - 1e-6), 1.0, 1.4)
    return float((ckpt - base).mean())



def test_summarise_pools_seeds_and_contrasts_objectives():
    from judgeaudit.generation.base import CheckpointSpec
    from judgeaudit.persona import summarise

    base = np.array([0.2, 0.4, 0.6, 0.8, 0.5])
    frames = [_table(base, base)[lambda f: f.checkpoint_id == "base"]]
    specs = [CheckpointSpec("base", path="m", objective="base", budget_tokens=0)]
    # sft: two seeds (+0.1 and +0.3 on every item: pooled +0.2); kl_sft one seed, +0.05 and noise
    noise = np.array([0.01, -0.01, 0.02, -0.02, 0.0])
    for cid, objective, shift in (("sft/0", "sft", 0.1), ("sft/1", "sft", 0.3), ("kl/0", "kl_sft", 0.05)):
        extra = noise if objective == "kl_sft" else 0
        frames.append(_table(base, base + shift + extra, ckpt=cid)[lambda f: f.checkpoint_id == cid])
        specs.append(CheckpointSpec(cid, path="m", objective=objective, budget_tokens=100, seed=int(cid[-1])))
    summary = summarise(pd.concat(frames, ignore_index=True), specs)
    pooled = {r["objective"]: r for r in summary["by_budget"]}
    assert pooled["sft"]["drift"] == pytest.approx(0.2) and pooled["sft"]["n_items"] == 5
    assert pooled["kl_sft"]["drift"] == pytest.approx(0.05)
    (c,) = summary["contrasts"]
    # by hand: per item sft pooled - kl = 0.2 - 0.05 - noise = 0.15 - noise; mean 0.15
    assert (c["a"], c["b"]) == ("kl_sft", "sft") and c["difference"] == pytest.approx(-0.15)
    want = mean_interval(-(0.15 - noise))
    assert (c["difference_low"], c["difference_high"]) == pytest.approx((want.ci_low, want.ci_high))
    assert c["excludes_zero"]
    assert {r["checkpoint_id"] for r in summary["drift"]} == {"sft/0", "sft/1", "kl/0"}
