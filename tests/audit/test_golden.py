"""Golden audit.json: the JailbreakBench and XSTest public sets and the sample campaign.

A refactor must leave ``audit.json`` unchanged except for ``meta`` (issue "One house").  The
golden file ``golden/audit_digests.json`` holds, per run, the sha256 of the canonical JSON of
each top-level section (``meta`` left out), so a failure names the section that moved.

Canonical form: keys sorted, floats written with 9 significant digits (a last-bit difference in
a sum's order does not count as a change, a change in the 9th digit does), NaN/inf as strings.

Regenerate only when a change of numbers is intended and explained in the commit::

    JUDGEAUDIT_SHARED_DATA=/path/to/shared/data python tests/audit/test_golden.py --update
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden" / "audit_digests.json"
N_BOOT, SEED = 200, 0


def _runs(shared: Path | None) -> dict[str, list[str]]:
    runs = {"sample_campaign": ["demo"]}
    if shared is not None:
        runs["jailbreakbench"] = ["audit", "--dataset", "jailbreakbench", "--path",
                                  str(shared / "jailbreakbench" / "judge-comparison.csv"),
                                  "--encoding", "mac_roman"]
        runs["xstest"] = ["audit", "--dataset", "xstest", "--path", str(shared / "xstest")]
    return runs


def _canonical(x):
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return repr(x)
        return float(f"{x:.9g}") + 0.0  # + 0.0 turns -0.0 into 0.0
    if isinstance(x, dict):
        return {str(k): _canonical(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_canonical(v) for v in x]
    return x


def digest(audit: dict) -> dict[str, str]:
    """sha256 of each top-level section of an audit.json, ``meta`` left out."""
    out = {}
    for key in sorted(audit):
        if key == "meta":
            continue
        text = json.dumps(_canonical(audit[key]), sort_keys=True, separators=(",", ":"),
                          allow_nan=False)
        out[key] = hashlib.sha256(text.encode()).hexdigest()
    return out


def audit_digest(args: list[str], out: Path) -> dict[str, str]:
    """Run the CLI (in this process) with a fixed seed and small n_boot; digest its audit.json."""
    from judgeaudit.cli import main

    code = main([*args, "--n-boot", str(N_BOOT), "--seed", str(SEED), "--out", str(out)])
    assert code == 0
    return digest(json.loads((out / "audit.json").read_text()))


@pytest.mark.parametrize("name", ["sample_campaign", "jailbreakbench", "xstest"])
def test_audit_json_matches_golden(name, request, tmp_path, capsys):
    shared = None if name == "sample_campaign" else request.getfixturevalue("shared_data")
    golden = json.loads(GOLDEN.read_text())[name]
    got = audit_digest(_runs(shared)[name], tmp_path / name)
    capsys.readouterr()
    moved = sorted(k for k in set(golden) | set(got) if golden.get(k) != got.get(k))
    assert not moved, f"{name}: audit.json sections changed: {moved}"


if __name__ == "__main__" and "--update" in sys.argv:
    import tempfile

    shared = Path(os.environ.get("JUDGEAUDIT_SHARED_DATA",
                                 Path(__file__).resolve().parents[3] / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp:
        result = {name: audit_digest(args, Path(tmp) / name) for name, args in _runs(shared).items()}
    GOLDEN.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)
