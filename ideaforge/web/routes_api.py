"""The HTTP API: runs, transcripts (JSON or Server-Sent Events), shortlists, verdicts, queues, health."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from agents.brief import Brief, parse_brief
from agents.errors import StoreUnavailable
from agents.ids import RUN_ID
from agents.state import DecisionWord, RunStatus
from ideaforge.render import run_detail, run_summary
from ideaforge.web import views
from ideaforge.web.deps import Deps
from ideaforge.web.metrics import render_metrics
from ideaforge.web.sse import STREAM_ID, transcript_stream, valid_stream_id

router = APIRouter()

IDEA_ID = r"^[A-Za-z0-9_-]{1,64}$"
RunId = Annotated[str, Path(pattern=RUN_ID.pattern, description="The run id.")]
IdeaId = Annotated[str, Path(pattern=IDEA_ID, description="The idea id within the run (e.g. i3).")]


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The Brief's JSON schema with its `$defs` inlined, for the OpenAPI request body."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return dict(walk(schema))


BRIEF_SCHEMA = _inline_refs(Brief.model_json_schema())
RUN_LINKS = {
    name: {"operationId": op, "parameters": {"run_id": "$response.body#/id"}}
    for name, op in (("GetRun", "get_run"), ("GetShortlist", "get_shortlist"), ("CancelRun", "cancel_run"))
}


class VerdictIn(BaseModel):
    """A person's decision on an idea."""

    model_config = ConfigDict(extra="forbid")

    decision: DecisionWord
    note: str = Field(default="", max_length=2000)


class SteerIdeaIn(BaseModel):
    """A person's own idea for the run (lengths: settings `steer_title_max_chars`, `_summary_`)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=20_000)
    summary: str = Field(max_length=20_000)


class SteerIn(BaseModel):
    """A steer: a note for the next Generator turn and/or an idea, by `author` (a name; stored as
    "human:<name>"; none: "anonymous"). Limits are settings (`steer_*`), checked by the facade."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=20_000)
    idea: SteerIdeaIn | None = None
    author: str | None = Field(default=None, max_length=100)


def deps(request: Request) -> Deps:
    return request.app.state.deps  # type: ignore[no-any-return]


# --- runs --------------------------------------------------------------------------------------
@router.post(
    "/runs",
    operation_id="create_run",
    status_code=201,
    tags=["runs"],
    summary="Submit a brief; returns the new run id",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BRIEF_SCHEMA}}}
    },
    responses={
        201: {"description": "The run was stored and its first turn enqueued.", "links": RUN_LINKS},
        422: {"description": "The brief breaks a rule; `detail` says which field and why."},
    },
)
async def create_run(request: Request) -> JSONResponse:
    body = await request.body()  # at most limits.BRIEF_MAX_BYTES (BodyLimitMiddleware)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(422, "invalid brief: the body must be a JSON object") from None
    except RecursionError:
        raise HTTPException(422, "invalid brief: the body is nested too deeply to be a brief") from None
    brief = parse_brief(data)
    d = deps(request)
    run_id = await run_in_threadpool(d.forge.submit, brief)
    state = await run_in_threadpool(d.forge.get_run, run_id)
    return JSONResponse({"id": run_id, "run": run_summary(state)}, status_code=201)


@router.get("/runs", operation_id="list_runs", tags=["runs"], summary="List runs, newest first")
def list_runs(
    request: Request,
    status: Annotated[RunStatus | None, Query(description="Only runs with this status.")] = None,
    schedule: Annotated[str | None, Query(max_length=100, description="Only runs of this schedule.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    d = deps(request)
    states = d.forge.list_runs(
        status=status.value if status else None, schedule=schedule or None, limit=limit, offset=offset
    )
    return {
        "runs": [run_summary(s) for s in states],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(states) == limit else None,
    }


@router.get(
    "/runs/{run_id}",
    operation_id="get_run",
    tags=["runs"],
    summary="One run: status, progress, ideas, usage and cost",
)
def get_run(request: Request, run_id: RunId) -> dict[str, Any]:
    d = deps(request)
    return run_detail(d.forge.get_run(run_id))


@router.get(
    "/runs/{run_id}/events",
    operation_id="get_events",
    tags=["runs"],
    summary="The transcript; with follow=1, a live Server-Sent Events stream",
    responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}},
)
async def get_events(
    request: Request,
    run_id: RunId,
    follow: Annotated[bool, Query(description="Stream live (SSE) until the run stops.")] = False,
    after: Annotated[
        str | None, Query(pattern=STREAM_ID.pattern, description="Only events after this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    last_event_id: Annotated[str | None, Header(pattern=STREAM_ID.pattern)] = None,
) -> Response:
    start = after or last_event_id or "0-0"
    if not valid_stream_id(start):
        raise HTTPException(422, f"not an event id: {start!r} (expected e.g. 1700000000000-0)")
    d = deps(request)
    await run_in_threadpool(d.forge.get_run, run_id)  # 404 for an unknown run
    if follow:
        stream = transcript_stream(d.forge, run_id, start, views.event_json)
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    entries = await run_in_threadpool(d.forge.events, run_id, start, limit)
    return JSONResponse(
        {
            "events": [views.event_json(eid, e) for eid, e in entries],
            "next": entries[-1][0] if entries else start,
        }
    )


@router.get(
    "/runs/{run_id}/shortlist",
    operation_id="get_shortlist",
    tags=["runs"],
    summary="The ranked shortlist (provisional while running)",
)
def get_shortlist(request: Request, run_id: RunId) -> dict[str, Any]:
    forge = deps(request).forge
    state = forge.get_run(run_id)
    return views.shortlist_json(*forge.current_shortlist(state))


@router.post(
    "/runs/{run_id}/cancel",
    operation_id="cancel_run",
    status_code=202,
    tags=["runs"],
    summary="Stop a run gracefully (409 if it has stopped already)",
)
def cancel_run(request: Request, run_id: RunId) -> dict[str, Any]:
    return run_summary(deps(request).forge.cancel(run_id))


@router.post(
    "/runs/{run_id}/ideas/{idea_id}/verdict",
    operation_id="set_verdict",
    tags=["runs"],
    summary="A person accepts or rejects an idea, with a note",
)
def set_verdict(request: Request, run_id: RunId, idea_id: IdeaId, verdict: VerdictIn) -> dict[str, Any]:
    """Stored on the idea (kept through later turns) and in the idea ledger, like `ideaforge verdict`."""
    forge = deps(request).forge
    state, _entry = forge.record_verdict(run_id, idea_id, verdict.decision, verdict.note)
    return {
        "idea": state.idea(idea_id).model_dump(mode="json"),
        "shortlist": views.shortlist_json(*forge.current_shortlist(state)),
    }


@router.post(
    "/runs/{run_id}/steer",
    operation_id="steer_run",
    status_code=202,
    tags=["runs"],
    summary="A person's note or idea for the run's next Generator turn",
    responses={
        202: {"description": "Stored; the run's next Generator turn uses it."},
        404: {"description": "No such run."},
        409: {"description": "The run has stopped, has no Generator turn left, has too many steers "
              "waiting, or steering is switched off."},
        422: {"description": "The steer breaks a rule (empty, too long, a bad author)."},
    },
)
def steer_run(request: Request, run_id: RunId, body: SteerIn) -> dict[str, Any]:
    """Like `ideaforge steer`: the note goes into the next Generator request as data; the idea joins
    the pool and is filtered (reported, never dropped), critiqued and judged like the others."""
    forge = deps(request).forge
    idea = (body.idea.title, body.idea.summary) if body.idea is not None else None
    steers = forge.steer(run_id, note=body.note, idea=idea, author=body.author)
    return {"steers": [s.model_dump(mode="json") for s in steers], "run": run_summary(forge.get_run(run_id))}


# --- operations --------------------------------------------------------------------------------
@router.get(
    "/queues",
    operation_id="queues",
    tags=["operations"],
    summary="Queue depths, workers and their turns, failed turns",
)
def queues(request: Request) -> dict[str, Any]:
    d = deps(request)
    return d.forge.queue_report()


@router.get(
    "/health",
    operation_id="health",
    tags=["operations"],
    summary="Liveness and Redis reachability (no token needed)",
)
def health(request: Request) -> JSONResponse:
    d = deps(request)
    try:
        d.forge.ping()
    except StoreUnavailable as exc:
        return JSONResponse({"status": "unavailable", "redis": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "redis": "ok"})


@router.get(
    "/metrics",
    operation_id="metrics",
    tags=["operations"],
    summary="Prometheus metrics: runs by status, turns, tokens, model latency",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(request: Request) -> Response:
    d = deps(request)
    return Response(render_metrics(d.forge), media_type=CONTENT_TYPE_LATEST)
