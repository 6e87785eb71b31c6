"""The human labelling loop on Label Studio: a local server, the labelling config made
from a label schema, push (batched, idempotent), pull (export snapshot -> labels table),
campaign status with agreement so far, review tasks for adjudication, and the sampling
design that chooses what to label (:mod:`annotation.sampling`, issue 4).

``annotation`` depends on ``judgeaudit``, never the other way round, and talks to Label
Studio over its REST API with the standard library (no SDK; see :mod:`annotation.client`).
"""

from .client import LabelStudioClient, LabelStudioError, ServerUnavailableError
from .connection import Connection, resolve_connection
from .labelconfig import ChoiceField, LabelSchema, default_schema, label_config, load_schema
from .pull import PullResult, labels_from_snapshot, pull_labels
from .push import PushResult, items_from_tables, push_items
from .server import LocalServer, ensure_installed, migrated_data_template
from .sampling import SamplingConfig, allocate, design_strata, draw_sample, gold_report, read_gold, stratum_summary
from .sampling_next import next_sample, plan_next
from .status import CampaignStatus, campaign_status, disagreements, review_items

__all__ = [
    "LabelStudioClient", "LabelStudioError", "ServerUnavailableError", "Connection",
    "resolve_connection", "ChoiceField", "LabelSchema", "default_schema", "label_config",
    "load_schema", "PullResult", "labels_from_snapshot", "pull_labels", "PushResult",
    "items_from_tables", "push_items", "LocalServer", "ensure_installed", "migrated_data_template",
    "CampaignStatus", "campaign_status", "disagreements", "review_items",
    "SamplingConfig", "allocate", "design_strata", "draw_sample", "gold_report", "read_gold",
    "stratum_summary", "next_sample", "plan_next",
]
