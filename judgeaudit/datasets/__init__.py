"""Loaders of public human-labelled data sets and of any labelled CSV/JSONL file.

Each loader returns a validated :class:`judgeaudit.tables.AuditTables`.

==================== ========================================== =====================
name                 loader                                     from the hub
==================== ========================================== =====================
``jailbreakbench``   :func:`load_jailbreakbench`                 ``path=None``
``xstest``           :func:`load_xstest`                         ``path=None``
``gptfuzz``          :func:`load_gptfuzz`                        no
``csv``              :func:`load_table_csv`                      no
``sample``           :func:`load_sample_campaign` (the demo's)  no (ships in data/)
``jailbreakeval``    :func:`load_jailbreakeval`                  no
``harmbench``        :func:`load_harmbench`                      no
``strongreject``     :func:`load_strongreject`                   no
``garak``            :func:`load_garak`                          no
``inspect``          :func:`load_inspect_log`                    no
==================== ========================================== =====================

The last five read other tools' output files (see ``docs/interop.md``); they keep each
item's key in the tool's own terms in ``generations.source_id``, and
:func:`join_human_labels` adds human labels written against that key.

The hub paths need ``pip install 'judgeaudit[hub]'`` and network access; they are not
exercised by the offline test suite.
"""

from __future__ import annotations

from judgeaudit.datasets.garak import load_garak
from judgeaudit.datasets.generic import DEFAULT_POSITIVE, load_table_csv
from judgeaudit.datasets.gptfuzz import load_gptfuzz
from judgeaudit.datasets.harmbench import load_harmbench
from judgeaudit.datasets.inspect_log import ScoreMapping, load_inspect_log
from judgeaudit.datasets.jailbreakbench import load_jailbreakbench
from judgeaudit.datasets.jailbreakeval import load_jailbreakeval
from judgeaudit.datasets.labelfile import SOURCE_ID, join_human_labels, read_human_labels
from judgeaudit.datasets.sample_campaign import SAMPLE_JUDGES, load_sample_campaign, sample_campaign_dir
from judgeaudit.datasets.strongreject import load_strongreject
from judgeaudit.datasets.xstest import load_xstest
from judgeaudit.errors import UnknownNameError

__all__ = [
    "DATASETS",
    "DEFAULT_POSITIVE",
    "SOURCE_ID",
    "ScoreMapping",
    "join_human_labels",
    "load_dataset",
    "load_garak",
    "load_gptfuzz",
    "load_harmbench",
    "load_inspect_log",
    "load_jailbreakbench",
    "load_jailbreakeval",
    "load_strongreject",
    "read_human_labels",
    "load_table_csv",
    "load_xstest",
    "load_sample_campaign",
    "sample_campaign_dir",
    "SAMPLE_JUDGES",
]

DATASETS = {
    "jailbreakbench": load_jailbreakbench,
    "xstest": load_xstest,
    "gptfuzz": load_gptfuzz,
    "csv": load_table_csv,
    "jailbreakeval": load_jailbreakeval,
    "harmbench": load_harmbench,
    "strongreject": load_strongreject,
    "garak": load_garak,
    "inspect": load_inspect_log,
}
"""Dataset name -> loader."""


def load_dataset(name, path=None, **kwargs):
    """Load the dataset ``name`` (a key of :data:`DATASETS`) from ``path``.

    Keyword arguments go to the loader.  An unknown name raises
    :class:`~judgeaudit.errors.UnknownNameError` listing the valid names.
    """
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise UnknownNameError("dataset", name, DATASETS)
    return DATASETS[key](path, **kwargs)
