"""Bad schedule files and names: one clear line naming the schedule and field, exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.errors import ScheduleError
from ideaforge.cli import app
from workers.schedules.loader import load_schedules, parse_schedules

GOOD: dict[str, Any] = {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "brief": {"topic": "Food waste"}}


def one(**changes: Any) -> dict[str, Any]:
    body = {**GOOD, **changes}
    return {"schedules": {"nightly": {k: v for k, v in body.items() if v is not None}}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (one(cron="0 25 * * *"), "schedule 'nightly': cron: '0 25 * * *' is not a valid cron expression"),
        (one(cron="0 2 * *"), "schedule 'nightly': cron: '0 2 * *' has 4 fields"),
        (one(timezone="Mars/Olympus"), "schedule 'nightly': timezone: unknown time zone 'Mars/Olympus'"),
        (one(timezone=None), "schedule 'nightly': timezone: required field is missing"),
        (one(crn="0 2 * * *"), "schedule 'nightly': unknown field 'crn'"),
        (
            one(brief={"topic": "x", "strategy": "dream"}),
            "schedule 'nightly': brief (night 2024-01-01): strategy",
        ),
        (one(brief={"topic": "x", "rounds": 99}), "schedule 'nightly': brief (night 2024-01-01): rounds"),
        (one(brief={"rounds": 2}), "schedule 'nightly': the brief needs a topic"),
        (one(brief={"topic": "x {topic}"}), "schedule 'nightly': the brief's topic uses {topic}"),
        (
            one(rotate={"strategies": ["mix", "sideways"]}),
            "schedule 'nightly': brief (night 2024-01-02): strategy: unknown strategy 'sideways'",
        ),
        (one(rotate={"concepts": [["solo"]]}), "schedule 'nightly': rotate.concepts: Value error, item 0"),
        (one(rotate={"start": "yesterday"}), "schedule 'nightly': rotate.start:"),
        (one(catch_up_minutes=-1), "schedule 'nightly': catch_up_minutes:"),
        (one(brief={"topic": "x", "schedule": "other"}), "brief.schedule is set by the scheduler"),
        ({"schedules": {"bad name!": GOOD}}, "schedule 'bad name!': name: String should match pattern"),
        ({"schedules": {"nightly": "0 2 * * *"}}, "schedule 'nightly': must be a mapping"),
        ({"schedule": {}}, "unknown top-level key 'schedule'"),
        (["nightly"], "the top level must be a mapping"),
    ],
)
def test_errors_name_schedule_and_field(data: object, expected: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedules(data, source="s.yaml")
    message = str(info.value)
    assert message.startswith("s.yaml"), message
    assert expected.replace("Value error, ", "") in message, message
    assert "\n" not in message


def test_unparseable_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("schedules:\n  nightly: {cron: '0 2 * * *'\n", encoding="utf-8")
    with pytest.raises(ScheduleError, match=r"s\.yaml is not valid YAML: .*line"):
        load_schedules(bad)
    with pytest.raises(ScheduleError, match="does not exist"):
        load_schedules(tmp_path / "missing.yaml")


def test_shipped_schedules_file_is_valid() -> None:
    from config.settings import DEFAULT_SCHEDULES_FILE

    specs = load_schedules(DEFAULT_SCHEDULES_FILE)
    assert specs and all(s.timezone and s.cron for s in specs.values())


def test_cli_exits_2_with_one_line_never_a_traceback(
    env: dict[str, str], write_schedules: Callable[[object], Path]
) -> None:
    runner = CliRunner()
    write_schedules(one(timezone="Europe/Berln"))
    for args in (["schedule", "list"], ["schedule", "run", "nightly"], ["scheduler"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "schedule 'nightly': timezone: unknown time zone 'Europe/Berln'" in result.stderr
        assert "Traceback" not in result.output + result.stderr
    write_schedules(GOOD and one())
    result = runner.invoke(app, ["schedule", "run", "nightyl"])
    assert result.exit_code == 2
    assert "unknown schedule 'nightyl' (known: nightly)" in result.stderr
    result = runner.invoke(app, ["digest", "--since", "yesterday-ish"])
    assert result.exit_code == 2
    assert "--since 'yesterday-ish' is neither a duration" in result.stderr
    result = runner.invoke(app, ["digest", "--since", "99999999d"])  # was a ValueError traceback
    assert result.exit_code == 2 and "reaches back before 1970" in result.stderr
    assert "Traceback" not in result.output + result.stderr
