"""What a public front door may ask for: the checks `Submitter.submit` (workers/submit.py) applies
to every brief from the CLI, the HTTP API, the Python API and the queue intake job
(`workers.intake.submit_brief`).

- `schedule` and `schedule_slot` are set by the scheduler only (`Submitter.submit_scheduled`):
  a hand-submitted brief carrying them would pose as that schedule's run.
- `model` overrides the operator's models for all three roles, so a brief may name only a model
  the operator allows: one the roles are configured with (`IDEAFORGE_MODEL`, the per-role
  `IDEAFORGE_<ROLE>_MODEL`, `agents.yaml`) or one listed in `IDEAFORGE_BRIEF_MODELS` (a JSON list).
- `budget.max_cost_usd` needs a known price for every role's model, as the submitter's settings
  resolve them (workers/pricing.py): a budget nothing can count against is refused, not ignored.

All raise InvalidBrief, which every front door reports like any other invalid brief.
"""

from __future__ import annotations

from agents.brief import Brief
from agents.errors import InvalidBrief
from config.agents import load_agents_config
from config.settings import Settings
from workers.pricing import check_cost_budget_at_submit

SCHEDULER_FIELDS = ("schedule", "schedule_slot")


def allowed_brief_models(settings: Settings) -> frozenset[str]:
    """The model names a brief may choose: the roles' configured models plus `brief_models`."""
    from agents.models import resolve_role_models  # the model clients: imported only when asked

    roles = resolve_role_models(settings, load_agents_config(settings=settings))
    configured = {rm.model for rm in roles.values()}
    return frozenset(configured | set(settings.brief_models))


def check_public_brief(brief: Brief, settings: Settings) -> None:
    """Raise InvalidBrief when `brief` sets a scheduler-only field or a model the operator does not
    allow, or has a cost budget that a model without a known price could not keep."""
    taken = [name for name in SCHEDULER_FIELDS if getattr(brief, name) is not None]
    if taken:
        raise InvalidBrief(
            f"{' and '.join(taken)} {'is' if len(taken) == 1 else 'are'} set by the scheduler only; "
            "remove it from the brief (scheduled runs come from the schedules file)"
        )
    if brief.model is not None:
        allowed = allowed_brief_models(settings)
        if brief.model not in allowed:
            raise InvalidBrief(
                f"model: {brief.model!r} is not a model this server lets a brief choose "
                f"(allowed: {', '.join(sorted(allowed))}); operators list more in IDEAFORGE_BRIEF_MODELS"
            )
    check_cost_budget_at_submit(brief, settings)


def check_scheduled_brief(brief: Brief) -> None:
    """The scheduler's own door: its brief names the schedule and slot it was fired for."""
    if brief.schedule is None or brief.schedule_slot is None:
        raise InvalidBrief("a scheduled brief carries its schedule and schedule_slot")
