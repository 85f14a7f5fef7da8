"""One structured request to one role: ask, validate, re-ask once, record what happened.

Usage and cost are recorded per HTTP request to the model, as each response arrives: the client's
HTTP layer calls `record_usage` (installed by `agents.models.RoleModel.create_client`), which
reads the raw response body and charges its `usage` to the `CallRecord` in flight, so every
response that carried usage counts, whatever the client library does with it next: a re-ask after
an invalid answer, a repaired (fenced) answer, an answer cut off at the cap, a filtered answer, an
error status. The same hook notes the response's `finish_reason` and reasoning text.

How an answer can fail, and what happens (never raised for one call's content):
- invalid or wrapped JSON: repaired (code fences, prose, `<think>` reasoning), else re-asked once
  with the error;
- `finish_reason: length`: re-asked once, shorter (fewer ideas: `agents.answer_size`); the error
  names the setting that set the cap;
- `finish_reason: content_filter` (or a 400 with code `content_filter`): that call fails at once,
  its error naming `content_filter`;
- a 400/422 that names a request parameter ("Unsupported parameter: 'temperature'"): a
  configuration error (`ModelConfigError`) that stops the run with the endpoint's message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import openai
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import StructuredMessage, TextMessage
from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient
from openai.types.chat import ParsedChatCompletion
from pydantic import BaseModel, ValidationError

from agents.answer_size import ideas_for_cap
from agents.errors import ModelConfigError, ModelUnavailable
from agents.prompts.markers import requested_count
from agents.prompts.requests import reask_request, shorter_request, with_schema

T = TypeVar("T", bound=BaseModel)

# openai's parse() result trips a harmless pydantic serializer warning inside autogen.
warnings.filterwarnings("ignore", message="Pydantic serializer warnings")
# autogen warns when an endpoint names its model otherwise than autogen's alias table (a proxy, a
# fake, a self-hosted server): noise in every worker log, nothing to act on.
warnings.filterwarnings("ignore", message="Resolved model mismatch")

# pydantic caches parametrized generic models only weakly: once the last reference goes, the next
# garbage collection drops the class and the next use rebuilds it (pydantic schema generation,
# 2-5 ms of CPU). Each structured call uses `StructuredMessage[schema]` (autogen, per agent),
# `ParsedChatCompletion[ResponseFormatT]` (openai's parse()) and `ParsedChatCompletion[Any]`
# (autogen's client); these strong references keep each one built once per process.
_PINNED_GENERICS: dict[object, object] = {}


def _pin_generics(key: object, build: Callable[[], object]) -> None:
    if key not in _PINNED_GENERICS:
        try:
            _PINNED_GENERICS[key] = build()
        except Exception:  # a library version without the type: nothing to keep
            _PINNED_GENERICS[key] = None


def _openai_parsed_types() -> object:
    from openai.lib._parsing import ResponseFormatT

    return (ParsedChatCompletion[ResponseFormatT], ParsedChatCompletion[Any])  # type: ignore[valid-type]


def pin_structured_types(schema: type[BaseModel]) -> None:
    """Build (once per process) and keep the generic classes a structured call with `schema` uses."""
    _pin_generics(schema, lambda: StructuredMessage[schema])  # type: ignore[valid-type]
    _pin_generics(ParsedChatCompletion, _openai_parsed_types)


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.IGNORECASE)
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RECORDED_CHARS = 8000
CONTENT_FILTER = "content_filter"
# A 400/422 whose message says the endpoint refused one of the request's parameters.
_PARAMETER_REFUSED = re.compile(
    r"unsupported (?:parameter|value)|unrecognized (?:request )?argument|unknown parameter|"
    r"extra (?:fields|inputs) (?:are )?not permitted|is not supported with this model|"
    r"does not support",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Prices:
    """USD per 1,000 tokens of one role's model; None = unknown (a hosted endpoint without configured
    prices). The embedded local model costs 0 (known). Built by `workers.runtime` from settings."""

    prompt_per_1k: float | None
    completion_per_1k: float | None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for one request's tokens; None when a price it needs is unknown."""
        if (prompt_tokens and self.prompt_per_1k is None) or (
            completion_tokens and self.completion_per_1k is None
        ):
            return None
        return (
            prompt_tokens * (self.prompt_per_1k or 0.0) + completion_tokens * (self.completion_per_1k or 0.0)
        ) / 1000


@dataclass(frozen=True)
class RequestUsage:
    """One HTTP request's tokens as the model reported them, and its cost (USD; None = unknown)."""

    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


@dataclass(frozen=True)
class AnswerCap:
    """A role's answer cap: `tokens` per answer, and `setting`, the setting that set it as a person
    would change it (e.g. "IDEAFORGE_LOCAL_MAX_TOKENS=500"), named when an answer is cut off."""

    tokens: int
    setting: str


@dataclass
class CallRecord:
    """What one agent call did, for the transcript and usage accounting.

    `requests` holds one entry per HTTP response that reported usage (the re-ask is a second one);
    `latency_ms` is the whole call's wall time in milliseconds; `temperature` None: none was sent
    (the model's default); `endpoint`: the endpoint as `agents.models.endpoint_label` writes it;
    `reasoning`: the model's reasoning text (`<think>` blocks, `reasoning_content`), kept apart
    from `content`, the answer; `finish_reason`: the last response's.
    """

    role: str
    model: str
    temperature: float | None
    prompt: list[dict[str, str]]
    prompt_hash: str
    latency_ms: float = 0.0
    requests: list[RequestUsage] = field(default_factory=list)
    content: str = ""
    error: str | None = None
    attempts: int = 0
    endpoint: str | None = None
    reasoning: str | None = None
    finish_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.requests)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.requests)

    @property
    def cost_usd(self) -> float | None:
        """USD over the call's requests; None when any request's price is unknown."""
        costs = [r.cost_usd for r in self.requests]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


@dataclass(frozen=True)
class RoleAgent:
    """A role bound to a live client for the duration of one job; `prices` price its requests.

    `temperature` None: the client sends none; `endpoint`: recorded on each call; `cap`: the
    answer cap the client sends (None: unknown, e.g. a test client).
    """

    role: str
    system_prompt: str
    client: ChatCompletionClient
    model: str
    temperature: float | None
    structured: bool
    prices: Prices
    endpoint: str | None = None
    cap: AnswerCap | None = None


# The call whose HTTP responses are being counted (set by `ask_structured` for its duration; each
# asyncio task has its own copy, so concurrent calls are counted apart).
_IN_FLIGHT: ContextVar[tuple[CallRecord, Prices] | None] = ContextVar("ideaforge_call", default=None)
# Told (role, request) of every response charged in the turn attempt in progress, committed or not
# (set by the queue job around a turn: `workers.jobs`), so a turn that never commits is counted too.
ON_CHARGE: ContextVar[Callable[[str, RequestUsage], None] | None] = ContextVar(
    "ideaforge_charge", default=None
)


async def record_usage(response: httpx.Response) -> None:
    """httpx response hook: note a model response on the call in flight, as it arrives.

    Reads the raw body (whatever the client library does with it afterwards): its `usage` is
    charged to the call (one `RequestUsage`, priced by the call's `Prices`), and its first choice's
    `finish_reason` and reasoning text (`reasoning_content` / `reasoning` fields, `<think>` blocks
    in the content) are kept on the `CallRecord`. Responses outside a call and bodies that are
    not JSON are ignored; never raises for the response's content.
    """
    meter = _IN_FLIGHT.get()
    if meter is None:
        return
    await response.aread()
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    record, prices = meter
    usage = body.get("usage")
    if isinstance(usage, dict):
        prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        request = RequestUsage(prompt, completion, prices.cost(prompt, completion))
        record.requests.append(request)
        charged = ON_CHARGE.get()
        if charged is not None:
            charged(record.role, request)
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    if choice is None:
        return
    finish = choice.get("finish_reason")
    record.finish_reason = finish if isinstance(finish, str) else None
    message = choice.get("message")
    if not isinstance(message, dict):
        return
    parts = [message.get(k) for k in ("reasoning_content", "reasoning")]
    content = message.get("content")
    if isinstance(content, str):
        parts.append(split_reasoning(content)[0])
    found = "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if found:
        record.reasoning = "\n\n".join(filter(None, [record.reasoning, found]))[:MAX_RECORDED_CHARS]


def _count(value: object) -> int:
    """A token count from a usage object: a non-negative int, 0 for anything else."""
    return value if isinstance(value, int) and value > 0 else 0


def split_reasoning(text: str) -> tuple[str | None, str]:
    """Split a model's text into (reasoning, answer).

    Reasoning models (DeepSeek R1, Qwen3, ...) write `<think>...</think>` (or `<thinking>`,
    `<reasoning>`) before the answer; some templates open the block in the prompt, so the text
    starts inside it and only the closing tag shows. Everything up to the last closing tag is
    reasoning (tags removed), the rest is the answer. Text without a closing tag is all answer.
    """
    closes = list(_THINK_CLOSE.finditer(text))
    if not closes:
        return None, text
    reasoning = _THINK_OPEN.sub("", _THINK_CLOSE.sub("", text[: closes[-1].start()])).strip()
    return reasoning or None, text[closes[-1].end() :]


def prompt_hash(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS
    return isinstance(
        exc, openai.APIConnectionError | openai.APITimeoutError | httpx.TransportError | asyncio.TimeoutError
    )


def parse_json_answer(text: str, schema: type[T]) -> T:
    """Validate a text answer, repairing the usual wrapping: reasoning before the answer
    (`split_reasoning`), code fences, prose around the object. Raises ValidationError."""
    cleaned = _FENCE.sub("", split_reasoning(text)[1].strip()).strip()
    try:
        return schema.model_validate_json(cleaned)
    except ValidationError:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        if start == -1 or end <= start:
            raise
        return schema.model_validate_json(cleaned[start : end + 1])


def _repair_rejected(exc: BaseException, schema: type[T]) -> T | None:
    """autogen rejects fenced or wrapped JSON before we see it; the raw text rides on the error."""
    if not isinstance(exc, ValidationError):
        return None
    raw = next((e.get("input") for e in exc.errors() if e["type"] == "json_invalid"), None)
    if not isinstance(raw, str):
        return None
    try:
        return parse_json_answer(raw, schema)
    except ValueError:
        return None


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
        )
        return f"invalid answer: {problems}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _error_body(exc: openai.APIStatusError) -> dict[str, Any]:
    """The `error` object of an endpoint's error response (OpenAI's shape), or {}."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    return error if isinstance(error, dict) else {}


def _endpoint_message(exc: openai.APIStatusError) -> str:
    """The endpoint's own words for an error response (capped at 500 characters)."""
    message = _error_body(exc).get("message")
    return (message if isinstance(message, str) and message else exc.message)[:500]


def _names_a_parameter(exc: openai.APIStatusError) -> bool:
    """A 400/422 that refuses one of the request's parameters (not the messages)."""
    if exc.status_code not in (400, 422):
        return False
    error = _error_body(exc)
    code = str(error.get("code") or "")
    param = error.get("param")
    if code in ("unsupported_parameter", "unsupported_value"):
        return True
    if isinstance(param, str) and param and param != "messages":
        return True
    return bool(_PARAMETER_REFUSED.search(_endpoint_message(exc)))


def _is_content_filter(exc: openai.APIStatusError) -> bool:
    """Azure's refusal of a filtered prompt: a 400 whose error code is `content_filter`."""
    return exc.status_code == 400 and str(_error_body(exc).get("code") or "") == CONTENT_FILTER


def _truncated_error(agent: RoleAgent, record: CallRecord) -> str:
    """The error of an answer cut off at the cap, naming the setting that set the cap."""
    used = record.requests[-1].completion_tokens if record.requests else None
    at = f" after {used} tokens" if used else ""
    if agent.cap is None:
        return f"finish_reason length: the answer was cut off{at} (the endpoint's answer limit)"
    return (
        f"finish_reason length: the answer was cut off{at} at the {agent.cap.tokens}-token cap "
        f"set by {agent.cap.setting}"
    )


async def ask_structured(agent: RoleAgent, request: str, schema: type[T]) -> tuple[T | None, CallRecord]:
    """Ask once; on an unusable answer re-ask once; never raise for one call's content.

    Returns (the validated answer or None, the call's record). An invalid answer is re-asked with
    the error; an answer cut off at the cap (`finish_reason: length`) is re-asked shorter (half as
    many ideas for an ideas request, per `agents.answer_size.ideas_for_cap`); a filtered answer
    (`content_filter`) fails the call at once. Transient endpoint failures (after the client's own
    retries) raise ModelUnavailable so the queue can retry the turn; a misconfigured endpoint
    (401/403/404, or a 400 that refuses a request parameter) raises ModelConfigError.
    """
    user_text = request if agent.structured else with_schema(request, schema.model_json_schema())
    messages = [{"role": "system", "content": agent.system_prompt}, {"role": "user", "content": user_text}]
    record = CallRecord(
        role=agent.role,
        model=agent.model,
        temperature=agent.temperature,
        prompt=messages,
        prompt_hash=prompt_hash(messages),
        endpoint=agent.endpoint,
    )
    if agent.structured:
        pin_structured_types(schema)
    assistant = AssistantAgent(
        name=agent.role,
        model_client=agent.client,
        system_message=agent.system_prompt,
        output_content_type=schema if agent.structured else None,
    )
    started = time.perf_counter()
    text = user_text
    metering = _IN_FLIGHT.set((record, agent.prices))
    try:
        for attempt in (1, 2):
            record.attempts = attempt
            record.finish_reason = None
            value = await _attempt(assistant, text, schema, record)
            if value is not None:
                record.error = None
                return value, record
            if record.finish_reason == CONTENT_FILTER:
                record.error = f"{CONTENT_FILTER}: the endpoint's content filter withheld the answer"
                return None, record
            if record.finish_reason == "length":
                record.error = _truncated_error(agent, record)
                cap = agent.cap.tokens if agent.cap else None
                asked = requested_count(request)
                count = ideas_for_cap(cap, asked // 2) if asked else None
                text = shorter_request(cap, count, schema.model_json_schema())
            else:
                text = reask_request(record.error or "invalid answer", schema.model_json_schema())
        return None, record
    except openai.APIError as exc:
        if is_transient(exc):
            raise ModelUnavailable(f"{agent.role} model {agent.model}: {_short_error(exc)}") from exc
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError | openai.NotFoundError):
            raise ModelConfigError(f"{agent.role} model {agent.model}: {_short_error(exc)}") from exc
        if isinstance(exc, openai.APIStatusError) and _is_content_filter(exc):
            record.error = (
                f"{CONTENT_FILTER}: the content filter refused the request: {_endpoint_message(exc)}"
            )
            return None, record
        if isinstance(exc, openai.APIStatusError) and _names_a_parameter(exc):
            raise ModelConfigError(
                f"{agent.role} model {agent.model} refused a request parameter (set the role's `params` "
                f"in the agents file): {_endpoint_message(exc)}"
            ) from exc
        record.error = _short_error(exc)
        return None, record
    except (TimeoutError, httpx.TransportError) as exc:
        raise ModelUnavailable(f"{agent.role} model {agent.model}: {_short_error(exc)}") from exc
    finally:
        _IN_FLIGHT.reset(metering)
        record.latency_ms = round((time.perf_counter() - started) * 1000, 1)


async def _attempt(assistant: AssistantAgent, text: str, schema: type[T], record: CallRecord) -> T | None:
    """One request and its answer: the validated value, or None with `record.error` (and the
    response's `finish_reason`, noted by `record_usage`) saying why."""
    try:
        response = await assistant.on_messages(
            [TextMessage(content=text, source="user")], CancellationToken()
        )
    except openai.ContentFilterFinishReasonError:
        record.finish_reason = CONTENT_FILTER
        return None
    except openai.LengthFinishReasonError:
        record.finish_reason = "length"
        return None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        repaired = _repair_rejected(exc, schema)
        if repaired is not None:
            record.content = repaired.model_dump_json()
            return repaired
        record.error = _short_error(exc)
        return None
    message = response.chat_message
    try:
        if isinstance(message, StructuredMessage):
            value = schema.model_validate(message.content.model_dump())
        else:
            raw = message.to_model_text()
            record.content = raw[:MAX_RECORDED_CHARS]
            value = parse_json_answer(raw, schema)
    except ValidationError as exc:
        record.error = _short_error(exc)
        return None
    record.content = value.model_dump_json()
    return value
