"""Console: the instructor's table of a campaign's dossiers, page after page, beside the read API
alone answering the same query.

A campaign of N dossiers at every stage of their lives (each life cut at a random event: filed,
checked, waiting for the préfecture, assessed, decided, signed) is written to the applications
and selection topics and replayed into selection's read model by its own projection. Then
selection and applications run as processes (on topics of their own, so that nothing re-decides
the lives already written), the console beside them, and the instructor logs in through the
OpenID provider (Keycloak, as a person does, over HTTP). C clients ask for random pages of the
table (25 dossiers, sorted by reference): through the console (HTML, the person's token minted,
the campaigns and the page asked of the services), and straight from selection's
`GET /campaigns/{id}/dossiers` with an instructor's token. Rounds alternate; the best rate of
each is kept, the p95 is over every round.
"""

import asyncio
import html
import http.cookiejar
import os
import random
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx

from bench.context import Bench
from bench.lives import Lives, Record, publish
from bench.measure import now, percentile
from bench.processes import Processes
from bench.results import Comparison, Outcome
from bench.stack import environment, free_port
from services.console import habilitations
from services.console.main import schema as console_schema
from services.selection import projections
from services.selection.main import spec as selection_spec
from shared.kernel import db, topics
from shared.kernel.auth import mint
from shared.kernel.projection import rebuild
from shared.kernel.settings import Settings
from shared.language.actors import Role

TITLE = "Console: the instructor's table of 10,000 dossiers, beside the read API alone"
SERVICES = ("applications", "selection")
CAMPAIGN = "demo"
PER_PAGE = 25
# The demo instructor of deploy/keycloak (realm aap-realm.json, habilitations-demo.json).
LOGIN, PASSWORD = "instructeur", "demo"
EMAIL = "instruction@mildeca.gouv.example.fr"
ISSUER = os.environ.get("AAP_OIDC_ISSUER", "http://127.0.0.1:28080/realms/aap")
_FORM = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"')


def browser_like() -> httpx.AsyncClient:
    """A client that keeps cookies as Chromium does on loopback: the provider's `Secure` cookies
    come back to it over http (the standard jar sends them over https only)."""
    jar = http.cookiejar.CookieJar()

    async def loopback_is_secure(response: httpx.Response) -> None:
        for cookie in jar:
            if cookie.domain in ("127.0.0.1", "localhost"):
                cookie.secure = False

    return httpx.AsyncClient(
        timeout=60,
        follow_redirects=True,
        cookies=jar,
        event_hooks={"response": [loopback_is_secure]},
    )


def campaign_lives(count: int) -> Iterator[Record]:
    """`count` dossiers of the campaign, each life cut at a random event (a prefix of a life is
    a life), each with a reference of its own."""
    lives, draw = Lives(services=SERVICES), random.Random(20261201)
    for n in range(1, count + 1):
        life = list(lives.records(uuid4(), reference=f"AAP-BENCH-{n:05d}"))
        yield from life[: draw.randint(1, len(life))]


async def fill(settings: Settings, count: int) -> int:
    """Selection's read model of the campaign, replayed from the log by its projection."""
    topic_of = {s: topics.events_topic(settings.topic_prefix, s) for s in SERVICES}
    await topics.ensure_topics(
        settings.kafka_bootstrap, list(topic_of.values()), settings.topic_partitions
    )
    await publish(settings.kafka_bootstrap, topic_of, campaign_lives(count))
    await db.provision(settings, "selection", selection_spec().schema_sql)
    pool = await db.open_pool(settings, "selection", size=2)
    try:
        await rebuild(
            pool,
            projections.dossiers(),
            bootstrap=settings.kafka_bootstrap,
            topics=list(topic_of.values()),
        )
        rows: int = await pool.fetchval(
            "SELECT count(*) FROM selection_dossiers WHERE campaign_id = $1", CAMPAIGN
        )
        return rows
    finally:
        await pool.close()


async def habilitate(settings: Settings) -> None:
    """The demo instructor, named in the console's habilitations (as `aap habilitations` does)."""
    await db.provision(settings, "console", console_schema())
    conn = await asyncpg.connect(settings.admin_dsn("console"))
    try:
        await habilitations.grant(conn, EMAIL, "instructor", None, "Nadia Benali")
    finally:
        await conn.close()


async def logged_in(client: httpx.AsyncClient, console: str) -> None:
    """The instructor's session: the console's login, the provider's form, back with a code."""
    form = await client.get(f"{console}/login", params={"next": "/"})
    found = _FORM.search(form.text)
    if found is None:
        raise RuntimeError(f"no login form at {form.url} ({form.status_code}): is {ISSUER} up?")
    home = await client.post(
        html.unescape(found.group(1)), data={"username": LOGIN, "password": PASSWORD}
    )
    if home.status_code != 200 or not str(home.url).startswith(console):
        raise RuntimeError(f"the login ended at {home.url} ({home.status_code})")


async def one_round(
    ask: Callable[[int], Awaitable[None]], seconds: float, clients: int, pages: int
) -> tuple[float, list[float]]:
    """C clients asking for random pages for `seconds`: pages/s and each latency (ms)."""
    times: list[float] = []
    deadline = now() + seconds

    async def client() -> None:
        while now() < deadline:
            start = now()
            await ask(random.randint(1, pages))
            times.append((now() - start) * 1000)

    start = now()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(times) / (now() - start), times


async def rounds(
    count: int,
    seconds: float,
    clients: int,
    pages: int,
    asks: dict[str, Callable[[int], Awaitable[None]]],
) -> dict[str, tuple[float, list[float]]]:
    """Each way of asking for a page, rounds alternated: the best rate and every latency."""
    best = {name: (0.0, list[float]()) for name in asks}
    for _ in range(count):
        for name, ask in asks.items():
            rate, times = await one_round(ask, seconds, clients, pages)
            best[name] = (max(best[name][0], rate), best[name][1] + times)
    return best


async def measure(bench: Bench) -> Outcome:
    settings, sizes = bench.scoped("console"), bench.sizes
    dossiers = await fill(settings, sizes.console_dossiers)
    await habilitate(settings)
    served = settings.model_copy(update={"topic_prefix": f"{settings.topic_prefix}.served"})
    processes = Processes(bench.folder("console") / "logs", environment(served))
    port = free_port()
    console = f"http://127.0.0.1:{port}"
    try:
        for service in SERVICES:
            processes.start(service, ["cli", "serve", service])
        await processes.ready()
        processes.start(
            "console",
            ["cli", "serve", "console"],
            port=port,
            AAP_CONSOLE_URL=console,
            AAP_OIDC_ISSUER=ISSUER,
            AAP_CONSOLE_SESSION_SECRET="bench-only",
            AAP_APPLICATIONS_URL=processes.urls["applications"],
            AAP_SELECTION_URL=processes.urls["selection"],
        )
        await processes.ready()
        key = await asyncio.to_thread(Path(settings.jwt_private_key_file).read_text)
        token = mint(
            key,
            role=Role.instructor,
            subject=EMAIL,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        limits = httpx.Limits(max_connections=sizes.console_clients * 2, keepalive_expiry=2.0)
        async with (
            browser_like() as person,
            httpx.AsyncClient(
                timeout=60, limits=limits, headers={"Authorization": f"Bearer {token}"}
            ) as api,
        ):
            await logged_in(person, console)
            pages = -(-dossiers // PER_PAGE)
            table = f"{console}/campagnes/tableau"
            listing = f"{processes.urls['selection']}/campaigns/{CAMPAIGN}/dossiers"

            async def through_console(n: int) -> None:
                answer = await person.get(table, params={"campagne": CAMPAIGN, "page": n})
                if answer.status_code != 200 or "AAP-BENCH-" not in answer.text:
                    raise RuntimeError(f"console page {n}: {answer.status_code}")

            async def read_api(n: int) -> None:
                answer = await api.get(
                    listing,
                    params={"page": n, "per_page": PER_PAGE, "sort": "reference", "order": "asc"},
                )
                if answer.status_code != 200 or len(answer.json()["dossiers"]) == 0:
                    raise RuntimeError(f"read API page {n}: {answer.status_code}")

            for ask in (through_console, read_api):  # warm both (caches, JIT of the queries)
                for n in random.sample(range(1, pages + 1), 10):
                    await ask(n)
            found = await rounds(
                sizes.rounds,
                sizes.console_seconds,
                sizes.console_clients,
                pages,
                {"console": through_console, "api": read_api},
            )
        rss = processes.peak_rss_mib()
    finally:
        processes.stop()
    (console_rate, console_times), (api_rate, api_times) = found["console"], found["api"]
    return Outcome(
        parameters={
            "dossiers": dossiers,
            "per_page": PER_PAGE,
            "clients": sizes.console_clients,
            "seconds_per_round": sizes.console_seconds,
            "rounds": sizes.rounds,
        },
        comparisons=[
            Comparison(
                "instructor's table through the console",
                "pages/s",
                console_rate,
                api_rate,
                "selection's read API alone, the same query",
            ),
            Comparison(
                "instructor's table through the console, p95",
                "ms",
                percentile(console_times, 95),
                percentile(api_times, 95),
                "selection's read API alone, p95",
                higher_is_better=False,
            ),
        ],
        figures={
            "pages": pages,
            "p50_ms_console": round(percentile(console_times, 50), 1),
            "p50_ms_api": round(percentile(api_times, 50), 1),
            "requests_console": len(console_times),
            "requests_api": len(api_times),
            **{f"peak_rss_mib_{name}": mib for name, mib in rss.items()},
        },
    )
