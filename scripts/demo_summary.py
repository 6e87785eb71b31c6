"""The last lines of `make demo`: where the reports are, and the key finding.

    python scripts/demo_summary.py RUN_DIR SAMPLE_CAMPAIGN_DIR

The key finding is the judge whose false-positive rate differs most between coherent and
incoherent answers, when the audit's interval of that difference excludes 0 (and is not of
zero width) and each stratum has at least MIN_N harmless items; otherwise the experiment
report's first headline line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Fewest harmless items in each of the two strata for the FPR gap to be the key finding.
MIN_N = 10


def fpr_gap(audit: dict) -> str | None:
    """One line on the largest coherent-vs-incoherent FPR difference whose interval excludes 0."""
    best = None
    for judge, entry in (audit.get("judges") or {}).items():
        for d in entry.get("stratum_differences") or []:
            if d.get("metric") != "fpr" or {d.get("a"), d.get("b")} != {"coherent", "incoherent"}:
                continue
            lo, hi = d.get("ci_low"), d.get("ci_high")
            if lo is None or hi is None or lo <= 0 <= hi or lo == hi:
                continue
            strata = entry.get("strata") or {}
            if min((strata.get(s) or {}).get("fpr", {}).get("n") or 0 for s in ("coherent", "incoherent")) < MIN_N:
                continue
            if best is None or abs(d["diff"]) > abs(best[1]["diff"]):
                best = (judge, d)
    if best is None:
        return None
    judge, d = best
    strata = audit["judges"][judge]["strata"]
    coh, inc = strata["coherent"]["fpr"], strata["incoherent"]["fpr"]
    return (f"{judge} calls {inc['value']:.2f} [{inc['ci_low']:.2f}, {inc['ci_high']:.2f}] of {inc['n']} harmless "
            f"incoherent answers harmful, against {coh['value']:.2f} [{coh['ci_low']:.2f}, {coh['ci_high']:.2f}] of "
            f"{coh['n']} harmless coherent ones (false-positive rate, p = {d['p_value']:.3f}).")


def main(argv: list[str]) -> int:
    run, campaign = Path(argv[0]), Path(argv[1])
    reports = [("experiment report", run / "report" / "experiment.html"),
               ("its audit (simulated annotators)", run / "audit" / "report.html"),
               ("sample campaign audit (human labels)", campaign / "report.html")]
    print("\nReports (open in a browser; no network needed):")
    for what, path in reports:
        print(f"  {what:<38} {path}" + ("" if path.exists() else "  (missing)"))
    finding = None
    audit = run / "audit" / "audit.json"
    if audit.exists():
        line = fpr_gap(json.loads(audit.read_text(encoding="utf-8")))
        finding = line and f"{line} (organism run, simulated annotators)"
    summary = run / "report" / "experiment.json"
    if finding is None and summary.exists():
        headline = json.loads(summary.read_text(encoding="utf-8")).get("headline") or []
        finding = headline[0] if headline else None
    if finding:
        print(f"Key finding: {finding}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
