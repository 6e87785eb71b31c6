"""Shared helpers of the generation tests."""

from __future__ import annotations


def prompts_table(texts, *, prefix="p"):
    import pandas as pd

    return pd.DataFrame({"prompt_id": [f"{prefix}{i}" for i in range(len(texts))], "text": list(texts)})


MIXED_PROMPTS = ["Hi", "What is 12 plus 7?", "Tell me a long story about a cat who learns to read books.",
                 "x", "How do I kill a Python process? Use the kill command.", "Sam has 3 coins."]
