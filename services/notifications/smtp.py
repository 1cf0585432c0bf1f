"""One SMTP session for a claimed batch of mails, which hands each mail over in two steps.

A mail is delivered once the server has its final line (the lone dot after the content); the
server then says so (250). Between the two, a sender that records "sent" after the answer
sends the mail again if it stops before recording: the window of a double. This session
writes everything but the final line, lets the mailer commit that the mail is being handed
over, then writes the final line: a mailer that stops after that commit never sends the mail
again. What remains is the instant between the commit and one write to the socket.

Built on aiosmtplib's session (connection, EHLO, MAIL, RCPT, and its own DATA framing),
taking over only the end of the DATA command.
"""

from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from shared.kernel.settings import Settings

TIMEOUT_SECONDS = 10.0
START_INPUT = 354
COMPLETED = 250


class NotHandedOver(Exception):
    """The mail did not reach the point of no return: it is neither sent nor lost."""


class Session:
    """Opened at the batch's first mail; opened again after a failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: aiosmtplib.SMTP | None = None

    async def hand_over(self, mail: EmailMessage, before_the_end: Callable[[], Awaitable[None]]
                        ) -> None:  # fmt: skip
        """Deliver `mail`; `before_the_end` runs when only its final line remains to be sent.

        Raises NotHandedOver (with the cause) when `before_the_end` did not complete or the
        server refused the mail before it; aiosmtplib's errors after it (the server's answer to
        the final line) mean the mail may have been delivered.
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
            await before_the_end()
        except BaseException as error:
            self._drop()  # the server discards a mail whose final line never came
            if isinstance(error, Exception):
                raise NotHandedOver(f"{type(error).__name__}: {error}") from error
            raise
        try:
            protocol.write(b".\r\n")
            answer = await protocol.read_response(timeout=TIMEOUT_SECONDS)
        except BaseException:
            self._drop()
            raise
        if answer.code != COMPLETED:
            raise aiosmtplib.SMTPDataError(answer.code, answer.message)

    async def _open(self) -> aiosmtplib.SMTP:
        if self.smtp is None:
            smtp = aiosmtplib.SMTP(
                hostname=self.settings.smtp_host, port=self.settings.smtp_port,
                timeout=TIMEOUT_SECONDS,
            )  # fmt: skip
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
