"""Login with OpenID Connect as ProConnect does it: the authorization code flow with PKCE (S256),
`state` and `nonce`, the provider's discovery document and keys (Authlib checks the ID token's
signature, issuer, audience, expiry and nonce), and RP-initiated logout. The provider says who
the person is; aap's habilitations say what they may do."""

import logging
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import URL

from services.console import habilitations, sessions
from services.console.context import Console, LoginRequired, page, person_of
from shared.kernel.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

PROVIDER = "proconnect"
CLAIMS = ("sub", "email", "given_name", "usual_name", "siret", "idp_id", "acr")


def provider(settings: Settings) -> OAuth:
    """The provider, from its discovery document (its endpoints, its keys, its issuer)."""
    discovery = settings.oidc_discovery_url or (
        f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration"
    )
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=discovery,
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
    )
    return oauth


def _local(path: str | None) -> str:
    """Only a path of this console is a place to come back to (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or urlsplit(path).netloc:
        return "/"
    return path


@router.get("/login")
async def login(request: Request, next: str = "/") -> Response:
    console: Console = request.app.state.console
    request.session["next"] = _local(next)
    client = console.oauth.create_client(PROVIDER)
    assert client is not None
    try:
        redirect: Response = await client.authorize_redirect(request, console.url("/auth/callback"))
        return redirect
    except Exception as error:  # the provider does not answer its discovery document
        log.warning("the identity provider cannot be reached: %s", error)
        return page(
            request,
            "login_failed.html",
            status=503,
            reason="Le service d'identification ne répond pas. Réessayez dans un moment.",
        )


@router.get("/auth/callback")
async def callback(request: Request) -> Response:
    console: Console = request.app.state.console
    client = console.oauth.create_client(PROVIDER)
    assert client is not None
    try:
        token = await client.authorize_access_token(request)
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        # ProConnect gives some claims at the userinfo endpoint only
        claims.update({k: v for k, v in (await client.userinfo(token=token)).items() if v})
    except OAuthError as error:
        log.info("a login did not complete: %s", error)
        return page(
            request,
            "login_failed.html",
            status=400,
            reason="La connexion n'a pas abouti (elle a expiré, ou a été refusée).",
        )
    if not claims.get("sub") or not claims.get("email"):
        return page(
            request,
            "login_failed.html",
            status=400,
            reason="Le service d'identification n'a pas donné d'adresse électronique.",
        )
    identity = {k: str(claims[k]) for k in CLAIMS if claims.get(k) is not None}
    async with console.pool.acquire() as conn:
        habilitation = await habilitations.of(conn, identity["email"], identity.get("siret"))
        session_id = await sessions.open_session(
            conn,
            identity,
            habilitation,
            str(token.get("id_token", "")),
            console.clock(),
            console.settings.console_session_minutes,
        )
    request.session["sid"] = session_id
    return RedirectResponse(_local(request.session.pop("next", "/")), status_code=303)


@router.post("/logout")
async def logout(request: Request, csrf: str = Form("")) -> Response:
    console: Console = request.app.state.console
    try:
        person = await person_of(request)
    except LoginRequired:
        return RedirectResponse("/", status_code=303)
    if not sessions.same_token(person.csrf, csrf):
        return page(
            request,
            "refused.html",
            status=400,
            person=person,
            reason="Ce formulaire a expiré : rechargez la page.",
        )
    async with console.pool.acquire() as conn:
        id_token = await sessions.close(conn, person.session_id)
    request.session.clear()
    client = console.oauth.create_client(PROVIDER)
    if not id_token or client is None:
        return RedirectResponse("/", status_code=303)
    try:  # RP-initiated logout: the provider ends its own session, then sends the person back
        to_provider: Response = await client.logout_redirect(
            request, post_logout_redirect_uri=console.url("/"), id_token_hint=id_token
        )
        return to_provider
    except Exception as error:
        log.warning("the identity provider's logout failed: %s", error)
        return RedirectResponse(str(URL("/")), status_code=303)
