"""The last lines of `make demo`: where the reports are, and the experiment's key finding.

    python scripts/demo_summary.py RUN_DIR SAMPLE_CAMPAIGN_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    run, campaign = Path(argv[0]), Path(argv[1])
    reports = [("experiment report", run / "report" / "experiment.html"),
               ("its audit (simulated annotators)", run / "audit" / "report.html"),
               ("sample campaign audit (human labels)", campaign / "report.html")]
    print("\nReports (open in a browser; no network needed):")
    for what, path in reports:
        print(f"  {what:<38} {path}" + ("" if path.exists() else "  (missing)"))
    summary = run / "report" / "experiment.json"
    if summary.exists():
        headline = json.loads(summary.read_text(encoding="utf-8")).get("headline") or []
        if headline:
            print(f"Key finding: {headline[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
