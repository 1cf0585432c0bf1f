"""`python -m chaos [--quick] [--out chaos/results]`: run the scenarios, write their figures
(JSON and Markdown, with the machine's description) and exit 1 when an invariant breaks.
These are correctness checks, never timings."""

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import describe
from chaos import tampering
from shared.kernel.settings import Settings

SIZES = {  # dossiers, mutations, of which through PostgreSQL
    "quick": (50, 1_200, 120),
    "full": (200, 12_000, 1_200),
}


def markdown(run: dict[str, Any]) -> str:
    t = run["scenarios"]["tampering"]
    lines = [
        f"# aap chaos — {run['size']} run of {run['at']}",
        "",
        "Each scenario breaks things on purpose and counts what must be zero. A correctness "
        "check: the run fails when an invariant breaks, never on a timing.",
        "",
        "## Tampering",
        "",
        f"{t['dossiers']} dossiers' lives, {t['events']} events, hash-chained in PostgreSQL; "
        f"{t['mutations']} random mutations, each of one stream, audited as the store's audit does "
        f"(the chain recomputed, the event at the head published compared): "
        f"**{t['detected']} detected, {t['located']} located** at a version the mutation touched; "
        f"{t['through_postgresql']} of them also written to the real table and read back: "
        f"**{t['through_postgresql_detected']} detected**.",
        "",
        "| mutation | count | detected | located | through PostgreSQL | detected there |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, k in t["by_kind"].items():
        lines.append(
            f"| {kind} | {k['mutations']} | {k['detected']} | {k['located']} | "
            f"{k['through_postgresql']} | {k['through_postgresql_detected']} |"
        )
    lines += ["", f"Invariant: {t['invariant']} — **{'holds' if t['holds'] else 'BROKEN'}**."]
    if t["undetected"]:
        lines += ["", "Undetected: " + "; ".join(t["undetected"])]
    lines += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in run["machine"].items()]
    return "\n".join(lines) + "\n"


async def measure(size: str) -> dict[str, Any]:
    settings = Settings()
    dossiers, mutations, stored = SIZES[size]
    started = datetime.now(UTC)
    scenarios = {
        "tampering": await tampering.run(
            settings, dossiers=dossiers, mutations=mutations, stored=stored
        )
    }
    return {
        "size": size,
        "at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "machine": await describe(settings),
        "scenarios": scenarios,
    }


def write(run: dict[str, Any], out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{run['at'].replace(':', '')}-{run['size']}"
    (out / f"{stem}.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    (out / f"{stem}.md").write_text(markdown(run))
    print(markdown(run))
    broken = [name for name, s in run["scenarios"].items() if not s["holds"]]
    if broken:
        print(f"[chaos] invariant broken: {', '.join(broken)}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the small size, for CI")
    parser.add_argument("--out", type=Path, default=Path("chaos/results"))
    args = parser.parse_args()
    sys.exit(write(asyncio.run(measure("quick" if args.quick else "full")), args.out))
