"""A person's data sealed under their own key (AES-256-GCM), and read back or as erased.

A sealed value is one string, where the clear one was (a JSON value, an actor's subject):
`aap-sealed:1:<person id>:<kind>:<base64url of nonce, ciphertext and tag>`. The event's hash
covers that string; destroying the person's key (shared.personal.vault) leaves it unreadable
forever while every hash still holds. The person id is random, recorded only in the vault: it
says nothing of the person once their key and their lookup are gone.
"""

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "aap-sealed:1:"
KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12  # GCM's standard nonce, random for each value


class Kind(str, Enum):
    """What a sealed value was: it says which placeholder it reads as once erased."""

    name = "name"
    email = "email"


# What a value reads as once its person's key is destroyed: each still passes the contract
# (an e-mail stays an e-mail), and says what happened. The mailer never writes to them.
ERASED = {Kind.name: "[donnée effacée]", Kind.email: "effacee@donnee-effacee.example"}
# What it reads as where no key is at hand (an offline bundle, a reader without the vault).
UNOPENED = {Kind.name: "[donnée scellée]", Kind.email: "scellee@donnee-scellee.example"}
PLACEHOLDERS = frozenset(ERASED.values()) | frozenset(UNOPENED.values())

# The keys at hand: a person's key, or None when it was erased. A person absent was not looked
# up (the reader has no vault): their values read as UNOPENED.
Keys = Mapping[UUID, bytes | None]


_KINDS = {kind.value: kind for kind in Kind}


@dataclass(frozen=True)
class Sealed:
    person: UUID
    kind: Kind
    blob: bytes  # nonce, then ciphertext and tag


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(person: UUID, kind: Kind) -> bytes:
    # The person and the kind are bound to the ciphertext: a value cannot be passed off as
    # another person's, nor a name as an e-mail.
    return f"{PREFIX}{person}:{kind.value}".encode()


def seal(text: str, person: UUID, key: bytes, kind: Kind) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    blob = nonce + AESGCM(key).encrypt(nonce, text.encode(), _aad(person, kind))
    encoded = base64.urlsafe_b64encode(blob).decode().rstrip("=")
    return f"{PREFIX}{person}:{kind.value}:{encoded}"


def parse(value: str) -> Sealed | None:
    """The sealed value this string is, or None when it is not one."""
    if not value.startswith(PREFIX):
        return None
    try:
        person, kind, encoded = value[len(PREFIX) :].split(":", 2)
        blob = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return Sealed(UUID(person), _KINDS[kind], blob)
    except (ValueError, KeyError):
        return None


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and parse(value) is not None


class Opener:
    """Sealed values read with the keys at hand, each person's cipher made once (for one
    reading: the keys are not kept beyond it)."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self._ciphers: dict[UUID, AESGCM] = {}

    def value(self, value: str) -> str:
        """The clear text of a sealed value; its placeholder when the key is erased or not at
        hand; any other string as it is."""
        sealed = parse(value)
        if sealed is None:
            return value
        if sealed.person not in self.keys:
            return UNOPENED[sealed.kind]
        cipher = self._ciphers.get(sealed.person)
        if cipher is None:
            key = self.keys[sealed.person]
            if key is None:
                return ERASED[sealed.kind]
            cipher = self._ciphers[sealed.person] = AESGCM(key)
        nonce, ciphertext = sealed.blob[:_NONCE_BYTES], sealed.blob[_NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, ciphertext, _aad(sealed.person, sealed.kind)).decode()
        except InvalidTag:
            # Altered, or sealed under a key since replaced: unreadable, as if erased (the
            # event's hash says whether it was altered).
            return ERASED[sealed.kind]

    def text(self, text: str) -> str:
        """A text that may end with a sealed value (an actor: `applicant:<SIREN>:<sealed>`)."""
        head, found, tail = text.partition(PREFIX)
        return head + self.value(found + tail) if found else text


def open_value(value: str, keys: Keys) -> str:
    """The clear text of a sealed value; its placeholder when the key is erased or not at hand;
    any other string as it is."""
    return Opener(keys).value(value)


def open_text(text: str, keys: Keys) -> str:
    """A text that may end with a sealed value (an actor: `applicant:<SIREN>:<sealed>`), read."""
    return Opener(keys).text(text)


def person_of(value: str) -> UUID | None:
    sealed = parse(value)
    return None if sealed is None else sealed.person
