"""DS import: dossiers imported per second from a local Démarches Simplifiées, beside the same
pages fetched and decoded with no platform code, in the same run.

The local DS (`tests.fakes.ds`, a process of its own) serves a démarche of N dossiers. The
platform's figure is applications' own importer (`services.applications.ds.sync.importer`, what
`aap ds import` and the service's sync run) on a fresh database: every page of 100 asked
through the DS client (the document validated against DS's schema, fetched once by
introspection before the clock starts), each dossier mapped, its files fetched and checked, and
filed in aap (`ApplicationSubmitted`, its attachments' bytes and its link to DS) in one
transaction each; dossiers/s = N ÷ the run's time.

The ceilings, measured before and after the import on the same server, best kept: the same
GraphQL text the importer sends, POSTed with httpx page after page by `endCursor` and each
answer decoded with `json.loads` (pages only); and the same again with every file of every
dossier fetched (`champs[].files[].url`, in repetition rows too), as many dossiers at a time as
the importer takes, each dossier's files together as the importer fetches them.
"""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from graphql import print_ast

from bench.context import Bench
from bench.measure import now
from bench.results import Comparison, Outcome
from services.applications.ds.client import operation
from services.applications.ds.importer import PAGE, Importer
from services.applications.ds.settings import DsSettings
from services.applications.ds.sync import importer
from services.applications.main import spec
from shared.kernel import db
from shared.kernel.blobs import PostgresBlobs
from shared.kernel.clock import utc_now
from shared.kernel.runtime import Runtime
from shared.language.campaigns import load_campaigns

TITLE = "DS import: dossiers imported per second from a local Démarches Simplifiées"
DEMARCHE = 104857  # tests.fakes.ds.fixtures.DEMARCHE_NUMBER (bench does not import tests)
CAMPAIGN = "mildeca-2024"
READ_TOKEN = "ds-read-token"  # the local DS's default read token
EPOCH = "1970-01-01T00:00:00+00:00"  # the importer's first `updatedSince`
READY_SECONDS = 300  # the local DS builds its dossiers before it listens
ROOT = Path(__file__).resolve().parents[2]


class LocalDs:
    """`python -m tests.fakes.ds` on a free port: its URL once it listens, stopped at the end."""

    def __init__(self, dossiers: int, log: Path) -> None:
        self.dossiers, self.log = dossiers, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> str:
        with self.log.open("wb") as errors:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.fakes.ds",
                "--port",
                "0",
                "--dossiers",
                str(self.dossiers),
                "--seed",
                "0",
                "--demarche",
                str(DEMARCHE),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), READY_SECONDS)
        said = line.decode().strip()
        if not said.startswith("ds fake listening on "):
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the local DS did not start ({said!r}):\n{tail}")
        return said.removeprefix("ds fake listening on ")

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def file_urls(node: dict[str, Any]) -> Iterator[str]:
    """The URL of each file of a dossier, in its champs and in its repetitions' rows."""
    for champ in node["champs"]:
        for row in champ.get("rows") or ():
            for inner in row["champs"]:
                for f in inner.get("files") or ():
                    yield f["url"]
        for f in champ.get("files") or ():
            yield f["url"]


async def bare_pages(http: httpx.AsyncClient, url: str, with_files: bool) -> tuple[int, int, int]:
    """Every page of the démarche asked with httpx and decoded with json.loads, and, if asked,
    every file fetched; (dossiers, files, file bytes)."""
    query = print_ast(operation("DemarcheDossiers"))
    headers = {"Authorization": f"Bearer {READ_TOKEN}"}
    limit = asyncio.Semaphore(Importer.concurrency)
    dossiers = files = size = 0

    async def dossier_files(node: dict[str, Any]) -> list[int]:
        async with limit:
            answers = await asyncio.gather(*(http.get(u) for u in file_urls(node)))
        for answer in answers:
            answer.raise_for_status()
        return [len(a.content) for a in answers]

    after: str | None = None
    while True:
        variables = {"demarche": DEMARCHE, "first": PAGE, "after": after, "updatedSince": EPOCH}
        body = {"query": query, "operationName": "DemarcheDossiers", "variables": variables}
        answer = await http.post(url, json=body, headers=headers)
        answer.raise_for_status()
        decoded = json.loads(answer.content)
        if decoded.get("errors"):
            raise RuntimeError(f"the local DS answered errors: {decoded['errors']}")
        connection = decoded["data"]["demarche"]["dossiers"]
        nodes: list[dict[str, Any]] = connection["nodes"]
        dossiers += len(nodes)
        if with_files:
            for sizes in await asyncio.gather(*(dossier_files(n) for n in nodes)):
                files += len(sizes)
                size += sum(sizes)
        if not connection["pageInfo"]["hasNextPage"]:
            return dossiers, files, size
        after = connection["pageInfo"]["endCursor"]


async def measure(bench: Bench) -> Outcome:
    settings, count = bench.scoped("ds_import"), bench.sizes.ds_dossiers
    local = LocalDs(count, bench.folder("ds_import") / "ds-fake.log")
    best = {False: 0.0, True: 0.0}  # dossiers/s of the ceilings: pages only, pages and files
    seen: dict[str, int] = {}
    try:
        base = await local.start()
        graphql_url = f"{base}/api/v2/graphql"
        async with httpx.AsyncClient(timeout=httpx.Timeout(60)) as http:

            async def ceilings() -> None:
                for with_files in (False, True):
                    start = now()
                    dossiers, files, size = await bare_pages(http, graphql_url, with_files)
                    best[with_files] = max(best[with_files], dossiers / (now() - start))
                    if dossiers != count:
                        raise RuntimeError(f"the bare pages gave {dossiers} dossiers, not {count}")
                    if with_files:
                        seen.update(files=files, file_bytes=size)

            await ceilings()
            await db.provision(settings, "applications", spec().schema_sql)
            pool = await db.open_pool(settings, "applications", size=8)
            try:
                start = now()
                async with importer(
                    pool=pool,
                    store=Runtime(spec(), settings).store,
                    blobs=PostgresBlobs(),
                    campaign=load_campaigns()[CAMPAIGN],
                    settings=DsSettings(
                        url=graphql_url,
                        read_token=READ_TOKEN,
                        requests_per_second=0,
                        schema_file="",  # DS's schema by introspection, once, before the run
                    ),
                    clock=utc_now,
                ) as run:
                    connected = now() - start
                    start = now()
                    report = await run.run(DEMARCHE)
                    elapsed = now() - start
                    requests = run.ds.requests
                if report.imported != count or report.refused:
                    raise RuntimeError(
                        f"{report.summary()}; refused: {dict(list(report.refused.items())[:3])}"
                    )
                events = await pool.fetchval("SELECT count(*) FROM events")
                blobs = await pool.fetchrow(
                    "SELECT count(*) AS n, coalesce(sum(size), 0)::bigint AS bytes FROM blobs"
                )
            finally:
                await pool.close()
            await ceilings()
    finally:
        await local.stop()
    imported = count / elapsed
    return Outcome(
        parameters={
            "dossiers": count,
            "page_size": PAGE,
            "files_per_dossier": round(seen["files"] / count, 2),
            "importer_concurrency": Importer.concurrency,
            "ceiling_rounds": 2,
        },
        comparisons=[
            Comparison(
                "dossiers imported (pages, mapping, files, one transaction each)",
                "dossiers/s",
                imported,
                best[False],
                "the same pages, bare httpx POST + json.loads",
            ),
            Comparison(
                "dossiers imported, beside the pages and their files",
                "dossiers/s",
                imported,
                best[True],
                "the same pages and every file, bare httpx GET",
            ),
        ],
        figures={
            "import_seconds": round(elapsed, 2),
            "connect_and_introspect_seconds": round(connected, 2),
            "ds_requests": requests,
            "pages": report.pages,
            "events_written": events,
            "blobs": blobs["n"],
            "blob_bytes": blobs["bytes"],
            "files_fetched_bare": seen["files"],
            "file_bytes_bare": seen["file_bytes"],
        },
    )
