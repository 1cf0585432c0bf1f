"""A representative's data erased on request (RGPD): after `aap personal-data erase`, their name
and e-mail are readable nowhere the platform keeps anything (every database of its namespace,
every topic, the services' logs), the hash chains still hold and the dossier still reads."""

import os
import secrets
import subprocess
import sys
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from shared.kernel.projection import from_the_start
from shared.language.actors import Role
from shared.personal.sealing import ERASED, Kind
from tests.conftest import settings_env
from tests.e2e.conftest import Platform
from tests.factories import eligible_dossier
from tests.helpers import bearer, wait_for


def aap(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **settings_env(platform.settings)},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def databases_holding(platform: Platform, *needles: str) -> list[str]:
    """Every table of every database of the namespace where one of the texts is found, in any
    column read as text, or in the bytes of a bytea column."""
    s = platform.settings
    admin = await asyncpg.connect(s.pg_admin_dsn)
    try:
        names = [
            r["datname"]
            for r in await admin.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{s.db_prefix}\\_%"
            )
        ]
    finally:
        await admin.close()
    assert {f"{s.db_prefix}_{n}" for n in ("applications", "notifications", "vault")} <= set(names)
    found = []
    for name in names:
        conn = await asyncpg.connect(s.admin_dsn(name.removeprefix(f"{s.db_prefix}_")))
        try:
            tables = [
                r["table_name"]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            ]
            for table in tables:
                byteas = [
                    r["column_name"]
                    for r in await conn.fetch(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'bytea'",
                        table,
                    )
                ]
                for needle in needles:
                    as_text = f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE $1'
                    if await conn.fetchval(as_text, f"%{needle}%"):
                        found.append(f"{name}.{table}: {needle}")
                    for column in byteas:
                        in_bytes = (
                            f'SELECT count(*) FROM "{table}" '
                            f'WHERE position($1::bytea in "{column}") > 0'
                        )
                        if await conn.fetchval(in_bytes, needle.encode()):
                            found.append(f"{name}.{table}.{column}: {needle}")
        finally:
            await conn.close()
    return found


async def topics_holding(platform: Platform, *needles: str) -> list[str]:
    """Every topic of the namespace where one of the texts is in a record's key, value or
    headers."""
    s = platform.settings
    lister = AIOKafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=None)
    await lister.start()
    try:
        topics = sorted(t for t in await lister.topics() if t.startswith(f"{s.topic_prefix}."))
    finally:
        await lister.stop()
    assert topics
    found: list[str] = []
    async with from_the_start(s.kafka_bootstrap, topics) as (reader, end):
        records: list[Any] = []

        async def read_to_the_end() -> bool:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return all([await reader.position(tp) >= offset for tp, offset in end.items()])

        await wait_for(read_to_the_end, timeout=60, what="every topic of the namespace read")
    for record in records:
        raw = b"\n".join(
            [record.key or b"", record.value or b""]
            + [k.encode() + b"=" + v for k, v in record.headers]
        ).lower()
        found += [
            f"{record.topic}@{record.offset}: {n}" for n in needles if n.lower().encode() in raw
        ]
    return found


def logs_holding(platform: Platform, *needles: str) -> list[str]:
    assert platform.logs is not None
    found = []
    for log in sorted(platform.logs.glob("*.log")):
        text = log.read_text(errors="replace").lower()
        found += [f"{log.name}: {n}" for n in needles if n.lower() in text]
    return found


async def test_an_erased_representative_is_readable_nowhere_and_the_chains_still_hold(
    platform: Platform,
):
    mark = secrets.token_hex(4)
    name, email = f"Hortense Vasseur{mark}", f"h.vasseur.{mark}@mairie-test.example.fr"
    dossier = eligible_dossier(representative__name=name, representative__email=email)
    # The representative files it herself: her e-mail is also the subject of her login.
    applicant = bearer(
        platform.settings, Role.applicant, siren=dossier["applicant"]["siren"], subject=email
    )
    auditor = bearer(platform.settings, Role.auditor)
    async with httpx.AsyncClient(timeout=30) as client:
        filed = await client.post(
            platform.url("applications", "/campaigns/demo/dossiers"),
            json=dossier,
            headers=applicant,
        )
        assert filed.status_code == 201, filed.text
        dossier_id, reference = filed.json()["dossier_id"], filed.json()["reference"]
        assert name not in filed.text and email not in filed.text  # the events as published
        # She writes to the thread: her e-mail is the message's author.
        posted = await client.post(
            platform.url("applications", f"/dossiers/{dossier_id}/messages"),
            json={"text": "Nous joignons le budget détaillé demain."},
            headers=applicant,
        )
        assert posted.status_code == 201, posted.text
        assert email not in posted.text

        # mailed to her: the acknowledgement and the eligibility's result, each recorded sent
        async def mailed() -> bool:
            return len(platform.mail.to_dossier(reference)) >= 2

        await wait_for(mailed, timeout=60, what="the two mails to the representative")

        async def recorded_sent() -> bool:
            answer = await client.get(
                platform.url("notifications", f"/dossiers/{dossier_id}/notifications"),
                headers=auditor,
            )
            return answer.status_code == 200 and len(answer.json()) >= 2

        await wait_for(recorded_sent, timeout=60, what="the mails recorded as sent")
        # Before the erasure, the read models keep her in clear (what the search looks for),
        # and the auditor reads her in the history, each event marked sealed as written.
        assert await databases_holding(platform, name)
        before = await client.get(
            platform.url("notifications", f"/audit/dossiers/{dossier_id}"), headers=auditor
        )
        submitted = next(e for e in before.json()["events"] if e["type"] == "ApplicationSubmitted")
        assert submitted["sealed"] is True
        assert submitted["data"]["dossier"]["representative"]["name"] == name
        assert submitted["actor"].endswith(email)

        erased = aap(platform, "personal-data", "erase", "--email", email.upper())
        assert erased.returncode == 0, erased.stdout + erased.stderr
        assert "erased person" in erased.stdout

        async def rewritten() -> bool:
            return not await databases_holding(platform, name, email)

        await wait_for(rewritten, timeout=60, what="every service's read models rewritten")
        assert await topics_holding(platform, name, email) == []
        assert logs_holding(platform, name, email) == []
        # the searches find what is there in clear: the dossier's reference, its id in the logs
        assert await topics_holding(platform, reference)
        assert logs_holding(platform, dossier_id)

        # The dossier still reads, with the placeholders; its history still holds.
        read = await client.get(
            platform.url("applications", f"/dossiers/{dossier_id}"), headers=auditor
        )
        assert read.status_code == 200, read.text
        assert ERASED[Kind.name] in read.text and ERASED[Kind.email] in read.text
        thread = await client.get(
            platform.url("applications", f"/dossiers/{dossier_id}/messages"), headers=auditor
        )
        assert [m["author"] for m in thread.json()] == [ERASED[Kind.email]]
        history = await client.get(
            platform.url("notifications", f"/audit/dossiers/{dossier_id}"), headers=auditor
        )
        assert history.status_code == 200, history.text
        assert history.json()["published_trail"]["verified"] is True
        assert history.json()["state"]["submission"]["reference"] == reference
        assert ERASED[Kind.name] in history.text and name not in history.text

    verified = aap(platform, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = aap(platform, "audit", "show", dossier_id)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "ApplicationSubmitted" in shown.stdout
    as_json = aap(platform, "audit", "show", dossier_id, "--json")
    assert ERASED[Kind.email] in as_json.stdout and email not in as_json.stdout
    # A second request for the same person finds nobody left to erase.
    again = aap(platform, "personal-data", "erase", "--email", email)
    assert again.returncode == 0 and "no person known" in again.stdout
