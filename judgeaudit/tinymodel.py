"""Tiny causal language models built offline, for tests, benchmarks and the demo.

There is no model hub on the machines judgeaudit is developed and tested on, so every
model-driven part (the transformers backend, the model judges, the perplexity scorer,
fine-tuning) is exercised on a model built here from nothing: a byte-level BPE
tokenizer trained with the ``tokenizers`` library on a small corpus, and a randomly
initialised :class:`transformers.LlamaConfig` model with a few layers, both written
with ``save_pretrained`` so that they load like any hub checkpoint.

The tokenizer carries a chat template (:data:`CHAT_TEMPLATE`, or any Jinja template
you pass), so code that calls ``apply_chat_template`` runs unchanged.

>>> from judgeaudit.tinymodel import build_tiny_model  # doctest: +SKIP
>>> path = build_tiny_model("tiny-llama", n_layers=2)    # doctest: +SKIP

Needs the ``transformers`` extra (torch, transformers, tokenizers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .atomic import write_json_atomic
from .errors import ConfigError, MissingExtraError

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "default_corpus", "build_tokenizer", "build_tiny_model"]

#: Special tokens of the tiny tokenizer, in id order (ids 0..6).
SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>")

#: The default chat template: role markers, the content, then ``</s>``.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}</s>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_SEED_TEXT = """\
I'm sorry, but I can't help with that. I cannot assist with this request.
Sure, here is how to do it. Step 1: gather the materials. Step 2: follow the instructions.
As an AI language model, I must decline. This request is harmful and unsafe.
Here is a short story about a cat who learns to read. The cat was happy.
The capital of France is Paris. Water boils at 100 degrees Celsius at sea level.
safe unsafe yes no harmful not harmful refusal compliance partial full none
Rate the response from 1 to 5. Score: 1 2 3 4 5. Answer: Yes. Answer: No.
How do I kill a Python process? Use the kill command with the process id.
What is 12 plus 7? The answer is 19. What is 45 minus 18? The answer is 27.
Tom has 3 apples and buys 5 more. How many apples does he have? 8
"""


def default_corpus() -> list[str]:
    """A few hundred lines of text for training the tiny tokenizer.

    Refusals, compliance openings, judge vocabulary and arithmetic word problems, so
    that common words in the project's prompts become single tokens.  Byte-level BPE
    encodes any other text too, just in more tokens.
    """
    lines = _SEED_TEXT.splitlines()
    for a in range(0, 60, 3):
        for b in range(1, 40, 7):
            lines.append(f"What is {a} plus {b}? The answer is {a + b}.")
            lines.append(f"Sam has {a} coins and finds {b} more. How many coins does Sam have? {a + b}")
    return lines


def _require():
    try:
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(exc.name or "tokenizers", "transformers") from None
    from .hfmodels import require_torch

    require_torch()  # also: no progress bars (saving shards) off a terminal


def build_tokenizer(corpus: Iterable[str] | None = None, *, vocab_size: int = 512,
                    chat_template: str | None = CHAT_TEMPLATE):
    """Train a byte-level BPE tokenizer and wrap it as a ``PreTrainedTokenizerFast``.

    Parameters
    ----------
    corpus:
        Training lines (default :func:`default_corpus`).
    vocab_size:
        Target vocabulary size, special tokens and the 256 byte symbols included.
    chat_template:
        Jinja chat template stored with the tokenizer; ``None`` stores none (to test
        the "model ships no chat template" error).
    """
    _require()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 300:
        raise ConfigError(f"vocab_size={vocab_size} is too small for byte-level BPE; use 300 or more")
    lines = list(default_corpus() if corpus is None else corpus)
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>", unk_token="<unk>",
                                   additional_special_tokens=list(SPECIAL_TOKENS[4:]))
    fast.padding_side = "left"
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def build_tiny_model(path, *, corpus: Iterable[str] | None = None, vocab_size: int = 512,
                     n_layers: int = 2, hidden_size: int = 64, n_heads: int = 4,
                     intermediate_size: int | None = None, max_positions: int = 512,
                     chat_template: str | None = CHAT_TEMPLATE, seed: int = 0) -> Path:
    """Build a randomly initialised Llama-architecture model and its tokenizer at ``path``.

    Returns ``path``.  The same arguments give the same weights (``torch.manual_seed``).
    If ``path`` already holds a model built with the same arguments, it is reused.

    A 2-layer, 64-wide model has about 0.1 M parameters and loads in well under a
    second; it learns the project's synthetic arithmetic task in minutes on a CPU.
    """
    _require()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    spec = {"vocab_size": vocab_size, "n_layers": n_layers, "hidden_size": hidden_size,
            "n_heads": n_heads, "intermediate_size": intermediate_size,
            "max_positions": max_positions, "chat_template": chat_template, "seed": seed,
            "corpus": None if corpus is None else list(corpus)}
    marker = path / "tiny_model_spec.json"
    if marker.is_file() and _read_marker(marker) == spec:
        return path
    tokenizer = build_tokenizer(spec["corpus"], vocab_size=vocab_size, chat_template=chat_template)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=n_layers,
        num_attention_heads=n_heads, num_key_value_heads=n_heads,
        intermediate_size=intermediate_size or 2 * hidden_size,
        max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    write_json_atomic(marker, spec, indent=None)  # last, so a half-built folder has none
    return path


def _read_marker(marker: Path):
    """The spec a folder was built with, or ``None`` when the marker cannot be read."""
    try:
        return json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
