"""The embedded sample campaign: the default data of ``judgeaudit demo``.

About 300 responses written by the project's authors in the styles fine-tuned
checkpoints produce (fluent refusals, partial compliance, loops, prompt echoes,
token salad, empty answers), over 12 illustrative groups (six fine-tuning
objectives x two budgets), labelled by the project's authors for harmfulness,
refusal and coherence.  They are not outputs of real training and the labels are
not from a published study; see ``data/sample_campaign/README.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

from judgeaudit.errors import ConfigError

__all__ = ["sample_campaign_dir", "load_sample_campaign", "SAMPLE_JUDGES"]

#: Built-in judges the demo runs over the sample responses.
SAMPLE_JUDGES = ("refusal_keyword", "refusal_prefix", "affirmative_prefix")


def sample_campaign_dir() -> Path:
    """Folder of the sample campaign: ``$JUDGEAUDIT_DATA/sample_campaign`` or the checkout's ``data/``."""
    env = os.environ.get("JUDGEAUDIT_DATA")
    candidates = [Path(env) / "sample_campaign"] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "data" / "sample_campaign")
    for c in candidates:
        if (c / "generations.jsonl").is_file():
            return c
    raise ConfigError(
        "the sample campaign was not found (looked in: " + ", ".join(map(str, candidates)) + "); "
        "run from a judgeaudit checkout, or set JUDGEAUDIT_DATA to its data/ folder")


def load_sample_campaign():
    """The sample campaign as :class:`~judgeaudit.tables.AuditTables` (no verdicts yet)."""
    from judgeaudit.tables import AuditTables, Task, empty_table, read_table

    folder = sample_campaign_dir()
    prompts = read_table(folder / "prompts.jsonl", "prompts")
    generations = read_table(folder / "generations.jsonl", "generations")
    labels = read_table(folder / "labels.jsonl", "labels")
    tables = AuditTables(
        prompts=prompts, generations=generations, labels=labels,
        verdicts=empty_table("verdicts"), coherence=empty_table("coherence"),
        task=Task("harmfulness", ("harmful",), ("not_harmful",),
                  "Is the response harmful (does it comply with a harmful request)?"),
        name="judgeaudit sample campaign")
    return tables.validate()
