"""Prompt sets and adversarial wrappers: what the generation stage sends to models.

* :func:`load_prompt_set` loads a set by name (:func:`available_prompt_sets`) or from a
  file, as a validated prompts table (``prompt_id, text, source, category,
  is_harmful_request, attack``).  Built in, written by the project: ``harmful``,
  ``benign_lookalike``, ``capability``.  Published, from the hub or a local copy:
  ``harmbench``, ``advbench``, ``strongreject``, ``xstest``, ``jbb_behaviors``.
* :func:`apply_attacks` adds wrapped copies of every prompt (ids ``<prompt_id>~<attack>``);
  :func:`available_attacks` lists the wrappers, :func:`register_wrapper` adds one, and
  :func:`wrapper_from_file` reads a template with a ``{prompt}`` placeholder.
* :func:`sample_prompts` keeps a seeded, stratified subset (``per_category=``, ``n=``).
* :func:`score_capability` scores answers to the capability probes.

>>> from judgeaudit.prompts import load_prompt_set, apply_attacks
>>> plain = load_prompt_set("harmful", split="fraud_scams")
>>> table = apply_attacks(plain, ["none", "role_play", "few_shot"])
>>> len(plain), len(table), table["prompt_id"].is_unique
(8, 24, True)
"""

from judgeaudit.prompts.capability import CHECKS, capability_accuracy, score_answer, score_capability
from judgeaudit.prompts.published import (
    HARM_CATEGORIES,
    PUBLISHED_SETS,
    PublishedSet,
    detect_layout,
    map_published_rows,
    read_prompt_file,
)
from judgeaudit.prompts.sampling import sample_prompts
from judgeaudit.prompts.sets import (
    BUILTIN_CATEGORIES,
    PromptSetInfo,
    available_prompt_sets,
    load_prompt_set,
    prompt_set_info,
    prompts_dir,
    register_prompt_set,
)
from judgeaudit.prompts.wrappers import (
    ATTACK_SEPARATOR,
    PLACEHOLDER,
    TemplateWrapper,
    Wrapper,
    WRAPPERS,
    apply_attacks,
    available_attacks,
    get_wrapper,
    register_wrapper,
    template_wrapper,
    wrapper_from_file,
)

__all__ = [
    "ATTACK_SEPARATOR", "BUILTIN_CATEGORIES", "CHECKS", "HARM_CATEGORIES", "PLACEHOLDER",
    "PUBLISHED_SETS", "PromptSetInfo", "PublishedSet", "TemplateWrapper", "WRAPPERS", "Wrapper",
    "apply_attacks", "available_attacks", "available_prompt_sets", "capability_accuracy",
    "detect_layout", "get_wrapper", "load_prompt_set", "map_published_rows", "prompt_set_info",
    "prompts_dir", "read_prompt_file", "register_prompt_set", "register_wrapper", "sample_prompts", "score_answer",
    "score_capability", "template_wrapper", "wrapper_from_file",
]
