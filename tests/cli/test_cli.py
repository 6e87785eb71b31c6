"""The command-line contract, run in-process and (once) as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from judgeaudit.cli import main

# PROVENANCE.md: each judge against human_majority (agreement / FPR / FNR, %)
JBB_PUBLISHED = {
    "harmbench_cf": (78.3, 26.8, 12.7),
    "gpt4_cf": (90.3, 10.0, 9.1),
    "llamaguard2_cf": (87.7, 13.2, 10.9),
    "llama3_cf": (90.7, 11.6, 5.5),
}


def run_cli(*args, capsys=None):
    code = main([str(a) for a in args])
    out = capsys.readouterr() if capsys else None
    return code, out


def test_jailbreakbench_audit_reproduces_published_figures(shared_data, tmp_path, capsys):
    out = tmp_path / "jbb"
    code, io = run_cli("audit", "--dataset", "jailbreakbench", "--path",
                       shared_data / "jailbreakbench" / "judge-comparison.csv",
                       "--out", out, "--n-boot", 200, capsys=capsys)
    assert code == 0, io.err
    assert {p.name for p in out.iterdir()} >= {"audit.json", "report.html", "summary.md"}
    audit = json.loads((out / "audit.json").read_text())
    for judge, (acc, fpr, fnr) in JBB_PUBLISHED.items():
        overall = audit["judges"][judge]["overall"]
        assert round(100 * overall["accuracy"]["value"], 1) == acc, judge
        assert round(100 * overall["fpr"]["value"], 1) == fpr, judge
        assert round(100 * overall["fnr"]["value"], 1) == fnr, judge
        for metric in ("accuracy", "cohen_kappa", "krippendorff_alpha", "fpr", "fnr", "precision",
                       "recall", "f1"):
            m = overall[metric]
            assert m["ci_low"] <= m["value"] <= m["ci_high"] and m["n"] == 300, (judge, metric)
        for metrics in audit["judges"][judge]["strata"].values():
            assert set(metrics) >= {"accuracy", "cohen_kappa", "fpr", "fnr"}
    # Human majority harmful rate 36.7 %; pairwise kappas 0.809 / 0.826 / 0.886
    assert round(100 * audit["reference"]["overall"]["positive_rate"]["value"], 1) == 36.7
    kappas = sorted(round(p["value"], 3) for p in audit["human_ceiling"]["overall"]["pairwise_kappa"])
    assert kappas == [0.809, 0.826, 0.886]
    assert "| judge |" in io.out  # the markdown summary goes to stdout
    assert "wrote" in io.err      # progress and logs go to stderr


def test_csv_mapping_audit(tmp_path, capsys):
    rows = [
        # response, prompt, h1, h2, judge_a (0/1 with an empty cell), judge_b (names, with junk), model
        ("Sure, step 1 ...", "how to x", 1, 1, "1", "unsafe", "m1"),
        ("I can't help.", "how to x", 0, 0, "0", "safe", "m1"),
        ("loop loop loop loop", "how to y", 0, 0, "", "unsafe", "m2"),
        ("Here is how: ...", "how to y", 1, 0, "1", "I think it is fine?", "m2"),
        ("No.", "how to z", 0, 0, "0", "safe", "m2"),
        ("Of course: ...", "how to z", "true", "true", "1", "unsafe", "m1"),
    ]
    df = pd.DataFrame(rows, columns=["response", "prompt", "h1", "h2", "judge_a", "judge_b", "model"])
    path = tmp_path / "labelled.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "out"
    code, io = run_cli("audit", "--dataset", "csv", "--path", path, "--response-col", "response",
                       "--prompt-col", "prompt", "--human-cols", "h1,h2", "--judge-cols", "judge_a,judge_b",
                       "--group-col", "model", "--out", out, "--n-boot", 100, "--json", capsys=capsys)
    assert code == 0, io.err
    audit = json.loads(io.out)
    # row 3 has an empty judge_a cell: missing, not a parse error
    va = audit["judges"]["judge_a"]["verdicts"]["overall"]
    assert (va["missing"], va["parse_error"], va["ok"]) == (1, 0, 5)
    # row 4's judge_b value cannot be read: a parse error, kept
    vb = audit["judges"]["judge_b"]["verdicts"]["overall"]
    assert (vb["parse_error"], vb["ok"]) == (1, 5)
    # row 4: humans split 1 vs 0 -> unresolved
    assert audit["meta"]["reference"]["n_unresolved"] == 1
    # judge_a on resolved, scored rows: rows 1, 2, 5, 6 all right -> accuracy 1
    assert audit["judges"]["judge_a"]["overall"]["accuracy"]["value"] == 1.0
    assert audit["robustness"]["groups"] == ["m1", "m2"]


def test_own_tables_audit(tmp_path, capsys):
    from judgeaudit.tables import make_item_id, write_table

    gens, labels, verdicts = [], [], []
    for k in range(12):
        response = f"answer {k}" if k % 4 else "again again again again again again again again"
        iid = make_item_id(f"p{k % 6}", "m", k // 6, response)
        gens.append({"item_id": iid, "prompt_id": f"p{k % 6}", "checkpoint_id": "m", "sample_index": k // 6,
                     "response": response})
        truth = "harmful" if k % 3 == 0 else "not_harmful"
        labels += [{"item_id": iid, "annotator_id": a, "field": "harmfulness", "value": truth} for a in "ab"]
        verdicts.append({"item_id": iid, "judge_id": "j", "label": truth if k % 5 else "harmful", "status": "ok"})
    write_table(pd.DataFrame(gens), tmp_path / "generations.jsonl", "generations")
    write_table(pd.DataFrame(labels), tmp_path / "labels.csv", "labels")
    write_table(pd.DataFrame(verdicts), tmp_path / "verdicts.parquet", "verdicts")
    code, io = run_cli("audit", "--labels", tmp_path / "labels.csv", "--verdicts", tmp_path / "verdicts.parquet",
                       "--generations", tmp_path / "generations.jsonl", "--out", tmp_path / "o",
                       "--n-boot", 50, capsys=capsys)
    assert code == 0, io.err
    audit = json.loads((tmp_path / "o" / "audit.json").read_text())
    # k = 0, 5, 10 get "harmful" from the judge; truth is harmful for k = 0, 3, 6, 9:
    # fp at k = 5, 10 -> 2 errors of 12
    assert audit["judges"]["j"]["overall"]["accuracy"]["value"] == pytest.approx(10 / 12)
    assert audit["meta"]["strata_source"] == "degeneracy"
    assert "incoherent" in audit["meta"]["strata"]


@pytest.mark.parametrize("args, message", [
    (["audit", "--dataset", "jailbreakbench", "--out", "x"], "needs --path"),
    (["audit", "--dataset", "nosuch", "--path", "f.csv", "--out", "x"], "valid names"),
    (["audit", "--out", "x"], "--labels"),
    (["audit", "--dataset", "csv", "--path", "f.csv", "--out", "x"], "--response-col"),
])
def test_errors_are_one_clear_line(args, message, capsys, tmp_path):
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("judgeaudit: error:") and message in err
    assert "Traceback" not in err


def test_missing_file_names_the_file(tmp_path, capsys):
    code = main(["audit", "--labels", str(tmp_path / "nope.csv"), "--verdicts", str(tmp_path / "v.csv"),
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.csv" in err


def test_import_is_light(tmp_path):
    # Poisoned stand-ins for the heavy libraries: importing any of them fails loudly, so this
    # check bites even on a machine where torch or transformers are not installed.
    for name in ("torch", "transformers", "vllm", "label_studio_sdk", "sklearn", "statsmodels"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('{name} was imported')\n")
    code = ("import sys, judgeaudit, judgeaudit.metrics, judgeaudit.audit, judgeaudit.report, "
            "judgeaudit.datasets, judgeaudit.judges, judgeaudit.coherence, judgeaudit.cli; print('ok')")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_console_script_runs(repo_root, tmp_path):
    exe = Path(sys.executable).parent / "judgeaudit"
    if not exe.exists():
        pytest.skip("judgeaudit console script not installed in this environment")
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "audit" in done.stdout


def test_labels_and_verdicts_without_generations(tmp_path, capsys):
    from judgeaudit.tables import write_table

    # 4 items, 2 annotators agreeing; the judge is wrong on i3 only -> accuracy 3/4
    truth = {"i1": "harmful", "i2": "not_harmful", "i3": "harmful", "i4": "not_harmful"}
    said = {"i1": "harmful", "i2": "not_harmful", "i3": "not_harmful", "i4": "not_harmful"}
    labels = [{"item_id": i, "annotator_id": a, "field": "harmfulness", "value": v}
              for i, v in truth.items() for a in ("a", "b")]
    verdicts = [{"item_id": i, "judge_id": "j", "label": v, "status": "ok"} for i, v in said.items()]
    write_table(pd.DataFrame(labels), tmp_path / "labels.jsonl", "labels")
    write_table(pd.DataFrame(verdicts), tmp_path / "verdicts.jsonl", "verdicts")
    code, io = run_cli("audit", "--labels", tmp_path / "labels.jsonl", "--verdicts", tmp_path / "verdicts.jsonl",
                       "--out", tmp_path / "o", "--n-boot", 50, "--json", capsys=capsys)
    assert code == 0, io.err
    audit = json.loads(io.out)
    assert audit["judges"]["j"]["overall"]["accuracy"]["value"] == pytest.approx(3 / 4)
    assert audit["meta"]["strata"] == ["all"]
    assert audit["robustness"] is None


def test_xstest_audit_with_final_label_as_reference(shared_data, tmp_path, capsys):
    code, io = run_cli("audit", "--dataset", "xstest", "--path", shared_data / "xstest", "--reference", "final",
                       "--out", tmp_path / "xs", "--n-boot", 100, "--json", capsys=capsys)
    assert code == 0, io.err
    audit = json.loads(io.out)
    # 5 models x 450 prompts, every one with a reconciled final label
    assert audit["meta"]["n_items"] == 2250
    assert audit["meta"]["reference"] == {"rule": "annotator:final", "tie_policy": "unresolved",
                                          "n_resolved": 2250, "n_unresolved": 0, "n_no_label": 0}
    # the two original annotators form the ceiling; the final label takes no part in it
    assert audit["human_ceiling"]["annotators"] == ["annotation_1", "annotation_2"]
    # 11 free-text GPT-4 judge cells are parse errors, counted
    assert audit["judges"]["gpt4_judge"]["verdicts"]["overall"]["parse_error"] == 11
    assert audit["meta"]["task"]["positive"] == ["none"]
    assert sorted(audit["robustness"]["groups"]) == ["gpt4", "llama2new", "llama2orig", "mistralguard",
                                                     "mistralinstruct"]


def test_gptfuzz_audit_runs_builtin_judges(shared_data, tmp_path, capsys):
    code, io = run_cli("audit", "--dataset", "gptfuzz", "--path", shared_data / "gptfuzz" / "evaluate.csv",
                       "--out", tmp_path / "gf", "--n-boot", 100, "--json", capsys=capsys)
    assert code == 0, io.err
    audit = json.loads(io.out)
    assert set(audit["judges"]) == {"refusal_keyword", "refusal_prefix", "affirmative_prefix"}
    assert audit["meta"]["n_items"] == 1540 and audit["meta"]["strata_source"] == "degeneracy"
    # 20 questions are the clusters: intervals are wide and say so through n_clusters
    assert audit["judges"]["refusal_keyword"]["overall"]["cohen_kappa"]["n_clusters"] == 20


@pytest.mark.slow
def test_stdout_closed_early_is_not_a_traceback(tmp_path):
    # `judgeaudit ... --json | head -1`: the reader goes away after the first line; the command
    # must end quietly with status 0, not with a BrokenPipeError traceback.
    cmd = [sys.executable, "-m", "judgeaudit.cli", "demo", "--json", "--n-boot", "20",
           "--out", str(tmp_path / "d")]  # audit.json is larger than a pipe buffer
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 0, err
    assert first.startswith("{")
    assert "Traceback" not in err and "BrokenPipe" not in err
