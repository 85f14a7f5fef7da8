"""The run state: everything a brainstorm knows, advanced one step per queue job."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, computed_field, model_validator

from agents.brief import Brief, Strategy
from agents.errors import InvalidSteer, InvalidVerdict

STATE_VERSION: Literal[1] = 1


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL_STATUSES = frozenset({RunStatus.FINISHED, RunStatus.CANCELLED, RunStatus.FAILED})


class Phase(StrEnum):
    DERIVE_DENY = "derive_deny"  # every strategy: ask for the common answers (restrict: the deny-list)
    POSE_QUESTIONS = "pose_questions"  # question: turn the topic into never-asked questions
    PAIR_CONCEPTS = "pair_concepts"  # mix: draw distant pairs from the catalog (or the model proposes them)
    GENERATE = "generate"
    FILTER = "filter"  # code only: dedup and novelty
    CRITIQUE = "critique"
    META_REVIEW = "meta_review"  # the Judge's model sums up the flaws that recur across the round's critiques
    JUDGE = "judge"
    RANK = "rank"  # the Judge's pairwise Elo matches among the survivors
    STOP_CHECK = "stop_check"  # code only
    DONE = "done"


class StopReason(StrEnum):
    ROUNDS_DONE = "rounds_done"
    TOKEN_BUDGET = "token_budget"
    COST_BUDGET = "cost_budget"
    TIME_BUDGET = "time_budget"
    DRIED_UP = "dried_up"
    CANCELLED = "cancelled"
    ERROR = "error"


class Critique(BaseModel):
    model_config = ConfigDict(extra="ignore")

    flaws: list[str]
    strongest_objection: str
    fatal: bool


class Score(BaseModel):
    model_config = ConfigDict(extra="ignore")

    novelty: int = Field(ge=1, le=10)
    feasibility: int = Field(ge=1, le=10)
    rationale: str


Decision = Literal["accepted", "rejected"]
_DECISIONS: dict[str, Decision] = {
    "accept": "accepted",
    "accepted": "accepted",
    "reject": "rejected",
    "rejected": "rejected",
}


def parse_decision(word: str) -> Decision:
    """A verdict word as stored and printed (the past tense): `accept`/`accepted` -> "accepted",
    `reject`/`rejected` -> "rejected" (any case, surrounding blanks ignored); else InvalidVerdict."""
    found = _DECISIONS.get(word.strip().lower())
    if found is None:
        raise InvalidVerdict(f"a verdict is 'accept(ed)' or 'reject(ed)', got {word!r}")
    return found


def _decision_word(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_decision(value)
        except InvalidVerdict as exc:
            raise ValueError(str(exc)) from None
    return value


DecisionWord = Annotated[Decision, BeforeValidator(_decision_word)]
"""A pydantic field type: any verdict word in (`accept(ed)`, `reject(ed)`), validated to the past tense."""


class Verdict(BaseModel):
    """A person's decision on an idea."""

    decision: Decision
    note: str = ""
    at: float


class KnownItem(BaseModel):
    """One known thing an idea was compared with by the novelty filter: its text, where it comes from
    (`deny` | `common` | `ledger` | `prior_art`, or `run`: the earlier idea of this run a person's idea
    repeats) and the cosine similarity of the embeddings (-1..1)."""

    text: str
    source: str
    cosine: float


GENERATOR_AUTHOR = "generator"
"""`Idea.author` of an idea the Generator proposed."""
HUMAN_AUTHOR_PREFIX = "human:"
"""`Idea.author` / `Steer.author` of a person's input: "human:<name>" (`workers/steering.py` checks
the name)."""


AUTHOR_NAME = re.compile(r"^\w[\w .@'-]{0,39}$")
"""A person's name as steers record it: 1-40 characters, letters, digits, space, `.@'-_`."""
DEFAULT_AUTHOR = "anonymous"


def author_tag(name: str | None) -> str:
    """The author tag "human:<name>" of a person's `name` (None or blank: "anonymous"; a leading
    "human:" is taken as given). Raises InvalidSteer for a name `AUTHOR_NAME` does not match."""
    clean = (name or "").strip().removeprefix(HUMAN_AUTHOR_PREFIX).strip() or DEFAULT_AUTHOR
    if not AUTHOR_NAME.fullmatch(clean):
        raise InvalidSteer(
            f"author {clean[:60]!r}: 1-40 letters, digits, spaces or . @ ' - _, "
            "starting with a letter or digit"
        )
    return HUMAN_AUTHOR_PREFIX + clean


def is_human(author: str) -> bool:
    """True for a person's author tag ("human:<name>")."""
    return author.startswith(HUMAN_AUTHOR_PREFIX)


class Steer(BaseModel):
    """A person's input to a running brainstorm (`ideaforge steer`, `POST /runs/{id}/steer`, the run
    page), waiting for the run's next Generator turn, which consumes it.

    - `id`: "s1", "s2", ... in order of arrival within the run;
    - `author`: "human:<name>" (who said it; issue 18 audits and scopes it);
    - `kind`: "note" (`text`: a steering note, shown once to the Generator as data) or "idea"
      (`title`, `summary`: the person's own idea, which enters the pool as `idea_id`, author `author`,
      and is filtered, critiqued and judged like the others);
    - `at`: when it arrived (Unix seconds);
    - `used_step`: the step of the Generator turn that consumed it; None while it waits (or, on a
      stopped run, when the run stopped before another Generator turn: it was not used).
    Limits (lengths, pending count) are settings, checked in `workers/steering.py`.
    """

    id: str
    author: str
    kind: Literal["note", "idea"]
    text: str = ""
    title: str = ""
    summary: str = ""
    at: float
    used_step: int | None = None
    idea_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.used_step is None


Operator = Literal["new", "improve", "combine", "simplify", "human"]
"""How an idea came about (its lineage with `Idea.parents`; agents/evolution.py): "new" a fresh idea,
"improve" a variant of one survivor against its objection, "combine" two survivors from different
clusters in one idea, "simplify" one survivor cut to its core, "human" a person's idea."""


def operator_from_origin(data: object) -> object:
    """An idea's JSON (an `Idea`, a `ShortlistEntry`) stored before `operator` existed, given the
    operator its `origin` implies: "evolved" was an improved idea; anything else is returned as is."""
    if isinstance(data, dict) and "operator" not in data and data.get("origin") == "evolved":
        return {**data, "operator": "improve"}
    return data


class Idea(BaseModel):
    id: str
    title: str
    summary: str
    round: int
    operator: Operator = "new"  # its lineage: how it was made from `parents` (ids, in the order used)
    parents: list[str] = Field(default_factory=list)
    author: str = GENERATOR_AUTHOR  # "generator", or "human:<name>" for a person's idea (a `Steer`)
    angle: str | None = None  # the question answered or concepts combined
    critique: Critique | None = None
    score: Score | None = None
    elo: float = 1200.0
    matches: int = 0
    opponents: list[str] = Field(default_factory=list)  # ids met in Elo matches (pairs are not repeated)
    novelty_distance: float | None = None  # 1 - max cosine similarity to anything known
    nearest_known: list[KnownItem] = Field(default_factory=list)  # most similar known items, best first
    cluster: str | None = None  # id of the idea that founded its cluster (agents/novelty/clusters.py)
    duplicate_of: str | None = None
    dropped: str | None = None  # why it left the pool, if it did
    failure: str | None = None  # a model call about this idea that failed for good
    verdict: Verdict | None = None

    @property
    def alive(self) -> bool:
        return self.dropped is None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def origin(self) -> Literal["fresh", "evolved"]:
        """"evolved" for an idea made from earlier ones (improve, combine, simplify), else "fresh":
        derived from `operator`, kept in the JSON for readers of the older shape."""
        return "evolved" if self.operator in ("improve", "combine", "simplify") else "fresh"

    @model_validator(mode="before")
    @classmethod
    def _older_lineage(cls, data: object) -> object:
        return operator_from_origin(data)


class Usage(BaseModel):
    """Tokens and cost of one role's model requests in a run, counted per HTTP request as it returns.

    `cost_usd` is the sum over requests whose price is known (USD); `unpriced_calls` counts the
    requests whose model has no known price, so a run's cost can be reported as unknown, never as 0.
    """

    calls: int = 0  # agent calls (one transcript line each; a re-ask is within its call)
    prompt_tokens: int = 0  # summed over HTTP requests
    completion_tokens: int = 0
    failures: int = 0  # agent calls that ended without a usable answer
    cost_usd: float = 0.0
    unpriced_calls: int = 0  # HTTP requests whose price was unknown

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class RoundStats(BaseModel):
    """One round's counts: `attempts` Generator calls made (a round short of survivors asks again),
    `generated` ideas over all of them, `kept` of those through the filter (the unique yield)."""

    round: int
    attempts: int = 0
    generated: int = 0
    kept: int = 0

    @property
    def unique_yield(self) -> float:
        return self.kept / self.generated if self.generated else 0.0


class RunState(BaseModel):
    """Versioned; stored as JSON under one Redis key per run."""

    version: Literal[1] = STATE_VERSION
    run_id: str
    brief: Brief
    step: int = 0
    round: int = 1
    phase: Phase
    status: RunStatus = RunStatus.QUEUED
    created_at: float
    updated_at: float
    started_at: float | None = None
    finished_at: float | None = None
    ideas: list[Idea] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    concept_pairs: list[list[str]] = Field(default_factory=list)
    # the seed the mix pairs were drawn with from the concept catalog (agents/concepts/draw.py);
    # None: not drawn (the model proposed them, or the brief named the concepts)
    concept_seed: int | None = None
    # the common answers derived for a run not in restrict (in restrict they join `deny`): they
    # ground the Judge (nearest known items, source "common") and drop an idea only at or above
    # `novelty_deny_high`
    common_answers: list[str] = Field(default_factory=list)
    # the latest meta-review: flaws recurring across one round's critiques (capped), shown to the
    # Generator of the rounds after it
    meta_review: list[str] = Field(default_factory=list)
    new_idea_ids: list[str] = Field(default_factory=list)  # generated, not yet through the filter
    steers: list[Steer] = Field(default_factory=list)  # people's notes and ideas, in order of arrival
    usage: dict[str, Usage] = Field(default_factory=dict)
    # charged but not applied: tokens and cost the endpoint billed for requests of turn attempts that
    # never committed (a crash, a timeout, a retried turn, a lost compare-and-set), per role; counted
    # toward the budget, kept apart from `usage` (which the committed calls charged)
    unapplied: dict[str, Usage] = Field(default_factory=dict)
    queue: str | None = None  # the RQ queue its turns go on (None: the configured default)
    rounds: list[RoundStats] = Field(default_factory=list)
    cancel_requested: bool = False
    stop_reason: StopReason | None = None
    stop_detail: str | None = None
    errors: list[str] = Field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def alive_ideas(self) -> list[Idea]:
        return [idea for idea in self.ideas if idea.alive]

    def idea(self, idea_id: str) -> Idea:
        for idea in self.ideas:
            if idea.id == idea_id:
                return idea
        raise KeyError(idea_id)

    def pending_steers(self) -> list[Steer]:
        """The steers no Generator turn has consumed yet, oldest first."""
        return [s for s in self.steers if s.pending]

    def steer_notes_at(self, step: int) -> list[Steer]:
        """The notes the Generator turn of `step` consumed (what its request shows)."""
        return [s for s in self.steers if s.kind == "note" and s.used_step == step]

    def usage_for(self, role: str) -> Usage:
        return self.usage.setdefault(role, Usage())

    @property
    def total_tokens(self) -> int:
        """Tokens the endpoint charged so far: the committed calls' and the unapplied ones."""
        return sum(u.total_tokens for u in (*self.usage.values(), *self.unapplied.values()))

    @property
    def cost_usd(self) -> float | None:
        """USD spent so far, unapplied requests included; None (unknown) when any request's price
        was unknown."""
        spent = (*self.usage.values(), *self.unapplied.values())
        if any(u.unpriced_calls for u in spent):
            return None
        return sum(u.cost_usd for u in spent)

    def round_stats(self, round_no: int) -> RoundStats:
        for stats in self.rounds:
            if stats.round == round_no:
                return stats
        stats = RoundStats(round=round_no)
        self.rounds.append(stats)
        return stats


class TranscriptEvent(BaseModel):
    """One line of a run's transcript; enough to replay and audit the run."""

    run_id: str
    step: int
    round: int
    phase: str
    role: str  # generator | skeptic | judge | system | human (a person's steer)
    kind: Literal["turn", "system", "error", "steer"] = "turn"
    author: str | None = None  # kind "steer": who said it ("human:<name>"); None for every other event
    model: str | None = None
    endpoint: str | None = None  # scheme://host:port/path of the model endpoint (never a key)
    temperature: float | None = None  # None: none sent (the model's default), or no call
    prompt_hash: str | None = None
    prompt: list[dict[str, str]] | None = None
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # USD over the call's requests; None: unknown price (or no call)
    idea_id: str | None = None
    content: str
    reasoning: str | None = None  # the model's reasoning before its answer (`<think>`), apart from it
    ts: float


def strategy_phase(brief: Brief) -> Phase:
    """The strategy's own one-off preparation, else generate: `pose_questions` (question),
    `pair_concepts` (mix without the brief's concepts)."""
    if brief.strategy is Strategy.QUESTION:
        return Phase.POSE_QUESTIONS
    if brief.strategy is Strategy.MIX and not brief.concepts:
        return Phase.PAIR_CONCEPTS
    return Phase.GENERATE


def derives_common_answers(brief: Brief) -> bool:
    """Whether a run derives the common answers first: restrict whenever the brief lists no deny
    items (they become its deny-list); another strategy too when the brief's `common_answers`
    mechanism is on and it lists none."""
    if brief.deny:
        return False
    return brief.strategy is Strategy.RESTRICT or brief.mechanisms.common_answers


def first_phase(brief: Brief) -> Phase:
    """The phase a run starts with: `derive_deny` when it derives the common answers
    (`derives_common_answers`), else its strategy's preparation (`strategy_phase`)."""
    if derives_common_answers(brief):
        return Phase.DERIVE_DENY
    return strategy_phase(brief)


def new_run_state(brief: Brief, run_id: str, now: float) -> RunState:
    """Step 0 of a run: the brief's deny-list seeded, the phase it starts with (`first_phase`).

    `now` is a Unix timestamp in seconds. Imports nothing heavy, so submitting needs no model client.
    """
    return RunState(
        run_id=run_id,
        brief=brief,
        phase=first_phase(brief),
        created_at=now,
        updated_at=now,
        deny=list(brief.deny),
    )
