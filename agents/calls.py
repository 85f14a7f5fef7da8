"""One structured request to one role: ask, validate, re-ask once, record what happened.

Usage and cost are recorded per HTTP request to the model, as each response arrives: the client's
HTTP layer calls `record_usage` (installed by `agents.models.RoleModel.create_client`), which
charges the response's `usage` to the `CallRecord` in flight, so a re-ask after an invalid answer,
and an answer that later fails validation, are each counted.
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

from agents.errors import ModelConfigError, ModelUnavailable
from agents.prompts.requests import reask_request, with_schema

T = TypeVar("T", bound=BaseModel)

# openai's parse() result trips a harmless pydantic serializer warning inside autogen.
warnings.filterwarnings("ignore", message="Pydantic serializer warnings")

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
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RECORDED_CHARS = 8000


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


@dataclass
class CallRecord:
    """What one agent call did, for the transcript and usage accounting.

    `requests` holds one entry per HTTP response that reported usage (the re-ask is a second one);
    `latency_ms` is the whole call's wall time in milliseconds.
    """

    role: str
    model: str
    temperature: float
    prompt: list[dict[str, str]]
    prompt_hash: str
    latency_ms: float = 0.0
    requests: list[RequestUsage] = field(default_factory=list)
    content: str = ""
    error: str | None = None
    attempts: int = 0

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
    """A role bound to a live client for the duration of one job; `prices` price its requests."""

    role: str
    system_prompt: str
    client: ChatCompletionClient
    model: str
    temperature: float
    structured: bool
    prices: Prices


# The call whose HTTP responses are being counted (set by `ask_structured` for its duration; each
# asyncio task has its own copy, so concurrent calls are counted apart).
_IN_FLIGHT: ContextVar[tuple[CallRecord, Prices] | None] = ContextVar("ideaforge_call", default=None)
# Told (role, request) of every response charged in the turn attempt in progress, committed or not
# (set by the queue job around a turn: `workers.jobs`), so a turn that never commits is counted too.
ON_CHARGE: ContextVar[Callable[[str, RequestUsage], None] | None] = ContextVar(
    "ideaforge_charge", default=None
)


async def record_usage(response: httpx.Response) -> None:
    """httpx response hook: charge a model response's `usage` to the call in flight, as it arrives.

    Responses without a usage object (errors, other endpoints) and responses outside a call are
    ignored. Never raises for the response's content.
    """
    meter = _IN_FLIGHT.get()
    if meter is None:
        return
    await response.aread()
    try:
        body = response.json()
    except ValueError:
        return
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return
    record, prices = meter
    prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    request = RequestUsage(prompt, completion, prices.cost(prompt, completion))
    record.requests.append(request)
    charged = ON_CHARGE.get()
    if charged is not None:
        charged(record.role, request)


def prompt_hash(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS
    return isinstance(
        exc, openai.APIConnectionError | openai.APITimeoutError | httpx.TransportError | asyncio.TimeoutError
    )


def parse_json_answer(text: str, schema: type[T]) -> T:
    """Validate a text answer, repairing the usual wrapping (code fences, prose around the object)."""
    cleaned = _FENCE.sub("", text.strip()).strip()
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


async def ask_structured(agent: RoleAgent, request: str, schema: type[T]) -> tuple[T | None, CallRecord]:
    """Ask once; on an invalid answer re-ask once with the error; never raise for bad content.

    Transient endpoint failures (after the client's own retries) raise ModelUnavailable so the
    queue can retry the turn; a misconfigured endpoint raises ModelConfigError.
    """
    user_text = request if agent.structured else with_schema(request, schema.model_json_schema())
    messages = [{"role": "system", "content": agent.system_prompt}, {"role": "user", "content": user_text}]
    record = CallRecord(
        role=agent.role,
        model=agent.model,
        temperature=agent.temperature,
        prompt=messages,
        prompt_hash=prompt_hash(messages),
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
            try:
                response = await assistant.on_messages(
                    [TextMessage(content=text, source="user")], CancellationToken()
                )
            except (ValueError, openai.LengthFinishReasonError) as exc:  # ValidationError is a ValueError
                repaired = _repair_rejected(exc, schema)
                if repaired is not None:
                    record.content = repaired.model_dump_json()
                    record.error = None
                    return repaired, record
                record.error = _short_error(exc)
            else:
                message = response.chat_message
                try:
                    if isinstance(message, StructuredMessage):
                        value = schema.model_validate(message.content.model_dump())
                        record.content = message.content.model_dump_json()
                    else:
                        raw = message.to_model_text()
                        record.content = raw[:MAX_RECORDED_CHARS]
                        value = parse_json_answer(raw, schema)
                        record.content = value.model_dump_json()
                    record.error = None
                    return value, record
                except ValidationError as exc:
                    record.error = _short_error(exc)
            text = reask_request(record.error or "invalid answer", schema.model_json_schema())
        return None, record
    except openai.APIError as exc:
        if is_transient(exc):
            raise ModelUnavailable(f"{agent.role} model {agent.model}: {_short_error(exc)}") from exc
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError | openai.NotFoundError):
            raise ModelConfigError(f"{agent.role} model {agent.model}: {_short_error(exc)}") from exc
        record.error = _short_error(exc)
        return None, record
    except (TimeoutError, httpx.TransportError) as exc:
        raise ModelUnavailable(f"{agent.role} model {agent.model}: {_short_error(exc)}") from exc
    finally:
        _IN_FLIGHT.reset(metering)
        record.latency_ms = round((time.perf_counter() - started) * 1000, 1)
