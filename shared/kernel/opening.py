"""Events read from the log with their people's data opened with the keys at hand.

One look-up of keys for a whole batch. Without a vault every sealed value reads as unopened:
the event still passes its contract, with placeholders for the people it names.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from shared.kernel.envelope import Envelope
from shared.personal.fields import opened, persons_in
from shared.personal.sealing import Keys, Opener
from shared.personal.vault import Vault


async def keys_for(vault: Vault | None, documents: Iterable[Any]) -> Keys:
    persons: set[Any] = set()
    for document in documents:
        persons |= persons_in(document)
    if not persons or vault is None:
        return {}
    return await vault.keys(persons)


async def open_envelopes(vault: Vault | None, envelopes: Sequence[Envelope]) -> list[Envelope]:
    opener = Opener(await keys_for(vault, (e.data for e in envelopes)))
    return [replace(e, data=opened(e.data, opener)) for e in envelopes]


async def open_envelope(vault: Vault | None, envelope: Envelope) -> Envelope:
    [read] = await open_envelopes(vault, [envelope])
    return read
