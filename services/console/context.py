"""What every page of the console has at hand: the person logged in (or a redirect to the login),
the services, the templates, the form token; and how a page or a refusal is rendered."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import asyncpg
from authlib.integrations.starlette_client import OAuth
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.console import present, sessions
from services.console.backend import Services
from services.console.sessions import Person
from shared.kernel.settings import Settings
from shared.language.actors import Role


@dataclass
class Console:
    settings: Settings
    pool: asyncpg.Pool
    oauth: OAuth
    services: Services
    templates: Jinja2Templates
    clock: Callable[[], datetime]

    def url(self, path: str) -> str:
        return self.settings.console_url.rstrip("/") + path


class LoginRequired(Exception):
    """No session, or an expired one: the person logs in again, then comes back here."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class NotForYou(Exception):
    """A page for another role: said on a page of its own, nothing else shown."""


def templates() -> Jinja2Templates:
    folder = Path(str(resources.files("services.console").joinpath("templates")))
    jinja = Jinja2Templates(directory=folder)
    present.install(jinja.env)
    return jinja


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def person_of(request: Request) -> Person:
    """The person of the request's session; LoginRequired when there is none (any more)."""
    console = console_of(request)
    session_id = request.session.get("sid")
    found = None
    if isinstance(session_id, str):
        async with console.pool.acquire() as conn:
            found = await sessions.person(conn, session_id, console.clock())
    if found is None:
        request.session.pop("sid", None)
        back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(back_to)
    return found


async def habilitated(request: Request) -> Person:
    """A person aap habilitated; one without habilitation sees the page that says so."""
    person = await person_of(request)
    if person.habilitation is None:
        raise NotForYou()
    return person


PersonDep = Annotated[Person, Depends(habilitated)]
ConsoleDep = Annotated[Console, Depends(console_of)]


def require(person: Person, *roles: Role) -> None:
    if person.role not in roles:
        raise NotForYou()


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    person: Person | None = None,
    **context: Any,
) -> HTMLResponse:
    """A whole page, or its main part alone when htmx asks for it (`HX-Request`)."""
    console = console_of(request)
    fragment = request.headers.get("HX-Request") == "true" and "HX-Boosted" not in request.headers
    return console.templates.TemplateResponse(
        request,
        template,
        {"person": person, "fragment": fragment, **context},
        status_code=status,
    )


def login_url(back_to: str) -> str:
    return f"/login?next={quote(back_to)}"
