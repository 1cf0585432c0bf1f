"""The four services, as the console calls them for a person: with a token it mints for that
person's habilitation (short-lived, signed with the key the services trust), over HTTP. The
answers come back as the services gave them; the console shows them, refusals included."""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from services.console import reasons
from services.console.sessions import Person
from shared.kernel.auth import mint
from shared.kernel.settings import Settings

SERVICES = ("applications", "selection", "payments", "notifications")
# What a file given back keeps of the service's answer: what it is, its name, its digest.
FILE_HEADERS = ("content-type", "content-disposition", "repr-digest", "content-length")


@dataclass(frozen=True)
class Upload:
    """A file the person sent the console, passed on as they sent it (the service judges it)."""

    name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """What a refusal says, in the service's words."""
        return str(self.body.get("detail", "")) if isinstance(self.body, dict) else ""

    @property
    def rule(self) -> str:
        """The rule that refused a command (`CallClosed`), as the service names it."""
        return str(self.body.get("reason", "")) if isinstance(self.body, dict) else ""

    def field_errors(self) -> dict[str, str]:
        """An invalid input's reasons, by field (`budget.lines.0.amount_eur`), in French."""
        if self.status != 422 or not isinstance(self.body, dict):
            return {}
        return {e["field"]: reasons.field(e) for e in self.body.get("errors", [])}


class Services:
    def __init__(self, settings: Settings, client: httpx.AsyncClient, private_key: str) -> None:
        self.settings, self.client, self.private_key = settings, client, private_key
        self.urls = {
            "applications": settings.applications_url.rstrip("/"),
            "selection": settings.selection_url.rstrip("/"),
            "payments": settings.payments_url.rstrip("/"),
            "notifications": settings.notifications_url.rstrip("/"),
        }

    def token(self, person: Person) -> str:
        h = person.habilitation
        assert h is not None, "a person without habilitation calls no service"
        return mint(
            self.private_key,
            role=h.role,
            subject=person.email.strip().lower(),  # as the habilitations name the person
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            siren=h.siren,
            departement=h.departement,
            ttl=timedelta(seconds=self.settings.console_token_seconds),
        )

    async def get(
        self, person: Person, service: str, path: str, params: dict[str, Any] | None = None
    ) -> Answer:
        return await self._call(person, "GET", service, path, params=params)

    async def post(
        self, person: Person, service: str, path: str, body: Any, idempotency_key: str | None = None
    ) -> Answer:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return await self._call(person, "POST", service, path, json=body, headers=headers)

    async def post_form(
        self,
        person: Person,
        service: str,
        path: str,
        data: dict[str, str],
        upload: Upload,
        idempotency_key: str | None = None,
    ) -> Answer:
        """A multipart/form-data command (a file and its fields). The parts' boundary comes from
        the Idempotency-Key: the same form sent again is the same body, which the service
        answers once."""
        headers = {}
        if idempotency_key:
            boundary = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
            headers = {
                "Idempotency-Key": idempotency_key,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            }
        files = {"file": (upload.name, upload.content, upload.media_type)}
        return await self._call(
            person, "POST", service, path, data=data, files=files, headers=headers
        )

    async def download(self, person: Person, service: str, path: str) -> Answer:
        """A file's bytes (`body`), with what says what they are (`headers`); a refusal as any."""
        headers = {"Authorization": f"Bearer {self.token(person)}"}
        try:
            response = await self.client.get(self.urls[service] + path, headers=headers)
        except httpx.TransportError as error:
            return Answer(
                503,
                {"error": "unavailable", "detail": f"le service {service} ne répond pas ({error})"},
            )
        if not response.is_success:
            return _answer(response)
        kept = {k: v for k, v in response.headers.items() if k.lower() in FILE_HEADERS}
        return Answer(response.status_code, response.content, kept)

    async def _call(
        self, person: Person, method: str, service: str, path: str, **kwargs: Any
    ) -> Answer:
        headers = {"Authorization": f"Bearer {self.token(person)}", **kwargs.pop("headers", {})}
        params = {
            k: v for k, v in (kwargs.pop("params", None) or {}).items() if v not in (None, "")
        }
        try:
            response = await self.client.request(
                method, self.urls[service] + path, headers=headers, params=params, **kwargs
            )
        except httpx.TransportError as error:
            return Answer(
                503,
                {"error": "unavailable", "detail": f"le service {service} ne répond pas ({error})"},
            )
        return _answer(response)


def _answer(response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    kept = {k: v for k, v in response.headers.items() if k.lower() in ("content-disposition",)}
    return Answer(response.status_code, body, kept)
