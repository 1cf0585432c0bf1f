"""Bearer tokens: signed JWTs naming a role and its binding, verified with a configured key.

The verifying key is configuration (a PEM public key), so any identity provider that signs
with RS256/ES256 — ProConnect, the state's OIDC — can issue the tokens; `aap token` mints
development ones with the matching private key.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.kernel.settings import Settings
from shared.language.actors import Actor, Role
from shared.language.errors import DomainError
from shared.language.referentials import DEPARTEMENTS, siren_is_valid


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="aap"'}


class NoVerifyingKey(RuntimeError):
    pass


@dataclass(frozen=True)
class TokenVerifier:
    public_key: str
    issuer: str
    audience: str
    algorithms: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenVerifier":
        key = settings.jwt_public_key
        if not key and settings.jwt_public_key_file:
            key = Path(settings.jwt_public_key_file).read_text()
        if not key:
            raise NoVerifyingKey(
                "no key to verify bearer tokens: set AAP_JWT_PUBLIC_KEY (PEM) or "
                "AAP_JWT_PUBLIC_KEY_FILE (`aap token keygen` makes a development pair)"
            )
        algorithms = tuple(a.strip() for a in settings.jwt_algorithms.split(",") if a.strip())
        return cls(key, settings.jwt_issuer, settings.jwt_audience, algorithms)

    def verify(self, authorization: str | None) -> Actor:
        if not authorization:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer …)")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        try:
            claims = jwt.decode(
                token.strip(),
                self.public_key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the bearer token is not valid: {error}") from None
        return actor_from_claims(claims)


def actor_from_claims(claims: dict[str, Any]) -> Actor:
    try:
        role = Role(claims.get("role"))
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise Unauthenticated(
            f"the token's role {claims.get('role')!r} is not one of {known}"
        ) from None
    siren = claims.get("siren")
    departement = claims.get("departement")
    if role is Role.applicant and not (isinstance(siren, str) and siren_is_valid(siren)):
        raise Unauthenticated("an applicant's token must name a valid SIREN (claim 'siren')")
    if role is Role.prefecture and departement not in DEPARTEMENTS:
        raise Unauthenticated(
            "a préfecture's token must name its département (claim 'departement')"
        )
    return Actor(
        role=role,
        subject=str(claims["sub"]),
        siren=siren if role is Role.applicant else None,
        departement=departement if role is Role.prefecture else None,
    )


def mint(
    private_key_pem: str,
    *,
    role: Role,
    subject: str,
    issuer: str,
    audience: str,
    siren: str | None = None,
    departement: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    """A development token, signed ES256 with the private half of the configured key."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl,
    }
    if siren:
        claims["siren"] = siren
    if departement:
        claims["departement"] = departement
    actor_from_claims(claims)  # never mint a token the services would refuse
    return jwt.encode(claims, private_key_pem, algorithm="ES256")


def generate_keypair() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh P-256 key, for development and tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
