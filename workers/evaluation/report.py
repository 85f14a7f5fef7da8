"""The eval's reports: `eval.json` (raw), `eval.md` (tables and definitions) and `eval.html` (the
same with plots: win rates, the yield curve, a 2-D map of the ideas coloured by arm; matplotlib)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from agents.text import md_text
from workers.evaluation.evaluate import ARMS, DEFINITIONS, EvalResult


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _rate(wr: dict[str, Any]) -> str:
    if wr["rate"] is None:
        return "— (no judged pair)"
    interval = f"[{wr['low']:.2f}, {wr['high']:.2f}]"
    return f"{wr['rate']:.2f} {interval} ({wr['pairs']} pairs, {wr['topics']} topics)"


ARM_ROWS = (
    ("ideas", "ideas kept"),
    ("near_known_share", "share near a known answer"),
    ("nearest_known_cosine", "mean nearest-known cosine"),
    ("mean_pairwise_cosine", "mean pairwise cosine"),
    ("clusters", "clusters"),
    ("tokens", "tokens (prompt + completion)"),
    ("wall_s", "wall time (s)"),
    ("tokens_per_kept", "tokens per kept idea"),
    ("seconds_per_kept", "seconds per kept idea"),
)


def markdown(result: EvalResult) -> str:
    """The Markdown report: models, the overall table, per-topic tables, and every definition; topics,
    titles and errors (untrusted) through `agents.text.md_text`."""
    judge = f"`{result.judge_model}`"
    if result.self_evaluation:
        judge += (
            " — **self-evaluation**: the judge is the model that generated both arms' ideas; the "
            "literature names self-evaluation as unreliable, so read the win rates with care"
        )
    lines = [
        "# ideaforge eval: pipeline vs single-prompt baseline",
        "",
        f"- generating model: `{result.generator_model}` (endpoint {result.endpoint or 'default'})",
        f"- judge model: {judge}",
        f"- embedder: `{result.embedder}`; thresholds: "
        + ", ".join(f"{k} = {v}" for k, v in result.thresholds.items()),
        f"- topics: {len(result.topics)}; sampled pairs per topic: {result.pairs_per_topic} (both orders);"
        f" seed {result.seed}",
        "",
        "## Overall",
        "",
        "Pipeline win rate (95% bootstrap interval over topics):",
        "",
        f"- novelty: {_rate(result.overall['novelty'])}",
        f"- feasibility: {_rate(result.overall['feasibility'])}",
        "",
        "| metric (mean over topics) | pipeline | baseline |",
        "|---|---|---|",
    ]
    lines += [
        f"| {label} | {_fmt(result.overall['pipeline'][key])} | {_fmt(result.overall['baseline'][key])} |"
        for key, label in ARM_ROWS
    ]
    for t in result.topics:
        m = t.metrics
        lines += [
            "",
            f"## {md_text(t.topic)}",
            "",
            f"pipeline run `{t.pipeline.run_id}`: {t.pipeline.status}"
            + (f" ({md_text(t.pipeline.stop_detail)})" if t.pipeline.stop_detail else "")
            + f"; baseline asked for {t.baseline.asked} ideas with a {t.baseline.cap_tokens}-token answer cap"
            + (f", error: {md_text(t.baseline.error)}" if t.baseline.error else "")
            + f"; judged pairs {m['judged_pairs']}, failed {m['failed_pairs']}"
            + f", judge tokens {m['judge_tokens']}",
            "",
            "| metric | pipeline | baseline |",
            "|---|---|---|",
        ]
        lines += [f"| {name} | {_fmt(m['pipeline'][k])} | {_fmt(m['baseline'][k])} |" for k, name in ARM_ROWS]
        lines.append(
            f"| unique yield per round | {', '.join(map(_fmt, m['pipeline']['yield_curve'])) or '—'} "
            f"| {', '.join(map(_fmt, m['baseline']['yield_curve']))} |"
        )
        for arm in ARMS:
            ideas = getattr(t, arm).ideas
            lines += ["", f"{arm} ideas:", ""] + [f"{k + 1}. {md_text(i.title)}" for k, i in enumerate(ideas)]
    lines += ["", "## Definitions", ""] + [f"- **{k}**: {v}" for k, v in result.definitions.items()]
    return "\n".join(lines) + "\n"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def plots(result: EvalResult) -> list[tuple[str, str]]:
    """(title, base64 PNG) for the win rates, the pipeline's yield curves and the 2-D map."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    out: list[tuple[str, str]] = []
    fig, ax = plt.subplots(figsize=(5, 3))
    names = ["novelty", "feasibility"]
    rates = [result.overall[n]["rate"] or 0.0 for n in names]
    errs = [
        [r - (result.overall[n]["low"] or r) for n, r in zip(names, rates, strict=True)],
        [(result.overall[n]["high"] or r) - r for n, r in zip(names, rates, strict=True)],
    ]
    ax.bar(names, rates, yerr=errs, capsize=6, color=["#4c72b0", "#55a868"])
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("pipeline win rate")
    out.append(("Pipeline win rate vs baseline (95% bootstrap interval over topics)", _png(fig)))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3))
    for t in result.topics:
        curve = [v if v is not None else float("nan") for v in t.metrics["pipeline"]["yield_curve"]]
        ax.plot(range(1, len(curve) + 1), curve, marker="o", label=t.topic[:30])
    ax.set_xlabel("round")
    ax.set_ylabel("kept / generated")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=6)
    out.append(("Unique yield per round (pipeline)", _png(fig)))
    plt.close(fig)
    for t in result.topics:
        fig, ax = plt.subplots(figsize=(4, 3))
        for arm, colour in zip(ARMS, ("#4c72b0", "#dd8452"), strict=True):
            pts = t.map_xy[arm]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=colour, label=arm)
        ax.legend(fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        out.append((f"2-D map (PCA of embeddings): {t.topic}", _png(fig)))
        plt.close(fig)
    return out


def html_report(result: EvalResult, md: str) -> str:
    """The HTML report: the plots as inline PNGs, then the Markdown report as preformatted text."""
    figures = "".join(
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{png}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
        for title, png in plots(result)
    )
    return (  # the figures' titles and the report are escaped: ideas are untrusted text
        '<!doctype html><html><head><meta charset="utf-8"><title>ideaforge eval</title></head><body>'
        f"<h1>ideaforge eval</h1>{figures}<pre>{html.escape(md)}</pre></body></html>\n"
    )


def write_report(result: EvalResult, out_dir: Path) -> list[Path]:
    """Writes eval.json, eval.md and eval.html into `out_dir` (created); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = markdown(result)
    files = {
        "eval.json": result.model_dump_json(indent=2),
        "eval.md": md,
        "eval.html": html_report(result, md),
    }
    paths = []
    for name, text in files.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


ARMS_COLUMNS = (
    ("novelty", "novelty win rate [95%]"),
    ("feasibility", "feasibility win rate [95%]"),
    ("ideas", "ideas kept"),
    ("near_known_share", "near known"),
    ("nearest_known_cosine", "nearest-known cos"),
    ("mean_pairwise_cosine", "pairwise cos"),
    ("clusters", "clusters"),
    ("tokens_per_kept", "tokens / kept"),
    ("seconds_per_kept", "s / kept"),
)


def _short_rate(wr: dict[str, Any]) -> str:
    if wr["rate"] is None:
        return "—"
    return f"{wr['rate']:.2f} [{wr['low']:.2f}, {wr['high']:.2f}]"


def arms_markdown(results: list[EvalResult]) -> str:
    """One row per arm (the pipeline's overall values; win rates against the shared baseline), then
    the baseline's own row, so each mechanism's before/after reads down one column."""
    first = results[0]
    judge = first.judge_model + (" (self-evaluation)" if first.self_evaluation else "")
    lines = [
        "# ideaforge eval: mechanisms before and after",
        "",
        f"- generating model: `{first.generator_model}`; judge: `{judge}`; topics: {len(first.topics)}; "
        f"pairs per topic: {first.pairs_per_topic} (both orders); seed {first.seed}",
        "- each row is the pipeline with one mechanism switched off (`full`: all on); every arm is judged "
        "against the same baseline ideas; the last row is the baseline itself",
        "",
        "| arm | " + " | ".join(label for _, label in ARMS_COLUMNS) + " |",
        "|---" * (len(ARMS_COLUMNS) + 1) + "|",
    ]
    for r in results:
        o = r.overall
        cells = [_short_rate(o[name]) if name in ("novelty", "feasibility") else _fmt(o["pipeline"][name])
                 for name, _ in ARMS_COLUMNS]
        lines.append(f"| {r.arm} | " + " | ".join(cells) + " |")
    b = first.overall["baseline"]
    cells = ["—" if name in ("novelty", "feasibility") else _fmt(b[name]) for name, _ in ARMS_COLUMNS]
    lines.append("| baseline (one prompt) | " + " | ".join(cells) + " |")
    lines += ["", "Definitions: see each arm's eval.md; " + DEFINITIONS["arms"]]
    return "\n".join(lines) + "\n"


def write_arms_report(results: list[EvalResult], out_dir: Path) -> list[Path]:
    """Writes arms.md (`arms_markdown`) and arms.json (each arm's name, mechanisms off and overall
    values) into `out_dir` (created); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [{"arm": r.arm, "mechanisms_off": r.mechanisms_off, "overall": r.overall} for r in results]
    md_path, json_path = out_dir / "arms.md", out_dir / "arms.json"
    md_path.write_text(arms_markdown(results), encoding="utf-8")
    json_path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return [md_path, json_path]
