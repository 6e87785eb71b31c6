"""Reproduce the alt-test results the paper's authors publish, with judgeaudit.metrics.alt_test.

Calderon, Reichart and Dror (ACL 2025) publish their datasets and, in the notebook
``alt_test_example.ipynb`` of github.com/nitaytech/AltTest, the winning rate and
average advantage probability of six LLM judges on nine of them (two decimals). This
script recomputes all 52 with judgeaudit's own implementation and prints any that differ.

    python scripts/reproduce_alt_test.py PATH/TO/AltTest-checkout

The data are not copied into this project (the repository states no licence); pass a
checkout of it. Exit status 0 when every figure matches to two decimals.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# dataset -> (alignment, epsilon), as the notebook runs them
SETUP = {
    "wax": ("accuracy", 0.1), "lgbteen": ("accuracy", 0.2), "mtbench": ("accuracy", 0.2),
    "framing": ("accuracy", 0.15), "cebab_aspects": ("accuracy", 0.1),
    "summeval": ("neg_rmse", 0.2), "10k_prompts": ("neg_rmse", 0.15),
    "cebab_stars": ("neg_rmse", 0.1), "lesion": ("neg_rmse", 0.15),
}

# dataset -> judge -> (winning rate, advantage probability), printed by the notebook
PUBLISHED = {
    "wax": {"gemini_flash": (0.38, 0.69), "gemini_pro": (0.50, 0.74), "gpt-4o": (0.50, 0.73),
            "llama-31": (0.00, 0.57), "gpt-4o-mini": (0.00, 0.59), "mistral-v03": (0.00, 0.50)},
    "lgbteen": {"gemini_flash": (0.25, 0.71), "gemini_pro": (0.00, 0.67), "gpt-4o": (0.75, 0.77),
                "llama-31": (0.00, 0.72), "gpt-4o-mini": (0.75, 0.76), "mistral-v03": (0.25, 0.75)},
    "mtbench": {"gemini_flash": (0.00, 0.72), "gemini_pro": (0.00, 0.76), "gpt-4o": (0.00, 0.77),
                "llama-31": (0.00, 0.69), "gpt-4o-mini": (0.00, 0.74), "mistral-v03": (0.00, 0.68)},
    "framing": {"gemini_flash": (1.00, 0.83), "gemini_pro": (1.00, 0.91), "gpt-4o": (1.00, 0.92),
                "llama-31": (0.50, 0.80), "gpt-4o-mini": (1.00, 0.87), "mistral-v03": (0.25, 0.80)},
    "cebab_aspects": {"gemini_flash": (0.70, 0.91), "gemini_pro": (0.90, 0.94),
                      "gpt-4o": (0.90, 0.93), "llama-31": (0.60, 0.89),
                      "gpt-4o-mini": (0.50, 0.90), "mistral-v03": (0.10, 0.81)},
    "summeval": {"gemini_flash": (0.00, 0.46), "gemini_pro": (0.00, 0.44), "gpt-4o": (0.00, 0.48),
                 "llama-31": (0.00, 0.58), "gpt-4o-mini": (0.00, 0.54), "mistral-v03": (0.00, 0.62)},
    "10k_prompts": {"gemini_flash": (0.31, 0.67), "gemini_pro": (0.08, 0.63),
                    "gpt-4o": (0.69, 0.76), "llama-31": (0.15, 0.67),
                    "gpt-4o-mini": (0.92, 0.80), "mistral-v03": (0.15, 0.67)},
    "cebab_stars": {"gemini_flash": (0.60, 0.82), "gemini_pro": (0.80, 0.87),
                    "gpt-4o": (0.90, 0.90), "llama-31": (0.60, 0.85),
                    "gpt-4o-mini": (0.90, 0.89), "mistral-v03": (0.50, 0.83)},
    "lesion": {"gemini_flash": (0.17, 0.71), "gemini_pro": (1.00, 0.81), "gpt-4o": (0.00, 0.62),
               "gpt-4o-mini": (0.67, 0.73)},
}


def main(argv=None) -> int:
    import pandas as pd

    from judgeaudit.metrics import alt_test

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python scripts/reproduce_alt_test.py PATH/TO/AltTest-checkout", file=sys.stderr)
        return 2
    root = Path(args[0]) / "data"
    matched = differ = 0
    for name, (alignment, epsilon) in SETUP.items():
        humans_raw = json.loads((root / name / "human_annotations.json").read_text())
        judges_raw = json.loads((root / name / "llm_annotations.json").read_text())
        humans = pd.DataFrame({a: pd.Series(v) for a, v in humans_raw.items()})
        if alignment == "neg_rmse":
            humans = humans.apply(pd.to_numeric)
        for judge, labels in judges_raw.items():
            series = pd.Series(labels)
            if alignment == "neg_rmse":
                series = pd.to_numeric(series)
            r = alt_test(humans, series, epsilon=epsilon, alignment=alignment)
            got = (round(r.winning_rate, 2), round(r.advantage_probability, 2))
            want = PUBLISHED[name][judge]
            if all(abs(g - w) < 0.006 for g, w in zip(got, want)):
                matched += 1
            else:
                differ += 1
                print(f"{name} {judge}: judgeaudit {got}, published {want}")
    print(f"{matched} of {matched + differ} published alt-test results reproduced to two decimals")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
