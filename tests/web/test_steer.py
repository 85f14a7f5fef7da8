"""`POST /runs/{run_id}/steer`: JSON body, token auth, body limit, clear 4xx answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from config.settings import Settings
from ideaforge.cli import app
from ideaforge.web.app import create_app
from ideaforge.web.limits import STEER_MAX_BYTES
from tests.conftest import run_burst
from tests.web.conftest import TOKEN
from workers.api import Ideaforge

IDEA = {"title": "Tray tax", "summary": "A 10 cent charge per tray, refunded for an empty plate."}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        yield c


def submit(settings: Settings, **brief: object) -> str:
    return Ideaforge(settings).submit({"topic": "Ways to reduce food waste", "rounds": 2, **brief})


def test_a_steer_is_stored_and_shown_in_the_run_and_its_transcript(
    client: TestClient, settings: Settings
) -> None:
    run_id = submit(settings)
    answer = client.post(f"/runs/{run_id}/steer", json={"note": "Cheap ideas", "idea": IDEA, "author": "ann"})
    assert answer.status_code == 202, answer.text
    assert [(s["id"], s["kind"], s["author"]) for s in answer.json()["steers"]] == [
        ("s1", "note", "human:ann"),
        ("s2", "idea", "human:ann"),
    ]
    run = client.get(f"/runs/{run_id}").json()
    assert [(s["kind"], s["used_step"]) for s in run["steers"]] == [("note", None), ("idea", None)]
    events = client.get(f"/runs/{run_id}/events").json()["events"]
    steers = [e for e in events if e["kind"] == "steer"]
    assert [(e["role"], e["author"]) for e in steers] == [("human", "human:ann")] * 2
    assert steers[0]["summary"].endswith("note: Cheap ideas")


def test_bad_steers_are_4xx_with_one_line(client: TestClient, settings: Settings) -> None:
    run_id = submit(settings)
    bad = {
        "{}": (422, "needs a note, an idea"),
        '{"note": ""}': (422, "the note is empty"),
        '{"note": "x", "extra": 1}': (422, "extra"),
        '{"idea": {"title": "only a title"}}': (422, "summary"),
        '{"note": "hi", "author": "<b>"}': (422, "author"),
        '{"idea": {"title": "' + "t" * 121 + '", "summary": "s"}}': (422, "121 characters; at most 120"),
        '{"note": "caf\\udce9"}': (422, "unicode string"),
        '{"note": "a\\u0000b"}': (422, "control character"),
        "not json": (422, ""),
    }
    for body, (status, words) in bad.items():
        answer = client.post(
            f"/runs/{run_id}/steer", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == status and words in answer.json()["detail"], (body[:40], answer.text)
        assert isinstance(answer.json()["detail"], str)
    huge = client.post(f"/runs/{run_id}/steer", content=b"x" * (STEER_MAX_BYTES + 1))
    assert huge.status_code == 413
    assert client.post("/runs/" + "0" * 26 + "/steer", json={"note": "hi"}).status_code == 404
    for n in range(5):  # the default pending limit
        assert client.post(f"/runs/{run_id}/steer", json={"note": f"n{n}"}).status_code == 202
    full = client.post(f"/runs/{run_id}/steer", json={"note": "one more"})
    assert full.status_code == 409 and "at most 5 may wait" in full.json()["detail"]
    assert len(Ideaforge(settings).get_run(run_id).steers) == 5


def test_a_stopped_run_is_409(client: TestClient, settings: Settings) -> None:
    run_id = submit(settings, rounds=1, ideas_per_round=1)
    run_burst(settings)
    answer = client.post(f"/runs/{run_id}/steer", json={"note": "too late"})
    assert answer.status_code == 409 and answer.json()["detail"].startswith(
        f"run {run_id} already stopped (finished)"
    )


def test_steering_needs_the_token_and_can_be_switched_off(settings: Settings) -> None:
    run_id = submit(settings)
    secured = settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    with TestClient(create_app(secured), base_url="http://127.0.0.1") as c:
        assert c.post(f"/runs/{run_id}/steer", json={"note": "hi"}).status_code == 401
        ok = c.post(
            f"/runs/{run_id}/steer", json={"note": "hi"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert ok.status_code == 202
    off = settings.model_copy(update={"steering": False})
    with TestClient(create_app(off), base_url="http://127.0.0.1") as c:
        answer = c.post(f"/runs/{run_id}/steer", json={"note": "hi"})
        assert answer.status_code == 409 and "switched off" in answer.json()["detail"]
    assert [s.text for s in Ideaforge(settings).get_run(run_id).steers] == ["hi"]


def test_the_run_page_form_and_both_run_details_agree_with_the_server(
    client: TestClient, settings: Settings
) -> None:
    """The form's maxlength is the limit the server enforces; `show --format json` and `GET
    /runs/{id}` are one shape (the steers and the strategy's material included)."""
    run_id = submit(settings, strategy="mix")
    page = client.get(f"/ui/runs/{run_id}").text
    limits = dict(re.findall(r'name="(note|title|summary)"[^>]*maxlength="(\d+)"', page))
    assert limits == {
        "note": str(settings.steer_note_max_chars),
        "title": str(settings.steer_title_max_chars),
        "summary": str(settings.steer_summary_max_chars),
    }
    client.post(f"/runs/{run_id}/steer", json={"note": "Cheap ideas"})
    api = client.get(f"/runs/{run_id}").json()
    shown = CliRunner().invoke(app, ["show", run_id, "--format", "json"])
    cli = json.loads(shown.stdout)
    assert set(cli) == set(api) and {"steers", "concept_seed", "concept_pairs", "common_answers"} <= set(api)
    assert cli["steers"] == api["steers"] and len(api["steers"]) == 1
