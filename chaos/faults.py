"""Faults under load, on a platform of the suite's own (tests/e2e/lab.py: its own PostgreSQL and
Kafka from deploy/local, the four services as processes, a mail server of its own).

Each scenario runs dossiers' lives (chaos/load.py) and breaks one part while they run: every
service killed (kill -9) in turn at random instants and restarted as a supervisor would;
PostgreSQL restarted; the broker restarted; the mail server down. Then, once the platform has
settled, the ledger (chaos/ledger.py) counts what must be zero, and how long each part took to
be ready again.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.ledger import ledger, templates_of, zeros
from chaos.load import Life, Tally, run_lives
from chaos.mails import Mails
from shared.kernel import topics
from tests.e2e.conftest import SERVICES
from tests.e2e.lab import Lab, lab
from tests.e2e.processes import ready
from tests.helpers import wait_for


@dataclass(frozen=True)
class Size:
    lives: int  # of the kill scenario
    kills: int
    restart_lives: int  # of each restart scenario
    database_down: float  # seconds
    broker_down: float
    mail_down: float
    clients: int
    decided_every: int
    settle: float  # seconds the platform has to settle after a scenario


# A fault: run beside the load, told its tally and how many commands it will send; its figures.
Fault = Callable[[Tally, int], Awaitable[dict[str, Any]]]

SIZES = {
    "quick": Size(300, 4, 100, 3, 5, 10, 12, 15, 240),
    "full": Size(10_000, 12, 1_000, 10, 15, 60, 16, 50, 900),
}


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 1)


async def all_ready(the_lab: Lab, timeout: float = 180) -> None:
    await asyncio.gather(*(ready(s, timeout=timeout) for s in the_lab.services.values()))


async def settle(
    the_lab: Lab,
    lives: list[Life],
    sink: Mails,
    expected: dict[str, Counter[str]],
    timeout: float,
) -> tuple[dict[str, Any], float]:
    """The ledger once nothing is left to do (or `timeout` passed), and how long that took."""
    started = time.monotonic()
    done = [life for life in lives if life.done]
    wanted = sum(sum(expected[life.kind].values()) for life in done)
    references = {life.reference for life in done}
    while time.monotonic() - started < timeout:
        got = sum(sum(c.values()) for c in sink.templates(references).values())
        if got >= wanted:
            break
        await asyncio.sleep(1)
    while True:
        figures = await ledger(the_lab, lives, sink, expected)
        if not zeros(figures) or time.monotonic() - started > timeout:
            return figures, elapsed(started)
        await asyncio.sleep(3)


async def quiet(sink: Mails, for_s: float, at_most_s: float) -> None:
    """Waits until no mail came for `for_s` seconds (at most `at_most_s` in all)."""
    started, count, since = time.monotonic(), len(sink.snapshot()), time.monotonic()
    while time.monotonic() - since < for_s and time.monotonic() - started < at_most_s:
        await asyncio.sleep(1)
        if len(sink.snapshot()) != count:
            count, since = len(sink.snapshot()), time.monotonic()


async def under_load(
    the_lab: Lab,
    count: int,
    size: Size,
    fault: Fault,
) -> tuple[list[Life], Tally, dict[str, Any]]:
    """`count` lives, with `fault(tally, commands_expected)` running beside them."""
    tally = Tally()
    expected_commands = count * 2 + (count // size.decided_every + 1) * 5
    load = asyncio.create_task(run_lives(the_lab, count, size.clients, size.decided_every, tally))
    try:
        faulted = await fault(tally, expected_commands)
    except BaseException:
        load.cancel()
        raise
    lives = await load
    if WINDOW in faulted:
        faulted.update(answered(tally, *faulted.pop(WINDOW)))
    return lives, tally, faulted


async def at_progress(tally: Tally, share: float, commands: int) -> None:
    """Waits until this share of the load's commands was acknowledged."""

    async def reached() -> bool:
        return tally.acknowledged >= share * commands

    await wait_for(reached, timeout=3600, interval=0.05, what=f"{share:.0%} of the load")


def kills(the_lab: Lab, size: Size) -> Fault:
    async def fault(tally: Tally, commands: int) -> dict[str, Any]:
        shares = sorted(random.uniform(0.05, 0.9) for _ in range(size.kills))
        order = [SERVICES[i % len(SERVICES)] for i in range(size.kills)]
        random.shuffle(order)
        done = []
        for share, service in zip(shares, order, strict=True):
            await at_progress(tally, share, commands)
            the_lab.kill(service)
            killed = time.monotonic()
            await asyncio.sleep(random.uniform(0, 1))  # the supervisor's reaction
            await the_lab.restart(service)
            done.append(
                {
                    "service": service,
                    "at_share_of_load": round(share, 3),
                    "ready_again_s": elapsed(killed),
                }
            )
        return {"kills": done}

    return fault


def restart(the_lab: Lab, script: str, down: float) -> Fault:
    async def fault(tally: Tally, commands: int) -> dict[str, Any]:
        await at_progress(tally, 0.15, commands)
        stopped = time.monotonic()
        await the_lab.server(script, "stop")
        await asyncio.sleep(down)
        await the_lab.server(script, "start")
        started = time.monotonic()
        await all_ready(the_lab)
        return {
            "down_s": round(started - stopped, 1),
            "services_ready_again_s": elapsed(started),
            WINDOW: (stopped, started),
        }

    return fault


# What a fault says of its outage, from when to when: read once the load is over.
WINDOW = "outage"


def answered(tally: Tally, down: float, up: float) -> dict[str, Any]:
    """How the actors were answered across an outage: acknowledged while it lasted (the
    broker's: the outbox takes them), and the first after it (None when the load had ended)."""
    first = tally.first_acknowledged_after(up)
    return {
        "commands_acknowledged_while_down": tally.acknowledged_between(down, up),
        "first_command_acknowledged_after_s": None if first is None else round(first - up, 1),
    }


def leader_killed(the_lab: Lab, topic: str) -> Fault:
    """kill -9 of the node leading the topic's partition 0, at a third of the load; started
    again at two thirds, once another node leads it."""

    async def fault(tally: Tally, commands: int) -> dict[str, Any]:
        await at_progress(tally, 0.33, commands)
        partitions = await the_lab.partitions(topic)
        leader: int = partitions[0]["leader"]
        await the_lab.kill_broker(leader)
        killed = time.monotonic()

        async def another_leads() -> bool:
            return (await the_lab.leader_of(topic, 0)) not in (leader, -1)

        await wait_for(another_leads, timeout=120, what=f"a leader of {topic}/0 but {leader}")
        new_leader = elapsed(killed)
        await at_progress(tally, 0.66, commands)
        await the_lab.start_broker(leader)
        started = time.monotonic()

        async def in_sync() -> bool:
            return all(
                len(p["isr"]) == the_lab.brokers for p in (await the_lab.partitions(topic)).values()
            )

        await wait_for(in_sync, timeout=180, what=f"every copy of {topic} in sync")
        return {
            "node_killed": leader,
            "partition": f"{topic}/0",
            "copies": len(partitions[0]["replicas"]),
            "in_sync_before": len(partitions[0]["isr"]),
            "another_leader_after_s": new_leader,
            "down_s": round(started - killed, 1),
            WINDOW: (killed, started),
            "node_back_in_sync_s": elapsed(started),
        }

    return fault


def mail_down(the_lab: Lab, sink: Mails, down: float) -> Fault:
    async def fault(tally: Tally, commands: int) -> dict[str, Any]:
        await at_progress(tally, 0.2, commands)
        the_lab.mail_down()
        await asyncio.sleep(down)
        before = len(sink.snapshot())
        the_lab.mail_up()
        started = time.monotonic()

        async def mailed() -> bool:
            return len(sink.snapshot()) > before

        await wait_for(mailed, timeout=900, what="a mail after the server came back")
        return {"down_s": down, "first_mail_after_s": elapsed(started)}

    return fault


def scenario(
    name: str,
    lives: list[Life],
    tally: Tally,
    fault: dict[str, Any],
    figures: dict[str, Any],
    settled: float,
) -> dict[str, Any]:
    broken = zeros(figures) + [f"a command {u}" for u in tally.unexpected[:20]]
    return {
        "name": name,
        "lives": len(lives),
        "lives_completed": sum(life.done for life in lives),
        "decided": sum(life.kind == "decided" for life in lives),
        "commands_sent": tally.sent,
        "commands_acknowledged": tally.acknowledged,
        "retries": dict(tally.retries),
        "fault": fault,
        "settled_in_s": settled,
        **figures,
        "broken": broken,
        "holds": not broken,
    }


def told(s: dict[str, Any]) -> None:
    print(f"[chaos] {s['name']}: {'holds' if s['holds'] else 'BROKEN'}", flush=True)
    for line in s["broken"]:
        print(f"[chaos]   {line}", flush=True)


async def run(root: Path, size_name: str) -> dict[str, Any]:
    size = SIZES[size_name]
    sink = Mails()
    scenarios: list[dict[str, Any]] = []
    async with lab(root, mail=sink) as the_lab:
        # What each kind of life is mailed, learnt without a fault.
        calm = Tally()
        warm = await run_lives(the_lab, 4, 4, 2, calm)
        await quiet(sink, 10, 180)
        expected = templates_of(sink, warm)
        everyone = list(warm)
        plan: list[tuple[str, int, Fault]] = [
            (f"kill -9 of each service, {size.kills} times", size.lives, kills(the_lab, size)),
            (
                "PostgreSQL restarted",
                size.restart_lives,
                restart(the_lab, "postgres", size.database_down),
            ),
            (
                "the broker restarted",
                size.restart_lives,
                restart(the_lab, "kafka", size.broker_down),
            ),
            (
                "the mail server down",
                size.restart_lives,
                mail_down(the_lab, sink, size.mail_down),
            ),
        ]
        for name, count, fault in plan:
            lives, tally, faulted = await under_load(the_lab, count, size, fault)
            everyone += lives
            figures, settled = await settle(the_lab, lives, sink, expected, size.settle)
            scenarios.append(scenario(name, lives, tally, faulted, figures, settled))
            told(scenarios[-1])
        final, _ = await settle(the_lab, everyone, sink, expected, size.settle)
    # Three brokers, topics with three copies and two in sync: a platform of its own again.
    cluster_sink = Mails()
    async with lab(root / "cluster", mail=cluster_sink, brokers=3) as the_cluster:
        topic = topics.events_topic(the_cluster.settings.topic_prefix, "applications")
        name = "the leader of a partition killed (three brokers)"
        lives, tally, faulted = await under_load(
            the_cluster, size.restart_lives, size, leader_killed(the_cluster, topic)
        )
        figures, settled = await settle(the_cluster, lives, cluster_sink, expected, size.settle)
        scenarios.append(scenario(name, lives, tally, faulted, figures, settled))
        told(scenarios[-1])
    broken = zeros(final)
    return {
        "expected_mails_per_life": {kind: dict(c) for kind, c in expected.items()},
        "scenarios": scenarios,
        "all_lives": final,
        "broken": broken + [b for s in scenarios for b in s["broken"]],
        "holds": not broken and all(s["holds"] for s in scenarios),
    }
