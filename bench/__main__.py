"""`python -m bench [--quick] [--cases append,relay,…] [--out bench/results]`: run, write, clean up.

Exits 1 only when a case could not run; a figure, however low, is never a failure.
"""

import argparse
import importlib
import logging
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from bench import machine, results
from bench.context import FULL, QUICK, Bench
from bench.measure import now
from bench.stack import clean, namespace
from shared.kernel.settings import Settings

CASES = ("append", "relay", "rebuild", "surge", "audit", "console", "ds_import", "exports")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (a few minutes)")
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"comma-separated, among {', '.join(CASES)} (default: all)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent / "results",
        help="where the JSON and Markdown results go (default: bench/results)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="sample the surge's service processes with py-spy into FOLDER",
    )
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; among {', '.join(CASES)}")
    spy = Path(sys.executable).with_name("py-spy")  # where bench.processes runs it from
    if args.profile and not spy.exists():
        parser.error(
            f"--profile samples with py-spy, which is not a dependency of the project and is not "
            f"at {spy}: install it first ({Path(sys.executable).parent}/pip install py-spy==0.4.3)"
        )
    return args


async def run_case(name: str, bench: Bench) -> results.CaseResult:
    module = importlib.import_module(f"bench.cases.{name}")
    print(f"[bench] {name}: {module.TITLE} …", flush=True)
    start = now()
    try:
        outcome = await module.measure(bench)
    except Exception as error:
        traceback.print_exc()
        for log in sorted((bench.work / name).rglob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-8:]
            print(f"[bench] {name}: the end of {log.name}:", *tail, sep="\n  ", file=sys.stderr)
        said = (str(error) or repr(error)).splitlines()[0][:300]
        return results.CaseResult(
            name, module.TITLE, now() - start, results.Outcome(), f"{type(error).__name__}: {said}"
        )
    result = results.CaseResult(name, module.TITLE, now() - start, outcome)
    for c in outcome.comparisons:
        print(
            f"[bench] {name}: {c.measure}: {c.platform:,.1f} {c.unit} vs {c.ceiling:,.1f} "
            f"({c.ceiling_name}) → ratio {c.ratio:.3g}",
            flush=True,
        )
    print(f"[bench] {name}: done in {result.seconds:.0f} s", flush=True)
    return result


async def main(argv: list[str]) -> int:
    args = arguments(argv)
    mode = "quick" if args.quick else "full"
    started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    start = now()
    with tempfile.TemporaryDirectory(prefix="aap-bench-") as work:
        settings = namespace(Settings(), Path(work) / "jwt")
        bench = Bench(settings, QUICK if args.quick else FULL, Path(work), args.profile)
        print(
            f"[bench] {mode} run, namespace {settings.topic_prefix}, cases {', '.join(args.cases)}",
            flush=True,
        )
        done: list[results.CaseResult] = []
        try:
            described = await machine.describe(settings)
            for name in args.cases:
                done.append(await run_case(name, bench))
        finally:
            dropped = await clean(settings)
            print(f"[bench] cleaned up {len(dropped)} databases and topics", flush=True)
    described["load_average_at_end"] = machine.load()
    for path in results.write(args.out, mode, started, now() - start, described, done):
        print(f"[bench] wrote {path}")
    failed = [r.case for r in done if r.error]
    if failed:
        print(f"[bench] could not run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(uvloop.run(main(sys.argv[1:])))
