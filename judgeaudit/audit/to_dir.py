"""One entry for every caller that audits and writes the report files: the ``audit`` and
``demo`` commands and the experiment's audit stage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from judgeaudit.errors import ConfigError
from judgeaudit.tables import INCLUSION_COLUMN, with_sample_design

from .core import AuditConfig, run_audit

__all__ = ["audit_to_dir"]


def audit_to_dir(tables, out, *, config: AuditConfig | None = None, dataset: str | None = None,
                 sample=None, log=None, banner: str | None = None,
                 stress: dict | None = None) -> tuple[dict, dict]:
    """Audit ``tables`` and write ``audit.json``, ``report.html`` and ``summary.md`` to ``out``.

    Parameters
    ----------
    tables : AuditTables
        The validated tables (at least labels, verdicts and generations).
    out : path
        Output folder, created when missing.
    config : AuditConfig, optional
        Audit options; ``weights`` is set here when ``sample`` is given.
    dataset : str, optional
        Name recorded in ``audit.json``'s ``meta.dataset``.
    sample : pandas.DataFrame, optional
        A sample-design table (``judgeaudit annotate sample``): labelled items are weighted
        by ``1 / inclusion_probability`` and its gold items are left out.
    log : callable, optional
        ``log(message)`` for progress lines (stderr in the CLI).
    banner : str, optional
        A warning shown at the top of the reports (``meta.banner``), e.g. that the model and
        the labels are simulated.
    stress : dict, optional
        A stress-test result (:func:`judgeaudit.stress.run_stress`), added to the report
        as a section (``audit.json`` is unchanged).

    Returns
    -------
    (result, paths)
        The audit dict and ``{"json", "html", "markdown"}`` paths of the files written.
    """
    from judgeaudit.report import write_report

    cfg = config or AuditConfig()
    if sample is not None:
        tables = with_sample_design(tables, sample)
        cfg = dataclasses.replace(cfg, weights=INCLUSION_COLUMN)
    if tables.verdicts.empty:
        raise ConfigError("there are no judge verdicts to audit; pass --judges refusal_keyword "
                          "(built-in judges) or a verdicts table / --judge-cols")
    if log is not None:
        log(f"auditing {tables.verdicts['judge_id'].nunique()} judge(s) on {len(tables.generations)} "
            f"items ({cfg.n_boot} bootstrap resamples)")
    result = run_audit(tables, config=cfg, dataset=dataset)
    if banner:
        result["meta"]["banner"] = str(banner)
    paths = write_report(result, Path(out), stress=stress)
    if log is not None:
        log("wrote " + ", ".join(str(p) for p in paths.values()))
    return result, paths
