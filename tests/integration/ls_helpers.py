"""Helpers for the Label Studio tests: items, annotators, results in Label Studio's JSON."""

from __future__ import annotations

import pandas as pd


def make_items(n: int, prefix: str = "it") -> pd.DataFrame:
    return pd.DataFrame({"item_id": [f"{prefix}{i:05d}" for i in range(n)],
                         "prompt": [f"prompt {i}" for i in range(n)],
                         "response": [f"response {i} with <b>markup</b> & \"quotes\"" for i in range(n)]})


def choice(field: str, value: str) -> dict:
    return {"from_name": field, "to_name": "response", "type": "choices",
            "value": {"choices": [value]}}


def ensure_users(client, emails) -> dict:
    """email -> user id, creating the users that do not exist."""
    have = {u["email"]: u["id"] for u in client.users()}
    for e in emails:
        if e not in have:
            have[e] = client.post("/api/users", {"email": e, "username": e.split("@")[0]})["id"]
    return {e: have[e] for e in emails}


def task_ids(client, project_id: int) -> dict:
    """item_id -> task id."""
    return {t["item_id"]: t["id"] for t in client.task_data(project_id)}
