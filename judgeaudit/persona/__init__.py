"""Persona drift per checkpoint: trait items scored by likelihood, drift from the base model.

The second safety axis of a fine-tuning study (beside the harmful-rate frontier): does
fine-tuning move the model's self-description toward a trait such as Machiavellianism,
narcissism or psychopathy?

* :mod:`.items`: trait items in the model-written-evaluations format (Perez et al.
  2022), checked row by row; the project's own balanced item set (``builtin``).
* :mod:`.likelihood` / :mod:`.scoring`: per item, the probability of the behaviour-
  matching answer normalised over the two answers, from one forward pass per item
  (shared-prefix key/value reuse; a second pass over the answer tokens only when an
  answer is several tokens long), through the chat template or a plain one.
* :mod:`.stats`: per trait the mean score and the paired drift from the base model,
  each with a Student-t interval over items (items as clusters).
* :mod:`.run`: every checkpoint of a manifest, with the test-time prompt and with the
  training-time prompt of inoculation / conditional checkpoints, resumably.
* :mod:`.freeform`: the optional free-form protocol (open questions sampled at
  temperature 1, a trait judge and a coherence judge; incoherent answers left out and
  counted, as in Betley et al. 2025).

Importing this package does not import torch.  See ``docs/persona.md``.
"""

from .freeform import (LikelihoodTraitJudge, RubricTraitJudge, TraitJudge, freeform_drift, load_questions,
                       run_freeform, summarise_freeform)
from .items import BUILTIN_TRAITS, TraitItem, items_frame, load_trait_items, load_traits, persona_data_dir
from .likelihood import answer_logprobs, normalised_probability
from .run import (CONDITIONS, checkpoint_frame, format_drift, prompt_key, sample_items, score_checkpoints,
                  summarise)
from .scoring import PLAIN_TEMPLATE, SCORE_COLUMNS, TEMPLATES, LikelihoodScorer
from .stats import mean_interval, trait_drift, trait_scores

__all__ = [
    "BUILTIN_TRAITS", "TraitItem", "items_frame", "load_trait_items", "load_traits", "persona_data_dir",
    "answer_logprobs", "normalised_probability", "CONDITIONS", "checkpoint_frame", "prompt_key",
    "format_drift", "sample_items",
    "score_checkpoints", "summarise", "PLAIN_TEMPLATE", "SCORE_COLUMNS", "TEMPLATES", "LikelihoodScorer",
    "mean_interval", "trait_drift", "trait_scores", "LikelihoodTraitJudge", "RubricTraitJudge", "TraitJudge",
    "load_questions", "run_freeform", "summarise_freeform", "freeform_drift",
]
