"""Warm a process up for model calls, with no network: run one structured and one plain call
through the real stack (autogen → openai → HTTP library) against an in-memory transport.

openai imports most of its modules lazily on the first call (`client.beta` alone is ~700 modules,
1-3 s); RQ's default worker forks a fresh work horse per job, so without this every job pays
those imports again. `workers.worker.build_worker` calls `warm_up()` once, before forking.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import openai
from autogen_agentchat.agents import AssistantAgent
from autogen_core.models import ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient
from pydantic import BaseModel

from agents import schemas
from agents.calls import Prices, RoleAgent, ask_structured, pin_structured_types, record_usage
from agents.models import shared_ssl_context

# the answer schemas the turns ask for: autogen uses a generic pydantic class per schema (built and
# kept once per process by pin_structured_types)
ANSWER_SCHEMAS: tuple[type[BaseModel], ...] = (
    schemas.CommonAnswers,
    schemas.UnaskedQuestions,
    schemas.ConceptPairs,
    schemas.IdeaBatch,
    schemas.CritiqueAnswer,
    schemas.ScoreAnswer,
)


class _WarmUpAnswer(BaseModel):
    ok: bool


def _canned(request: Any) -> Any:
    library = sys.modules[type(request).__module__.split(".")[0]]
    body = {
        "id": "chatcmpl-warm-up",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "warm-up",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": '{"ok": true}'}}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return library.Response(200, json=body)


async def _warm_calls() -> None:
    base = openai.DefaultAsyncHttpxClient.__mro__[1]
    library = sys.modules[base.__module__.split(".")[0]]
    for structured in (True, False):
        http_client = openai.DefaultAsyncHttpxClient(
            transport=library.MockTransport(_canned),
            verify=shared_ssl_context() or True,
            event_hooks={"response": [record_usage]},
        )
        info = ModelInfo(
            vision=False,
            function_calling=False,
            json_output=True,
            structured_output=structured,
            family="unknown",
        )
        client = OpenAIChatCompletionClient(  # type: ignore[call-arg]
            model="warm-up",
            api_key="warm-up",
            base_url="http://warm-up.invalid/v1",
            model_info=info,
            max_retries=0,
            http_client=http_client,
        )
        agent = RoleAgent(
            "warm_up", "Answer with JSON.", client, "warm-up", 0.0, structured, Prices(0.0, 0.0)
        )
        try:
            await ask_structured(agent, "warm up", _WarmUpAnswer)
            if structured:
                for schema in ANSWER_SCHEMAS:
                    pin_structured_types(schema)
                    AssistantAgent(name="warm_up", model_client=client, output_content_type=schema)
        finally:
            await client.close()


async def _warm_transport() -> None:
    """The HTTP transport's async backend (anyio), which the in-memory transport does not load."""
    import anyio

    await anyio.sleep(0)
    with contextlib.suppress(Exception):
        await (await anyio.connect_tcp("127.0.0.1", 9)).aclose()  # refused at once; loads socket streams


def warm_up() -> None:
    """Never raises: a failed warm-up only means the first real call pays the imports."""
    with contextlib.suppress(Exception):
        shared_ssl_context()
        asyncio.run(_warm_calls())
    with contextlib.suppress(Exception):
        asyncio.run(_warm_transport())
