"""Which values of an event's JSON name a person (its model's `personal`), sealed and opened.

Sealing follows the model's declaration; opening needs none: every sealed string anywhere in
a document is opened, whatever the version that wrote it (an upcaster may have moved it).
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from uuid import UUID

from shared.contracts.base import DomainEvent, Person
from shared.personal.sealing import PREFIX, Keys, Kind, Opener, is_sealed, person_of, seal

# A node of the document that may be replaced: its container and its key (or index).
Slot = tuple[dict[str, Any] | list[Any], Any]


def normalised(email: str) -> str:
    """The e-mail a person is known by, whatever the case it was typed in."""
    return email.strip().lower()


def _slots(node: Any, steps: list[str]) -> Iterator[Slot]:
    if not steps:
        return
    step, rest = steps[0], steps[1:]
    is_list = step.endswith("[]")
    key = step.removesuffix("[]")
    if not isinstance(node, dict) or key not in node:
        return
    if not is_list:
        if rest:
            yield from _slots(node[key], rest)
        else:
            yield node, key
        return
    items = node[key]
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if rest:
            yield from _slots(item, rest)
        else:
            yield items, index


def _named(person: Person, data: dict[str, Any]) -> Iterator[tuple[Slot, str, str | None]]:
    """Each node naming a person: its slot, the person's e-mail, the key of their name."""
    for container, key in _slots(data, person.at.split(".")):
        node = container[key]
        if person.email is None:
            if (
                isinstance(node, str)
                and not is_sealed(node)
                and (not person.only_emails or "@" in node)
            ):
                yield (container, key), node, None
        elif (
            isinstance(node, dict)
            and isinstance(node.get(person.email), str)
            and not is_sealed(node[person.email])
        ):
            yield (container, key), node[person.email], person.name


def emails_in(model: type[DomainEvent], data: dict[str, Any]) -> set[str]:
    """The people an event's JSON names in clear, by their normalised e-mail."""
    return {normalised(email) for p in model.personal for _, email, _ in _named(p, data)}


def sealed(
    model: type[DomainEvent], data: dict[str, Any], keys: Mapping[str, tuple[UUID, bytes]]
) -> dict[str, Any]:
    """The event's JSON with every person it names sealed: `keys` by normalised e-mail."""
    if not model.personal:
        return data
    out: dict[str, Any] = _copy(data)
    for person in model.personal:
        for (container, key), email, name_key in list(_named(person, out)):
            person_id, data_key = keys[normalised(email)]
            if person.email is None:
                container[key] = seal(email, person_id, data_key, Kind.email)
                continue
            node = dict(container[key])
            node[person.email] = seal(email, person_id, data_key, Kind.email)
            if name_key is not None and isinstance(node.get(name_key), str):
                node[name_key] = seal(node[name_key], person_id, data_key, Kind.name)
            container[key] = node
    return out


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _strings(node: Any, change: Callable[[str], str]) -> Any:
    if isinstance(node, str):
        return change(node)
    if isinstance(node, dict):
        return {k: _strings(v, change) for k, v in node.items()}
    if isinstance(node, list):
        return [_strings(v, change) for v in node]
    return node


def persons_in(node: Any) -> set[UUID]:
    """The people whose sealed values a document holds."""
    found: set[UUID] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if PREFIX in item:
                person = person_of(item[item.index(PREFIX) :])
                if person is not None:
                    found.add(person)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def opened(node: Any, keys: Keys | Opener) -> Any:
    """The document with every sealed value read: clear, or its placeholder."""
    opener = keys if isinstance(keys, Opener) else Opener(keys)
    return _strings(node, opener.text)
