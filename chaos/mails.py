"""The scenarios' mail server: it keeps, of each mail, only what the figures need (its
Message-ID, its template and its dossier's reference), so tens of thousands of mails cost little."""

import threading
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from typing import Any


@dataclass
class Mails:
    """An aiosmtpd handler: every mail received, as (Message-ID, template, reference)."""

    received: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        mail = (
            str(headers["Message-ID"]),
            str(headers["X-AAP-Template"]),
            str(headers["X-AAP-Dossier"]),
        )
        with self.lock:
            self.received.append(mail)
        return "250 OK"

    def snapshot(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return list(self.received)

    def templates(self, references: set[str]) -> dict[str, Counter[str]]:
        """Per dossier's reference, how many mails of each template it received."""
        out: dict[str, Counter[str]] = {reference: Counter() for reference in references}
        for _, template, reference in self.snapshot():
            if reference in out:
                out[reference][template] += 1
        return out

    def doubled(self) -> int:
        """Mails received more than once under one Message-ID (the extra copies)."""
        counts = Counter(message_id for message_id, _, _ in self.snapshot())
        return sum(n - 1 for n in counts.values() if n > 1)
