"""Agreement metrics with confidence intervals: plain functions on arrays.

Conventions, as in scikit-learn: data first, options keyword-only; ``labels=`` names the
category set everywhere; multi-rater functions (:func:`krippendorff_alpha`,
:func:`fleiss_kappa`, :func:`gwet_ac1`) take one ``(n_units, n_raters)`` layout
(:func:`ratings_matrix` builds it from a long labels table); every agreement and rate
metric takes ``sample_weight=``; ``ci="none"`` returns the value without drawing resamples.

Every metric returns a :class:`MetricResult` (value, interval, n, and why the value
is undefined when it is).  Intervals are Wilson score intervals for plain proportions
without clusters, and otherwise a seeded, vectorised (cluster) percentile bootstrap;
a bootstrap interval of a proportion is never narrower than the Korn-Graubard
interval (:func:`cluster_proportion_interval`), so it cannot collapse at 0 or 1.
:func:`corrected_rate` corrects a judge's rate for its errors (Rogan-Gladen) with
the calibration uncertainty in its interval, and refuses a judge near chance.
What each metric is (display name, formula from the confusion counts, proportion or not,
why it is undefined, higher or lower is better) is written once, in
:mod:`judgeaudit.metrics.catalogue` (:data:`METRICS`).  The formula layer in
:mod:`judgeaudit.metrics.formulas` computes the same metrics
from sums with arbitrary leading axes, for callers that bootstrap many sums together.
"""

from ._resample import MAX_N_BOOT, ClusterBootstrap, percentile_interval
from ._result import MetricResult
from .agreement import cohen_kappa, fleiss_kappa, gwet_ac1, krippendorff_alpha, ratings_matrix
from .annotators import (
    AltTestAnnotator,
    AltTestResult,
    AnnotatorSpread,
    alt_test,
    annotator_spread,
    benjamini_yekutieli,
    soft_label_scores,
    vote_shares,
)
from .binary import (
    ConfusionMatrix,
    accuracy,
    balanced_accuracy,
    confusion_matrix,
    f1,
    fnr,
    fpr,
    mcc,
    precision,
    recall,
    specificity,
)
from .catalogue import (
    BINARY_METRICS,
    METRICS,
    PROPORTION_METRICS,
    MetricFacts,
    binary_from_counts,
    metric_facts,
    undefined_reason,
)
from .formulas import (
    alpha_from_coincidence,
    kappa_from_confusion,
    kendall_tau_b,
    unit_coincidences,
)
from .clustered import ClusteredProportion, clustered_proportion
from .correction import corrected_rate, rogan_gladen, youden_lower_bound
from .intervals import result_from_bootstrap, wilson_interval
from .proportions import cluster_proportion_interval, design_effect, widen
from .ranking import auroc, kendall_tau, spearman
from .sums import SumBook

__all__ = [
    "MetricResult",
    "ConfusionMatrix",
    "ClusterBootstrap",
    "MAX_N_BOOT",
    "SumBook",
    "percentile_interval",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "fpr",
    "fnr",
    "specificity",
    "mcc",
    "balanced_accuracy",
    "confusion_matrix",
    "cohen_kappa",
    "krippendorff_alpha",
    "fleiss_kappa",
    "gwet_ac1",
    "ratings_matrix",
    "spearman",
    "kendall_tau",
    "auroc",
    "wilson_interval",
    "clustered_proportion",
    "ClusteredProportion",
    "cluster_proportion_interval",
    "design_effect",
    "widen",
    "corrected_rate",
    "rogan_gladen",
    "youden_lower_bound",
    "result_from_bootstrap",
    "binary_from_counts",
    "METRICS",
    "BINARY_METRICS",
    "PROPORTION_METRICS",
    "MetricFacts",
    "metric_facts",
    "undefined_reason",
    "kappa_from_confusion",
    "alpha_from_coincidence",
    "unit_coincidences",
    "kendall_tau_b",
    "AltTestAnnotator",
    "AltTestResult",
    "AnnotatorSpread",
    "alt_test",
    "annotator_spread",
    "benjamini_yekutieli",
    "soft_label_scores",
    "vote_shares",
]
