"""Reports of an audit: audit.json, a self-contained report.html and summary.md.

>>> from judgeaudit.report import write_report  # doctest: +SKIP
>>> paths = write_report(audit, "runs/audit-1")  # doctest: +SKIP
>>> sorted(paths)  # doctest: +SKIP
['html', 'json', 'markdown']
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from judgeaudit.atomic import write_text_atomic
from judgeaudit.errors import ValidationError
from judgeaudit.report.common import check_audit
from judgeaudit.report.html import render_html
from judgeaudit.report.markdown import render_markdown

__all__ = ["render_html", "render_markdown", "write_report", "audit_to_json"]

FILE_NAMES = {"json": "audit.json", "html": "report.html", "markdown": "summary.md"}


def _nonfinite_path(obj, path: str = "$") -> str | None:
    """JSON path of the first NaN or infinity in ``obj`` (None when there is none)."""
    if isinstance(obj, float):
        return None if math.isfinite(obj) else path
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = _nonfinite_path(v, f"{path}.{k}")
            if found:
                return found
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            found = _nonfinite_path(v, f"{path}[{i}]")
            if found:
                return found
    return None


def _json_default(obj):
    """numpy scalars and arrays (and paths) as plain JSON values."""
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def audit_to_json(audit: dict) -> str:
    """The audit as indented JSON text; NaN and infinity are refused (they must be None).

    Raises
    ------
    judgeaudit.errors.ValidationError
        If a value is not JSON-serialisable or a float is NaN or infinite; the message
        names where.
    """
    try:
        return json.dumps(audit, indent=2, allow_nan=False, default=_json_default,
                          ensure_ascii=False)
    except ValueError as exc:
        where = _nonfinite_path(json.loads(json.dumps(audit, default=_json_default)))
        raise ValidationError(
            f"the audit holds a non-finite number at {where or 'an unknown place'}; "
            "undefined values must be None (MetricResult.to_dict() does that)",
            column=where,
        ) from exc
    except TypeError as exc:
        raise ValidationError(f"the audit is not JSON-serialisable: {exc}") from exc


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :mod:`judgeaudit.atomic`)."""
    write_text_atomic(path, text)


def write_report(audit: dict, out_dir, *, stress: dict | None = None) -> dict[str, Path]:
    """Write audit.json, report.html and summary.md into ``out_dir``.

    Each file is written atomically (a temporary file in ``out_dir``, then
    :func:`os.replace`), so a reader never sees half a report.  Everything is rendered
    before anything is written: a bad audit leaves ``out_dir`` untouched.

    Parameters
    ----------
    audit:
        The dict :func:`judgeaudit.audit.run_audit` returns.
    out_dir:
        Folder to write into; created when missing.
    stress:
        A stress-test result (:func:`judgeaudit.stress.run_stress`) to add as a section.

    Returns
    -------
    dict
        ``{"json": Path, "html": Path, "markdown": Path}``.

    Raises
    ------
    judgeaudit.errors.ValidationError
        If ``audit`` is not a renderable audit dict or holds NaN/infinite numbers.
    """
    check_audit(audit)
    texts = {
        "json": audit_to_json(audit) + "\n",
        "html": render_html(audit, stress=stress),
        "markdown": render_markdown(audit, stress=stress),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, text in texts.items():
        path = out / FILE_NAMES[key]
        _write_atomic(path, text)
        paths[key] = path
    return paths
