"""`python -m chaos.fuzzing [--examples 1000] [--out chaos/results]` (`./dev fuzz`): schemathesis
over every operation of every service's OpenAPI, once per role with a valid token, at the full
size. It runs tests/e2e/test_openapi_fuzzing.py (on the platform the tests' fixtures start),
keeps each service and role's summary, writes the figures (JSON and Markdown, with the
machine's description) and exits 1 when any run found something.

A full run is longer than a working session on two cores: it may be run in parts (pytest's
`-k "payments or notifications"` passes through), each written as its own report, then
`--merge PART.json …` writes the whole, each run said with the part (date, commit) it is of;
the whole holds when every service × role ran, at the same size, and found nothing."""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import describe
from shared.kernel.settings import Settings

TEST = "tests/e2e/test_openapi_fuzzing.py"


def figures(summary: str) -> dict[str, Any]:
    """What schemathesis's summary says: operations tested, cases generated, failures by code."""
    tested = re.search(r"^\s*Tested: (\d+)", summary, re.MULTILINE)
    cases = re.search(r"^\s*(\d+) generated", summary, re.MULTILINE)
    failures = {
        f"{code} {title}": int(count)
        for code, title, count in re.findall(r"❌ (\S+) ([^:\n]+): (\d+)", summary)
    }
    return {
        "operations": int(tested.group(1)) if tested else None,
        "cases": int(cases.group(1)) if cases else None,
        "failures": failures,
    }


def markdown(run: dict[str, Any]) -> str:
    lines = [
        f"# aap fuzzing — {run['examples']} examples an operation, run of {run['at']}",
        "",
        *([f"> {run['partial']}", ""] if run.get("partial") else []),
        "schemathesis (its examples, coverage, fuzzing and stateful phases, a fixed seed) over "
        "every operation of each service's OpenAPI document, run as an outside client against "
        "the services running as processes, once per role with a valid token: every answer "
        "checked against its documented status and schema, no server error, every invalid "
        "input refused, a request without or with a wrong token refused.",
        "",
    ]
    parts = run.get("parts")
    if parts:
        lines += ["Run in parts:", ""] + [
            f"{n}. {part['at']}, commit {part['commit']}: {part['runs']} runs"
            for n, part in enumerate(parts, 1)
        ]
        lines.append("")
    lines += [
        "| service | role | operations | test cases | failures | time |"
        + (" part |" if parts else ""),
        "|---|---|---:|---:|---|---:|" + ("---:|" if parts else ""),
    ]
    for r in run["runs"]:
        found = ", ".join(f"{k}: {n}" for k, n in r["failures"].items()) or "0"
        if r["exit_code"] and not r["failures"]:
            found = f"run failed (exit {r['exit_code']}): see the JSON"
        lines.append(
            f"| {r['service']} | {r['role']} | {r['operations']} | {r['cases']} | {found} | "
            f"{r['seconds']} s |" + (f" {r['part']} |" if parts else "")
        )
    cases = sum(r["cases"] or 0 for r in run["runs"])
    lines += [
        "",
        f"{len(run['runs'])} runs, {cases} test cases in {run['seconds']} s: "
        + (
            f"**{'nothing found' if run['holds'] else 'FOUND SOMETHING'}**."
            if run.get("complete", True)
            else f"**incomplete** ({len(run['runs'])} of the {len(every_run())} service × role "
            "runs), "
            + (
                "nothing found in those."
                if not any(r["exit_code"] for r in run["runs"])
                else "SOMETHING FOUND in those."
            )
        ),
        "",
        "## Machine",
        "",
    ] + [f"- {k}: {v}" for k, v in run["machine"].items()]
    return "\n".join(lines) + "\n"


def measure(examples: int, pytest_args: list[str]) -> dict[str, Any]:
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="aap-fuzz-") as report:
        env = {**os.environ, "AAP_FUZZ_EXAMPLES": str(examples), "AAP_FUZZ_REPORT": report}
        pytest = [sys.executable, "-m", "pytest", TEST, "-q", *pytest_args]
        done = subprocess.run(pytest, env=env, check=False)
        runs = [json.loads(p.read_text()) for p in sorted(Path(report).glob("*.json"))]
    for r in runs:
        r.update(figures(r["summary"]))
    return {
        "examples": examples,
        "at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "pytest_exit_code": done.returncode,
        "holds": done.returncode == 0 and bool(runs) and not any(r["exit_code"] for r in runs),
        "machine": asyncio.run(describe(Settings())),
        "runs": runs,
    }


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def every_run() -> set[tuple[str, str]]:
    """Each service × role the fuzz test runs."""
    from shared.language.actors import Role
    from tests.e2e.conftest import SERVICES
    from tests.e2e.test_openapi_fuzzing import ROLES

    return {(service, Role(role).value) for service in SERVICES for role in ROLES}


def merged(parts: list[dict[str, Any]], commits: list[str]) -> dict[str, Any]:
    """One report of runs made in parts; a later part's run of a service × role stands."""
    by_run: dict[tuple[str, str], dict[str, Any]] = {}
    for n, part in enumerate(parts, 1):
        for r in part["runs"]:
            by_run[(r["service"], r["role"])] = {**r, "part": n}
    runs = [by_run[k] for k in sorted(by_run, key=lambda k: (_order(k[0]), k[1]))]
    sizes = {part["examples"] for part in parts}
    complete = set(by_run) == every_run() and len(sizes) == 1
    return {
        "examples": min(sizes),
        "at": max(part["at"] for part in parts),
        "seconds": round(sum(r["seconds"] for r in runs), 1),
        "parts": [
            {"at": part["at"], "commit": commit, "runs": sum(r["part"] == n for r in runs)}
            for n, (part, commit) in enumerate(zip(parts, commits, strict=True), 1)
        ],
        "holds": complete and not any(r["exit_code"] for r in runs),
        "complete": complete,
        "machine": parts[-1]["machine"],
        "runs": runs,
    }


def _order(service: str) -> int:
    from tests.e2e.conftest import SERVICES

    return SERVICES.index(service)


def write(run: dict[str, Any], out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{run['at'].replace(':', '')}-fuzz" + ("-parts" if run.get("parts") else "")
    (out / f"{stem}.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    (out / f"{stem}.md").write_text(markdown(run))
    print(markdown(run))
    return 0 if run["holds"] else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m chaos.fuzzing", description=__doc__)
    parser.add_argument("--examples", type=int, default=1000, help="examples an operation")
    parser.add_argument("--out", type=Path, default=Path("chaos/results"))
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="PART.json",
        help="write one report of these parts (each a report of this program)",
    )
    parser.add_argument(
        "--commits",
        nargs="+",
        metavar="COMMIT",
        help="with --merge: each part's commit, for parts whose report does not say it",
    )
    args, rest = parser.parse_known_args()
    if args.merge:
        parts = [json.loads(path.read_text()) for path in args.merge]
        given = args.commits or [None] * len(parts)
        commits = [
            part.get("commit") or c or "unknown" for part, c in zip(parts, given, strict=True)
        ]
        sys.exit(write(merged(parts, commits), args.out))
    sys.exit(write(measure(args.examples, rest), args.out))
