"""structlog, configured once: JSON off a TTY, a console renderer on one."""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


def configure_logging(level: str = "INFO", fmt: str = "auto", *, force: bool = False) -> None:
    """Set up structlog and route stdlib logging (RQ, httpx) through the same renderer."""
    global _configured
    if _configured and not force:
        return
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=True)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    handler.addFilter(_quiet_chatty_libraries)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _configured = True


_CHATTY = ("httpx", "httpcore", "openai", "autogen_core", "autogen_agentchat", "autogen_ext")


def _quiet_chatty_libraries(record: logging.LogRecord) -> bool:
    """HTTP clients and autogen log every request at INFO; keep only their warnings."""
    return record.levelno >= logging.WARNING or not record.name.startswith(_CHATTY)


def bind_turn(run_id: str, step: int, role: str | None = None) -> None:
    """Clear whatever the last job bound, then bind this turn's identity."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=run_id, step=step)
    if role:
        structlog.contextvars.bind_contextvars(role=role)
