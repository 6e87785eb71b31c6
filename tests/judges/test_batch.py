"""judge_batch: a failed batch is retried item by item, and a failed item is an error row."""

from __future__ import annotations

from judgeaudit.judges.base import Verdict, judge_batch


class _FailsOnBoom:
    """A judge whose batch call fails when any response is "boom", and whose single call fails on it."""

    def judge(self, prompts, responses):
        if "boom" in responses:
            raise RuntimeError("cannot read boom")
        if "two" in responses:
            return [Verdict(label="harmful", score=1.0, raw="x", status="ok")] * 2  # one too many
        return [Verdict(label="not_harmful", score=0.0, raw=r, status="ok") for r in responses]


def test_a_failed_batch_falls_back_to_single_items_and_keeps_every_row():
    out = judge_batch(_FailsOnBoom(), ["p"] * 4, ["fine", "boom", "two", "also fine"])
    assert [v.status for v in out] == ["ok", "error", "error", "ok"]
    assert [v.raw for v in out][::3] == ["fine", "also fine"]
    assert out[1].raw == "RuntimeError: cannot read boom" and out[1].label is None
    assert "2 object(s)" in out[2].raw


def test_a_good_batch_is_one_call():
    calls = []

    class _Counting(_FailsOnBoom):
        def judge(self, prompts, responses):
            calls.append(len(responses))
            return super().judge(prompts, responses)

    assert [v.raw for v in judge_batch(_Counting(), ["p", "q"], ["a", "b"])] == ["a", "b"]
    assert calls == [2]
