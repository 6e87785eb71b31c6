"""The experiment report: the safety-capability frontier per judge, incoherence and judge
disagreement by objective and budget, and conclusion flips across judges and prompt sets.

:func:`build_experiment_report` computes it (one cluster bootstrap over ``prompt_id``
shared by every quantity, :mod:`.estimates`); :func:`write_experiment_report` writes
``experiment.json``, a self-contained ``report.html`` (:mod:`.html`, :mod:`.plots`) and
``summary.md`` (:mod:`.markdown`).
"""

from .build import build_experiment_report, write_experiment_report

__all__ = ["build_experiment_report", "write_experiment_report"]
