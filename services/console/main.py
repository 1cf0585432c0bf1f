"""Wiring of the console: its database (sessions, habilitations), the identity provider, the four
services' URLs, the DSFR and htmx files it serves itself, its pages. Nothing connects before its
start."""

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from services.console import habilitations, login  # habilitations: what `aap habilitations` manages
from services.console.backend import Services
from services.console.context import (
    Console,
    LoginRequired,
    NotForYou,
    login_url,
    page,
    person_of,
    templates,
)
from services.console.pages import (
    audit,
    campaigns,
    committee,
    committee_sessions,
    corrections,
    dossiers,
    drafts,
    exchange,
    filing,
)
from services.console.pages import habilitations as habilitations_page
from services.console.present import menu
from shared.kernel import db
from shared.kernel.docs import assets_dir
from shared.kernel.logs import configure_logging
from shared.kernel.settings import Settings

NAME = "console"
__all__ = ["NAME", "create_app", "habilitations", "schema"]
log = logging.getLogger(__name__)


def schema() -> str:
    return resources.files("services.console").joinpath("schema.sql").read_text()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(NAME, settings.log_level)
    secret = settings.console_session_secret or secrets.token_urlsafe(32)
    if not settings.console_session_secret:
        log.warning("AAP_CONSOLE_SESSION_SECRET is not set: sessions end when the console stops")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.provision_on_start:
            await db.provision(settings, NAME, schema())
        pool = await db.open_pool(settings, NAME)
        if not settings.jwt_private_key_file:
            raise RuntimeError(
                "the console mints the services' tokens: set AAP_JWT_PRIVATE_KEY_FILE"
            )
        key = await asyncio.to_thread(Path(settings.jwt_private_key_file).read_text)
        async with httpx.AsyncClient(timeout=30) as client:
            app.state.console = Console(
                settings,
                pool,
                login.provider(settings),
                Services(settings, client, key),
                jinja,
                lambda: datetime.now(UTC),
            )
            try:
                yield
            finally:
                await pool.close()

    app = FastAPI(
        title="aap console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    jinja = templates()
    jinja.env.globals["menu"] = menu
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="aap_console",
        max_age=settings.console_session_minutes * 60,
        same_site="lax",
        https_only=settings.console_url.startswith("https://"),
    )
    assets = assets_dir(settings)
    app.mount(
        "/static/dsfr",
        StaticFiles(directory=assets / "@gouvfr/dsfr/dist", check_dir=False),
        name="dsfr",
    )
    app.mount(
        "/static/htmx",
        StaticFiles(directory=assets / "htmx.org/dist", check_dir=False),
        name="htmx",
    )
    for router in (
        login.router,
        exchange.router,  # before dossiers': its POST /dossiers/{id}/{action} takes any name
        corrections.router,
        dossiers.router,
        drafts.router,
        filing.router,
        campaigns.router,
        committee.router,
        committee_sessions.router,
        audit.router,
        habilitations_page.router,
    ):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        try:
            person = await person_of(request)
        except LoginRequired:
            return page(request, "home.html")
        if person.habilitation is None:
            return page(request, "no_habilitation.html", person=person)
        return RedirectResponse(menu(person)[0][0], status_code=303)

    @app.get("/accessibilite", include_in_schema=False)
    async def accessibility(request: Request) -> Response:
        try:
            person = await person_of(request)
        except LoginRequired:
            person = None
        return page(request, "accessibility.html", person=person)

    @app.get("/healthz", include_in_schema=False)
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        try:
            async with request.app.state.console.pool.acquire() as conn:
                database = bool(await conn.fetchval("SELECT true"))
        except Exception:
            database = False
        return JSONResponse(
            {"ready": database, "checks": {"database": database}},
            status_code=200 if database else 503,
        )

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.headers.get("HX-Request") == "true":  # a part of a page: the whole page goes
            shown = urlsplit(request.headers.get("HX-Current-URL", ""))
            back_to = shown.path + (f"?{shown.query}" if shown.query else "") or exc.back_to
            return Response(status_code=204, headers={"HX-Redirect": login_url(back_to)})
        return RedirectResponse(login_url(exc.back_to), status_code=303)

    @app.exception_handler(NotForYou)
    async def not_for_you(request: Request, exc: Exception) -> Response:
        person = await person_of(request)
        if person.habilitation is None:
            return page(request, "no_habilitation.html", status=403, person=person)
        return page(
            request,
            "refused.html",
            status=403,
            person=person,
            title="Page réservée",
            heading="Cette page n'est pas de votre ressort",
            reason="Votre rôle ne vous donne pas accès à cette page.",
            back="/",
        )

    return app
