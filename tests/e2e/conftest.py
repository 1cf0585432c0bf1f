"""The platform as an operator runs it: services as processes, a real SMTP sink."""

import json
import mailbox
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_binary_file, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from shared.kernel.settings import Settings
from tests.conftest import settings_env
from tests.helpers import free_port, wait_for

SERVICES = ("applications", "selection", "payments", "notifications")


# An edition with a small envelope, added as an operator would (AAP_CAMPAIGNS_DIR): two grants
# of 100,000 EUR fit in it, a third does not.
SMALL_CAMPAIGN = {
    "id": "small",
    "title": "Campagne à petite enveloppe (tests)",
    "reference_prefix": "AAP-SMALL",
    "published_at": "2026-01-01T00:00:00+01:00",
    "deadline": "2099-01-01T00:00:00+01:00",
    "convention_deadline": "2099-06-30T00:00:00+02:00",
    "cap_eur": "240000.00",
    "envelope_eur": "250000.00",
    "min_duration_months": 24,
    "max_duration_months": 36,
    "criteria_weights": {
        "adequacy": "1",
        "innovation": "1",
        "team_competence": "1",
        "methodology": "1",
        "partnership": "1",
        "prefecture_opinion": "2",
    },
    "payment_plan": [
        {"label": "advance", "share": "0.5", "due_on": "signature"},
        {"label": "balance", "share": "0.5", "due_on": "balance"},
    ],
    # files of at most 2,000 bytes: a test sends one over the limit without sending megabytes
    "attachments": {"max_bytes": 2000},
    "committee": {"reviewers_per_dossier": 0},  # the instructor assesses alone
}

# An envelope for one demo and a little more (tests/e2e/test_demo.py).
TINY_CAMPAIGN = {
    **SMALL_CAMPAIGN,
    "id": "tiny",
    "title": "Campagne à enveloppe minuscule (tests)",
    "reference_prefix": "AAP-TINY",
    "envelope_eur": "60000.00",
}

# A committee of three reviewers per dossier, named by the moderator (tests/e2e/test_committee.py),
# and an envelope that two of its grants of 100,000 EUR fill.
COMMITTEE_CAMPAIGN = {
    **SMALL_CAMPAIGN,
    "id": "committee",
    "title": "Campagne à comité de trois examinateurs (tests)",
    "reference_prefix": "AAP-COM",
    "envelope_eur": "200000.00",
    "committee": {"reviewers_per_dossier": 3, "assignment": "instructor"},
}

# Two reviewers per dossier, who take the dossiers themselves (tests/e2e/test_committee.py).
VOLUNTEERS_CAMPAIGN = {
    **COMMITTEE_CAMPAIGN,
    "id": "volunteers",
    "title": "Campagne à examinateurs volontaires (tests)",
    "reference_prefix": "AAP-VOL",
    "committee": {"reviewers_per_dossier": 2, "assignment": "volunteer"},
}


@dataclass
class MailSink:
    maildir: Path
    port: int

    def messages(self) -> list[EmailMessage]:
        box = mailbox.Maildir(
            self.maildir,
            create=False,
            factory=lambda f: message_from_binary_file(f, policy=policy.default),
        )
        return list(box)

    def to_dossier(self, reference: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["X-AAP-Dossier"] == reference]

    def templates(self, reference: str) -> list[str]:
        return sorted(str(m["X-AAP-Template"]) for m in self.to_dossier(reference))


def text_of(mail: EmailMessage) -> str:
    """The words of a mail, whether it carries a document (multipart) or not."""
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None, f"mail {mail['Message-ID']} has no text"
    return str(part.get_content())


@contextmanager
def sink_in(folder: Path) -> Iterator[MailSink]:
    """An SMTP server keeping what it receives in a Maildir of the folder."""
    maildir = folder / "Maildir"
    port = free_port()
    controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield MailSink(maildir, port)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def mail_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailSink]:
    with sink_in(tmp_path_factory.mktemp("mail")) as sink:
        yield sink


@dataclass
class Platform:
    urls: dict[str, str]
    settings: Settings
    mail: MailSink
    campaigns_dir: Path  # the services' AAP_CAMPAIGNS_DIR
    logs: Path | None = None  # the services' logs, one file each (<service>.log)

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path


@pytest.fixture(scope="session")
async def platform(
    settings: Settings, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    logs = tmp_path_factory.mktemp("logs")
    campaigns = tmp_path_factory.mktemp("campaigns")
    (campaigns / "small.json").write_text(json.dumps(SMALL_CAMPAIGN))
    (campaigns / "tiny.json").write_text(json.dumps(TINY_CAMPAIGN))
    (campaigns / "committee.json").write_text(json.dumps(COMMITTEE_CAMPAIGN))
    (campaigns / "volunteers.json").write_text(json.dumps(VOLUNTEERS_CAMPAIGN))
    env = {
        **os.environ,
        **settings_env(settings),
        "AAP_SMTP_PORT": str(mail_sink.port),
        "AAP_CAMPAIGNS_DIR": str(campaigns),
    }
    processes: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    for service in SERVICES:
        port = free_port()
        urls[service] = f"http://127.0.0.1:{port}"
        processes[service] = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", service, "--port", str(port)],
            env=env,
            stdout=(logs / f"{service}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient() as client:
            for service in SERVICES:

                async def ready(service: str = service) -> bool:
                    if processes[service].poll() is not None:
                        raise AssertionError(
                            f"{service} exited:\n{(logs / f'{service}.log').read_text()[-3000:]}"
                        )
                    try:
                        return (await client.get(urls[service] + "/readyz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_for(ready, timeout=90, what=f"{service} to be ready")
        yield Platform(urls, settings, mail_sink, campaigns, logs)
    finally:
        for process in processes.values():
            process.terminate()
        for service, process in processes.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError(f"{service} did not stop on SIGTERM within 30 s") from None
