"""The claims the console takes from the provider's userinfo endpoint: plain JSON, or a JWT signed
with the provider's keys as ProConnect answers; never one signed by another key, for another
client, from another issuer, or about another person than the ID token's."""

from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from services.console.login import UnverifiedClaims, userinfo

ISSUER, CLIENT = "https://proconnect.example.gouv.fr/api/v2", "aap-console"
SUB = "1cba4c9f-b18d-55f8-aa9c-eb8d2def20a0"
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider", "alg": "RS256"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider", "alg": "RS256"})


class Provider:
    """The part of an Authlib client `userinfo` uses, answering one canned userinfo response."""

    client_id = CLIENT

    def __init__(self, answer: httpx.Response) -> None:
        self.answer = answer

    async def load_server_metadata(self) -> dict[str, Any]:
        return {"issuer": ISSUER, "userinfo_endpoint": f"{ISSUER}/userinfo"}

    async def get(self, url: str, **_: Any) -> httpx.Response:
        self.answer.request = httpx.Request("GET", url)
        return self.answer

    async def fetch_jwk_set(self) -> dict[str, Any]:
        return KeySet([PROVIDER_KEY]).as_dict(private=False)


def signed(key: RSAKey = PROVIDER_KEY, **claims: Any) -> httpx.Response:
    body = {"iss": ISSUER, "aud": CLIENT, "sub": SUB, "siret": "21590512600011", **claims}
    token = jwt.encode({"alg": "RS256", "kid": "provider"}, body, key)
    return httpx.Response(200, text=token, headers={"content-type": "application/jwt"})


async def claims_of(answer: httpx.Response) -> dict[str, Any]:
    return await userinfo(Provider(answer), {"access_token": "t"}, SUB)  # type: ignore[arg-type]


async def test_a_userinfo_jwt_signed_by_the_provider_for_the_console_gives_its_claims():
    assert (await claims_of(signed()))["siret"] == "21590512600011"


async def test_a_plain_json_userinfo_of_the_same_person_gives_its_claims():
    answer = httpx.Response(200, json={"sub": SUB, "email": "maire@roubaix.example.fr"})
    assert (await claims_of(answer))["email"] == "maire@roubaix.example.fr"


@pytest.mark.parametrize(
    "answer",
    [
        signed(OTHER_KEY),
        signed(aud="another-client"),
        signed(iss="https://elsewhere.example.fr"),
        signed(sub="someone-else"),
        httpx.Response(200, json={"sub": "someone-else"}),
        httpx.Response(200, text="not.a.jwt", headers={"content-type": "application/jwt"}),
    ],
    ids=[
        "another key",
        "another client",
        "another issuer",
        "another person (JWT)",
        "another person (JSON)",
        "garbage",
    ],
)
async def test_a_userinfo_the_console_cannot_trust_ends_the_login(answer):
    with pytest.raises(UnverifiedClaims):
        await claims_of(answer)
