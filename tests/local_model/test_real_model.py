"""The real embedded model (0.5B) answers autogen's structured-output request with valid JSON."""

from __future__ import annotations

import socket

import pytest
from pydantic import BaseModel, Field

from config.settings import Settings
from ideaforge.local_model import ensure_local_server, stop_local_server

MODEL = "qwen2.5-coder-0.5b"

# openai warns while serialising its own parsed answer (autogen passes a pydantic response_format)
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


class Idea(BaseModel):
    title: str = Field(min_length=3)
    summary: str = Field(min_length=10)


class Ideas(BaseModel):
    ideas: list[Idea] = Field(min_length=1)


async def test_real_model_gives_schema_valid_json() -> None:
    from autogen_core.models import SystemMessage, UserMessage
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the model directory is the default cache, so the assembled file is reused across runs
    settings = Settings(local_model=MODEL, local_model_port=port, local_model_start_timeout_s=60)
    endpoint = ensure_local_server(settings)
    try:
        assert endpoint.started_by_us and endpoint.model == MODEL
        client = OpenAIChatCompletionClient(
            model=endpoint.model,
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            model_info=endpoint.model_info,  # type: ignore[arg-type]
            temperature=0.0,
            max_tokens=600,
        )
        try:
            result = await client.create(
                [
                    SystemMessage(content="You propose new, original ideas. Answer with JSON only."),
                    UserMessage(
                        content="Give two short ideas for reducing food waste in offices.", source="user"
                    ),
                ],
                json_output=Ideas,
            )
        finally:
            await client.close()
        assert isinstance(result.content, str)
        ideas = Ideas.model_validate_json(result.content)
        assert ideas.ideas and all(idea.title.strip() for idea in ideas.ideas)
        assert result.usage.completion_tokens > 0
    finally:
        stop_local_server(settings, pid=endpoint.pid)
