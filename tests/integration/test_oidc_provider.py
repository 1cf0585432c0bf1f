"""The development OpenID Connect provider (deploy/local/keycloak.sh, realm
deploy/keycloak/aap-realm.json) answers as ProConnect does for the console: discovery, keys, the
authorization code flow with PKCE (S256), state and nonce, the ProConnect claims, and
RP-initiated logout. Logged in without a browser: the login form is read from the HTML.

`./dev test` starts the provider and exports AAP_OIDC_ISSUER."""

import base64
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import jwt
import pytest

ISSUER = os.environ.get("AAP_OIDC_ISSUER", "http://127.0.0.1:28080/realms/aap")
CLIENT_ID = "aap-console"
CLIENT_SECRET = "aap-console-dev-secret"  # development only: published in the realm file
PASSWORD = "demo"  # every demo person's (deploy/keycloak/README.md)
# ProConnect's scopes, each named for the claim it gives (the console's AAP_OIDC_SCOPE).
PROCONNECT_SCOPE = "openid email given_name usual_name siret idp_id"


def console_callback() -> str:
    """Where a console started on some local port would be called back: nothing listens there,
    the tests only read the redirect."""
    return f"http://127.0.0.1:{secrets.randbelow(20000) + 40000}/auth/callback"


class LoginPage(HTMLParser):
    """Keycloak's login form: its action, and the error texts it shows."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.errors: list[str] = []
        self._in_error = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form" and named.get("id") == "kc-form-login":
            self.action = named.get("action")
        if self._in_error:
            self._in_error += 1
        elif "kc-feedback-text" in (named.get("class") or "").split():
            self._in_error = 1
            self.errors.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._in_error:
            self._in_error -= 1

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.errors[-1] += data.strip()


@dataclass
class Agent:
    """A user agent without a browser. Keycloak marks its cookies Secure even over HTTP, which
    browsers accept from 127.0.0.1 but Python's cookie jar does not send: it keeps them here."""

    http: httpx.AsyncClient
    cookies: dict[str, str] = field(default_factory=dict)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        header = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = await self.http.request(method, url, headers={"cookie": header}, **kwargs)
        for set_cookie in response.headers.get_list("set-cookie"):
            name, _, value = set_cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response


@dataclass(frozen=True)
class Login:
    """One authorization request of the console: its state, nonce and PKCE pair."""

    redirect_uri: str = field(default_factory=console_callback)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def params(self, **overrides: str) -> dict[str, str]:
        params = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": PROCONNECT_SCOPE,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {name: value for name, value in params.items() if value}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0, follow_redirects=False) as client:
        yield client


@pytest.fixture
async def provider(http: httpx.AsyncClient) -> dict[str, Any]:
    url = f"{ISSUER}/.well-known/openid-configuration"
    try:
        response = await http.get(url)
    except httpx.TransportError as e:
        pytest.fail(f"no OpenID provider at {ISSUER} ({e!r}): deploy/local/keycloak.sh start")
    assert response.status_code == 200, response.text
    discovery: dict[str, Any] = response.json()
    return discovery


async def login_form(agent: Agent, provider: dict[str, Any], login: Login) -> LoginPage:
    page = await agent.request("GET", provider["authorization_endpoint"], params=login.params())
    assert page.status_code == 200, page.text
    form = LoginPage(page.text)
    assert form.action, "no login form (kc-form-login) on the authorization page"
    return form


async def log_in(agent: Agent, provider: dict[str, Any], login: Login, username: str) -> str:
    """The person types their login and password; the provider sends the browser back to the
    console with a code, and the console reads it (nothing listens on its redirect_uri)."""
    form = await login_form(agent, provider, login)
    assert form.action
    sent = await agent.request(
        "POST", form.action, data={"username": username, "password": PASSWORD}
    )
    assert sent.status_code == 302, sent.text
    back = httpx.URL(sent.headers["location"])
    assert str(back.copy_with(query=None)) == login.redirect_uri
    assert back.params["state"] == login.state
    assert back.params["iss"] == ISSUER  # RFC 9207
    return back.params["code"]


async def tokens(
    http: httpx.AsyncClient, provider: dict[str, Any], login: Login, code: str
) -> httpx.Response:
    return await http.post(
        provider["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": login.redirect_uri,
            "code_verifier": login.verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
    )


async def verified_id_token(
    http: httpx.AsyncClient, provider: dict[str, Any], id_token: str, login: Login
) -> dict[str, Any]:
    keys = jwt.PyJWKSet.from_dict((await http.get(provider["jwks_uri"])).json())
    key = keys[jwt.get_unverified_header(id_token)["kid"]]
    claims: dict[str, Any] = jwt.decode(
        id_token, key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER
    )
    assert claims["nonce"] == login.nonce
    return claims


async def test_the_discovery_document_names_every_endpoint_the_console_uses(provider):
    assert provider["issuer"] == ISSUER
    for endpoint in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ):
        assert provider[endpoint].startswith(ISSUER + "/"), endpoint
    assert "S256" in provider["code_challenge_methods_supported"]
    assert "code" in provider["response_types_supported"]
    assert "eidas1" in provider["acr_values_supported"]


async def test_the_keys_hold_a_signing_key(http, provider):
    jwks = (await http.get(provider["jwks_uri"])).json()
    signing = [k for k in jwks["keys"] if k.get("use") == "sig" and k.get("alg") == "RS256"]
    assert signing, jwks
    usable = {key.key_id for key in jwt.PyJWKSet.from_dict(jwks).keys}
    assert {k["kid"] for k in signing} <= usable


async def test_a_maire_logs_in_with_a_code_and_pkce_and_gets_the_proconnect_claims(http, provider):
    login = Login()
    code = await log_in(Agent(http), provider, login, "maire.roubaix")

    answer = await tokens(http, provider, login, code)

    assert answer.status_code == 200, answer.text
    claims = await verified_id_token(http, provider, answer.json()["id_token"], login)
    assert claims["sub"] == "1cba4c9f-b18d-55f8-aa9c-eb8d2def20a0"  # fixed in the realm file
    assert claims["acr"] == "eidas1"
    userinfo = await http.get(
        provider["userinfo_endpoint"],
        headers={"authorization": f"Bearer {answer.json()['access_token']}"},
    )
    assert userinfo.status_code == 200, userinfo.text
    # As ProConnect's: a JWT signed with the provider's key, for the console, by the issuer.
    assert userinfo.headers["content-type"].startswith("application/jwt")
    keys = jwt.PyJWKSet.from_dict((await http.get(provider["jwks_uri"])).json())
    info: dict[str, Any] = jwt.decode(
        userinfo.text,
        keys[jwt.get_unverified_header(userinfo.text)["kid"]].key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=ISSUER,
    )
    assert info["sub"] == claims["sub"]
    assert {name: info.get(name) for name in ("email", "given_name", "usual_name", "siret")} == {
        "email": "maire@roubaix.example.fr",
        "given_name": "Guillaume",
        "usual_name": "Delbar",
        "siret": "21590512600011",
    }
    assert info["idp_id"] == "5c1f4a8e-2b7d-4e39-9f0a-6d8b3c2e1a01"
    # Keycloak serves no `acr` at userinfo; `idp_acr` carries it there, as ProConnect's does.
    assert info["idp_acr"] == "eidas1"


async def test_a_code_is_exchanged_only_with_its_verifier(http, provider):
    login = Login()
    code = await log_in(Agent(http), provider, login, "prefecture.nord")

    stolen = await tokens(http, provider, Login(redirect_uri=login.redirect_uri), code)

    assert stolen.status_code == 400, stolen.text
    assert stolen.json()["error"] == "invalid_grant"


async def test_a_wrong_password_shows_the_form_again_with_an_error_and_no_code(http, provider):
    agent = Agent(http)
    form = await login_form(agent, provider, Login())
    assert form.action

    sent = await agent.request(
        "POST", form.action, data={"username": "maire.roubaix", "password": "not-" + PASSWORD}
    )

    assert sent.status_code == 200
    assert "location" not in sent.headers
    again = LoginPage(sent.text)
    assert again.action, "the login form is not shown again"
    assert again.errors and all(again.errors), again.errors


@pytest.mark.parametrize("method", ["", "plain"])
async def test_an_authorization_without_an_s256_challenge_is_refused(http, provider, method):
    login = Login()
    params = login.params(code_challenge_method=method)
    if not method:
        del params["code_challenge"]

    refused = await Agent(http).request("GET", provider["authorization_endpoint"], params=params)

    assert refused.status_code == 302, refused.text
    back = httpx.URL(refused.headers["location"])
    assert str(back.copy_with(query=None)) == login.redirect_uri
    assert back.params["error"] == "invalid_request"
    assert "code" not in back.params


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:41234/auth/callback", "http://localhost:55123/cb"]
)
async def test_the_console_may_be_called_back_on_any_local_port(http, provider, redirect_uri):
    await login_form(Agent(http), provider, Login(redirect_uri=redirect_uri))


@pytest.mark.parametrize(
    "redirect_uri", ["http://console.example.fr/auth/callback", "http://127.0.0.1.example.fr/cb"]
)
async def test_the_provider_calls_back_no_other_host(http, provider, redirect_uri):
    refused = await Agent(http).request(
        "GET", provider["authorization_endpoint"], params=Login(redirect_uri=redirect_uri).params()
    )

    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert LoginPage(refused.text).action is None


async def test_logout_ends_the_session_and_sends_the_browser_back_to_the_console(http, provider):
    agent, login = Agent(http), Login()
    answer = await tokens(http, provider, login, await log_in(agent, provider, login, "presidente"))
    assert answer.status_code == 200, answer.text
    again = Login(redirect_uri=login.redirect_uri)
    sso = await agent.request("GET", provider["authorization_endpoint"], params=again.params())
    assert sso.status_code == 302 and "code=" in sso.headers["location"]  # logged in already

    out = await agent.request(
        "GET",
        provider["end_session_endpoint"],
        params={
            "id_token_hint": answer.json()["id_token"],
            "post_logout_redirect_uri": login.redirect_uri,
            "state": login.state,
        },
    )

    assert out.status_code == 302, out.text
    back = httpx.URL(out.headers["location"])
    assert str(back.copy_with(query=None)) == login.redirect_uri
    assert back.params["state"] == login.state
    await login_form(agent, provider, Login(redirect_uri=login.redirect_uri))  # asked again
