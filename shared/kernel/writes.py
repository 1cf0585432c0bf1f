"""A projection's row writes said as data: run at once live, folded in memory by a rebuild.

`upsert`, `update` and `append` each say what becomes of one row, keyed by its primary key.
On a connection they run as one statement. On a `Folding` (what a rebuild hands the
handlers) they are merged per row, in event order, as the statements one after the other
would leave it, and `flush` writes them in bulk: one statement per table, kind of write and
set of columns. Any other statement a handler runs on the `Folding` flushes first, so it
sees what the events before it wrote.

Writes of different rows commute: the read models have no triggers, no foreign keys.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
import orjson

Kind = Literal["upsert", "update", "append"]


def _sql(
    kind: Kind, table: str, keys: Sequence[str], on_insert: Sequence[str], columns: Sequence[str]
) -> str:
    """One row's statement, its parameters the keys, then the columns (upsert: those set on
    insert only, then those set either way)."""
    if kind == "upsert":
        places = ", ".join(f"${i}" for i in range(1, len(keys) + len(on_insert) + len(columns) + 1))
        return _insert(table, keys, on_insert, columns, f"VALUES ({places})")
    n = len(keys)
    where = " AND ".join(f"{k} = ${i}" for i, k in enumerate(keys, 1))
    if kind == "update":
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, n + 1))
    else:
        sets = ", ".join(f"{c} = {c} || ${i}::jsonb" for i, c in enumerate(columns, n + 1))
    return f"UPDATE {table} SET {sets} WHERE {where}"


def _insert(
    table: str, keys: Sequence[str], on_insert: Sequence[str], columns: Sequence[str], rows: str
) -> str:
    then = (
        "UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns) if columns else "NOTHING"
    )
    return (
        f"INSERT INTO {table} ({', '.join([*keys, *on_insert, *columns])}) {rows} "
        f"ON CONFLICT ({', '.join(keys)}) DO {then}"
    )


@dataclass
class _Write:
    kind: Kind
    columns: dict[str, Any]  # append: column → the JSON items appended, in order
    on_insert: dict[str, Any] = field(default_factory=dict)

    def then(self, later: "_Write") -> bool:
        """Fold a later write of the same row into this one, when one write can say both."""
        if later.kind == "append":
            if self.kind != "append":
                return False
            for column, items in later.columns.items():
                self.columns[column] = [*self.columns.get(column, []), *items]
            return True
        if self.kind == "append" or (self.kind == "update" and later.kind == "upsert"):
            return False  # the update did nothing to a row that was not there yet
        # after an upsert the row is there: a later upsert or update only sets its columns
        self.columns.update(later.columns)
        for column in later.columns:
            self.on_insert.pop(column, None)
        return True

    def params(self) -> list[Any]:
        if self.kind == "append":
            return [orjson.dumps(items).decode() for items in self.columns.values()]
        return [*self.on_insert.values(), *self.columns.values()]

    def shape(self) -> tuple[Kind, tuple[str, ...], tuple[str, ...]]:
        return self.kind, tuple(self.on_insert), tuple(self.columns)


Row = tuple[str, tuple[str, ...], tuple[Any, ...]]  # table, key columns, key values


class Folding:
    """A rebuild's connection: row writes held and merged, everything else run in order."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._rows: dict[Row, list[_Write]] = {}
        self._types: dict[str, dict[str, str]] = {}

    def hold(self, table: str, key: Mapping[str, Any], write: _Write) -> None:
        writes = self._rows.setdefault((table, tuple(key), tuple(key.values())), [])
        if not writes or not writes[-1].then(write):
            writes.append(write)

    async def flush(self) -> None:
        """Every held write, in bulk: the first write of each row, then the second, …"""
        rows, self._rows = self._rows, {}
        depth = max((len(writes) for writes in rows.values()), default=0)
        for turn in range(depth):
            shapes: dict[tuple[str, tuple[str, ...], Any], list[tuple[tuple[Any, ...], _Write]]]
            shapes = {}
            for (table, keys, values), writes in rows.items():
                if turn < len(writes):
                    write = writes[turn]
                    shapes.setdefault((table, keys, write.shape()), []).append((values, write))
            for (table, keys, (kind, on_insert, columns)), group in shapes.items():
                await self._write(table, keys, kind, on_insert, columns, group)

    async def _write(
        self,
        table: str,
        keys: tuple[str, ...],
        kind: Kind,
        on_insert: tuple[str, ...],
        columns: tuple[str, ...],
        group: list[tuple[tuple[Any, ...], _Write]],
    ) -> None:
        names = [*keys, *on_insert, *columns]
        types = await self._types_of(table)
        if len(group) == 1 or any(types[n].endswith("]") for n in names):
            # one row, or an array column (unnest would flatten it): row by row
            sql = _sql(kind, table, keys, on_insert, columns)
            for values, write in group:
                await self.conn.execute(sql, *values, *write.params())
            return
        arrays = [
            list(a) for a in zip(*(values + tuple(w.params()) for values, w in group), strict=True)
        ]
        typed = ", ".join(
            f"${i}::{'jsonb' if kind == 'append' and i > len(keys) else types[n]}[]"
            for i, n in enumerate(names, 1)
        )
        if kind == "upsert":
            sql = _insert(table, keys, on_insert, columns, f"SELECT * FROM unnest({typed})")
        else:
            sets = ", ".join(
                f"{c} = t.{c} || v.{c}" if kind == "append" else f"{c} = v.{c}" for c in columns
            )
            where = " AND ".join(f"t.{k} = v.{k}" for k in keys)
            sql = (
                f"UPDATE {table} AS t SET {sets} FROM unnest({typed}) AS v ({', '.join(names)}) "
                f"WHERE {where}"
            )
        await self.conn.execute(sql, *arrays)

    async def _types_of(self, table: str) -> dict[str, str]:
        if table not in self._types:
            rows = await self.conn.fetch(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                table,
            )
            self._types[table] = {r["attname"]: r["type"] for r in rows}
        return self._types[table]

    # Any other statement runs after the writes held before it.
    async def execute(self, query: str, *args: Any) -> str:
        await self.flush()
        result: str = await self.conn.execute(query, *args)
        return result

    async def executemany(self, query: str, args: Any) -> None:
        await self.flush()
        await self.conn.executemany(query, args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        await self.flush()
        return list(await self.conn.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self.conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        await self.flush()
        return await self.conn.fetchval(query, *args)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"a rebuild's connection does not {name}: run statements only")


async def _run(
    conn: asyncpg.Connection | Folding,
    table: str,
    key: Mapping[str, Any],
    write: _Write,
) -> None:
    if isinstance(conn, Folding):
        conn.hold(table, key, write)
        return
    sql = _sql(write.kind, table, tuple(key), tuple(write.on_insert), tuple(write.columns))
    await conn.execute(sql, *key.values(), *write.params())


async def upsert(
    conn: asyncpg.Connection,
    table: str,
    key: Mapping[str, Any],
    columns: Mapping[str, Any],
    *,
    on_insert: Mapping[str, Any] | None = None,
) -> None:
    """The row keyed by `key` gets `columns`; created with `on_insert` too when it is new
    (with no `columns`: created when it is not there, left as it is when it is)."""
    fresh = {k: v for k, v in (on_insert or {}).items() if k not in columns}
    await _run(conn, table, key, _Write("upsert", dict(columns), fresh))


async def update(
    conn: asyncpg.Connection, table: str, key: Mapping[str, Any], columns: Mapping[str, Any]
) -> None:
    """The row keyed by `key`, when it is there, gets `columns`."""
    await _run(conn, table, key, _Write("update", dict(columns)))


async def append(
    conn: asyncpg.Connection, table: str, key: Mapping[str, Any], column: str, items: list[Any]
) -> None:
    """The JSON array in `column` of the row keyed by `key`, when it is there, gets `items`
    at its end."""
    await _run(conn, table, key, _Write("append", {column: list(items)}))
