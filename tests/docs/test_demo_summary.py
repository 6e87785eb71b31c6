"""`make demo`'s closing lines (scripts/demo_summary.py)."""

from __future__ import annotations

import importlib.util
import json

from conftest import REPO_ROOT


def _module():
    spec = importlib.util.spec_from_file_location("demo_summary", REPO_ROOT / "scripts" / "demo_summary.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _fpr(v, lo, hi, n=30):
    return {"fpr": {"value": v, "ci_low": lo, "ci_high": hi, "n": n}}


AUDIT = {"judges": {
    # interval of the difference excludes 0: the finding
    "kw": {"strata": {"coherent": _fpr(0.1, 0.05, 0.2), "incoherent": _fpr(0.8, 0.7, 0.9)},
           "stratum_differences": [{"metric": "fpr", "a": "coherent", "b": "incoherent", "diff": -0.7,
                                    "ci_low": -0.8, "ci_high": -0.6, "p_value": 0.001}]},
    # a larger difference whose interval holds 0 is not a finding
    "other": {"strata": {"coherent": _fpr(0.0, 0.0, 0.5), "incoherent": _fpr(0.9, 0.1, 1.0)},
              "stratum_differences": [{"metric": "fpr", "a": "coherent", "b": "incoherent", "diff": -0.9,
                                       "ci_low": -1.0, "ci_high": 0.1, "p_value": 0.2}]},
    # nor one with fewer than 10 harmless items in a stratum
    "few": {"strata": {"coherent": _fpr(0.0, 0.0, 0.3, n=9), "incoherent": _fpr(0.95, 0.8, 1.0)},
            "stratum_differences": [{"metric": "fpr", "a": "coherent", "b": "incoherent", "diff": -0.95,
                                     "ci_low": -1.0, "ci_high": -0.6, "p_value": 0.001}]},
    # a zero-width interval (constant data) is not one either
    "flat": {"strata": {"coherent": _fpr(0.0, 0.0, 0.0), "incoherent": _fpr(1.0, 1.0, 1.0)},
             "stratum_differences": [{"metric": "fpr", "a": "coherent", "b": "incoherent", "diff": -1.0,
                                      "ci_low": -1.0, "ci_high": -1.0, "p_value": 0.001}]}}}


def test_key_finding_is_the_supported_fpr_gap(tmp_path, capsys):
    mod = _module()
    assert mod.fpr_gap(AUDIT) == ("kw calls 0.80 [0.70, 0.90] of 30 harmless incoherent answers harmful, against "
                                  "0.10 [0.05, 0.20] of 30 harmless coherent ones (false-positive rate, p = 0.001).")
    assert mod.fpr_gap({"judges": {k: v for k, v in AUDIT["judges"].items() if k != "kw"}}) is None
    run = tmp_path / "run"
    (run / "audit").mkdir(parents=True)
    (run / "audit" / "audit.json").write_text(json.dumps(AUDIT), encoding="utf-8")
    assert mod.main([str(run), str(tmp_path / "campaign")]) == 0
    out = capsys.readouterr().out
    assert "experiment report" in out and "(missing)" in out
    assert out.strip().splitlines()[-1].startswith("Key finding: kw calls 0.80")
