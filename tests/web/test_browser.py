"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agents.state import RunStatus
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.web.conftest import LiveServer
from workers.store.runs import RunStore

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("IDEAFORGE_CHROMIUM", "/usr/bin/chromium")
PAYLOAD = "<img src=x onerror=alert(1)>"
WAIT_MS = 60_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    yield pg
    context.close()


def store(settings: Settings) -> RunStore:
    return RunStore.from_settings(settings, redis.Redis.from_url(settings.redis_url))


def submit(live_server: LiveServer, **brief: object) -> str:
    body = {"topic": "Ways to reduce food waste in university cafeterias", **brief}
    response = httpx.post(f"{live_server.url}/runs", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def turn_lines(page: Page) -> int:
    return int(page.locator("#transcript .turn").count())


def test_transcript_is_live_and_accept_is_persisted(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    fake_model: FakeModelServer,
    start_worker: Callable[[], object],
) -> None:
    fake_model.set_latency(300)
    run_id = submit(live_server, rounds=2, ideas_per_round=2)
    page.goto(f"/ui/runs/{run_id}")
    expect(page.locator("#transcript .turn")).to_have_count(1)  # "run created", replayed over SSE
    page.evaluate("window.__samePage = true")
    start_worker()
    expect(page.locator("#transcript .turn").nth(2)).to_be_attached()
    assert not store(settings).load(run_id).terminal  # lines arrived while the run was still going
    assert turn_lines(page) >= 3

    expect(page.locator('[data-field="status"]')).to_have_text("finished")
    expect(page.locator("#live")).to_have_text("(run stopped)")
    assert page.evaluate("window.__samePage") is True  # no reload: it all came over the live stream
    assert turn_lines(page) == len(store(settings).transcripts.read(run_id))
    generator = page.locator("#transcript details.turn", has=page.locator(".phase", has_text="generate"))
    generator.first.locator("summary").click()
    expect(generator.first.locator("pre.answer")).to_contain_text('"ideas"')
    expect(generator.first.locator("pre.msg").first).to_contain_text("[system]")

    expect(page.locator("#shortlist-kind")).to_contain_text("final")
    first = page.locator("#shortlist li[data-idea]").first
    idea_id = first.get_attribute("data-idea")
    assert idea_id
    first.locator("input.note").fill("worth a pilot")
    first.locator("button.accept").click()
    expect(page.locator(f'#shortlist li[data-idea="{idea_id}"] .verdict')).to_have_text("accepted")
    verdict = store(settings).load(run_id).idea(idea_id).verdict
    assert verdict is not None and verdict.decision == "accepted" and verdict.note == "worth a pilot"
    stored = store(settings).shortlist(run_id)
    assert stored is not None and {e.idea_id: e.verdict for e in stored.ideas}[idea_id] == "accepted"
    page.reload()
    expect(page.locator(f'#pool [data-idea="{idea_id}"] .verdict')).to_have_text("accepted: worth a pilot")


def test_cancel_through_the_dashboard(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    fake_model: FakeModelServer,
    start_worker: Callable[[], object],
) -> None:
    fake_model.set_latency(400)
    run_id = submit(live_server, rounds=6, ideas_per_round=2)
    start_worker()
    page.goto(f"/ui/runs/{run_id}")
    expect(page.locator("#transcript .turn").nth(1)).to_be_attached()

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#cancel").click()
    assert not store(settings).load(run_id).cancel_requested  # dismissing the confirmation does nothing

    messages: list[str] = []

    def accept(dialog: object) -> None:
        messages.append(dialog.message)  # type: ignore[attr-defined]
        dialog.accept()  # type: ignore[attr-defined]

    page.once("dialog", accept)
    page.locator("#cancel").click()
    expect(page.locator("#cancel")).to_be_hidden()
    assert messages and "Cancel this run?" in messages[0]
    expect(page.locator('[data-field="status"]')).to_have_text("cancelled")
    expect(page.locator('[data-field="stop"]')).to_contain_text("cancelled")
    state = store(settings).load(run_id)
    assert state.status is RunStatus.CANCELLED and state.round < 6
    assert store(settings).shortlist(run_id) is not None


def test_model_output_is_shown_as_text_never_markup(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    fake_model: FakeModelServer,
    start_worker: Callable[[], object],
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    fake_model.add_faults(Fault(kind="idea", title=PAYLOAD, summary=f"Summary {PAYLOAD}", role="generator"))
    run_id = submit(live_server, rounds=1, ideas_per_round=3, topic=f"Topic {PAYLOAD}")
    start_worker()  # (Playwright's sync API runs a loop in this thread: an in-process worker can't)
    page.goto(f"/ui/runs/{run_id}")
    expect(page.locator('[data-field="status"]')).to_have_text("finished")
    titles = [i.title for i in store(settings).load(run_id).ideas]
    assert PAYLOAD in titles

    raw = httpx.get(f"{live_server.url}/ui/runs/{run_id}").text
    assert PAYLOAD not in raw and "&lt;img src=x onerror=alert(1)&gt;" in raw  # server-side escaping

    page.goto(f"/ui/runs/{run_id}")
    expect(page.locator("#live")).to_have_text("(run stopped)")  # after this the JS re-renders it all
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1.topic")).to_have_text(f"Topic {PAYLOAD}")
    expect(page.locator("#pool .title", has_text=PAYLOAD)).to_have_count(1)
    expect(page.locator("#shortlist .title", has_text=PAYLOAD)).to_have_count(1)
    generator = page.locator("#transcript details.turn", has=page.locator(".phase", has_text="generate"))
    expect(generator.first.locator(".sum")).to_contain_text(PAYLOAD)
    generator.first.locator("summary").click()
    expect(generator.first.locator("pre.answer")).to_contain_text("onerror=alert(1)")

    page.goto("/")
    expect(page.locator(f'#runs-body tr[data-run="{run_id}"] .topic')).to_have_text(f"Topic {PAYLOAD}")
    page.wait_for_timeout(3500)  # let the live refresh re-render the list once from JSON
    expect(page.locator(f'#runs-body tr[data-run="{run_id}"] .topic')).to_have_text(f"Topic {PAYLOAD}")
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_pages_work_under_the_csp_with_no_violation(page: Page, live_server: LiveServer) -> None:
    """/docs (Swagger UI from the pinned package) and the dashboard under the CSP of every page."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} {m.location}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    response = page.goto("/docs")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    operation = page.locator(".opblock").filter(has_text="/runs").first
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()  # the interactive part runs too
    expect(page.locator(".opblock-body").first).to_be_visible()

    run_id = submit(live_server, rounds=1)
    page.goto("/")
    expect(page.locator(f"a[href='/ui/runs/{run_id}']").first).to_be_visible()
    page.goto(f"/ui/runs/{run_id}")
    expect(page.locator("#transcript")).to_be_visible()
    page.goto("/ui/queues")
    page.goto("/login")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused to" in p], problems
    assert [p for p in problems if "/favicon.ico" not in p] == []  # the app has no favicon (a 404)
    assert outside == []
