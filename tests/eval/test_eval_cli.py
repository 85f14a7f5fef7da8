"""`ideaforge eval` end to end on the fake model server (2 topics, 1 round), and its bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from typer.testing import CliRunner

from agents.errors import InvalidInput
from config.settings import Settings, get_settings
from ideaforge.cli import app
from ideaforge.cli.helpers import ExitCode
from ideaforge.devtools.fake_openai import Fault, _h
from workers.api import Ideaforge
from workers.evaluation.topics import load_topics

ROOT = Path(__file__).resolve().parents[2]

TOPICS = """\
topics:
  - topic: Ways to reduce food waste in university cafeterias
    known: [Donate leftover food to food banks, Compost food scraps]
  - topic: How public libraries can attract more teenagers
    known: [Offer video game nights]
"""


def test_eval_runs_both_arms_judges_blind_and_reports(
    env: dict[str, str], redis_client: redis.Redis, tmp_path: Path
) -> None:
    topics = tmp_path / "topics.yaml"
    topics.write_text(TOPICS + "  - topic: A third topic that --limit 2 leaves out\n")
    out_dir = tmp_path / "report"
    proc = _eval(
        env, str(topics), "--rounds", "1", "--workers", "1", "--pairs", "4", "--limit", "2", "--out", str(out_dir)
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads((out_dir / "eval.json").read_text())
    md = (out_dir / "eval.md").read_text()
    html = (out_dir / "eval.html").read_text()
    # the judge defaults to the Judge role's model, here the generating model: said so
    assert data["judge_model"] == data["generator_model"] == "fake-model" and data["self_evaluation"]
    assert "**self-evaluation**" in md and "## Definitions" in md and "single-link" in md
    assert html.count("data:image/png;base64,") == 2 + 2  # win rates, yield curve, one map per topic
    assert [t["topic"] for t in data["topics"]] == [
        "Ways to reduce food waste in university cafeterias",
        "How public libraries can attract more teenagers",
    ]
    all_novelty: list[float] = []
    for t in data["topics"]:
        base, pipe, m = t["baseline"], t["pipeline"], t["metrics"]
        assert pipe["status"] == "finished" and pipe["ideas"], pipe
        # the baseline asked for as many ideas as the shortlist holds; the fake gives what is asked
        assert base["asked"] == len(pipe["ideas"]) == len(base["ideas"]) and base["error"] is None
        assert m["baseline"]["yield_curve"] == [1.0]
        assert len(m["pipeline"]["yield_curve"]) == 1  # one round
        assert base["prompt_tokens"] > 0 and base["completion_tokens"] > 0
        assert m["baseline"]["tokens"] == base["prompt_tokens"] + base["completion_tokens"]
        assert m["pipeline"]["tokens"] == pipe["prompt_tokens"] + pipe["completion_tokens"] > 0
        assert m["judged_pairs"] == 4 and m["failed_pairs"] == 0 and len(t["pairs"]) == 4
        assert len({(p["pipeline"], p["baseline"]) for p in t["pairs"]}) == 4  # distinct pairs
        for p in t["pairs"]:
            pi, bi = pipe["ideas"][p["pipeline"]], base["ideas"][p["baseline"]]
            # the fake judge: the idea text with the larger hash is more novel in either position,
            # the other more feasible; so each pair is decided (no position tie), as asserted here
            wins = _h(f"{pi['title']}\n{pi['summary']}") >= _h(f"{bi['title']}\n{bi['summary']}")
            assert p["novelty"] == (1.0 if wins else 0.0)
            assert p["feasibility"] == 1.0 - p["novelty"]
            assert p["a_first"]["more_novel"] == ("A" if wins else "B")
            assert p["b_first"]["more_novel"] == ("B" if wins else "A")
            all_novelty.append(p["novelty"])
        for arm in ("pipeline", "baseline"):
            assert 1 <= m[arm]["clusters"] <= m[arm]["ideas"]
            assert 0.0 <= m[arm]["near_known_share"] <= 1.0
        assert len(t["map_xy"]["pipeline"]) == len(pipe["ideas"]) and len(t["map_xy"]["baseline"]) == base["asked"]
    overall = data["overall"]
    assert overall["novelty"]["rate"] == pytest.approx(sum(all_novelty) / 8, abs=1e-4)
    assert overall["novelty"]["rate"] + overall["feasibility"]["rate"] == pytest.approx(1.0)
    assert overall["novelty"]["pairs"] == 8 and overall["novelty"]["topics"] == 2
    assert overall["novelty"]["low"] <= overall["novelty"]["rate"] <= overall["novelty"]["high"]
    assert "pipeline win rate" in proc.stdout


def test_the_shipped_topic_set_loads() -> None:
    topics = load_topics(ROOT / "benchmarks" / "quality" / "topics.yaml")
    assert len(topics) == 8 and all(len(t.known) >= 5 for t in topics)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("topics: [", "is not valid YAML"),
        ("topics: []", "topics: List should have at least 1 item"),
        ("topics:\n  - known: [a]\n", "topics.0.topic: Field required"),
        ("topics:\n  - topic: fine topic\n    knwon: [a]\n", "topics.0.knwon: Extra inputs"),
    ],
)
def test_a_bad_topics_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        load_topics(path)


def test_eval_cli_bad_input_exits_2_without_traceback(settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "cannot read topics file" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_eval_names_another_judge_model_and_runs_arms_against_one_baseline(
    env: dict[str, str], redis_client: redis.Redis, tmp_path: Path
) -> None:
    topics = tmp_path / "topics.yaml"
    topics.write_text(TOPICS)
    out_dir = tmp_path / "report"
    proc = _eval(
        env, str(topics), "--rounds", "1", "--workers", "1", "--pairs", "1", "--limit", "1",
        "--judge-model", "judge-x", "--out", str(out_dir), "--arm", "full", "--arm", "without-meta_review",
    )
    assert proc.returncode == 0, proc.stderr
    full = json.loads((out_dir / "full" / "eval.json").read_text())
    without = json.loads((out_dir / "without-meta_review" / "eval.json").read_text())
    assert (full["generator_model"], full["judge_model"], full["self_evaluation"]) == (
        "fake-model", "judge-x", False
    )
    assert "self-evaluation" not in (out_dir / "full" / "eval.md").read_text()
    assert "full: judge judge-x;" in proc.stdout and "(self-evaluation)" not in proc.stdout
    assert "without-meta_review: judge judge-x;" in proc.stdout
    # the arms differ by the pipeline only: one baseline call, shared
    assert (full["arm"], full["mechanisms_off"]) == ("full", [])
    assert (without["arm"], without["mechanisms_off"]) == ("without-meta_review", ["meta_review"])
    assert full["topics"][0]["baseline"] == without["topics"][0]["baseline"]
    assert full["topics"][0]["pipeline"]["run_id"] != without["topics"][0]["pipeline"]["run_id"]
    forge = Ideaforge(get_settings())
    for arm, reviewed in ((full, True), (without, False)):
        run_id = arm["topics"][0]["pipeline"]["run_id"]
        assert forge.get_run(run_id).brief.mechanisms.meta_review is reviewed
        judge_calls = [e for e in forge.iter_events(run_id) if e.phase == "meta_review" and e.role == "judge"]
        assert bool(judge_calls) is reviewed
    table = (out_dir / "arms.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows] == [
        "| arm", "| full", "| without-meta_review", "| baseline (one prompt)"
    ]
    assert [r["arm"] for r in json.loads((out_dir / "arms.json").read_text())] == [
        "full", "without-meta_review"
    ]


def _eval(env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m ideaforge eval ARGS` in a subprocess on the test's environment (+ `extra_env`)."""
    return subprocess.run(
        [sys.executable, "-m", "ideaforge", "eval", *args],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_eval_whose_pipeline_run_failed_writes_its_reports_and_exits_3(
    env: dict[str, str], redis_client: redis.Redis, fake_model: Any, tmp_path: Path
) -> None:
    """The new-user report: every Skeptic call refused, so the run failed, no pair was judged,
    yet eval exited 0. Now: the reports are written, one line names the topic, exit 3."""
    fake_model.add_faults(*[Fault("status", status=400, role="skeptic") for _ in range(200)])
    topics = tmp_path / "topics.yaml"
    # the report also printed a topic's HTML raw into eval.md: `## <script>alert(1)</script> bus delays`
    topics.write_text(TOPICS.replace("Ways to reduce food waste", "<script>alert(1)</script> Ways to reduce food waste"))
    out_dir = tmp_path / "report"
    proc = _eval(
        env, str(topics), "--rounds", "1", "--workers", "1", "--pairs", "2", "--limit", "1",
        "--out", str(out_dir), extra_env={"IDEAFORGE_TURN_RETRIES": "1"},
    )
    assert proc.returncode == ExitCode.RUN_FAILED, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads((out_dir / "eval.json").read_text())
    assert (out_dir / "eval.md").exists() and data["topics"][0]["pipeline"]["status"] == "failed"
    failed = [line for line in proc.stderr.splitlines() if line.startswith("eval failed")]
    assert len(failed) == 1
    assert "arm full, topic '<script>alert(1)</script> Ways to reduce food waste" in failed[0]
    md = (out_dir / "eval.md").read_text()
    assert "<script>" not in md and "## &lt;script&gt;alert(1)&lt;/script&gt; Ways to reduce" in md
    assert "no pair judged" in failed[0]


def test_an_eval_on_an_unreachable_endpoint_exits_3_in_one_line(
    env: dict[str, str], redis_client: redis.Redis, tmp_path: Path
) -> None:
    """An unreachable model is the model's outage (as for `ideaforge run`: exit 3), not bad input."""
    topics = tmp_path / "topics.yaml"
    topics.write_text(TOPICS)
    proc = _eval(
        env, str(topics), "--rounds", "1", "--workers", "1", "--pairs", "1", "--limit", "1",
        "--out", str(tmp_path / "r"),
        extra_env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "IDEAFORGE_TURN_RETRIES": "1"},
    )
    assert proc.returncode == ExitCode.RUN_FAILED, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_a_repeated_arm_is_refused_in_one_line(settings: Settings, tmp_path: Path) -> None:
    topics = tmp_path / "topics.yaml"
    topics.write_text(TOPICS)
    result = CliRunner().invoke(app, ["eval", str(topics), "--arm", "full", "--arm", "full"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --arm: full given more than once; name each arm once"


@pytest.mark.parametrize(
    "args",
    [
        ["--baseline", "other"], ["--pairs", "0"], ["--limit", "0"], ["--rounds", "abc"],
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(settings: Settings, tmp_path: Path, args: list[str]) -> None:
    """typer/click's own checks (a choice, a range, a type) print one line, not a box."""
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "t.yaml"), *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: Invalid value for '{args[0]}'"), result.stderr
    assert "╭" not in result.stderr and "Traceback" not in result.stderr
