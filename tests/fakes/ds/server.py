"""A local Démarches Simplifiées API v2 for tests and benchmarks (docs/ds-bridge.md §1 and §4).

An ariadne ASGI app (Starlette) built at start from DS's published `schema.graphql`: every
incoming document is parsed and validated against it, as DS does. It serves the dicts of
`fixtures.py` with DS's ordering and cursors, DS's refusals and their exact texts, its state
guards on the mutations, and the faults a client must survive (429, dropped connections,
`timeout`, 500). Every mutation received is recorded; `/_fake/...` routes read the record and
change the démarche at run time (see README.md).

Texts DS's table in the design note does not give (an unknown dossier, an empty message, an
unknown annotation) are the fake's own and say so in the README.
"""

import asyncio
import base64
import binascii
import bisect
import copy
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import uvicorn
from ariadne import (
    InterfaceType,
    MutationType,
    ObjectType,
    QueryType,
    ScalarType,
    graphql,
    make_executable_schema,
)
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    value_from_ast_untyped,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.ds import fixtures
from tests.fakes.ds.fixtures import PARIS, Demarche, Dossier, StoredFile, iso

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
MAX_PAGE_SIZE = 100  # graphql-ruby's default_max_page_size in DS's schema
# ariadne logs every error a resolver raises, the fake's deliberate refusals too (a dossier
# not found, a bad cursor): quiet unless asked (`--log-level info`).
GRAPHQL_LOGGER = "tests.fakes.ds.graphql"

NO_TOKEN = "Without a token, only persisted queries are allowed"
READ_ONLY = "Le jeton utilisé est configuré seulement en lecture"
NO_ACCESS = "L’instructeur n’a pas les droits d’accès à ce dossier"
PENDING_CORRECTION = "Le dossier est en attente de correction"
SIRET_INCOMPLETE = (
    "Les informations du SIRET du dossier ne sont pas complètes. Veuillez réessayer plus tard."
)
COWBOY = "Calme toi, cowboy !"
TIMEOUT = {
    "errors": [{"message": "Timeout on validation of query", "extensions": {"code": "timeout"}}]
}
STATE_FR = {
    "en_construction": "en construction",
    "en_instruction": "en instruction",
    "accepte": "accepté",
    "refuse": "refusé",
    "sans_suite": "classé sans suite",
}
STATES = (*STATE_FR, "brouillon")
DELETION_REASONS = (
    "expired",
    "instructeur_request",
    "manager_request",
    "procedure_removed",
    "user_expired",
    "user_removed",
    "user_request",
)


def now() -> datetime:
    """DS's clock: Europe/Paris, to the second (what its ISO8601DateTime sends)."""
    return datetime.now(PARIS).replace(microsecond=0)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date-time; one without an offset is read in Europe/Paris, as DS does."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(moment: float, number: int) -> str:
    """DS's cursor: base64 of `<timestamp>;<id>`, from the row itself (it survives a restart)."""
    stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return base64.b64encode(f"{stamp};{number}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, int]:
    """The (timestamp, id) a cursor names; a malformed one is a GraphQL error."""
    try:
        stamp, number = base64.b64decode(cursor, validate=True).decode().split(";")
        return parse_moment(stamp.replace("Z", "+00:00")).timestamp(), int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise GraphQLError(f"Invalid cursor: {cursor!r}") from error


Row = tuple[float, int, Any]  # (timestamp, id, node), the order DS pages in
Info = GraphQLResolveInfo[dict[str, Any]]
Action = Callable[["Store", Dossier, dict[str, Any]], dict[str, Any]]


def connection(
    rows: list[Row], first: int | None, after: str | None, desc: bool = False
) -> dict[str, Any]:
    """A Relay connection over rows sorted by (timestamp, id): `first` capped at 100."""
    if after is not None:
        start = decode_cursor(after)
        if desc:
            rows = rows[bisect.bisect_right(rows, (-start[0], -start[1]), key=_descending) :]
        else:
            rows = rows[bisect.bisect_right(rows, start, key=_ascending) :]
    size = MAX_PAGE_SIZE if first is None else max(0, min(first, MAX_PAGE_SIZE))
    page = rows[:size]
    edges = [
        {"cursor": encode_cursor(moment, number), "node": node} for moment, number, node in page
    ]
    return {
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": len(rows) > size,
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _ascending(row: Row) -> tuple[float, int]:
    return row[0], row[1]


def _descending(row: Row) -> tuple[float, int]:
    return -row[0], -row[1]


# --- the démarche's state ------------------------------------------------------------------------


class Refused(Exception):
    """A mutation DS refuses in its payload (HTTP 200, `errors`, the object null)."""

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


def _dossier_number(dossier_id: str) -> int | None:
    try:
        kind, number = base64.b64decode(dossier_id, validate=True).decode().split("-", 1)
        return int(number) if kind == "Dossier" else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


class Store:
    """The démarche as DS holds it: dossiers, files, deletions, and the mutations received."""

    def __init__(self, built: Demarche) -> None:
        self.demarche = built.demarche
        self.seed = built.seed
        self.dossiers: dict[int, Dossier] = {}
        self.files: dict[str, StoredFile] = dict(built.files)
        self.file_nodes: dict[str, list[dict[str, Any]]] = {}
        self.expired: set[str] = set()
        self.deleted: list[dict[str, Any]] = []
        self.pending_deleted: dict[int, dict[str, Any]] = {}
        self.mutations: list[dict[str, Any]] = []
        self._moments: dict[int, tuple[float, float]] = {}  # (dateDepot, …Modification)
        self._sequence = 0
        self._recorded = 0
        self._lock = threading.Lock()
        for dossier in built.dossiers:
            self.put(dossier)

    @property
    def number(self) -> int:
        return int(self.demarche["number"])

    def next_id(self) -> int:
        """A sequence for messages, traitements and records."""
        self._sequence += 1
        return self._sequence

    # reading

    def put(self, dossier: Dossier, files: dict[str, StoredFile] | None = None) -> None:
        """Add or replace a dossier (and its files' bytes)."""
        self.files |= files or {}
        self.dossiers[dossier["number"]] = dossier
        for champ in fixtures.all_champs(dossier):
            for node in champ.get("files", ()):
                self.file_nodes.setdefault(node["key"], []).append(node)
        self.touched(dossier)

    def touched(self, dossier: Dossier) -> None:
        """Keep the sort keys (dateDepot, dateDerniereModification) of a dossier current."""
        self._moments[dossier["number"]] = (
            parse_moment(dossier["dateDepot"]).timestamp(),
            parse_moment(dossier["dateDerniereModification"]).timestamp(),
        )

    def visible(self, number: int) -> bool:
        """Listed for the administration: not a brouillon, not hidden pending deletion."""
        dossier = self.dossiers.get(number)
        return (
            dossier is not None
            and dossier["state"] != "brouillon"
            and number not in self.pending_deleted
        )

    def get(self, number: int) -> Dossier | None:
        return self.dossiers[number] if self.visible(number) else None

    def by_gid(self, dossier_id: str) -> Dossier | None:
        number = _dossier_number(dossier_id)
        return None if number is None else self.get(number)

    def dossiers_page(
        self,
        first: int | None = None,
        after: str | None = None,
        updated_since: datetime | None = None,
        created_since: datetime | None = None,
        state: str | None = None,
        order: str = "ASC",
    ) -> dict[str, Any]:
        """DS's `dossiers`: by (updated_at, id) with `updatedSince` (inclusive), else by
        (depose_at, id); `createdSince` ignored when `updatedSince` is given."""
        by_update = updated_since is not None
        since = (updated_since or created_since or datetime.min.replace(tzinfo=UTC)).timestamp()
        rows: list[Row] = []
        for number, (deposited, updated) in self._moments.items():
            moment = updated if by_update else deposited
            dossier = self.dossiers[number]
            if moment < since or dossier["state"] == "brouillon" or number in self.pending_deleted:
                continue
            if state is None or dossier["state"] == state:
                rows.append((moment, number, dossier))
        desc = order == "DESC"
        rows.sort(key=_descending if desc else _ascending)
        return connection(rows, first, after, desc)

    def deleted_page(
        self,
        records: list[dict[str, Any]],
        first: int | None,
        after: str | None,
        since: datetime | None,
    ) -> dict[str, Any]:
        """`deletedDossiers` / `pendingDeletedDossiers`: by (dateSupression, id)."""
        floor = since.timestamp() if since else float("-inf")
        rows: list[Row] = []
        for record in records:
            moment = parse_moment(record["dateSupression"]).timestamp()
            if moment >= floor:
                rows.append((moment, record["number"], record))
        rows.sort(key=_ascending)
        return connection(rows, first, after)

    # changing, as the commune or the administration would on DS

    def bump(self, dossier: Dossier, *, champs: bool = False, annotations: bool = False) -> str:
        """A change: `dateDerniereModification` moves; `…Champs` / `…Annotations` if said."""
        moment = iso(now())
        dossier["dateDerniereModification"] = moment
        if champs:
            dossier["dateDerniereModificationChamps"] = moment
        if annotations:
            dossier["dateDerniereModificationAnnotations"] = moment
        self.touched(dossier)
        return moment

    def traitement(self, dossier: Dossier, event: str, motivation: str | None, at: str) -> None:
        dossier["traitements"].append(
            {
                "id": fixtures.gid("Traitement", 10**9 + self.next_id()),
                "event": event,
                "state": dossier["state"],
                "dateTraitement": at,
                "emailAgentTraitant": fixtures.INSTRUCTEUR_EMAIL,
                "motivation": motivation,
            }
        )

    def change_champs(self, number: int, changes: dict[str, Any]) -> Dossier:
        """The commune edits answers on DS: each champ's value and `updatedAt`, then both
        dates; `null` removes a champ, an unknown root champ of the form is added; a pending
        correction is resolved."""
        dossier = self.require(number)
        moment = iso(now())
        descriptors = fixtures.descriptors_by_id()
        roots = {d.id for d in fixtures.FORM}
        for champ_key, value in changes.items():  # all checked before any is applied
            champ = fixtures.find_champ(dossier, champ_key)
            if champ is None and value is not None and champ_key not in roots:
                raise KeyError(champ_key)
            typename = champ["__typename"] if champ else descriptors[champ_key].champ_typename
            if value is not None and typename == "RepetitionChamp":
                raise ValueError("a repetition changes through its rows' champs")
        for champ_key, value in changes.items():
            champ = fixtures.find_champ(dossier, champ_key)
            if value is None:
                self._remove_champ(dossier, champ_key)
                continue
            if champ is None:
                champ = self._add_root_champ(dossier, champ_key, descriptors, moment)
            self._set_champ(number, champ, value)
            champ["updatedAt"] = moment
        for message in dossier["messages"]:
            if message.get("correction") and message["correction"]["dateResolution"] is None:
                message["correction"]["dateResolution"] = moment
        dossier["dateDerniereCorrectionEnAttente"] = None
        self.bump(dossier, champs=True)
        return dossier

    def _remove_champ(self, dossier: Dossier, champ_key: str) -> None:
        dossier["champs"] = [c for c in dossier["champs"] if c["id"] != champ_key]
        for champ in dossier["champs"]:
            for row in champ.get("rows", ()):
                row["champs"] = [c for c in row["champs"] if c["id"] != champ_key]

    def _add_root_champ(
        self,
        dossier: Dossier,
        champ_key: str,
        descriptors: dict[str, fixtures.Descriptor],
        moment: str,
    ) -> dict[str, Any]:
        roots = [d.id for d in fixtures.FORM]
        descriptor = descriptors[champ_key]
        champ: dict[str, Any] = {
            "__typename": descriptor.champ_typename,
            "id": descriptor.id,
            "champDescriptorId": descriptor.id,
            "label": descriptor.label,
            "updatedAt": moment,
        }
        if descriptor.champ_typename == "RepetitionChamp":
            champ |= {"stringValue": "", "rows": []}
        position = roots.index(champ_key)
        before = [c for c in dossier["champs"] if c["id"] in roots[:position]]
        index = dossier["champs"].index(before[-1]) + 1 if before else 0
        dossier["champs"].insert(index, champ)
        return champ

    def _set_champ(self, number: int, champ: dict[str, Any], value: Any) -> None:
        if champ["__typename"] != "PieceJustificativeChamp":
            fixtures.set_value(champ, value)
            return
        nodes = []
        for index, spec in enumerate(value):
            content = (
                base64.b64decode(spec["content_base64"])
                if "content_base64" in spec
                else fixtures.pdf(f"Dossier {number} - {champ['label']} - {time.time_ns()}")
            )
            key = f"{number}-{self.next_id()}-{index}"
            stored = StoredFile(
                content, spec.get("contentType", "application/pdf"), spec["filename"]
            )
            self.files[key] = stored
            node = fixtures.file_node(key, stored, iso(now()))
            self.file_nodes.setdefault(key, []).append(node)
            nodes.append(node)
        champ["files"] = nodes
        champ["stringValue"] = ", ".join(node["filename"] for node in nodes)

    def set_state(self, number: int, state: str) -> Dossier:
        """The administration (or the usager) moves a dossier on DS, outside the API."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}: one of {', '.join(STATES)}")
        dossier = self.dossiers[number]
        dossier["state"] = state
        moment = self.bump(dossier)
        events = {
            "en_construction": "repasse_en_construction",
            "en_instruction": "passe_en_instruction",
            "accepte": "accepte",
            "refuse": "refuse",
            "sans_suite": "classe_sans_suite",
        }
        if state == "en_instruction":
            dossier["datePassageEnInstruction"] = moment
        if state in ("accepte", "refuse", "sans_suite"):
            dossier["dateTraitement"] = moment
        if state in events:
            self.traitement(dossier, events[state], None, moment)
        return dossier

    def delete(self, number: int, reason: str, pending: bool) -> dict[str, Any]:
        """Gone for good (`deletedDossiers`) or hidden, restorable (`pendingDeletedDossiers`)."""
        if reason not in DELETION_REASONS:
            raise ValueError(f"unknown reason {reason!r}: one of {', '.join(DELETION_REASONS)}")
        dossier = self.require(number)
        record = {
            "id": dossier["id"],
            "number": number,
            "dateSupression": iso(now()),
            "state": dossier["state"],
            "reason": reason,
        }
        if pending:
            self.pending_deleted[number] = record
        else:
            self.deleted.append(record)
            del self.dossiers[number]
            del self._moments[number]
        return record

    def restore(self, number: int) -> Dossier:
        self.pending_deleted.pop(number)
        return self.dossiers[number]

    def require(self, number: int) -> Dossier:
        dossier = self.get(number)
        if dossier is None:
            raise KeyError(number)
        return dossier

    def add_generated(self, count: int) -> list[int]:
        """`count` new dossiers filed now, numbered after the greatest known."""
        known = [*self.dossiers, *(r["number"] for r in self.deleted)]
        start = max(known, default=fixtures.FIRST_DOSSIER_NUMBER - 1) + 1
        numbers = list(range(start, start + count))
        for number in numbers:
            filed = fixtures.build_dossier(
                number,
                seed=self.seed,
                demarche=self.demarche,
                deposited_at=now(),
                state="en_construction",
            )
            self.put(filed.dossier, filed.files)
        return numbers

    # mutations, with DS's guards

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep what was received, accepted or not (tests count the decisions written)."""
        with self._lock:
            self._recorded += 1
            entry = {"seq": self._recorded, "at": iso(now())} | entry
            self.mutations.append(entry)
        return entry

    def target(self, arguments: dict[str, Any]) -> Dossier:
        """The dossier a mutation names, once the instructeur is known to see it."""
        dossier = self.by_gid(arguments["dossierId"])
        if dossier is None:
            raise GraphQLError(
                f'No object found for `dossierId: "{arguments["dossierId"]}"`',
                extensions={"code": "not_found"},
            )
        if arguments["instructeurId"] != fixtures.INSTRUCTEUR_ID:
            raise Refused(NO_ACCESS)
        return dossier

    def passer_en_instruction(self, dossier: Dossier, arguments: dict[str, Any]) -> Dossier:
        if dossier["dateDerniereCorrectionEnAttente"] is not None:
            raise Refused(PENDING_CORRECTION)
        if dossier["state"] != "en_construction":
            raise Refused(f"Le dossier est déjà {STATE_FR[dossier['state']]}")
        dossier["state"] = "en_instruction"
        moment = self.bump(dossier)
        dossier["datePassageEnInstruction"] = moment
        self.traitement(dossier, "passe_en_instruction", None, moment)
        return dossier

    def terminer(
        self, dossier: Dossier, arguments: dict[str, Any], state: str, event: str
    ) -> Dossier:
        """accepter / refuser / classer sans suite: only from `en_instruction`."""
        if dossier["state"] != "en_instruction":
            raise Refused(f"Le dossier est déjà {STATE_FR[dossier['state']]}")
        if dossier["demandeur"]["__typename"] == "PersonneMoraleIncomplete":
            raise Refused(SIRET_INCOMPLETE)
        dossier["state"] = state
        moment = self.bump(dossier)
        dossier["dateTraitement"] = moment
        dossier["motivation"] = arguments.get("motivation")
        self.traitement(dossier, event, arguments.get("motivation"), moment)
        return dossier

    def envoyer_message(self, dossier: Dossier, arguments: dict[str, Any]) -> dict[str, Any]:
        """Any state; a `correction` puts an en_instruction dossier back en_construction."""
        if not arguments["body"].strip():
            raise Refused("Votre message ne peut être vide")
        moment = self.bump(dossier)
        correction = arguments.get("correction")
        message = {
            "id": fixtures.gid("Commentaire", self.next_id()),
            "email": fixtures.INSTRUCTEUR_EMAIL,
            "body": arguments["body"],
            "createdAt": moment,
            "attachments": [],
            "attachment": None,
            "discardedAt": None,
            "correction": {"reason": correction, "dateResolution": None} if correction else None,
        }
        dossier["messages"].append(message)
        if correction and dossier["state"] in ("en_construction", "en_instruction"):
            dossier["dateDerniereCorrectionEnAttente"] = moment
            if dossier["state"] == "en_instruction":
                dossier["state"] = "en_construction"
                self.traitement(dossier, "repasse_en_construction", None, moment)
        return message

    def modifier_annotations(
        self, dossier: Dossier, arguments: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Each annotation takes its one value (`text`, `textarea`, …); any state."""
        annotations = {a["id"]: a for a in dossier["annotations"]}
        for change in arguments["annotations"]:
            if change["id"] not in annotations:
                raise Refused(f"L’annotation « {change['id']} » n’existe pas sur ce dossier")
        moment = self.bump(dossier, annotations=True)
        for change in arguments["annotations"]:
            annotation = annotations[change["id"]]
            ((_kind, value),) = change["value"].items()
            annotation["stringValue"] = "" if value is None else str(value)
            annotation["value"] = None if value is None else str(value)
            annotation["updatedAt"] = moment
        return list(annotations.values())


# --- faults -----------------------------------------------------------------------------------


@dataclass
class Faults:
    """What goes wrong, set at start and by `POST /_fake/faults` (counts are consumed)."""

    rate_limit_every: int = 0  # every Nth GraphQL request of an Authorization header: 429
    rate_limit_per_minute: int = 0  # Rack::Attack's fixed window (DS: 400), 0 = none
    retry_after: int = 1  # seconds, in Retry-After and RateLimit-Reset
    drop_next: int = 0  # the connection closed before any answer
    drop_after_next: int = 0  # executed (a mutation applied), then the connection closed
    timeout_next: int = 0  # queries answered with DS's `timeout` error
    error_next: int = 0  # HTTP 500
    hold_next_mutation: int = 0  # seconds the next mutation's answer waits once it is applied
    hold_skip: int = 0  # mutations let through before that hold

    def update(self, changes: dict[str, Any]) -> None:
        """Set the faults named; an unknown name or a negative count is a ValueError."""
        names = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in names or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: a count ≥ 0, one of {', '.join(sorted(names))}")
            setattr(self, name, value)

    def take(self, name: str) -> bool:
        """Consume one of a counted fault, if any is left."""
        left: int = getattr(self, name)
        if left > 0:
            setattr(self, name, left - 1)
        return left > 0


@dataclass
class FakeDs:
    """A running fake: the démarche's state, its tokens, its faults and its counters."""

    store: Store
    read_token: str = "ds-read-token"
    write_token: str = "ds-write-token"
    faults: Faults = field(default_factory=Faults)
    stats: Counter[str] = field(default_factory=Counter)
    requests_by_header: Counter[str] = field(default_factory=Counter)
    windows: dict[str, tuple[int, int]] = field(default_factory=dict)
    timings: list[float] = field(default_factory=list)  # seconds per executed document

    def access(self, authorization: str) -> str | None:
        """`read`, `write`, or None for an unknown or missing token."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return {self.read_token: "read", self.write_token: "write"}.get(token.strip())

    def throttled(self, authorization: str) -> int | None:
        """The seconds to wait if this request is over a limit (Rack::Attack, per header)."""
        self.requests_by_header[authorization] += 1
        every = self.faults.rate_limit_every
        if every and self.requests_by_header[authorization] % every == 0:
            return self.faults.retry_after
        limit = self.faults.rate_limit_per_minute
        if limit:
            clock = int(time.time())
            window, count = self.windows.get(authorization, (clock // 60, 0))
            if window != clock // 60:
                window, count = clock // 60, 0
            self.windows[authorization] = (window, count + 1)
            if count + 1 > limit:
                return 60 - clock % 60
        return None


# --- the schema -----------------------------------------------------------------------------


def _context(info: Info) -> dict[str, Any]:
    return info.context


def _store(info: Info) -> Store:
    return _context(info)["ds"].store  # type: ignore[no-any-return]


def _moment(value: Any) -> datetime | None:
    return value if value is None or isinstance(value, datetime) else parse_moment(value)


def _scalars() -> list[ScalarType]:
    big_int = ScalarType("BigInt", serializer=lambda v: str(int(v)), value_parser=int)
    moment = ScalarType(
        "ISO8601DateTime",
        serializer=lambda v: iso(v) if isinstance(v, datetime) else str(v),
        value_parser=parse_moment,
    )
    date = ScalarType("ISO8601Date", serializer=str, value_parser=str)
    url = ScalarType("URL", serializer=str, value_parser=str)
    return [big_int, moment, date, url]


def _by_typename(obj: dict[str, Any], *_: Any) -> str:
    return str(obj["__typename"])


def _query() -> QueryType:
    query = QueryType()

    @query.field("demarche")
    def demarche(_: Any, info: Info, number: int) -> dict[str, Any]:
        store = _store(info)
        if number != store.number:
            raise GraphQLError("Demarche not found", extensions={"code": "not_found"})
        return store.demarche

    @query.field("dossier")
    def dossier(_: Any, info: Info, number: int) -> Dossier:
        found = _store(info).get(number)
        if found is None:
            raise GraphQLError("Dossier not found", extensions={"code": "not_found"})
        return found

    return query


def _demarche() -> ObjectType:
    demarche = ObjectType("Demarche")

    @demarche.field("dossiers")
    def dossiers(_: Any, info: Info, **args: Any) -> dict[str, Any]:
        if args.get("last") is not None or args.get("before") is not None:
            raise GraphQLError("the fake pages forwards only: use first/after")
        return _store(info).dossiers_page(
            first=args.get("first"),
            after=args.get("after"),
            updated_since=_moment(args.get("updatedSince")),
            created_since=_moment(args.get("createdSince")),
            state=args.get("state"),
            order=args.get("order") or "ASC",
        )

    @demarche.field("deletedDossiers")
    def deleted(_: Any, info: Info, **args: Any) -> dict[str, Any]:
        store = _store(info)
        since = _moment(args.get("deletedSince"))
        return store.deleted_page(store.deleted, args.get("first"), args.get("after"), since)

    @demarche.field("pendingDeletedDossiers")
    def pending(_: Any, info: Info, **args: Any) -> dict[str, Any]:
        store = _store(info)
        since = _moment(args.get("deletedSince"))
        records = list(store.pending_deleted.values())
        return store.deleted_page(records, args.get("first"), args.get("after"), since)

    return demarche


def _by_id(key: str) -> Callable[..., list[dict[str, Any]]]:
    def resolve(obj: Dossier, info: Info, id: str | None = None) -> list[dict[str, Any]]:
        items = obj.get(key, [])
        return items if id is None else [item for item in items if item["id"] == id]

    return resolve


def _objects() -> list[ObjectType]:
    dossier = ObjectType("Dossier")
    for key in ("champs", "annotations", "messages", "avis"):
        dossier.set_field(key, _by_id(key))
    file = ObjectType("File")

    @file.field("url")
    def url(obj: dict[str, Any], info: Info) -> str:
        return f"{_context(info)['base_url']}files/{obj['key']}"

    repetition = ObjectType("RepetitionChamp")

    @repetition.field("champs")
    def cells(obj: dict[str, Any], info: Info) -> list[dict[str, Any]]:
        return [cell for row in obj.get("rows", ()) for cell in row["champs"]]

    piece = ObjectType("PieceJustificativeChamp")

    @piece.field("file")
    def first_file(obj: dict[str, Any], info: Info) -> dict[str, Any] | None:
        return next(iter(obj.get("files", ())), None)

    return [dossier, file, repetition, piece]


def _mutation() -> MutationType:
    mutation = MutationType()

    def passer(store: Store, dossier: Dossier, args: dict[str, Any]) -> dict[str, Any]:
        return {"dossier": store.passer_en_instruction(dossier, args)}

    def terminer(state: str, event: str) -> Action:
        def decide(store: Store, dossier: Dossier, args: dict[str, Any]) -> dict[str, Any]:
            return {"dossier": store.terminer(dossier, args, state, event)}

        return decide

    def message(store: Store, dossier: Dossier, args: dict[str, Any]) -> dict[str, Any]:
        return {"message": store.envoyer_message(dossier, args)}

    def annotations(store: Store, dossier: Dossier, args: dict[str, Any]) -> dict[str, Any]:
        return {"annotations": store.modifier_annotations(dossier, args)}

    actions: dict[str, tuple[str, Action]] = {
        "dossierPasserEnInstruction": ("dossier", passer),
        "dossierAccepter": ("dossier", terminer("accepte", "accepte")),
        "dossierRefuser": ("dossier", terminer("refuse", "refuse")),
        "dossierClasserSansSuite": ("dossier", terminer("sans_suite", "classe_sans_suite")),
        "dossierEnvoyerMessage": ("message", message),
        "dossierModifierAnnotations": ("annotations", annotations),
    }
    for name, (key, action) in actions.items():
        mutation.set_field(name, _recorded(name, key, action))
    return mutation


def _recorded(name: str, key: str, action: Action) -> Callable[..., dict[str, Any]]:
    """A mutation's resolver: DS's order of checks (write token, dossier, instructeur,
    state), the payload's `errors` on a refusal, and one record whatever happens."""

    def resolve(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
        context = _context(info)
        store: Store = context["ds"].store
        entry: dict[str, Any] = {"mutation": name, "input": input, "token": context["access"]}
        entry |= {"executed": True, "fault": None}
        number = _dossier_number(input.get("dossierId", ""))
        try:
            if context["access"] != "write":
                raise Refused(READ_ONLY)
            dossier = store.target(input)
            payload = action(store, dossier, input)
        except Refused as refusal:
            store.record(entry | {"dossier": number, "ok": False, "errors": refusal.messages})
            return {key: None, "errors": [{"message": m} for m in refusal.messages]}
        except GraphQLError as error:
            store.record(entry | {"dossier": number, "ok": False, "errors": [error.message]})
            raise
        state = store.dossiers[number]["state"] if number in store.dossiers else None
        store.record(entry | {"dossier": number, "ok": True, "errors": [], "state": state})
        return {**payload, "errors": None, "clientMutationId": input.get("clientMutationId")}

    return resolve


def _defaults(schema: GraphQLSchema) -> None:
    """Champs' fields the fixtures leave out (`prefilled`, `columns`) answer DS's defaults."""
    defaults: dict[str, Any] = {"prefilled": False, "columns": ()}
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        if "Champ" not in {i.name for i in graphql_type.interfaces}:
            continue
        for name, default in defaults.items():
            if name in graphql_type.fields and graphql_type.fields[name].resolve is None:
                graphql_type.fields[name].resolve = _default(name, default)


def _default(name: str, default: Any) -> Callable[..., Any]:
    def resolve(obj: dict[str, Any], info: Info) -> Any:
        return obj.get(name, default)

    return resolve


@lru_cache(maxsize=1)
def executable_schema() -> GraphQLSchema:
    """DS's published SDL, with the fake's resolvers; interfaces resolved by `__typename`."""
    interfaces = []
    for name in ("Champ", "ChampDescriptor", "Demandeur", "GeoArea", "Column"):
        interface = InterfaceType(name)
        interface.set_type_resolver(_by_typename)
        interfaces.append(interface)
    schema = make_executable_schema(
        SCHEMA_PATH.read_text(),
        _query(),
        _mutation(),
        _demarche(),
        *_objects(),
        *interfaces,
        *_scalars(),
    )
    _defaults(schema)
    return schema


# --- HTTP -------------------------------------------------------------------------------------


class DroppedConnection(Exception):
    """Raised when the server cannot reach its socket to drop it (in-process transports)."""


def _ds(request: Request) -> FakeDs:
    return request.app.state.ds  # type: ignore[no-any-return]


async def drop(request: Request) -> Response:
    """Close the connection without an answer: uvicorn's transport aborted (a TCP reset);
    under an in-process transport, an exception the client sees instead."""
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise DroppedConnection("connection dropped by the fake")
    transport.abort()
    await asyncio.sleep(0)
    return Response(status_code=500)  # never written: the connection is gone


def _operation(data: Any) -> OperationDefinitionNode | None:
    """The operation a request would run, or None if its document does not parse."""
    try:
        document = parse(data["query"])
        return get_operation_ast(document, data.get("operationName"))
    except Exception:
        return None


def _faulted_mutations(fake: FakeDs, data: Any, fault: str, access: str | None) -> None:
    """A mutation hit by a fault before it ran is recorded too, `executed: false`."""
    operation = _operation(data) if isinstance(data, dict) else None
    if operation is None or operation.operation != OperationType.MUTATION:
        return
    variables = data.get("variables") or {}
    for selection in operation.selection_set.selections:
        name = getattr(selection, "name", None)
        arguments = {
            argument.name.value: value_from_ast_untyped(argument.value, variables)
            for argument in getattr(selection, "arguments", ())
        }
        fake.store.record(
            {
                "mutation": name.value if name else None,
                "input": arguments.get("input"),
                "token": access,
                "executed": False,
                "fault": fault,
                "dossier": _dossier_number((arguments.get("input") or {}).get("dossierId", "")),
                "ok": False,
                "errors": [],
            }
        )


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _never_awaitable(value: Any) -> bool:
    """The fake's resolvers are all synchronous: graphql-core need not test each value."""
    return False


async def graphql_endpoint(request: Request) -> Response:
    """`POST /api/v2/graphql`: faults first (as Rack::Attack runs before the app), then the
    token, then the document, validated against DS's schema and executed."""
    fake = _ds(request)
    fake.stats["graphql_requests"] += 1
    authorization = request.headers.get("authorization", "")
    access = fake.access(authorization)
    data = _json_body(await request.body())
    if fake.faults.take("drop_next"):
        fake.stats["dropped"] += 1
        _faulted_mutations(fake, data, "dropped", access)
        return await drop(request)
    wait = fake.throttled(authorization)
    if wait is not None:
        fake.stats["rate_limited"] += 1
        _faulted_mutations(fake, data, "rate_limited", access)
        headers = {"Retry-After": str(wait), "RateLimit-Reset": str(wait)}
        return PlainTextResponse(COWBOY, status_code=429, headers=headers)
    if fake.faults.take("error_next"):
        fake.stats["errors_500"] += 1
        _faulted_mutations(fake, data, "error_500", access)
        return PlainTextResponse("Internal Server Error", status_code=500)
    if access is None:
        fake.stats["unauthorized"] += 1
        return JSONResponse({"errors": [{"message": NO_TOKEN}], "data": None}, status_code=403)
    if not isinstance(data, dict):
        return JSONResponse({"errors": [{"message": "Invalid JSON body"}], "data": None}, 400)
    if fake.faults.timeout_next:
        operation = _operation(data)
        if operation is not None and operation.operation == OperationType.QUERY:
            fake.faults.take("timeout_next")
            fake.stats["timeouts"] += 1
            return JSONResponse(TIMEOUT)
    context = {"ds": fake, "access": access, "base_url": str(request.base_url), "request": request}
    seen = len(fake.store.mutations)
    started = time.perf_counter()
    _, result = await graphql(
        executable_schema(),
        data,
        context_value=context,
        logger=GRAPHQL_LOGGER,
        is_awaitable=_never_awaitable,
    )
    fake.timings.append(time.perf_counter() - started)
    fake.stats[f"answered_{access}"] += 1
    if (
        fake.faults.hold_next_mutation
        and len(fake.store.mutations) > seen
        and not fake.faults.take("hold_skip")
    ):
        held, fake.faults.hold_next_mutation = fake.faults.hold_next_mutation, 0
        for entry in fake.store.mutations[seen:]:
            entry["fault"] = "held"
        fake.stats["held"] += 1
        await asyncio.sleep(held)  # applied on DS; its caller may die before the answer
    if fake.faults.take("drop_after_next"):
        fake.stats["dropped_after"] += 1
        for entry in fake.store.mutations[seen:]:
            entry["fault"] = "dropped_after"
        return await drop(request)
    return JSONResponse(result)


async def file_endpoint(request: Request) -> Response:
    """`GET /files/<key>`: the bytes behind a `File.url`; an expired URL answers 403."""
    store = _ds(request).store
    key = request.path_params["key"]
    if key in store.expired:
        _ds(request).stats["files_expired"] += 1
        return PlainTextResponse("Request has expired", status_code=403)
    stored = store.files.get(key)
    if stored is None:
        return PlainTextResponse("Not Found", status_code=404)
    _ds(request).stats["files_served"] += 1
    disposition = f'attachment; filename="{fixtures.ascii_text(stored.filename)}"'
    return Response(
        stored.content,
        media_type=stored.content_type,
        headers={"Content-Disposition": disposition},
    )


# --- control routes -----------------------------------------------------------------------------


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> Any:
    return _json_body(await request.body()) if await request.body() else {}


def _public(dossier: Dossier) -> dict[str, Any]:
    """A dossier as `GET /_fake/dossiers/{n}` shows it (without the shared démarche)."""
    shown = {k: v for k, v in dossier.items() if k not in ("demarche", "revision")}
    return copy.deepcopy(shown)


async def list_mutations(request: Request) -> Response:
    return JSONResponse({"mutations": _ds(request).store.mutations})


async def clear_mutations(request: Request) -> Response:
    store = _ds(request).store
    cleared = len(store.mutations)
    store.mutations.clear()
    return JSONResponse({"cleared": cleared})


async def faults(request: Request) -> Response:
    fake = _ds(request)
    if request.method == "POST":
        body = await _body(request)
        if not isinstance(body, dict):
            return _error(400, "a JSON object of fault counts")
        try:
            fake.faults.update(body)
        except ValueError as error:
            return _error(400, str(error))
    return JSONResponse(asdict(fake.faults))


def _number(request: Request) -> int:
    return int(request.path_params["number"])


async def change_champs(request: Request) -> Response:
    body = await _body(request)
    if not isinstance(body, dict) or not body:
        return _error(400, "a JSON object {champ id: new value}")
    try:
        dossier = _ds(request).store.change_champs(_number(request), body)
    except KeyError as error:
        return _error(404, f"no such dossier or champ: {error.args[0]}")
    except (ValueError, TypeError) as error:
        return _error(400, str(error))
    return JSONResponse(_public(dossier))


async def change_state(request: Request) -> Response:
    body = await _body(request)
    store = _ds(request).store
    if _number(request) not in store.dossiers:
        return _error(404, f"no such dossier: {_number(request)}")
    try:
        dossier = store.set_state(_number(request), (body or {}).get("state", ""))
    except ValueError as error:
        return _error(400, str(error))
    return JSONResponse(_public(dossier))


async def delete_dossier(request: Request) -> Response:
    body = await _body(request) or {}
    try:
        record = _ds(request).store.delete(
            _number(request), body.get("reason", "user_request"), bool(body.get("pending"))
        )
    except KeyError:
        return _error(404, f"no such dossier: {_number(request)}")
    except ValueError as error:
        return _error(400, str(error))
    return JSONResponse(record)


async def restore_dossier(request: Request) -> Response:
    try:
        dossier = _ds(request).store.restore(_number(request))
    except KeyError:
        return _error(404, f"no dossier pending deletion: {_number(request)}")
    return JSONResponse(_public(dossier))


async def add_dossiers(request: Request) -> Response:
    """`{"count": n}` files n more dossiers now; `{"dossier": {...}, "files": {key: {...}}}`
    (or a bare dossier dict) adds or replaces one as given."""
    body = await _body(request)
    store = _ds(request).store
    if not isinstance(body, dict):
        return _error(400, "a JSON object")
    if "count" in body:
        return JSONResponse({"numbers": store.add_generated(int(body["count"]))})
    dossier = body.get("dossier", body)
    if not isinstance(dossier, dict) or not isinstance(dossier.get("number"), int):
        return _error(400, "a dossier dict with its number, or {count}")
    dossier.setdefault("id", fixtures.gid("Dossier", dossier["number"]))
    files = {
        key: StoredFile(
            base64.b64decode(spec["content_base64"]),
            spec.get("contentType", "application/pdf"),
            spec.get("filename", key),
        )
        for key, spec in (body.get("files") or {}).items()
    }
    dossier.setdefault("demarche", fixtures.demarche_descriptor(store.demarche))
    dossier.setdefault("revision", store.demarche["activeRevision"])
    store.put(dossier, files)
    return JSONResponse({"numbers": [dossier["number"]]})


async def show_dossier(request: Request) -> Response:
    store = _ds(request).store
    dossier = store.dossiers.get(_number(request))
    if dossier is None:
        return _error(404, f"no such dossier: {_number(request)}")
    shown = _public(dossier) | {
        "_visible": store.visible(dossier["number"]),
        "_pending_deletion": store.pending_deleted.get(dossier["number"]),
    }
    return JSONResponse(shown)


async def change_file(request: Request) -> Response:
    """`{"virusScanResult": "pending", "expired": true}`: a file's scan, its URL's expiry."""
    store = _ds(request).store
    key = request.path_params["key"]
    body = await _body(request) or {}
    if key not in store.files:
        return _error(404, f"no such file: {key}")
    if "expired" in body:
        (store.expired.add if body["expired"] else store.expired.discard)(key)
    if "virusScanResult" in body:
        for node in store.file_nodes.get(key, ()):
            node["virusScanResult"] = body["virusScanResult"]
    return JSONResponse({"key": key, "expired": key in store.expired})


def _summary(timings: list[float]) -> dict[str, float | int]:
    """Count, mean, median and max of the documents' execution times (parse, validate, run)."""
    if not timings:
        return {"count": 0}
    ordered = sorted(timings)
    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 4),
        "median": round(ordered[len(ordered) // 2], 4),
        "max": round(ordered[-1], 4),
    }


async def stats(request: Request) -> Response:
    fake = _ds(request)
    store = fake.store
    return JSONResponse(
        dict(fake.stats)
        | {
            "dossiers": sum(1 for n in store.dossiers if store.visible(n)),
            "deleted": len(store.deleted),
            "pending_deleted": len(store.pending_deleted),
            "mutations": len(store.mutations),
            "faults": asdict(fake.faults),
            "execution_seconds": _summary(fake.timings),
        }
    )


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "demarche": _ds(request).store.number})


def create_app(
    demarche: Demarche | None = None,
    *,
    read_token: str = "ds-read-token",
    write_token: str = "ds-write-token",
    faults_at_start: Faults | None = None,
) -> Starlette:
    """The fake DS as an ASGI app; its state is `app.state.ds` (a `FakeDs`)."""
    built = demarche or fixtures.build_demarche()
    executable_schema()  # built (and checked) at start, not on the first request
    routes = [
        Route("/api/v2/graphql", graphql_endpoint, methods=["POST"]),
        Route("/files/{key}", file_endpoint, methods=["GET"]),
        Route("/_fake/health", health, methods=["GET"]),
        Route("/_fake/mutations", list_mutations, methods=["GET"]),
        Route("/_fake/mutations", clear_mutations, methods=["DELETE"]),
        Route("/_fake/faults", faults, methods=["GET", "POST"]),
        Route("/_fake/stats", stats, methods=["GET"]),
        Route("/_fake/dossiers", add_dossiers, methods=["POST"]),
        Route("/_fake/dossiers/{number:int}", show_dossier, methods=["GET"]),
        Route("/_fake/dossiers/{number:int}/champs", change_champs, methods=["POST"]),
        Route("/_fake/dossiers/{number:int}/state", change_state, methods=["POST"]),
        Route("/_fake/dossiers/{number:int}/delete", delete_dossier, methods=["POST"]),
        Route("/_fake/dossiers/{number:int}/restore", restore_dossier, methods=["POST"]),
        Route("/_fake/files/{key}", change_file, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.ds = FakeDs(
        Store(built),
        read_token=read_token,
        write_token=write_token,
        faults=faults_at_start or Faults(),
    )
    return app


@contextmanager
def serve_in_thread(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the app under uvicorn in a thread; yields its base URL once it answers."""
    sock = bind(host, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake DS did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one), handed to uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said, so that asyncio turns Nagle off (else each answer waits ~40 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
