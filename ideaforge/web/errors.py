"""Known failures become clear JSON answers with the right status; never a traceback."""

from __future__ import annotations

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agents.errors import (
    IdeaNotFound,
    InvalidBrief,
    InvalidPayload,
    InvalidSteer,
    RunAlreadyFinished,
    RunNotFound,
    SteerRefused,
    StoreUnavailable,
)


def install_error_handlers(app: FastAPI, redis_location: str) -> None:
    """Map the known errors to JSON answers; `redis_location` (the URL without its password) names
    where Redis was tried when it cannot be reached."""

    def answer(status: int, message: str) -> JSONResponse:
        return JSONResponse({"detail": message}, status_code=status)

    @app.exception_handler(RunNotFound)
    async def _not_found(_: Request, exc: RunNotFound) -> JSONResponse:
        return answer(404, str(exc))

    @app.exception_handler(IdeaNotFound)
    async def _no_idea(_: Request, exc: IdeaNotFound) -> JSONResponse:
        return answer(404, str(exc))

    @app.exception_handler(InvalidBrief)
    async def _bad_brief(_: Request, exc: InvalidBrief) -> JSONResponse:
        return answer(422, f"invalid brief: {exc}")

    @app.exception_handler(RunAlreadyFinished)
    async def _finished(_: Request, exc: RunAlreadyFinished) -> JSONResponse:
        return answer(409, str(exc))

    @app.exception_handler(InvalidSteer)
    async def _bad_steer(_: Request, exc: InvalidSteer) -> JSONResponse:
        return answer(422, f"invalid steer: {exc}")

    @app.exception_handler(SteerRefused)
    async def _steer_refused(_: Request, exc: SteerRefused) -> JSONResponse:
        return answer(409, str(exc))

    @app.exception_handler(InvalidPayload)
    async def _corrupt(_: Request, exc: InvalidPayload) -> JSONResponse:
        return answer(500, str(exc))

    @app.exception_handler(StoreUnavailable)
    async def _store(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return answer(503, str(exc))

    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    async def _redis(_: Request, exc: redis.RedisError) -> JSONResponse:
        return answer(503, f"cannot reach Redis at {redis_location}: {exc}")
