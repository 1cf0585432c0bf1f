"""Reminders and deadlines with two instances of selection and a rehearsal clock moved forward:
the préfecture reminded once at D−7 and once at D−1, the opinion recorded overdue once at D, each
mailed once and in the audit history; nothing for a dossier whose opinion came first."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from shared.kernel.settings import Settings
from shared.language.actors import Role
from tests.conftest import own_namespace
from tests.e2e.conftest import MailSink, Platform
from tests.e2e.processes import Service, running
from tests.e2e.steps import Journey
from tests.helpers import bearer, free_port, wait_for

POLL = "0.2"
REMINDER = "reminder_prefecture_opinion_prefecture"


@pytest.fixture
def mail(tmp_path: Path) -> Any:
    """A mail sink of this test's own: its references start again at 1 in its namespace."""
    sink = MailSink(tmp_path / "Maildir", free_port())
    controller = Controller(Mailbox(sink.maildir), hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


class Rehearsal:
    """The services' clock, moved by writing the offset file they read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("0")

    def move_to(self, instant: datetime) -> None:
        offset = (instant - datetime.now(UTC)).total_seconds()
        self.path.write_text(f"{offset:.3f}")


async def selection_events(settings: Settings, dossier_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The dossier's stream in selection's store: (event name, data) in order."""
    conn = await asyncpg.connect(settings.app_dsn("selection"))
    try:
        rows = await conn.fetch(
            "SELECT event_type, data FROM events WHERE stream_id = $1 ORDER BY version", dossier_id
        )
    finally:
        await conn.close()
    return [(r["event_type"].split(".")[-2], json.loads(r["data"])) for r in rows]


async def pending_jobs(settings: Settings, dossier_id: str) -> int:
    conn = await asyncpg.connect(settings.app_dsn("selection"))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM scheduled_jobs WHERE stream_id = $1 "
                "AND done_at IS NULL AND cancelled_at IS NULL",
                dossier_id,
            )
        )
    finally:
        await conn.close()


def named(events: list[tuple[str, dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    return [data for event, data in events if event == name]


async def test_reminders_and_the_overdue_of_an_opinion_are_recorded_and_mailed_once_each(
    settings: Settings, tmp_path: Path, mail: MailSink
):
    clock = Rehearsal(tmp_path / "clock-offset")
    env = {
        "AAP_SMTP_PORT": str(mail.port),
        "AAP_CLOCK_OFFSET_FILE": str(clock.path),
        "AAP_SCHEDULE_POLL_SECONDS": POLL,
    }
    names = ["applications", "selection", "selection", "notifications"]
    async with (
        own_namespace(settings) as own,
        running(own, names, tmp_path, **env) as services,
    ):
        applications, first, second, notifications = services
        platform = Platform(
            {
                "applications": applications.url(""),
                "selection": first.url(""),
                "notifications": notifications.url(""),
            },
            own,
            mail,
            tmp_path,
        )
        # given two dossiers filed and asked for the préfecture's opinion
        late, on_time = Journey(platform), Journey(platform)
        for journey in (late, on_time):
            await journey.file()
            await journey.seen("selection", lambda d: d.get("opinion_due_at"), "opinion asked")
        view = (await late.read("selection")).json()
        due = datetime.fromisoformat(view["opinion_due_at"])
        assert due - datetime.fromisoformat(view["checked_at"]) == timedelta(days=15)
        await wait_for(
            lambda: has(pending_jobs(own, late.dossier_id), 3), what="the deadline planned"
        )
        # and the opinion given on the second, before its deadline
        await on_time.opinion()
        await wait_for(lambda: has(pending_jobs(own, on_time.dossier_id), 0), what="a cancel")

        async def recorded(name: str, n: int) -> list[dict[str, Any]] | None:
            found = named(await selection_events(own, late.dossier_id), name)
            return found if len(found) >= n else None

        async def mailed(template: str, n: int) -> bool:
            return mail.templates(late.reference).count(template) >= n

        # when the rehearsal reaches D−7: one reminder, with 7 days left, and its mail
        clock.move_to(due - timedelta(days=7) + timedelta(seconds=1))
        [d7] = await wait_for(lambda: recorded("DeadlineApproaching", 1), what="D−7")
        assert (d7["deadline"], d7["party"], d7["days_left"]) == (
            "prefecture_opinion",
            "prefecture",
            7,
        )
        await wait_for(lambda: mailed(REMINDER, 1), what="the D−7 mail")
        # when it reaches D−1: the second reminder
        clock.move_to(due - timedelta(days=1) + timedelta(seconds=1))
        _, d1 = await wait_for(lambda: recorded("DeadlineApproaching", 2), what="D−1")
        assert d1["days_left"] == 1
        await wait_for(lambda: mailed(REMINDER, 2), what="the D−1 mail")
        # when it reaches D: the opinion overdue, mailed
        clock.move_to(due + timedelta(seconds=1))
        [overdue] = await wait_for(lambda: recorded("OpinionOverdue", 1), what="D")
        assert datetime.fromisoformat(overdue["due_at"]) == due
        await wait_for(lambda: mailed("opinion_overdue", 1), what="the overdue mail")
        await wait_for(lambda: has(pending_jobs(own, late.dossier_id), 0), what="all jobs run")
        # then, several polls later, nothing more: each once, by one of the two instances
        await asyncio.sleep(5 * float(POLL) + 1)
        events = await selection_events(own, late.dossier_id)
        assert [e for e, _ in events].count("DeadlineApproaching") == 2
        assert [e for e, _ in events].count("OpinionOverdue") == 1
        assert mail.templates(late.reference).count(REMINDER) == 2
        assert mail.templates(late.reference).count("opinion_overdue") == 1
        assert await jobs_done(first, second) == 3
        # and nothing at all for the dossier whose opinion came first
        others = [e for e, _ in await selection_events(own, on_time.dossier_id)]
        assert "DeadlineApproaching" not in others and "OpinionOverdue" not in others
        assert {REMINDER, "opinion_overdue"}.isdisjoint(mail.templates(on_time.reference))
        # the instructors see it overdue, the other not
        seen = await late.seen("selection", lambda d: d["opinion_overdue"], "the overdue shown")
        assert seen["opinion_due_at"] == view["opinion_due_at"]
        listing = await late.call(
            "selection", "GET", "/campaigns/demo/dossiers?per_page=200", Role.instructor
        )
        overdue_of = {d["dossier_id"]: d["opinion_overdue"] for d in listing.json()["dossiers"]}
        assert (overdue_of[late.dossier_id], overdue_of[on_time.dossier_id]) == (True, False)
        # and the audit history shows the reminders and the overdue, its chains verified
        history = await audited(own, notifications, late.dossier_id)
        types = [e["type"] for e in history["events"]]
        assert types.count("DeadlineApproaching") == 2 and types.count("OpinionOverdue") == 1
        assert history["published_trail"]["verified"] is True


async def has(count: Any, expected: int) -> bool:
    return bool(await count == expected)


async def jobs_done(*instances: Service) -> float:
    total = 0.0
    for instance in instances:
        total += await instance.metric("aap_schedule_jobs_total", outcome="done")
    return total


async def audited(settings: Settings, notifications: Service, dossier_id: str) -> dict[str, Any]:
    """The dossier's history as the auditor replays it, once the trail holds the overdue."""

    async def replayed() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(
                notifications.url(f"/audit/dossiers/{dossier_id}"),
                headers=bearer(settings, Role.auditor),
            )
        if answer.status_code != 200:
            return None
        body: dict[str, Any] = answer.json()
        return body if any(e["type"] == "OpinionOverdue" for e in body["events"]) else None

    return await wait_for(replayed, timeout=30, what="the overdue in the audit trail")
