"""The audit's strata: calibrated coherence bins fill items no human rated."""

from __future__ import annotations

import dataclasses

import pytest

from judgeaudit.audit import choose_strata
from judgeaudit.tables import human_coherence
from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.coherence import (
    CombinedScorer,
    calibrate,
    get_scorer,
    save_calibration,
    score_coherence,
)
from judgeaudit.coherence.files import score_to_file
from judgeaudit.errors import ConfigError
from judgeaudit.judges import get_judge, run_judge
from judgeaudit.judges.base import align_prompts
from judgeaudit.datasets import load_sample_campaign
from judgeaudit.tables import read_table


@pytest.fixture(scope="module")
def campaign():
    return load_sample_campaign()


def _half_labelled(tables):
    """Keep the coherence labels of every other item only."""
    ids = tables.generations["item_id"].tolist()
    keep = set(ids[::2])
    labels = tables.labels
    drop = (labels["field"] == "coherence") & ~labels["item_id"].isin(keep)
    return dataclasses.replace(tables, labels=labels[~drop].reset_index(drop=True)), keep


def test_calibrated_table_fills_the_unlabelled_items(campaign, tmp_path):
    tables, keep = _half_labelled(campaign)
    gens = tables.generations
    out = tmp_path / "coh.parquet"
    score_to_file([get_scorer("degeneracy"), get_scorer("combined")], gens, out, tables.prompts,
                  calibrate_with=tables.labels, n_boot=50, progress=lambda m: None)
    coh = read_table(out, "coherence")
    with_table = dataclasses.replace(tables, coherence=coh)
    strata, source = choose_strata(with_table, gens)
    # both scorers were calibrated; "combined" is preferred
    assert source == "human+coherence-table:combined"
    human = human_coherence(tables.labels, gens["item_id"].tolist())
    labelled = gens["item_id"].isin(keep).to_numpy()
    assert (strata[labelled] == human[labelled]).all()
    table_bins = coh[coh.scorer_id == "combined"].set_index("item_id")["bin"]
    assert (strata[~labelled] == table_bins.reindex(gens["item_id"][~labelled]).to_numpy()).all()
    # an explicit scorer_id wins
    assert choose_strata(with_table, gens, scorer_id="degeneracy")[1] == "human+coherence-table:degeneracy"
    # the audit reports where the strata came from
    verdicts = run_judge(get_judge("refusal_keyword"), gens, tables.prompts)
    result = run_audit(dataclasses.replace(with_table, verdicts=verdicts),
                       config=AuditConfig(n_boot=50))
    assert result["meta"]["strata_source"] == "human+coherence-table:combined"


def test_without_a_table_the_strata_are_as_before(campaign):
    tables, keep = _half_labelled(campaign)
    gens = tables.generations
    strata, source = choose_strata(tables, gens)
    assert source == "human+degeneracy"
    auto = score_coherence(gens[["item_id", "prompt_id", "response"]], tables.prompts)
    unl = ~gens["item_id"].isin(keep).to_numpy()
    assert (strata[unl].to_numpy() == auto["bin"].to_numpy()[unl]).all()


def test_a_calibration_file_makes_the_fallback_the_calibrated_combined_scorer(campaign, tmp_path):
    tables, keep = _half_labelled(campaign)
    gens = tables.generations
    scores = CombinedScorer().scores(gens["response"].tolist(), align_prompts(gens, tables.prompts))
    human = human_coherence(tables.labels, gens["item_id"].tolist())
    cal = calibrate(scores, human.tolist(), folds=0, n_boot=20)
    path = save_calibration(cal, tmp_path / "cal.json")
    strata, source = choose_strata(tables, gens, calibration=path)
    assert source == "human+combined-calibrated"
    unl = ~gens["item_id"].isin(keep).to_numpy()
    assert (strata[unl].to_numpy() == cal.apply(scores)[unl]).all()


def test_a_table_covering_some_items_leaves_the_rest_to_the_degeneracy_scorer(campaign):
    tables, keep = _half_labelled(campaign)
    gens = tables.generations
    part = score_coherence(gens.iloc[:10][["item_id", "prompt_id", "response"]], tables.prompts,
                           scorer="combined")
    strata, source = choose_strata(dataclasses.replace(tables, coherence=part), gens)
    assert source == "human+coherence-table:combined+degeneracy"
    assert strata.notna().all() and (strata != "unknown").all()
    # an unknown scorer_id is an error that lists the table's scorers
    with pytest.raises(ConfigError, match=r"not in the coherence table; it has \['combined'\]"):
        choose_strata(dataclasses.replace(tables, coherence=part), gens, scorer_id="nope")


def test_audit_cli_stratifies_by_a_calibrated_coherence_file(campaign, tmp_path, capsys):
    import json

    from judgeaudit.cli import main
    from judgeaudit.tables import write_table

    tables, _ = _half_labelled(campaign)
    gens = tables.generations
    paths = {k: tmp_path / f"{k}.parquet" for k in ("generations", "prompts", "labels", "verdicts")}
    write_table(gens, paths["generations"], "generations")
    write_table(tables.prompts, paths["prompts"], "prompts")
    write_table(tables.labels, paths["labels"], "labels")
    write_table(run_judge(get_judge("refusal_keyword"), gens, tables.prompts), paths["verdicts"], "verdicts")
    coh = tmp_path / "coh.parquet"
    assert main(["coherence", "--generations", str(paths["generations"]), "--prompts",
                 str(paths["prompts"]), "--scorer", "combined", "--calibrate-with",
                 str(paths["labels"]), "--n-boot", "50", "--out", str(coh)]) == 0
    capsys.readouterr()
    args = ["audit", *[f"--{k}={v}" for k, v in paths.items()], "--n-boot", "50",
            "--out", str(tmp_path / "run"), "--json"]
    assert main(args + ["--coherence", str(coh)]) == 0
    with_table = json.loads(capsys.readouterr().out)
    assert with_table["meta"]["strata_source"] == "human+coherence-table:combined"
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["strata_source"] == "human+degeneracy"


def test_rows_a_scorer_could_not_score_give_no_stratum(campaign, tmp_path):
    # an error row (no score, no bin) is read as "not scored": with the table as the only
    # source, its item is "unknown"; with humans, the fallback scorer fills it
    gens = campaign.generations
    part = score_coherence(gens[["item_id", "prompt_id", "response"]], campaign.prompts, scorer="combined")
    failed = gens["item_id"].iloc[[0, 5]].tolist()
    part.loc[part["item_id"].isin(failed), ["score", "bin"]] = [float("nan"), None]
    part["status"] = ["error" if i in failed else "ok" for i in part["item_id"]]
    part["error"] = ["timeout" if i in failed else None for i in part["item_id"]]
    with_errors = dataclasses.replace(campaign, coherence=part).validate()
    strata, source = choose_strata(with_errors, gens, source="coherence")
    assert source == "coherence-table:combined"
    assert strata.loc[failed].tolist() == ["unknown", "unknown"]
    assert (strata.drop(index=failed) != "unknown").all()
    tables, keep = _half_labelled(campaign)
    strata, source = choose_strata(dataclasses.replace(tables, coherence=with_errors.coherence), gens)
    assert source == "human+coherence-table:combined+degeneracy"
    auto = score_coherence(gens[["item_id", "prompt_id", "response"]], tables.prompts).set_index("item_id")["bin"]
    for item in failed:
        assert strata[item] == (human_coherence(tables.labels, [item]).iloc[0] if item in keep else auto[item])


def test_calibration_ignores_rows_without_a_score(campaign, tmp_path):
    class Picky:
        """The combined scorer, failing on every 4th item (a row with status error)."""

        scorer_id = "picky"

        def __init__(self):
            self.inner = get_scorer("combined")

        def config_hash(self):
            return self.inner.config_hash()

        def score(self, responses, prompts=None):
            out = self.inner.score(responses, prompts).copy()
            bad = [i % 4 == 0 for i in range(len(responses))]
            out["status"] = ["error" if b else "ok" for b in bad]
            out["raw"] = ["refused to score" if b else None for b in bad]
            return out

    gens = campaign.generations
    out = tmp_path / "coh.parquet"
    summary = score_to_file([Picky()], gens, out, campaign.prompts, calibrate_with=campaign.labels,
                            n_boot=20, progress=lambda m: None)
    table = read_table(out, "coherence")
    bad = table["status"] == "error"
    assert int(bad.sum()) == (len(gens) + 3) // 4 == summary.failed["picky"]
    assert table.loc[bad, "bin"].isna().all() and table.loc[bad, "bin_source"].isna().all()
    assert (table.loc[~bad, "bin_source"] == "calibration").all()
    # the fit saw only the scored items that humans labelled
    human = human_coherence(campaign.labels, table.loc[~bad, "item_id"].tolist())
    entry = summary.report["scorers"]["picky"]
    assert entry["n_items"] == int((~bad).sum()) and entry["n_labelled"] == int(human.notna().sum())
