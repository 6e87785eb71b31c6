"""How many CPU threads torch (and the BLAS libraries under numpy) may use.

torch's default is one thread per core.  On a machine whose cores are busy with other work
that default makes every matrix product wait for the slowest thread: on a busy 2-core
machine the end-to-end demo test took 241.8 s with the default against 24.8 s with one
thread.  judgeaudit therefore chooses a count deliberately: ``--threads N`` on the command
line, else ``$JUDGEAUDIT_THREADS``, else :func:`default_threads` (half the cores this
process may run on, at least one).  :func:`set_threads` records the choice, exports it to
child processes (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) unless they are already set, and
applies it to torch now if torch is loaded, otherwise when
:func:`judgeaudit.hfmodels.require_torch` first loads it.

>>> set_threads(1)
1
>>> chosen_threads()
1
"""

from __future__ import annotations

import os
import sys

from .errors import ConfigError

__all__ = ["default_threads", "set_threads", "chosen_threads", "apply_to_torch", "THREADS_ENV"]

THREADS_ENV = "JUDGEAUDIT_THREADS"
_chosen: int | None = None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """``$JUDGEAUDIT_THREADS`` when set, else half the usable cores (at least 1): the other
    half is left to tokenisation, data loading and whatever else the machine runs."""
    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        return _checked(env, f"${THREADS_ENV}")
    return max(1, _cores() // 2)


def _checked(value, where: str) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a whole number of threads, got {value!r}") from None
    if n < 1:
        raise ConfigError(f"{where} must be at least 1, got {n}")
    return n


def set_threads(n: int | None = None) -> int:
    """Choose ``n`` threads (``None``: :func:`default_threads`); returns the count chosen."""
    global _chosen
    _chosen = default_threads() if n is None else _checked(n, "--threads")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(_chosen))
    apply_to_torch()
    return _chosen


def chosen_threads() -> int | None:
    """The count chosen with :func:`set_threads`, or ``None`` when none was chosen."""
    return _chosen


def apply_to_torch() -> None:
    """Give torch the chosen count if torch is loaded and a count was chosen."""
    torch = sys.modules.get("torch")
    if _chosen is not None and torch is not None and torch.get_num_threads() != _chosen:
        torch.set_num_threads(_chosen)
