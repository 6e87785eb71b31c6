"""Names the audit's output uses as keys, which data values must not take over.

A stratum called ``overall`` would overwrite the results over all items (10 items
labelled "overall" and 30 "coherent" reported n = 10 overall, not 40): refused where the
strata are chosen (:func:`judgeaudit.audit.choose_strata`, :data:`RESERVED_STRATA`).  A
judge called ``human`` would overwrite the human rates of the robustness section: refused
here, with a :class:`~judgeaudit.errors.ConfigError` naming the value, instead of renaming
it silently.  So is a stratum source with more than :data:`MAX_STRATA` values.
"""

from __future__ import annotations

from judgeaudit.errors import ConfigError, excerpt

from .strata import RESERVED_STRATA  # checked in choose_strata

__all__ = ["RESERVED_STRATA", "RESERVED_JUDGE_IDS", "MAX_STRATA", "check_reserved_names"]

MAX_STRATA = 100
"""Most strata an audit reports: every stratum multiplies the bootstrap sums and the
report's tables; a stratum column with one value per item is a mistake."""

RESERVED_JUDGE_IDS = ("human",)
"""Judge ids taken by the output (the robustness section's human rates and ranking)."""


def check_reserved_names(strata, judge_ids, *, strata_source: str = "") -> None:
    """Raise ConfigError when a judge id is one of the reserved names, or when there are
    more than :data:`MAX_STRATA` strata (a reserved stratum is refused earlier, by
    :func:`judgeaudit.audit.choose_strata`).

    Parameters
    ----------
    strata : iterable of str
        The stratum names found in the data.
    judge_ids : iterable of str
        The judge ids of the verdicts table.
    strata_source : str
        Where the strata came from (named in the message).
    """
    strata = list(strata)
    if len(strata) > MAX_STRATA:
        raise ConfigError(f"{len(strata):,} distinct strata (from {strata_source or 'the data'}); at most "
                          f"{MAX_STRATA} are audited: strata should be a few coherence bins, not one "
                          "value per item; pass --strata none or another --strata source")
    clash = sorted({str(j) for j in judge_ids} & set(RESERVED_JUDGE_IDS))
    if clash:
        raise ConfigError(f"judge id {excerpt(clash[0], 40)} is a name the audit uses for the human "
                          "reference; rename that judge in the verdicts table (e.g. to "
                          f"'{clash[0]}_judge')")
