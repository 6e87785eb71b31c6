"""The free-form protocol on a real tiny model: sampling, the coherence cut, judges, counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require_module

require_module("torch")
require_module("transformers")


@pytest.fixture(scope="module")
def setup(tiny_model):
    import torch

    from judgeaudit.generation import get_backend
    from judgeaudit.persona import LikelihoodScorer
    from judgeaudit.persona.freeform import LikelihoodTraitJudge, RubricTraitJudge, load_questions

    torch.set_num_threads(1)
    backend = get_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32")
    questions = load_questions().head(3)
    scorer = LikelihoodScorer(str(tiny_model), device="cpu", dtype="float32")
    judges = [LikelihoodTraitJudge("narcissism", model=scorer),
              RubricTraitJudge("narcissism", backend=backend, max_new_tokens=8)]
    return backend, questions, judges, scorer


def test_protocol_counts_and_leaves_out_incoherent(setup):
    from judgeaudit.coherence import get_scorer
    from judgeaudit.persona.freeform import run_freeform, summarise_freeform

    backend, questions, judges, scorer = setup
    rows = run_freeform(backend, questions, judges, checkpoint_id="base", n_samples=3, max_new_tokens=24,
                        coherence_threshold=0.99, seed=1)
    assert len(rows) == 3 * 3 * 2
    answers = rows[rows["judge_id"] == judges[0].judge_id]
    # samples at temperature 1 differ; the same seed draws the same answers again
    assert answers.groupby("question_id")["answer"].nunique().max() > 1
    again = run_freeform(backend, questions, judges[:1], checkpoint_id="base", n_samples=3, max_new_tokens=24,
                         seed=1)
    assert again["answer"].tolist() == answers["answer"].tolist()
    # the coherence cut, checked against the degeneracy scorer run on its own
    own = get_scorer("degeneracy").score(answers["answer"].tolist(), answers["question"].tolist())
    # the degeneracy scorer rates most of this tiny model's byte salad near 1 (its features see
    # few non-words in it), so the cut is set at 0.99 for it to have work to do here
    incoherent = own["score"].to_numpy() < 0.99
    assert 0 < incoherent.sum() < len(incoherent)
    assert (answers["left_out"].to_numpy() == "incoherent").tolist() == incoherent.tolist()
    assert np.allclose(answers["coherence"].to_numpy(), own["score"].to_numpy())
    # judged: exactly the kept answers; the likelihood judge never fails, the rubric one's failures are kept
    kept = answers["kept"].to_numpy()
    lik = rows[rows["judge_id"] == judges[0].judge_id]
    assert lik.loc[lik["kept"], "judge_status"].eq("ok").all()
    assert lik.loc[lik["kept"], "trait_score"].between(0, 1).all()
    assert lik.loc[~lik["kept"], "trait_score"].isna().all()
    rub = rows[rows["judge_id"] == judges[1].judge_id]
    failed = rub["kept"] & (rub["judge_status"] != "ok")
    assert rub.loc[failed, "trait_score"].isna().all() and rub.loc[failed, "judge_raw"].str.len().ge(0).all()
    summary = summarise_freeform(rows).set_index("judge_id")
    for jid in summary.index:
        s = summary.loc[jid]
        assert s["n_answers"] == 9
        assert s["n_incoherent"] == int(incoherent.sum())
        assert s["n_scored"] + s["n_judge_failed"] == int(kept.sum())
    assert summary.loc[judges[1].judge_id, "n_judge_failed"] == int(failed.sum())


def test_likelihood_judge_reads_p_yes(setup):
    from judgeaudit.persona import TraitItem
    from judgeaudit.persona.freeform import LikelihoodTraitJudge

    _, _, judges, scorer = setup
    got = judges[0].score(["What do you think of yourself?"], ["I am the best."])
    text = LikelihoodTraitJudge.QUESTION.format(question="What do you think of yourself?",
                                                answer="I am the best.", trait="narcissism")
    want = scorer.score([TraitItem("x", "narcissism", text, " Yes", " No")])["p_matching"].iloc[0]
    assert got["score"].iloc[0] == pytest.approx(want) and got["status"].iloc[0] == "ok"


def test_thresholds_and_rating_parser(setup):
    from judgeaudit.errors import ConfigError
    from judgeaudit.persona.freeform import parse_trait_rating, run_freeform

    backend, questions, judges, _ = setup
    rows = run_freeform(backend, questions.head(1), judges[:1], checkpoint_id="c", n_samples=2,
                        max_new_tokens=8, coherence_threshold=0.0)
    assert rows["kept"].all()  # no score is below 0
    with pytest.raises(ConfigError, match="coherence_threshold"):
        run_freeform(backend, questions, judges, checkpoint_id="c", coherence_threshold=2)
    assert parse_trait_rating("**Rating:** 85/100") == 85
    assert parse_trait_rating("Rating: 20. Rating: 30") is None  # conflicting
    assert pd.isna(parse_trait_rating(None))


def test_freeform_drift_is_paired_over_questions():
    from judgeaudit.persona.freeform import freeform_drift

    def rows(cid, scores):  # scores: {question: [sample scores]}; None = left out as incoherent
        out = []
        for q, values in scores.items():
            for s, v in enumerate(values):
                out.append({"checkpoint_id": cid, "question_id": q, "sample_index": s, "judge_id": "j",
                            "trait": "t", "kept": v is not None, "judge_status": "ok" if v is not None else "",
                            "trait_score": v})
        return out

    table = pd.DataFrame(rows("base", {"a": [0.1, 0.3], "b": [0.5, 0.5], "c": [0.2, None]})
                         + rows("ft", {"a": [0.4, 0.4], "b": [0.6, 0.8], "c": [None, None]}))
    (d,) = freeform_drift(table).to_dict("records")
    # by hand: per question ft - base: a 0.4 - 0.2 = 0.2, b 0.7 - 0.5 = 0.2, c has no kept ft answer
    assert d["drift"] == pytest.approx(0.2) and d["n_questions"] == 2 and d["n_unpaired"] == 1
    assert d["drift_low"] == pytest.approx(0.2) and d["excludes_zero"]  # two equal differences
