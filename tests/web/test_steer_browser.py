"""The run page's steer form in real headless Chromium: saved, shown live as text, used by the run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from config.settings import Settings
from tests.web.conftest import LiveServer
from tests.web.test_browser import PAYLOAD, browser, page, store, submit  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_the_steer_form_saves_a_note_and_an_idea_that_the_run_then_uses(
    page: Page,  # noqa: F811
    live_server: LiveServer,
    settings: Settings,
    start_worker: Callable[[], object],
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    run_id = submit(live_server, rounds=1, ideas_per_round=2)
    page.goto(f"/ui/runs/{run_id}")
    form = page.locator("form#steer")
    form.locator("textarea[name=note]").fill(f"Cheap ideas {PAYLOAD}")
    form.locator("input[name=title]").fill("Tray tax")
    form.locator("input[name=summary]").fill("A 10 cent charge per tray, refunded for an empty plate.")
    form.locator("input[name=author]").fill("ann")
    form.locator("button[type=submit]").click()
    expect(page.locator("#steer-note")).to_have_text(
        "saved s1 (note), s2 (idea): the next Generator turn uses it"
    )
    expect(form.locator("textarea[name=note]")).to_have_value("")
    steers = page.locator("#transcript .turn.steer")
    expect(steers).to_have_count(2)  # arrived over the live stream
    expect(steers.first.locator(".role")).to_have_text("human:ann")
    expect(steers.first.locator(".sum")).to_contain_text(PAYLOAD)  # as text, never markup

    form.locator("input[name=author]").fill("<b>")
    form.locator("textarea[name=note]").fill("another")
    form.locator("button[type=submit]").click()
    expect(page.locator("#steer-note")).to_contain_text("not saved: invalid steer: author")

    start_worker()
    expect(page.locator('[data-field="status"]')).to_have_text("finished")
    expect(page.locator("#pool .idea", has_text="Tray tax")).to_contain_text("by human:ann")
    expect(form).to_be_hidden()
    state = store(settings).load(run_id)
    assert [s.used_step is not None for s in state.steers] == [True, True]
    assert page.locator("img").count() == 0 and dialogs == []
