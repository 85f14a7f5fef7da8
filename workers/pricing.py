"""What a role's model costs: USD per 1,000 prompt and completion tokens, per (endpoint, model).

Each of the two prices comes from the first of these that has it:

1. `IDEAFORGE_PRICES` (`Settings.prices`): a model's own `[prompt, completion]`;
2. `IDEAFORGE_PROMPT_PRICE_PER_1K` / `IDEAFORGE_COMPLETION_PRICE_PER_1K`: every hosted model;
3. the price table of genai-prices (below), for the endpoint and the model;
4. else unknown (None), never 0: the run's cost is then reported as unknown.

The embedded local model costs 0 (a known price), whatever is configured.

The table is genai-prices, Pydantic's maintained price list (also used by Pydantic AI and Logfire):
pure data and pydantic, no network at run time (its opt-in `UpdatePrices` is not used, so a price
is the one of the pinned release, reproducible), providers recognised by their API URL and models
by name and dated aliases. Rejected: tokencost (last release 2025, pulls tiktoken and anthropic)
and litellm's price JSON (only shipped inside litellm, far too heavy for a table). Version pinned
in pyproject.toml: a new release changes prices, so it is upgraded on purpose.

The endpoint picks the table's provider when the table knows its URL (OpenAI, Azure OpenAI,
OpenRouter, Groq, ...; no base URL means OpenAI's): a model that provider does not list is
unknown. On an endpoint the table does not know (a proxy, a gateway, a self-hosted server) the
model's name alone decides, at its maker's list price; a self-hosted model the table happens to
know is priced so too, unless `IDEAFORGE_PRICES` says otherwise (e.g. `[0, 0]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from agents.brief import Brief
from agents.errors import InvalidBrief, ModelConfigError
from config.settings import Settings

if TYPE_CHECKING:  # the model clients (1 s of imports): the submit path loads them only when asked
    from agents.calls import Prices
    from agents.models import RoleModel

OPENAI_API_URL = "https://api.openai.com/v1"  # where the openai client goes when no base URL is set


@lru_cache(maxsize=64)
def table_prices(base_url: str | None, model: str) -> Prices | None:
    """The price table's USD per 1,000 prompt / completion tokens of `model` served at `base_url`
    (None: OpenAI's API); None when the table has no price for it. Never raises."""
    from genai_prices import Usage, calc_price  # 0.1 s of price data: imported only when asked
    from genai_prices.data_snapshot import get_snapshot

    from agents.calls import Prices

    url = base_url or OPENAI_API_URL
    try:
        get_snapshot().find_provider(None, None, url)
        known_endpoint = True
    except LookupError:
        known_endpoint = False
    try:
        calc = calc_price(
            Usage(input_tokens=1000, output_tokens=1000),
            model,
            provider_api_url=url if known_endpoint else None,
        )
    except LookupError:
        return None
    return Prices(float(calc.input_price), float(calc.output_price))


def role_prices(settings: Settings, role_model: RoleModel) -> Prices:
    """The one place a role's prices are decided (the order in this module's docstring): USD per
    1,000 tokens, 0 for the embedded local model, None for each price no source has."""
    from agents.calls import Prices

    if role_model.local:
        return Prices(0.0, 0.0)
    own = settings.prices.get(role_model.model)
    if own is not None:
        return Prices(*own)
    prompt, completion = settings.prompt_price_per_1k, settings.completion_price_per_1k
    if prompt is None or completion is None:
        table = table_prices(role_model.base_url, role_model.model) or Prices(None, None)
        prompt = table.prompt_per_1k if prompt is None else prompt
        completion = table.completion_per_1k if completion is None else completion
    return Prices(prompt, completion)


def unpriced(settings: Settings, role_models: Mapping[str, RoleModel]) -> dict[str, str]:
    """Role -> model name, for each role whose model has a prompt or completion price unknown."""
    prices = {role: role_prices(settings, rm) for role, rm in role_models.items()}
    return {
        role: role_models[role].model
        for role, p in prices.items()
        if p.prompt_per_1k is None or p.completion_per_1k is None
    }


def cost_budget_problem(brief: Brief, settings: Settings, role_models: Mapping[str, RoleModel]) -> str | None:
    """Why `brief`'s `budget.max_cost_usd` cannot be kept with these role models (some price is
    unknown), in one line naming the models and the settings that price them; None when it can
    (no cost budget, or every price known)."""
    budget = brief.budget.max_cost_usd
    missing = unpriced(settings, role_models) if budget is not None else {}
    if not missing:
        return None
    models = sorted(set(missing.values()))
    unknown = "; ".join(
        f"{model} ({', '.join(sorted(r for r, m in missing.items() if m == model))})" for model in models
    )
    example = ", ".join(f'"{m}": [PROMPT, COMPLETION]' for m in models)
    return (
        f"budget.max_cost_usd: ${budget:g} cannot be kept: no known price for {unknown}; set "
        f"IDEAFORGE_PRICES='{{{example}}}' (USD per 1,000 tokens) or "
        "IDEAFORGE_PROMPT_PRICE_PER_1K and _COMPLETION_PRICE_PER_1K, or drop the cost budget"
    )


def check_cost_budget_at_submit(brief: Brief, settings: Settings) -> None:
    """Raise InvalidBrief when `brief` has a cost budget and a model these settings resolve for it
    (its `model`, else the configured ones) has no known price."""
    from agents.models import resolve_role_models  # the model clients: imported only when asked
    from config.agents import load_agents_config

    if brief.budget.max_cost_usd is None:
        return
    roles = resolve_role_models(settings, load_agents_config(settings=settings), brief.model)
    problem = cost_budget_problem(brief, settings, roles)
    if problem is not None:
        raise InvalidBrief(problem)


def check_cost_budget_in_turn(brief: Brief, settings: Settings, role_models: Mapping[str, RoleModel]) -> None:
    """A worker's side of the same rule: raise ModelConfigError (a terminal error: the run ends
    `failed` with the message as its reason, before any request is paid) when the run has a cost
    budget and a role's model, as this worker's settings resolve it, has no known price."""
    problem = cost_budget_problem(brief, settings, role_models)
    if problem is not None:
        raise ModelConfigError(f"on this worker, {problem}")
