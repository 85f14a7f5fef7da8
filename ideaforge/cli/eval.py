"""`ideaforge eval`: the pipeline against a single-prompt baseline on the same model (issue 14)."""

from __future__ import annotations

import secrets
import signal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.brief import Brief, Mechanisms
from agents.errors import InvalidInput, ModelUnavailable
from config.settings import get_settings
from ideaforge.cli.helpers import ExitCode, clean_errors, err, forge, out
from ideaforge.cli.model import ensure_model


class Baseline(StrEnum):
    """The arm the pipeline is compared with."""

    single_prompt = "single-prompt"


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def parse_arm(name: str) -> Mechanisms:
    """The mechanisms of arm `name`: "full" (all on) or "without-NAME" (NAME off). Raises InvalidInput
    (one line, exit 2) for any other name."""
    if name == "full":
        return Mechanisms()
    mechanism = name.removeprefix("without-")
    if mechanism == name or mechanism not in Mechanisms.model_fields:
        known = ", ".join(f"without-{m}" for m in Mechanisms.model_fields)
        raise InvalidInput(f"--arm: unknown arm {name!r}; use full or one of: {known}")
    return Mechanisms().without(mechanism)


@clean_errors
def eval(
    topics_file: Annotated[Path, typer.Argument(help="YAML: topics: [{topic: ..., known: [...]}]")],
    baseline: Annotated[Baseline, typer.Option(help="The arm to compare with.")] = Baseline.single_prompt,
    judge_model: Annotated[
        str | None, typer.Option(help="The judge's model on the Judge's endpoint (default: the Judge's).")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where eval.json, eval.md, eval.html go.")] = Path(
        "eval-report"
    ),
    rounds: Annotated[int | None, typer.Option(min=1, max=20, help="Rounds per brainstorm.")] = None,
    pairs: Annotated[int, typer.Option(min=1, max=200, help="Sampled idea pairs per topic.")] = 9,
    seed: Annotated[int, typer.Option(help="Seed of the pair sample and the bootstrap.")] = 0,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=32, help="Local workers.")] = 2,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the file's first N topics.")] = None,
    arm: Annotated[
        list[str] | None,
        typer.Option(
            "--arm",
            help="A pipeline arm (repeatable): full, or without-NAME with NAME one of "
            + ", ".join(Mechanisms.model_fields)
            + ". Several arms share the baseline; --out gets one folder per arm and arms.md.",
        ),
    ] = None,
) -> None:
    """Run each topic through an ideaforge brainstorm (own workers, own queue) and through one
    single-prompt call on the same model; a judge compares sampled idea pairs blind, in both orders.
    Writes eval.md, eval.json and eval.html to --out. Exit 3 (ExitCode.RUN_FAILED), after the
    reports, when a topic measured nothing (its run failed or kept no idea, the baseline gave none,
    no pair was judged; one line names them) or the model was unavailable; 2 for bad input."""
    from ideaforge.runner import WorkerPool

    settings = get_settings()
    f = forge()
    topics = f.load_eval_topics(topics_file)[:limit]
    if rounds is None and not settings.endpoint_configured:
        rounds = settings.local_default_rounds
    namespace = f"eval-{secrets.token_hex(4)}"  # the eval's runs neither read nor feed a real ledger

    fields: dict[str, Any] = {"namespace": namespace} | ({"rounds": rounds} if rounds is not None else {})
    names = arm or ["full"]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInput(f"--arm: {', '.join(repeated)} given more than once; name each arm once")
    arms = {name: parse_arm(name) for name in names}
    for topic in topics:  # every topic makes a valid brief before anything runs
        try:
            Brief(topic=topic.topic, **fields)
        except ValueError as exc:
            raise InvalidInput(f"topic {topic.topic[:60]!r}: {str(exc).splitlines()[-1]}") from None

    def on_topic(result: Any) -> None:  # a workers.evaluation TopicResult
        m = result.metrics
        out.print(
            f"{result.topic[:60]}: pipeline {m['pipeline']['ideas']} ideas ({result.pipeline.status}), "
            f"baseline {m['baseline']['ideas']}, {m['judged_pairs']} pairs judged",
            highlight=False,
            markup=False,
        )

    queue = f"ideaforge-eval-{secrets.token_hex(6)}"
    signal.signal(signal.SIGTERM, _exit_on_signal)
    stop_model = ensure_model(settings)
    pool = WorkerPool(workers, queue)
    try:
        pool.start()
        baselines: dict[str, Any] = {}
        unavailable = False
        results = []
        paths: list[Path] = []
        for name, mechanisms in arms.items():
            if len(arms) > 1:
                out.print(f"arm {name}", highlight=False, markup=False)
            try:
                results.append(f.evaluate(
                    topics, fields | {"mechanisms": mechanisms}, queue=queue,
                    workers_alive=lambda: pool.alive() > 0, judge_model=judge_model,
                    pairs_per_topic=pairs, seed=seed, on_topic=on_topic, arm=name, baselines=baselines,
                ))
                if len(arms) > 1:  # each finished arm is on disk at once (an interrupted eval keeps it)
                    paths += f.write_eval_report(results[-1], out_dir / name)
                    paths = [p for p in paths if p.name not in ("arms.md", "arms.json")]
                    paths += f.write_arms_report(results, out_dir)
            except ModelUnavailable as exc:  # like `ideaforge run`: the model's outage fails the work
                err.print(
                    f"error: arm {name}: the model is unavailable ({exc}); eval stopped, "
                    + ("reports of the finished arms follow" if results else "no report written"),
                    highlight=False, markup=False, soft_wrap=True,
                )
                unavailable = True
                break
    finally:
        pool.stop()
        stop_model()
    if not results:
        raise typer.Exit(ExitCode.RUN_FAILED)
    if len(arms) == 1:
        paths = f.write_eval_report(results[0], out_dir)
    for path in paths:
        err.print(f"wrote {path}", highlight=False, markup=False)
    for result in results:
        o = result.overall
        judge = result.judge_model + (" (self-evaluation)" if result.self_evaluation else "")
        out.print(
            f"{result.arm}: judge {judge}; pipeline win rate vs {baseline.value}: novelty "
            f"{o['novelty']['rate']}, feasibility {o['feasibility']['rate']}",
            highlight=False,
            markup=False,
        )
    failed = [line for result in results for line in result.failures()]
    if failed or unavailable:
        if failed:
            err.print(
                f"eval failed for {len(failed)} topic(s): " + "; ".join(failed),
                highlight=False, markup=False, soft_wrap=True,
            )
        raise typer.Exit(ExitCode.RUN_FAILED)
