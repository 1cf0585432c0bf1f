"""The mailer: sends queued mail by SMTP, and records each outcome as an event.

Mail is claimed with a lease (so two instances never send the same one together), sent
outside any transaction, then recorded. Its parties (applicant, préfecture, MILDECA) become
addresses only at send time: a mail queued before its dossier's recipients are known waits for
them. A mail server that is down delays mail and loses none: the lease expires and the mail
is tried again, with a growing delay. The Message-ID is derived from the notification id, so
the rare resend after a crash is recognisable.
"""

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from services.notifications import domain, handlers, templates
from shared.contracts.notifications import NotificationFailed, NotificationSent
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
REPORT_FAILURE_AT_ATTEMPT = 3

_CLAIM = """
UPDATE mails m SET next_attempt_at = now() + $2::interval, attempts = attempts + 1
FROM recipients r
WHERE m.notification_id IN (
    SELECT notification_id FROM mails
    WHERE sent_at IS NULL AND next_attempt_at <= now()
      AND EXISTS (SELECT 1 FROM recipients WHERE recipients.dossier_id = mails.dossier_id)
    ORDER BY event_time LIMIT $1 FOR UPDATE SKIP LOCKED)
  AND r.dossier_id = m.dossier_id
RETURNING m.notification_id, m.dossier_id, m.template, m.facts, m.attempts, m.event_time,
          m.to_parties, m.cc_parties, r.reference, r.email, r.name, r.holder, r.siren, r.departement
"""


def message_id(notification_id: str) -> str:
    return f"<{hashlib.sha256(notification_id.encode()).hexdigest()[:32]}@aap.mildeca.gouv.fr>"


async def run_mailer(rt: Runtime) -> None:
    while True:
        try:
            if not await send_due(rt):
                await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("mailer pass failed; trying again in 1 s")
            await asyncio.sleep(1)


async def send_due(rt: Runtime, batch: int = 20) -> int:
    async with rt.db().acquire() as conn:
        claimed = await conn.fetch(_CLAIM, batch, LEASE)
    if not claimed:
        return 0
    async with _Connection(rt.settings) as smtp:
        # The acknowledgement before the verdict, even when the verdict was queued first.
        for row in sorted(claimed, key=lambda r: r["event_time"]):
            try:
                mail, to, cc = compose(row, rt.settings, rt.clock())
                await smtp.send(mail)
            # A mail that cannot be written yet (an unknown département) fails like one not sent.
            except (aiosmtplib.SMTPException, OSError, ValueError, KeyError) as error:
                await _failed(rt, row, f"{type(error).__name__}: {error}")
            else:
                await _sent(rt, row, to, cc, mail["Message-ID"])
    return len(claimed)


class _Connection:
    """One SMTP session for a claimed batch, opened at its first mail and opened again after
    a failure (bench/profiles: a session per mail halved the mails sent per second)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: aiosmtplib.SMTP | None = None

    async def send(self, mail: EmailMessage) -> None:
        if self.smtp is None:
            smtp = aiosmtplib.SMTP(
                hostname=self.settings.smtp_host, port=self.settings.smtp_port, timeout=10
            )
            await smtp.connect()
            self.smtp = smtp
        try:
            await self.smtp.send_message(mail)
        except BaseException:
            self.smtp.close()  # whatever the session's state, the next mail starts afresh
            self.smtp = None
            raise

    async def __aenter__(self) -> "_Connection":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.smtp is not None:
            try:
                await self.smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def compose(
    row: Mapping[str, Any], settings: Settings, now: datetime
) -> tuple[EmailMessage, list[str], list[str]]:
    """The message of a claimed mail, its parties resolved to addresses; and its To and Cc."""
    recipient = domain.Recipient(
        row["reference"],
        row["email"],
        row["name"],
        row["holder"],
        siren=row["siren"] or "",
        departement=row["departement"] or "",
    )
    mailboxes = domain.Mailboxes(
        mildeca=settings.mildeca_mailbox, prefecture=settings.prefecture_mailbox
    )

    def resolved(parties: list[str]) -> list[Address]:
        found = domain.addresses([domain.Party(p) for p in parties], recipient, mailboxes)
        return [Address(name, addr_spec=email) for name, email in found]

    to, cc = resolved(row["to_parties"]), resolved(row["cc_parties"])
    subject, body = templates.render(row["template"], recipient, json.loads(row["facts"]))
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = to
    if cc:
        mail["Cc"] = cc
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(row["notification_id"])
    mail["X-AAP-Dossier"] = recipient.reference
    mail["X-AAP-Notification"] = row["notification_id"]
    mail["X-AAP-Template"] = row["template"]
    mail.set_content(body)
    to_addresses = list(dict.fromkeys(a.addr_spec for a in to))
    cc_addresses = [a for a in dict.fromkeys(a.addr_spec for a in cc) if a not in to_addresses]
    return mail, to_addresses, cc_addresses


async def _sent(
    rt: Runtime, row: Mapping[str, Any], to: list[str], cc: list[str], mid: str
) -> None:
    now = rt.clock()
    async with rt.db().acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE mails SET sent_at = $2, message_id = $3 WHERE notification_id = $1",
            row["notification_id"],
            now,
            mid,
        )
        await handlers.record(
            conn,
            rt.store,
            NotificationSent(
                dossier_id=row["dossier_id"],
                notification_id=row["notification_id"],
                template=row["template"],
                to=to,
                cc=cc,
                message_id=mid,
                sent_at=now,
            ),
            now,
        )


async def _failed(rt: Runtime, row: Mapping[str, Any], reason: str) -> None:
    now = rt.clock()
    attempts = row["attempts"]
    delay = timedelta(seconds=min(2**attempts, 600))
    log.warning("mail %s not sent (attempt %s): %s", row["notification_id"], attempts, reason)
    async with rt.db().acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE mails SET next_attempt_at = now() + $2::interval, last_error = $3 "
            "WHERE notification_id = $1",
            row["notification_id"],
            delay,
            reason,
        )
        if attempts == REPORT_FAILURE_AT_ATTEMPT:  # said once; the mailer keeps trying
            await handlers.record(
                conn,
                rt.store,
                NotificationFailed(
                    dossier_id=row["dossier_id"],
                    notification_id=row["notification_id"],
                    template=row["template"],
                    attempts=attempts,
                    reason=reason,
                    failed_at=now,
                ),
                now,
            )
