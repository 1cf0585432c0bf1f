"""`python -m chaos [--quick] [--out chaos/results]`: run the scenarios (tampering with the
stores, chaos/tampering.py; faults under load, chaos/faults.py), write their figures (JSON and
Markdown, with the machine's description) and exit 1 when an invariant breaks.
These are correctness checks, never timings."""

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import describe
from chaos import faults, tampering
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
    if "faults" in run["scenarios"]:
        lines += faults_markdown(run["scenarios"]["faults"])
    lines += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in run["machine"].items()]
    return "\n".join(lines) + "\n"


def faults_markdown(f: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Faults under load",
        "",
        "Dossiers' lives driven over HTTP (filed, checked, the préfecture's opinion; some also "
        "assessed, selected and signed, which commits their funds), each command with its "
        "Idempotency-Key and sent again while unanswered, on a platform of the suite's own "
        "(its own PostgreSQL, Kafka, mail server; the services as processes). Once it settled: "
        "every event committed in each service's PostgreSQL compared with its topic on Kafka, "
        "each dossier's order on the topic, the effects and mails each dossier had. The bus's "
        "figures (events, missing, never committed, published twice, order) count the whole "
        "platform since it started, so each row includes the rows above it; the last scenario "
        "runs on a platform of its own, with three brokers.",
        "",
        "| scenario | lives | commands sent / acknowledged | retries | events (PG) | missing "
        "from Kafka | never committed | published twice | order violations | effects twice | "
        "mails expected / received / doubled | recovery |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in f["scenarios"]:
        bus, e = s["bus"].values(), s["effects"]
        twice = e["events_had_twice"] + e["grants_counted_twice"] + e["mails_queued_twice"]
        lines.append(
            f"| {s['name']} | {s['lives']} | {s['commands_sent']} / "
            f"{s['commands_acknowledged']} | {sum(s['retries'].values())} | "
            f"{sum(b['in_postgresql'] for b in bus)} | "
            f"{sum(b['missing_from_kafka'] for b in bus)} | "
            f"{sum(b['never_committed'] for b in bus)} | "
            f"{sum(b['published_twice'] for b in bus)} | "
            f"{sum(b['order_violations'] for b in bus)} | "
            f"{twice} | "
            f"{s['mails']['expected']} / {s['mails']['received']} / {s['mails']['doubled']} | "
            f"{recovery(s['fault'])} |"
        )
    lines += ["", "Per service, at the end (all lives):", ""]
    lines += [
        "| service | events (PG) | on Kafka | distinct | missing | never committed | order "
        "violations | dead letters |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, b in f["all_lives"]["bus"].items():
        lines.append(
            f"| {name} | {b['in_postgresql']} | {b['on_kafka']} | {b['on_kafka_distinct']} | "
            f"{b['missing_from_kafka']} | {b['never_committed']} | {b['order_violations']} | "
            f"{b['dead_letters']} |"
        )
    e = f["all_lives"]["effects"]
    lines += [
        "",
        f"Granted in decisions {e['granted_in_decisions_eur']} EUR, in selection's envelope "
        f"{e['granted_in_selection_envelope_eur']} EUR, committed in payments "
        f"{e['committed_in_payments_eur']} EUR; {e['events_in_audit_trail']} events in the "
        f"auditors' trail, {e['events_missing_from_audit_trail']} missing.",
        "",
        f"Invariant: every figure above that counts a loss, a double or a disorder is 0 — "
        f"**{'holds' if f['holds'] else 'BROKEN'}**.",
    ]
    if f["broken"]:
        lines += ["", "Broken: " + "; ".join(f["broken"])]
    return lines


def after(fault: dict[str, Any]) -> str:
    seconds = fault["first_command_acknowledged_after_s"]
    return "none (the load had ended)" if seconds is None else f"{seconds} s after its start"


def recovery(fault: dict[str, Any]) -> str:
    if "kills" in fault:
        times = [k["ready_again_s"] for k in fault["kills"]]
        return f"ready again {min(times)}–{max(times)} s after each kill"
    if "services_ready_again_s" in fault:
        return (
            f"down {fault['down_s']} s; services ready {fault['services_ready_again_s']} s "
            f"after its start; {fault['commands_acknowledged_while_down']} commands "
            f"acknowledged while down, the first one after it {after(fault)}"
        )
    if "node_killed" in fault:
        return (
            f"{fault['copies']} copies, {fault['in_sync_before']} in sync; another leader "
            f"{fault['another_leader_after_s']} s after the kill; node down {fault['down_s']} s, "
            f"{fault['commands_acknowledged_while_down']} commands acknowledged meanwhile; back "
            f"in sync {fault['node_back_in_sync_s']} s after its start"
        )
    return f"down {fault['down_s']} s; first mail {fault['first_mail_after_s']} s after"


async def measure(size: str) -> dict[str, Any]:
    settings = Settings()
    dossiers, mutations, stored = SIZES[size]
    started = datetime.now(UTC)
    scenarios = {
        "tampering": await tampering.run(
            settings, dossiers=dossiers, mutations=mutations, stored=stored
        )
    }
    with tempfile.TemporaryDirectory(prefix="aap-chaos-") as root:
        scenarios["faults"] = await faults.run(Path(root), size)
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
    # The cluster scenario's clients log every refused connection to the node it killed.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the small size, for CI")
    parser.add_argument("--out", type=Path, default=Path("chaos/results"))
    args = parser.parse_args()
    sys.exit(write(asyncio.run(measure("quick" if args.quick else "full")), args.out))
