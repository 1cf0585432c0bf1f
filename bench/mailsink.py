"""An SMTP sink that only notes when each mail arrived, by template and dossier reference."""

import threading
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller

from bench.measure import now
from bench.stack import free_port


@dataclass
class Arrivals:
    """(template, reference) -> when the first such mail arrived (bench.measure.now clock)."""

    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        key = (str(headers["X-AAP-Template"]), str(headers["X-AAP-Dossier"]))
        with self.lock:
            self.seen.setdefault(key, now())
        return "250 OK"

    def of(self, template: str) -> dict[str, float]:
        with self.lock:
            return {reference: at for (t, reference), at in self.seen.items() if t == template}


class MailSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals = Arrivals()
        self.controller = Controller(self.arrivals, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "MailSink":
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()
