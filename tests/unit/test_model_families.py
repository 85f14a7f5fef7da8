"""Every model family works or fails loudly: each fake-server mode reproduces one family's
documented behaviour (`ideaforge.devtools.fake_openai.MODES`, `Fault`)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from agents.answer_size import ideas_for_cap
from agents.calls import CallRecord, Prices, RoleAgent, ask_structured, split_reasoning
from agents.engine import run_step
from agents.errors import ModelConfigError
from agents.models import endpoint_label, resolve_role_models
from agents.prompts import markers
from agents.prompts.requests import generate_request
from agents.schemas import CritiqueAnswer, IdeaBatch, ScoreAnswer
from agents.state import RunState, StopReason, TranscriptEvent
from config.agents import AgentsConfig, ModelParams, load_agents_config
from config.settings import Settings
from ideaforge.devtools.fake_openai import FakeModelServer, Fault
from tests.unit.helpers import make_state
from workers.runtime import turn_context

ROLE_SCHEMAS: dict[str, type[BaseModel]] = {
    "generator": IdeaBatch,
    "skeptic": CritiqueAnswer,
    "judge": ScoreAnswer,
}


def _settings(fake: FakeModelServer, model: str = "fake-model", **extra: Any) -> Settings:
    return Settings(openai_base_url=fake.base_url, model=model, model_max_retries=0, **extra)


def _agent(settings: Settings, role: str, cfg: AgentsConfig | None = None, **info: Any) -> RoleAgent:
    cfg = cfg or load_agents_config(settings=settings)
    if info:
        cfg.roles[role].model_info = {**cfg.default_model_info, **info}
    return resolve_role_models(settings, cfg)[role].role_agent(Prices(0.0, 0.0))


async def _run(state: RunState, settings: Settings) -> tuple[RunState, list[TranscriptEvent]]:
    events: list[TranscriptEvent] = []
    async with turn_context(settings, state.brief) as ctx:
        for _ in range(200):
            if state.terminal:
                break
            outcome = await run_step(state, ctx)
            state, events = outcome.state, [*events, *outcome.events]
    return state, events


def _request(role: str) -> str:
    state = make_state(deny=["x"])
    state.ideas = []
    if role == "generator":
        return generate_request(state, 2)
    return f"{markers.TITLE_LINE.format(title='Tidal market for kitchens')}\nAnswer."


# 1. Reasoning models' parameters ------------------------------------------------------------


@pytest.mark.parametrize("model", ["o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "openai/o3"])
def test_reasoning_families_get_their_parameters_without_configuration(model: str) -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:1/v1", model=model)
    for rm in resolve_role_models(settings, load_agents_config(settings=settings)).values():
        sent = rm.request_params()
        assert "temperature" not in sent and "max_tokens" not in sent
        assert sent["max_completion_tokens"] > rm.max_tokens and sent["reasoning_effort"] == "low"


def test_chat_models_keep_temperature_and_max_tokens() -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:1/v1", model="gpt-4o-mini")
    judge = resolve_role_models(settings, load_agents_config(settings=settings))["judge"]
    assert judge.request_params() == {"max_tokens": 500, "temperature": 0.2}


def test_the_agents_file_and_the_role_override_the_family_key_by_key(tmp_path: Any) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(
        "default_model_info: {json_output: true, structured_output: true, family: unknown}\n"
        "model_params:\n"
        "  - {match: ['my-reasoner-*'], send_temperature: false, token_param: max_completion_tokens}\n"
        "  - {match: ['o3*'], reasoning_effort: high}\n"
        "roles:\n  generator: {}\n  skeptic: {params: {reasoning_effort: minimal}}\n  judge: {}\n",
        encoding="utf-8",
    )
    cfg = load_agents_config(path)
    assert cfg.params_for("judge", "My-Reasoner-7B") == ModelParams(
        send_temperature=False, token_param="max_completion_tokens"
    )
    assert cfg.params_for("judge", "o3-mini").reasoning_effort == "high"
    assert cfg.params_for("judge", "o3-mini").token_param == "max_completion_tokens"  # the family's
    assert cfg.params_for("skeptic", "o3-mini").reasoning_effort == "minimal"
    assert cfg.params_for("judge", "llama3").send_temperature is True


async def test_a_reasoning_model_runs_with_the_defaults() -> None:
    """`IDEAFORGE_MODEL=o3-mini`: every call was refused (temperature, max_tokens), and the run still
    ended `finished` with an empty shortlist and 0 tokens."""
    with FakeModelServer(modes=("reasoning",)) as fake:
        state, events = await _run(make_state(deny=["x"], rounds=1), _settings(fake, "o3-mini"))
        assert fake.state.refused == []
    assert state.stop_reason is StopReason.ROUNDS_DONE and not state.errors
    assert state.total_tokens > 0 and any(i.score for i in state.ideas)
    assert all(e.temperature is None for e in events if e.role != "system")


@pytest.mark.parametrize("forced", ["send_temperature: true", "token_param: max_tokens"])
async def test_a_refused_parameter_stops_the_run_at_once_with_the_message(forced: str, tmp_path: Any) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(
        "default_model_info: {json_output: true, structured_output: true, family: unknown}\n"
        f"roles:\n  generator: {{params: {{{forced}}}}}\n  skeptic: {{}}\n  judge: {{}}\n",
        encoding="utf-8",
    )
    with FakeModelServer(modes=("reasoning",)) as fake:
        settings = _settings(fake, "o3-mini", agents_file=path)
        with pytest.raises(ModelConfigError, match=r"Unsupported (parameter|value)") as raised:
            await _run(make_state(deny=["x"], rounds=2), settings)
        assert fake.state.requests["total"] == 1  # one call, not one failed call after another
    assert "generator model o3-mini" in str(raised.value) and "params" in str(raised.value)


# 2. Reasoning text before the answer ---------------------------------------------------------


@pytest.mark.parametrize("structured", [True, False])
@pytest.mark.parametrize("mode", ["thinking", "reasoning_content"])
async def test_reasoning_before_the_answer_is_kept_apart(structured: bool, mode: str) -> None:
    """R1/Qwen3: a <think> block quoting braces before the JSON made every call fail."""
    with FakeModelServer(modes=(mode,)) as fake:
        agent = _agent(_settings(fake), "judge", structured_output=structured)
        value, record = await ask_structured(agent, _request("judge"), ScoreAnswer)
        await agent.client.close()
    assert value is not None and record.ok and record.attempts == 1
    assert record.reasoning and "{" in record.reasoning and "<think>" not in record.reasoning
    assert "think" not in record.content and ScoreAnswer.model_validate_json(record.content)


async def test_the_transcript_keeps_the_reasoning_apart_from_the_answer() -> None:
    with FakeModelServer(modes=("thinking",)) as fake:
        state, events = await _run(make_state(deny=["x"], rounds=1), _settings(fake))
    calls = [e for e in events if e.role != "system"]
    assert calls and all(e.kind == "turn" and e.reasoning for e in calls)
    assert not any("<think>" in e.content for e in calls) and state.stop_reason is StopReason.ROUNDS_DONE


def test_split_reasoning_takes_everything_up_to_the_last_closing_tag() -> None:
    assert split_reasoning('<think>a {"x": 1}</think>\n{"y": 2}') == ('a {"x": 1}', '\n{"y": 2}')
    assert split_reasoning('opened in the prompt } </think>{"y": 2}') == (
        "opened in the prompt }",
        '{"y": 2}',
    )
    assert split_reasoning('{"y": 2}') == (None, '{"y": 2}')


# 3. Content filter ---------------------------------------------------------------------------


@pytest.mark.parametrize("structured", [True, False])
@pytest.mark.parametrize("role", ["generator", "skeptic", "judge"])
async def test_a_filtered_answer_fails_that_call_only(role: str, structured: bool) -> None:
    """Azure's finish_reason content_filter (content null) raised ContentFilterFinishReasonError out of
    the turn (structured) or was re-asked and paid twice (text)."""
    with FakeModelServer() as fake:
        fake.add_faults(Fault(kind="content_filter", role=role))
        agent = _agent(_settings(fake), role, structured_output=structured)
        value, record = await ask_structured(agent, _request(role), ROLE_SCHEMAS[role])
        await agent.client.close()
        assert fake.state.requests["total"] == 1
    assert value is None and record.attempts == 1
    assert record.error is not None and record.error.startswith("content_filter")
    assert len(record.requests) == 1 and record.completion_tokens > 0  # charged all the same


async def test_a_filtered_critique_leaves_the_idea_unshortlisted_and_the_run_untouched() -> None:
    with FakeModelServer() as fake:
        fake.add_faults(Fault(kind="content_filter", role="skeptic"))
        state, events = await _run(make_state(deny=["x"], rounds=1, ideas_per_round=3), _settings(fake))
        assert fake.state.requests["skeptic"] == 3  # the other ideas' critiques were not paid again
    [failed] = [e for e in events if e.kind == "error" and e.role == "skeptic"]
    assert "content_filter" in failed.content and failed.completion_tokens > 0
    idea = state.idea(failed.idea_id or "")
    assert idea.alive and idea.critique is None and idea.score is None
    assert state.stop_reason is StopReason.ROUNDS_DONE
    others = [i for i in state.ideas if i.id != idea.id and i.alive]
    assert others and all(i.critique for i in others)
    from agents.ranking import build_shortlist

    shortlist = build_shortlist(state, min_matches=0)
    assert idea.id not in [e.idea_id for e in shortlist.ideas] and shortlist.ideas


async def test_a_filtered_prompt_fails_that_call_only() -> None:
    """Azure refuses a filtered prompt with a 400 whose code is content_filter: not a config error."""
    with FakeModelServer() as fake:
        agent = _agent(_settings(fake), "judge")
        fake.add_faults(Fault(kind="status", status=400, code="content_filter", role="judge"))
        value, record = await ask_structured(agent, _request("judge"), ScoreAnswer)
        await agent.client.close()
    assert value is None and record.error is not None and record.error.startswith("content_filter")


# 4. Truncated answers ------------------------------------------------------------------------


def test_the_generator_asks_for_what_its_cap_can_hold() -> None:
    state = make_state(ideas_per_round=5)
    assert markers.requested_count(generate_request(state, 2)) == 5
    assert markers.requested_count(generate_request(state, 2, 300)) == ideas_for_cap(300, 5) == 2
    assert ideas_for_cap(10, 5) == 1 and ideas_for_cap(None, 5) == 5


@pytest.mark.parametrize("structured", [True, False])
async def test_a_truncated_answer_is_reasked_for_fewer_ideas(structured: bool) -> None:
    """At finish_reason length the call was re-asked unchanged and failed again."""
    with FakeModelServer() as fake:
        fake.add_faults(Fault(kind="length", role="generator"))
        agent = _agent(_settings(fake), "generator", structured_output=structured)
        value, record = await ask_structured(agent, _request("generator"), IdeaBatch)
        await agent.client.close()
    assert value is not None and record.ok and record.attempts == 2
    assert len(value.ideas) == ideas_for_cap(1200, 3 // 2) == 1
    assert len(record.requests) == 2  # the cut-off answer is charged too


async def test_a_truncated_answer_names_the_setting_that_set_the_cap() -> None:
    with FakeModelServer() as fake:
        fake.add_faults(*[Fault(kind="length")] * 4)
        local = Settings(local_model_port=fake.port, local_max_tokens=64, model_max_retries=0)
        agent = _agent(local, "generator")
        _, record = await ask_structured(agent, _request("generator"), IdeaBatch)
        await agent.client.close()
        hosted = _settings(fake)
        agent = _agent(hosted, "skeptic")
        _, hosted_record = await ask_structured(agent, _request("skeptic"), CritiqueAnswer)
        await agent.client.close()
    assert record.error is not None and "finish_reason length" in record.error
    assert "64-token cap set by IDEAFORGE_LOCAL_MAX_TOKENS=64" in record.error and record.attempts == 2
    assert hosted_record.error is not None and "max_tokens: 600 of role skeptic" in hosted_record.error
    assert str(hosted.agents_file) in hosted_record.error


async def test_the_cap_mode_cuts_long_answers_and_the_shorter_reask_fits() -> None:
    with FakeModelServer(modes=("cap",)) as fake:
        cfg = load_agents_config(settings=_settings(fake))
        cfg.roles["generator"].max_tokens = 100
        agent = _agent(_settings(fake), "generator", cfg)
        state = make_state(ideas_per_round=4)
        value, record = await ask_structured(agent, generate_request(state, 2), IdeaBatch)
        await agent.client.close()
    assert value is not None and record.attempts == 2 and len(value.ideas) == 1


async def test_the_embedded_cap_sizes_every_generator_call_so_nothing_is_cut_off() -> None:
    with FakeModelServer(modes=("cap",)) as fake:
        local = Settings(local_model_port=fake.port, local_max_tokens=300, model_max_retries=0)
        state, events = await _run(make_state(deny=["x"], rounds=1, ideas_per_round=6), local)
    generated = [e for e in events if e.role == "generator"]
    assert [e.kind for e in generated] == ["turn"] * 3  # the round topped up: 3 attempts, none cut off
    assert len(state.ideas) == 3 * ideas_for_cap(300, 6)


# 5. Usage on every path ----------------------------------------------------------------------


async def test_fenced_answers_are_counted_and_the_token_budget_stops_the_run() -> None:
    """An Ollama-style endpoint wrapping JSON in a fence: a 3000-token budget ran all 3 rounds."""
    with FakeModelServer(modes=("fenced",)) as fake:
        brief = {"deny": ["x"], "rounds": 3, "budget": {"max_tokens": 3000}}
        state, events = await _run(make_state(**brief), _settings(fake))
    assert state.stop_reason is StopReason.TOKEN_BUDGET and state.round == 1
    assert state.total_tokens == sum(e.prompt_tokens + e.completion_tokens for e in events) > 0


def _charged(record: CallRecord) -> int:
    return record.prompt_tokens + record.completion_tokens


@pytest.mark.parametrize("kind", ["bad_schema", "length", "content_filter", "empty"])
async def test_every_response_with_usage_is_charged(kind: str) -> None:
    with FakeModelServer() as fake:
        fake.add_faults(Fault(kind=kind, role="judge"), Fault(kind=kind, role="judge"))
        agent = _agent(_settings(fake), "judge")
        _, record = await ask_structured(agent, _request("judge"), ScoreAnswer)
        await agent.client.close()
        assert len(record.requests) == record.attempts == fake.state.requests["total"]
    assert _charged(record) > 0


# 11. The endpoint on every event -------------------------------------------------------------


def test_the_endpoint_label_never_carries_a_secret() -> None:
    url = "https://user:s3cret@example.openai.azure.com:8443/openai/v1?api-key=k3y#frag"
    assert endpoint_label(url) == "https://example.openai.azure.com:8443/openai/v1"
    assert endpoint_label("http://[::1]:11434/v1") == "http://[::1]:11434/v1"
    assert endpoint_label(None) is None


async def test_every_call_event_records_its_endpoint() -> None:
    with FakeModelServer() as fake:
        _, events = await _run(make_state(deny=["x"], rounds=1), _settings(fake))
    calls = [e for e in events if e.role != "system"]
    assert calls and {e.endpoint for e in calls} == {fake.base_url}


def test_modes_are_set_over_http_and_an_unknown_one_is_refused() -> None:
    import httpx

    with FakeModelServer() as fake:
        root = fake.base_url.removesuffix("/v1")
        assert httpx.post(f"{root}/_control/config", json={"modes": ["fenced", "cap"]}).json()["modes"] == [
            "cap",
            "fenced",
        ]
        refused = httpx.post(f"{root}/_control/config", json={"modes": ["telepathy"]})
        assert refused.status_code == 400 and "telepathy" in refused.text
        assert httpx.get(f"{root}/_control/stats").json()["modes"] == ["cap", "fenced"]
