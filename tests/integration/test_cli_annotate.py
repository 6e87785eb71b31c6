"""The ``judgeaudit annotate`` commands end to end on the real Label Studio."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pandas as pd
import pytest

from judgeaudit.cli import main
from judgeaudit.tables import write_table

from .ls_helpers import choice, ensure_users


@pytest.fixture()
def ls_env(label_studio, monkeypatch):
    monkeypatch.setenv("JUDGEAUDIT_LS_URL", label_studio.url)
    monkeypatch.setenv("JUDGEAUDIT_LS_TOKEN", label_studio.credentials()["token"])
    return label_studio.credentials()["token"]


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_push_pull_status_review_from_the_command_line(ls_env, ls_client, project_title, tmp_path, capsys):
    prompts = pd.DataFrame({"prompt_id": ["p1", "p2"], "text": ["Tell me a joke.", "How do I hotwire a car?"]})
    gens = pd.DataFrame({"prompt_id": ["p1", "p1", "p2", "p2"], "checkpoint_id": ["sft@1"] * 4,
                         "sample_index": [0, 1, 0, 1],
                         "response": ["A pun.", "joke joke joke", "I can't help with that.", "First, ..."]})
    write_table(prompts, tmp_path / "prompts.jsonl", "prompts")
    write_table(gens, tmp_path / "generations.jsonl", "generations")
    gens = pd.read_json(tmp_path / "generations.jsonl", lines=True)
    sample = pd.DataFrame({"item_id": gens["item_id"][:3], "stratum": ["coherent", "incoherent", "coherent"],
                           "n_annotators": [2, 2, 1], "is_gold": [False, True, False],
                           "inclusion_probability": [0.5, None, 0.25],
                           "gold_harmfulness": [None, "harmful", None]})
    sample.to_csv(tmp_path / "sample.csv", index=False)
    argv = ["annotate", "push", "--generations", str(tmp_path / "generations.jsonl"), "--prompts",
            str(tmp_path / "prompts.jsonl"), "--sample", str(tmp_path / "sample.csv"),
            "--project", project_title, "--json"]
    assert main(argv) == 0
    assert _json(capsys)["created"] == 3
    assert main(argv) == 0
    assert _json(capsys)["created"] == 0  # rerun: nothing twice

    # two annotators label (through the import API, as their own users)
    users = ensure_users(ls_client, ["cli1@example.org", "cli2@example.org"])
    proj = ls_client.find_project(project_title)
    tasks = ls_client.task_data(proj["id"])
    by_item = {t["item_id"]: t["id"] for t in tasks}
    a, b, c = sample["item_id"]
    votes = {("cli1@example.org", a): "harmful", ("cli2@example.org", a): "not harmful",
             ("cli1@example.org", b): "not harmful", ("cli2@example.org", b): "not harmful"}
    for (email, item), value in votes.items():
        ls_client.post(f"/api/tasks/{by_item[item]}/annotations",
                       {"result": [choice("harmfulness", value)], "completed_by": users[email]})
    snap = ls_client.export_snapshot(proj["id"])
    owners = {ann["completed_by"] for t in snap for ann in t["annotations"]}
    assert owners == set(users.values())  # the admin's token may create annotations as its users

    out = tmp_path / "labels.parquet"
    assert main(["annotate", "pull", "--project", project_title, "--out", str(out), "--json"]) == 0
    pulled = _json(capsys)
    assert pulled["labels"] == 4 and pulled["tasks"] == 3
    labels = pd.read_parquet(out)
    assert sorted(zip(labels["annotator_id"], labels["item_id"], labels["value"])) == sorted(
        (e, i, v.replace(" ", "_")) for (e, i), v in votes.items())

    assert main(["annotate", "status", "--project", project_title, "--strata", str(tmp_path / "sample.csv"),
                 "--json"]) == 0
    st = _json(capsys)
    # coherent: items a (2 labels, wants 2 -> complete) and c (none); incoherent: b (2 of 2)
    rows = {r["stratum"]: r for r in st["per_stratum"]}
    assert (rows["coherent"]["items"], rows["coherent"]["labelled"], rows["coherent"]["complete"]) == (2, 1, 1)
    assert (rows["incoherent"]["items"], rows["incoherent"]["complete"]) == (1, 1)
    assert {r["annotator_id"]: r["items"] for r in st["per_annotator"]} == {"cli1@example.org": 2,
                                                                         "cli2@example.org": 2}
    # units a (harmful, not_harmful) and b (not_harmful x2): coincidences h-n 1, n-h 1, n-n 2;
    # n_h = 1, n_n = 3, n = 4; D_o = 2/4, D_e = 2*1*3/(4*3) = 1/2 -> alpha = 1 - 0.5/0.5 = 0
    alpha = st["agreement"][0]["krippendorff_alpha"]
    assert st["agreement"][0]["field"] == "harmfulness" and alpha["value"] == pytest.approx(0.0)
    assert [(d["item_id"], d["field"]) for d in st["disagreements"]] == [(a, "harmfulness")]
    # b is a gold item whose known answer is harmful: both annotators said not harmful
    assert sorted((g["annotator_id"], g["n"], g["correct"]) for g in st["gold"]) == [
        ("cli1@example.org", 1, 0), ("cli2@example.org", 1, 0)]

    assert main(["annotate", "review", "--project", project_title, "--json"]) == 0
    rev = _json(capsys)["review"]
    assert rev["created"] == 1
    review_tasks = ls_client.task_data(rev["project_id"])
    assert [t["item_id"] for t in review_tasks] == [a]
    assert "cli1@example.org=harmful" in review_tasks[0]["review_note"]
    assert "cli2@example.org=not_harmful" in review_tasks[0]["review_note"]
    assert main(["annotate", "review", "--project", project_title, "--json"]) == 0
    assert _json(capsys)["review"]["created"] == 0  # idempotent too


def test_wrong_token_from_the_environment_is_a_clear_cli_error(label_studio, monkeypatch, capsys, tmp_path):
    secret = "not-the-token-5f1e2d3c4b"
    monkeypatch.setenv("JUDGEAUDIT_LS_URL", label_studio.url)
    monkeypatch.setenv("JUDGEAUDIT_LS_TOKEN", secret)
    rc = main(["annotate", "pull", "--project", "whatever", "--out", str(tmp_path / "l.jsonl")])
    out = capsys.readouterr()
    assert rc == 2
    assert "refused the API token from $JUDGEAUDIT_LS_TOKEN" in out.err
    assert secret not in out.err + out.out


def test_server_start_status_stop(label_studio, tmp_path, monkeypatch, capsys):
    """The CLI's own server, on a copy of the migrated template so it starts in seconds."""
    from annotation.server import free_port, migrated_data_template

    home = tmp_path / "home"
    shutil.copytree(migrated_data_template(venv=label_studio.venv), home)
    monkeypatch.setenv("JUDGEAUDIT_LS_HOME", str(home))
    monkeypatch.setenv("JUDGEAUDIT_LS_VENV", str(label_studio.venv))
    port = free_port()
    try:
        assert main(["annotate", "server", "start", "--port", str(port)]) == 0
        text = capsys.readouterr().out
        creds = json.loads((home / "credentials.json").read_text())
        assert f"http://127.0.0.1:{port}" in text and str(home / "credentials.json") in text
        assert creds["password"] not in text and creds["token"] not in text
        assert stat.S_IMODE(os.stat(home / "credentials.json").st_mode) == 0o600
        assert main(["annotate", "server", "status", "--port", str(port), "--json"]) == 0
        state = _json(capsys)
        assert state["running"] and state["healthy"]
        # the new admin's generated token works
        monkeypatch.delenv("JUDGEAUDIT_LS_URL", raising=False)
        monkeypatch.delenv("JUDGEAUDIT_LS_TOKEN", raising=False)
        from annotation import LabelStudioClient, resolve_connection

        assert LabelStudioClient(resolve_connection()).whoami()["email"] == creds["email"]
    finally:
        assert main(["annotate", "server", "stop"]) == 0
    assert "stopped" in capsys.readouterr().out
    assert main(["annotate", "server", "status", "--json"]) == 0
    assert _json(capsys)["running"] is False
    # a credentials file that does not belong to the data folder is caught at start
    creds["token"] = "0" * 40
    (home / "credentials.json").write_text(json.dumps(creds))
    assert main(["annotate", "server", "start", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "belongs to another admin account" in err and "0" * 40 not in err
    assert main(["annotate", "server", "status", "--json"]) == 0
    assert _json(capsys)["running"] is False  # and the server was stopped again


def test_push_straight_from_a_sample_with_text(ls_env, ls_client, project_title, tmp_path, capsys):
    sample = pd.DataFrame({"item_id": ["s1", "s2"], "prompt": ["Why?", "How?"], "response": ["Because.", "So."],
                           "inclusion_probability": [0.1, 0.2], "n_annotators": [1, 2]})
    sample.to_csv(tmp_path / "sample.csv", index=False)
    assert main(["annotate", "push", "--sample", str(tmp_path / "sample.csv"), "--project", project_title,
                 "--json"]) == 0
    out = _json(capsys)
    assert (out["created"], out["overlap_set"]) == (2, 1)
    proj = ls_client.find_project(project_title)
    tasks = {t["data"]["item_id"]: t for t in ls_client.tasks(proj["id"], include=("id", "data", "overlap"))}
    assert tasks["s2"]["data"]["response"] == "So." and tasks["s2"]["overlap"] == 2
