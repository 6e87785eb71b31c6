"""The audit: each judge against the human reference, stratified by coherence.

- :mod:`.core`: :func:`run_audit` and :class:`AuditConfig` (the layout of ``audit.json``);
- :mod:`.strata`: where each item's coherence stratum comes from;
- the per-item sums every figure is computed from are bootstrapped together by
  :class:`judgeaudit.metrics.SumBook` (shared with the experiment report);
- :mod:`.robustness`: whether conclusions about groups survive the choice of judge;
- :mod:`.weights`: design weights of a weighted (sampled) audit;
- :mod:`.to_dir`: :func:`audit_to_dir`, the one entry the CLI and the experiment use;
- :mod:`.correction`: corrected harmful rates within coherence strata;
- :mod:`.differences`: the stratum-difference test;
- :mod:`.conclusions`: which orders of groups hold under every judge;
- :mod:`.allocation`: Neyman allocation of the next labels;
- :mod:`.reserved`: names the output uses (``overall``, ``human``) that data may not take.
"""

from .allocation import neyman_allocation
from .core import DIFF_METRICS, JUDGE_METRICS, SCHEMA, AuditConfig, run_audit
from .reserved import MAX_STRATA, RESERVED_JUDGE_IDS, RESERVED_STRATA, check_reserved_names
from .robustness import MAX_GROUPS
from .strata import choose_strata
from .to_dir import audit_to_dir

__all__ = ["AuditConfig", "run_audit", "audit_to_dir", "choose_strata", "JUDGE_METRICS",
           "DIFF_METRICS", "SCHEMA", "neyman_allocation", "MAX_STRATA", "MAX_GROUPS", "RESERVED_STRATA",
           "RESERVED_JUDGE_IDS", "check_reserved_names"]
