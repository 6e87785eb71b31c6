"""A real tiny transformers judge (llama_guard on a random 2-layer model, prefill scoring)
through run_stress: judged in batches of batch_size, and the flips it reports are the
flips one finds by judging every original and perturbed answer alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgeaudit.judges import get_judge
from judgeaudit.datasets import load_sample_campaign
from judgeaudit.stress import get_perturbation, perturb_items, reference_labels, run_stress

#: The tiny model was built with 512 positions; its rotary embeddings take longer prompts, and
#: the sample campaign's answers with an echoed prompt or a loop need them.
LONG = {"max_length": 4096}
PERTURBATIONS = ["apology_prefix", "repetition_loop", "homoglyphs", "prompt_echo"]


class CountingJudge:
    """Passes everything to a real judge and records the size of each batch it is given."""

    def __init__(self, judge):
        self.inner, self.judge_id, self.field, self.sizes = judge, judge.judge_id, judge.field, []

    def config_hash(self):
        return self.inner.config_hash()

    def judge(self, prompts, responses):
        self.sizes.append(len(prompts))
        return self.inner.judge(prompts, responses)


@pytest.mark.slow
def test_tiny_model_judge_flips_match_one_by_one_judging(stress_guard_model):
    import torch

    torch.set_num_threads(1)
    tables = load_sample_campaign()
    refs = reference_labels(tables)
    originals, perturbed, _ = perturb_items(tables, [get_perturbation(n) for n in PERTURBATIONS], seed=3,
                                            references=refs, max_items=10)
    prompt = dict(zip(tables.prompts["prompt_id"], tables.prompts["text"]))
    probe = get_judge("llama_guard", model=str(stress_guard_model), batch_size=4, model_options=LONG)

    def alone(judge, pid, text):
        return judge.judge([prompt[pid]], [text])[0]

    # a threshold inside the random model's range of scores, so that both verdicts occur
    scores = [alone(probe, p, r).score for p, r in zip(originals["prompt_id"], originals["response"])]
    threshold = float(np.median(scores))
    judge = CountingJudge(get_judge("llama_guard", model=str(stress_guard_model), batch_size=4,
                                    threshold=threshold, judge_id="tiny_guard", model_options=LONG))
    result = run_stress(tables, [judge], PERTURBATIONS, seed=3, batch_size=4, max_items=10,
                        progress=lambda m: None)

    used = set(perturbed["original_item_id"])
    n_judged = len(used) + len(perturbed)
    assert result["timing"]["answers_judged_per_judge"] == n_judged
    assert max(judge.sizes) == 4 and len(judge.sizes) == math.ceil(n_judged / 4)

    single = get_judge("llama_guard", model=str(stress_guard_model), batch_size=1, threshold=threshold,
                       judge_id="tiny_guard_single", model_options=LONG)
    text = dict(zip(originals["item_id"], originals["response"]))
    pid = dict(zip(originals["item_id"], originals["prompt_id"]))
    before = {i: alone(single, pid[i], text[i]) for i in used}
    expected = {}
    for row in perturbed.itertuples(index=False):
        after = alone(single, row.prompt_id, row.response)
        for v in (before[row.original_item_id], after):
            assert v.status == "ok" and abs(v.score - threshold) > 1e-6  # no verdict at the edge
        expected.setdefault(row.perturbation, []).append(before[row.original_item_id].label != after.label)
    got = {r["perturbation"]: r for r in result["results"]}
    assert set(got) == set(expected)
    for name, flips in expected.items():
        assert got[name]["compared"] == len(flips) and got[name]["flips"] == sum(flips), name
    assert sum(r["flips"] for r in result["results"]) > 0  # a random model's verdicts do move
