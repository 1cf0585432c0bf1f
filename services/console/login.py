"""Login with OpenID Connect as ProConnect does it: the authorization code flow with PKCE (S256),
`state` and `nonce` (32 characters at least, as ProConnect requires), the provider's discovery
document and keys (Authlib checks the ID token's signature, issuer, audience, expiry and nonce),
the claims at userinfo, plain JSON or a signed JWT (ProConnect answers `application/jwt`), and
RP-initiated logout with its own `state`. The provider says who the person is; aap's
habilitations say what they may do."""

import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.datastructures import URL

from services.console import sessions
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


class UnverifiedClaims(Exception):
    """Userinfo the console cannot trust: a bad signature, another issuer, audience or person."""


async def userinfo(client: StarletteOAuth2App, token: dict[str, Any], sub: str) -> dict[str, Any]:
    """The person's claims at the userinfo endpoint. A signed answer (`application/jwt`) is
    checked with the provider's keys, and its issuer and audience when it names them; either way
    it must be about the person of the ID token (OpenID Connect Core 5.3.2)."""
    metadata = await client.load_server_metadata()
    answer = await client.get(metadata["userinfo_endpoint"], token=token)
    answer.raise_for_status()
    if answer.headers.get("content-type", "").split(";")[0].strip() == "application/jwt":
        offered = metadata.get("userinfo_signing_alg_values_supported") or ["RS256", "ES256"]
        algorithms = [a for a in offered if a != "none"]
        keys = KeySet.import_key_set(await client.fetch_jwk_set())
        try:
            signed = jwt.decode(answer.text, keys, algorithms=algorithms)
            jwt.JWTClaimsRegistry(
                iss={"value": metadata["issuer"]}, aud={"value": client.client_id}
            ).validate(signed.claims)
        except (JoseError, ValueError) as error:
            raise UnverifiedClaims(f"the userinfo JWT does not verify: {error}") from error
        claims: dict[str, Any] = dict(signed.claims)
    else:
        claims = dict(answer.json())
    if claims.get("sub") != sub:
        raise UnverifiedClaims("userinfo is about another person than the ID token")
    return claims


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
        redirect: Response = await client.authorize_redirect(
            request,
            console.url("/auth/callback"),
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
        )
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
        claims: dict[str, Any] = dict(token.get("userinfo") or {})  # the ID token's, verified
        # ProConnect gives the person's claims at userinfo only
        found = await userinfo(client, token, str(claims.get("sub", "")))
        claims.update({k: v for k, v in found.items() if v})
    except (OAuthError, UnverifiedClaims) as error:
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
        session_id = await sessions.open_session(
            conn,
            identity,
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
            request,
            post_logout_redirect_uri=console.url("/logout/callback"),
            id_token_hint=id_token,
            state=secrets.token_urlsafe(32),
        )
        return to_provider
    except Exception as error:
        log.warning("the identity provider's logout failed: %s", error)
        return RedirectResponse(str(URL("/")), status_code=303)


@router.get("/logout/callback")
async def logged_out(request: Request) -> Response:
    """Back from the provider's logout: its `state` checked, then the home page."""
    console: Console = request.app.state.console
    client = console.oauth.create_client(PROVIDER)
    try:
        assert client is not None
        await client.validate_logout_response(request)
    except Exception as error:  # nothing is done on this route: only said
        log.info("a logout came back without its state: %s", error)
    return RedirectResponse("/", status_code=303)
