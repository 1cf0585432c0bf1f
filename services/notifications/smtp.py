"""One SMTP session for a claimed batch of mails, which hands each mail over with its record.

A mail is delivered once the server has its final line (the lone dot after the content); the
server says so afterwards (250). A sender that records "sent" after that answer sends the mail
again if it stops between the two: the window of a double, as long as the server takes to
answer plus the record's commit. Here the mailer opens the record's transaction (the mail
*handed over*) before the final line, and its COMMIT leaves on the wire in the same instant as
the final line, without waiting for the answer: a mailer that stops before the final line
commits nothing (the mail is sent later, once), one that stops after it committed (the mail is
never sent again). When the database goes away at that instant and the commit is lost, the
server's answer still says whether the mail was delivered (`RecordLost`), and the mailer records
it as soon as the database is back. When the server goes away after the final line without an
answer, it never said it took the mail: the mailer sends it again later, same Message-ID.

Built on aiosmtplib's session (connection, EHLO, MAIL, RCPT, and its DATA framing), taking
over only the end of the DATA command.
"""

import asyncio
from email.message import Message
from typing import Protocol

import aiosmtplib
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from shared.kernel.settings import Settings

TIMEOUT_SECONDS = 10.0
START_INPUT = 354
COMPLETED = 250


class NotHandedOver(Exception):
    """The mail did not reach the point of no return: it is neither sent nor lost."""


class RecordLost(Exception):
    """The final line went out, its record's commit did not (the database went away at that
    instant): `delivered` says whether the server took the mail."""

    def __init__(self, delivered: bool, cause: Exception) -> None:
        super().__init__(f"the mail's record was not committed ({type(cause).__name__}: {cause})")
        self.delivered, self.cause = delivered, cause


class HandOver(Protocol):
    """The record of a mail's hand-over, in two steps around its final line."""

    async def prepare(self) -> None:
        """Before the final line: open the record (it may refuse: NotHandedOver)."""

    async def seal(self) -> None:
        """Right after the final line: commit it. Its first write must leave at once, before
        any wait (asyncpg's COMMIT does)."""

    async def abandon(self) -> None:
        """The final line never went out (the server went away first): roll the record back."""


class Session:
    """Opened at the batch's first mail; opened again after a failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: aiosmtplib.SMTP | None = None

    async def hand_over(self, mail: Message, record: HandOver) -> None:
        """Deliver `mail` with its record.

        Raises NotHandedOver (with the cause) when the record refused or the server did before
        the final line: nothing was delivered nor recorded. After it, a failure of the record's
        commit or of the server's answer raises as it comes: the mail may have been delivered.
        """
        try:
            smtp = await self._open()
            sender, recipients = extract_sender(mail), extract_recipients(mail)
            if sender is None or not recipients:
                raise NotHandedOver("a mail needs a From and at least one recipient")
            options = ["BODY=8BITMIME"] if smtp.supports_extension("8bitmime") else []
            content = flatten_message(mail, cte_type="8bit" if options else "7bit")
            await smtp.mail(sender, options=options, timeout=TIMEOUT_SECONDS)
            for recipient in recipients:
                await smtp.rcpt(recipient, timeout=TIMEOUT_SECONDS)
            start = await smtp.execute_command(b"DATA", timeout=TIMEOUT_SECONDS)
            if start.code != START_INPUT:
                raise aiosmtplib.SMTPDataError(start.code, start.message)
            protocol = smtp.protocol
            assert protocol is not None
            protocol.write(PERIOD_REGEX.sub(b"..", normalize_message_line_endings(content)))
            await record.prepare()
        except BaseException as error:
            self._drop()  # the server discards a mail whose final line never came
            if isinstance(error, Exception):
                raise NotHandedOver(f"{type(error).__name__}: {error}") from error
            raise
        # aiosmtplib drops what comes unasked: the answer is asked for before the final line
        # goes out (as its execute_command marks it before a command), since the read below
        # starts a loop turn later, and uvloop may hand the answer over first (the session then
        # waited its whole timeout for an answer it had dropped).
        protocol._response_pending = True
        try:
            protocol.write(b".\r\n")  # refused when the server went away: the line is not out
        except BaseException as error:
            await record.abandon()
            self._drop()
            if isinstance(error, Exception):
                raise NotHandedOver(f"{type(error).__name__}: {error}") from error
            raise
        # The server's answer is awaited from now on...
        answering = asyncio.ensure_future(protocol.read_response(timeout=TIMEOUT_SECONDS))
        try:
            await record.seal()  # ...and the record's COMMIT is written now, with the dot
        except Exception as failed:
            # The final line is out but its record is not: the server's answer says whether
            # the mail was delivered, and the mailer records it when its database is back.
            try:
                answer = await answering
            except BaseException:
                self._drop()
                raise failed from None
            raise RecordLost(answer.code == COMPLETED, failed) from failed
        except BaseException:
            answering.cancel()
            self._drop()
            raise
        try:
            answer = await answering
        except BaseException:
            self._drop()
            raise
        if answer.code != COMPLETED:
            raise aiosmtplib.SMTPDataError(answer.code, answer.message)

    async def _open(self) -> aiosmtplib.SMTP:
        if self.smtp is None:
            smtp = aiosmtplib.SMTP(
                hostname=self.settings.smtp_host,
                port=self.settings.smtp_port,
                timeout=TIMEOUT_SECONDS,
            )
            await smtp.connect()
            await smtp.ehlo()
            self.smtp = smtp
        return self.smtp

    def _drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.smtp is not None:
            try:
                await self.smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None
