"""The tables every stage reads and writes: record types, validation, reading and writing,
the human reference built from labels, and the sample-design table.

Five tables, each a :class:`pandas.DataFrame` (one row = one fact; keys in brackets):
prompts [prompt_id], generations [item_id], verdicts [item_id, judge_id], coherence
[item_id, scorer_id], labels [item_id, annotator_id, field].

- :mod:`.schema`: the column types and label vocabulary, :func:`validate`, :class:`Task`;
- :mod:`.io`: :func:`read_table` / :func:`write_table` (parquet, JSONL, CSV; atomic),
  :class:`AuditTables`;
- :mod:`.reference`: votes, the majority reference, human coherence bins;
- :mod:`.design`: the sample-design table of a labelling campaign;
- :mod:`.resumable`: the one resumable writer of generations, verdicts and coherence.
"""

from .design import (INCLUSION_COLUMN, SAMPLE_COLUMNS, read_sample_table, validate_sample_table,
                     with_sample_design, write_sample_table)
from .io import (AuditTables, read_records, read_table, table_format, tables_from_files,
                 write_frame_atomic, write_table)
from .reference import (COHERENCE_ORDER, TIE_POLICIES, binary_votes, human_coherence,
                        labelled_items, majority_reference, order_strata)
from .resumable import (RESUMABLE_KINDS, RETRY_STATUSES, ResumableKind, ResumableWriter, parts_dir,
                        read_resumable)
from .schema import (COHERENCE_BINS, DEFAULT_POSITIVE, ENCODING_HINT, FIELDS, SCHEMAS, TABLE_KINDS,
                     UNKNOWN_STRATUM, VERDICT_STATUSES, Column, Schema, Task, allowed_for,
                     coerce_column, empty_table, is_missing, make_item_id, ok_coherence, parse_label,
                     validate)

__all__ = [
    "FIELDS", "COHERENCE_BINS", "UNKNOWN_STRATUM", "VERDICT_STATUSES", "TABLE_KINDS", "SCHEMAS",
    "DEFAULT_POSITIVE", "ENCODING_HINT", "Column", "Schema", "Task", "AuditTables", "make_item_id",
    "parse_label", "allowed_for", "empty_table", "validate", "is_missing", "coerce_column",
    "read_records", "read_table", "write_table", "write_frame_atomic", "table_format",
    "tables_from_files", "TIE_POLICIES", "COHERENCE_ORDER", "binary_votes", "labelled_items",
    "majority_reference", "human_coherence", "order_strata", "INCLUSION_COLUMN", "SAMPLE_COLUMNS",
    "validate_sample_table", "read_sample_table", "write_sample_table", "with_sample_design",
    "ok_coherence", "RESUMABLE_KINDS", "RETRY_STATUSES", "ResumableKind", "ResumableWriter", "parts_dir",
    "read_resumable",
]
