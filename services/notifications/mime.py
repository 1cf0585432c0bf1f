"""A mail's MIME message, written with the standard library's `email.mime` classes.

Their policy (compat32) folds headers that are already encoded as they are, where
`EmailMessage` parses each header into a tree when it is set and folds that tree again when
the message is written: seven times the CPU for the same bytes (3.9 against 0.56 ms a mail,
bench/profiles/README.md §8), and a dossier's filing sends three mails. What a reader parses
is the same: names and subjects outside ASCII as RFC 2047 encoded words, the text in UTF-8,
quoted-printable (readable, and safe for a server without 8BITMIME), PDFs as attachments.
"""

from collections.abc import Mapping, Sequence
from email import charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from services.notifications.documents import files

_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP


def _one_line(value: str, field: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the mail's {field} may not hold a line break: {value!r}")
    return value


def _text(value: str, field: str) -> str | Header:
    """A header's text, as an encoded word when it is not ASCII."""
    _one_line(value, field)
    return value if value.isascii() else Header(value, "utf-8", header_name=field)


def mailbox(name: str, email: str) -> str:
    """`Name <address>`, the name quoted or encoded as it needs."""
    return formataddr((_one_line(name, "name"), _one_line(email, "address")), "utf-8")


def message(
    *,
    sender: str,
    to: Sequence[tuple[str, str]],
    cc: Sequence[tuple[str, str]],
    subject: str,
    headers: Mapping[str, str],
    body: str,
    documents: Sequence[files.Document] = (),
) -> Message:
    """The message: From, To, Cc (as (name, address) pairs), Subject, the other `headers`
    as given (ASCII), the text, then each document as a PDF attachment."""
    text = MIMEText(body, "plain", _UTF8)  # type: ignore[arg-type]  # a Charset is taken
    if documents:
        mail: Message = MIMEMultipart("mixed")
        mail.attach(text)
        for document in documents:
            part = MIMEApplication(document.content, "pdf")
            part.add_header("Content-Disposition", "attachment", filename=document.filename)
            mail.attach(part)
    else:
        mail = text
    name, address = parseaddr(sender)
    mail["From"] = mailbox(name, address) if name else _one_line(sender, "From")
    mail["To"] = ", ".join(mailbox(n, e) for n, e in to)
    if cc:
        mail["Cc"] = ", ".join(mailbox(n, e) for n, e in cc)
    mail["Subject"] = _text(subject, "Subject")  # type: ignore[assignment]  # a Header is taken
    for field, value in headers.items():
        mail[field] = _one_line(value, field)
    return mail
