"""What a run found: each case's figures beside their ceilings, written as JSON and Markdown."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """One figure of the platform beside the raw ceiling measured in the same run."""

    measure: str
    unit: str
    platform: float
    ceiling: float
    ceiling_name: str
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        """How close the platform runs to the ceiling: 1.0 is at the ceiling, 0.25 a quarter of
        it."""
        if not self.platform or not self.ceiling:
            return 0.0
        return (
            self.platform / self.ceiling if self.higher_is_better else self.ceiling / self.platform
        )


@dataclass
class Outcome:
    """What a case measured: its parameters, its comparisons and figures without a ceiling."""

    parameters: dict[str, Any] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseResult:
    case: str
    title: str
    seconds: float
    outcome: Outcome
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "title": self.title,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "parameters": self.outcome.parameters,
            "comparisons": [
                {**asdict(c), "ratio": round(c.ratio, 4)} for c in self.outcome.comparisons
            ],
            "figures": self.outcome.figures,
        }


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def markdown(
    mode: str, started: str, seconds: float, machine: dict[str, Any], cases: list[CaseResult]
) -> str:
    lines = [
        f"# aap bench — {mode} run of {started}",
        "",
        "Ratio: how close the platform runs to the raw ceiling measured in the same run on the "
        "same servers (1.00 = at the ceiling; platform ÷ ceiling for a rate, ceiling ÷ platform "
        "for a time). Only ratios travel between runs.",
        "",
        "| case | measure | platform | ceiling | ceiling is | ratio |",
        "|---|---|---:|---:|---|---:|",
    ]
    for result in cases:
        if result.error:
            lines.append(f"| {result.case} | **could not run**: {result.error} | | | | |")
            continue
        for c in result.outcome.comparisons:
            lines.append(
                f"| {result.case} | {c.measure} ({c.unit}) | {_number(c.platform)} | "
                f"{_number(c.ceiling)} | {c.ceiling_name} | {_ratio(c.ratio)} |"
            )
    lines += ["", "## Other figures", ""]
    for result in cases:
        extra = {**result.outcome.parameters, **result.outcome.figures}
        shown = ", ".join(f"{k} {v}" for k, v in extra.items())
        lines.append(f"- **{result.case}** ({result.seconds:.0f} s): {shown}")
    lines += ["", "## Machine", ""]
    lines += [f"- {name}: {value}" for name, value in machine.items()]
    lines += ["", f"Whole run: {seconds:.0f} s.", ""]
    return "\n".join(lines)


def write(
    folder: Path,
    mode: str,
    started: str,
    seconds: float,
    machine: dict[str, Any],
    cases: list[CaseResult],
) -> list[Path]:
    """<started>-<mode>.json and .md, and latest-<mode>.md; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{started.replace(':', '')}-{mode}"
    document = {
        "mode": mode,
        "started": started,
        "seconds": round(seconds, 1),
        "machine": machine,
        "cases": [c.as_json() for c in cases],
    }
    table = markdown(mode, started, seconds, machine, cases)
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    latest = folder / f"latest-{mode}.md"
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(table)
    latest.write_text(table)
    return [json_path, md_path, latest]
