"""Automated judges: the :class:`Judge` protocol, a registry and the built-in judges.

Heuristic judges (``refusal_keyword``, ``refusal_prefix``, ``affirmative_prefix``), model
classifiers scored by prefill (``llama_guard``, ``harmbench_classifier``, ``wildguard``),
rubric judges on any backend (``strongreject_rubric``, ``llm_rubric``), ``ensemble``, and
published rule judges by name (``zou2023_string_matching``, alias
``StringMatching-zou2023universal``).
Importing this package does not import torch; the model judges load it when built.

>>> from judgeaudit.judges import available_judges
>>> {"refusal_keyword", "llama_guard", "wildguard", "ensemble"} <= set(available_judges())
True
"""

from judgeaudit.judges.base import (
    VERDICT_COLUMNS,
    Judge,
    Verdict,
    available_judges,
    get_judge,
    hash_config,
    register_judge,
    run_judge,
)
from judgeaudit.judges.affirmative import AffirmativePrefixJudge
from judgeaudit.judges.keyword import (
    DEFAULT_REFUSAL_PHRASES,
    RefusalKeywordJudge,
    RefusalPrefixJudge,
)
from judgeaudit.judges.classifier import HarmBenchClassifierJudge, LlamaGuardJudge, WildGuardJudge
from judgeaudit.judges.ensemble import EnsembleJudge
from judgeaudit.judges.model import JudgeModel, load_judge_model
from judgeaudit.judges.published import ZOU2023_REFUSAL_PREFIXES, Zou2023StringMatchingJudge
from judgeaudit.judges.prompts import PromptTemplate, builtin_templates, load_template
from judgeaudit.judges.resume import JudgeRunSummary, judge_to_file
from judgeaudit.judges.rubric import LLMRubricJudge, StrongRejectRubricJudge
from judgeaudit.judges.spec import build_judges, load_judge_config, parse_judge_spec, parse_judge_specs

__all__ = [
    "AffirmativePrefixJudge",
    "DEFAULT_REFUSAL_PHRASES",
    "VERDICT_COLUMNS",
    "EnsembleJudge",
    "HarmBenchClassifierJudge",
    "Judge",
    "JudgeModel",
    "JudgeRunSummary",
    "LLMRubricJudge",
    "LlamaGuardJudge",
    "PromptTemplate",
    "RefusalKeywordJudge",
    "RefusalPrefixJudge",
    "StrongRejectRubricJudge",
    "Verdict",
    "WildGuardJudge",
    "ZOU2023_REFUSAL_PREFIXES",
    "Zou2023StringMatchingJudge",
    "available_judges",
    "build_judges",
    "builtin_templates",
    "get_judge",
    "hash_config",
    "judge_to_file",
    "load_judge_config",
    "load_judge_model",
    "load_template",
    "parse_judge_spec",
    "parse_judge_specs",
    "register_judge",
    "run_judge",
]
