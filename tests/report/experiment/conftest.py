"""Fixtures of the experiment report tests: the report of the grid, with and without an audit."""

from __future__ import annotations

import pytest

from judgeaudit.report.experiment import build_experiment_report

from .grid import N_BOOT, SEED, audit_for, tables


@pytest.fixture(scope="module")
def report() -> dict:
    return build_experiment_report(**tables(), n_boot=N_BOOT, seed=SEED)


@pytest.fixture(scope="module")
def with_audit():
    t = tables()
    audit = audit_for(t)
    return build_experiment_report(**t, audit=audit, n_boot=N_BOOT, seed=SEED), audit
