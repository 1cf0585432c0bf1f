"""Surge: dossiers filed over HTTP by concurrent applicants, against the services as processes.

Phase 1 files N dossiers as fast as C clients can (each client an applicant of its own SIREN
and token) and times, from the first filing, the moment the last EligibilityChecked shows
on the selection topic and the moment the last acknowledgement mail reaches the SMTP sink.
Phase 2 files at half the rate found to eligibility, evenly spaced, and takes each dossier's
latency from filing to eligibility; phase 3 the same at half the rate found to the mail, the
rate the platform keeps up with whole (at half the rate to eligibility, its services, which
also send the mails, ask nearly both cores: that latency is mostly a queue). Ceilings: the
bare pipeline (bench/pipeline.py: the same hops, the same libraries, no platform code) run
through the three phases after the services stopped, phases 2 and 3 at the platform's
rates; the same requests answered by the web stack alone (bench/webstack.py, before the
services start); Kafka's round trip alone (aiokafka, produce → consume, at the phase 2 rate).
Peak RSS of each service, and the CPU each part spent per dossier, too.
"""

import asyncio
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx

from bench import pipeline
from bench.context import Bench
from bench.mailsink import MailSink
from bench.measure import now, percentile
from bench.processes import Processes, cpu_seconds, machine_busy
from bench.results import Comparison, Outcome
from bench.stack import environment
from bench.watch import Watcher, all_seen, of_type
from cli.demo import demo_dossier, random_siren
from shared.kernel import db, topics
from shared.kernel.auth import mint
from shared.kernel.outbox import idempotent_producer
from shared.kernel.settings import Settings
from shared.language.actors import Role

TITLE = "Surge: dossiers filed over HTTP, to eligibility and to the acknowledgement mail"
CAMPAIGN = "bench"


def campaigns_dir(folder: Path) -> Path:
    """A folder with the demo campaign open from 2020 to 2099: the bench never meets a closed
    call."""
    campaign = json.loads(
        resources.files("shared.language").joinpath("campaigns/demo.json").read_text()
    )
    campaign.update(
        id=CAMPAIGN,
        reference_prefix="AAP-BENCH",
        published_at="2020-01-01T00:00:00+01:00",
        deadline="2099-12-31T00:00:00+01:00",
        convention_deadline="2100-06-30T00:00:00+02:00",
        envelope_eur="999999999.00",
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{CAMPAIGN}.json").write_text(json.dumps(campaign))
    return folder


@dataclass
class Filing:
    started: float
    answered: float = 0.0
    status: int = 0
    dossier_id: str = ""
    reference: str = ""
    refusal: str = ""


class Applicants:
    """C applicants, each with its SIREN, its token and its dossier, filing over one HTTP client."""

    def __init__(self, settings: Settings, clients: int) -> None:
        key = Path(settings.jwt_private_key_file).read_text()
        self.requests: list[tuple[dict[str, str], bytes]] = []
        for i in range(clients):
            siren = random_siren()
            token = mint(
                key,
                role=Role.applicant,
                subject=f"applicant-{i}@bench.example.fr",
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                siren=siren,
            )
            self.requests.append(
                (
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    json.dumps(demo_dossier(siren)).encode(),
                )
            )
        # Idle connections are let go before uvicorn's 5 s keep-alive ends: a connection the
        # server is closing must never be reused (httpx.ReadError in the paced phase).
        self.client = httpx.AsyncClient(
            timeout=120, limits=httpx.Limits(max_connections=clients + 64, keepalive_expiry=2.0)
        )
        self.retries = 0

    async def file(self, base_url: str, i: int) -> Filing:
        headers, body = self.requests[i % len(self.requests)]
        filing = Filing(now())
        url = f"{base_url}/campaigns/{CAMPAIGN}/dossiers"
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.TransportError:
            # A kept-alive connection the server closed as the request went out: once more.
            self.retries += 1
            response = await self.client.post(url, content=body, headers=headers)
        filing.answered, filing.status = now(), response.status_code
        if response.status_code == 201:
            answer = response.json()
            filing.dossier_id, filing.reference = answer["dossier_id"], answer["reference"]
        else:
            filing.refusal = response.text[:300]
        return filing

    async def flood(self, base_url: str, count: int) -> list[Filing]:
        """`count` filings, each client filing again as soon as it is answered."""
        filings: list[Filing] = []
        numbers = iter(range(count))  # shared: each client takes the next number

        async def client(i: int) -> None:
            for _ in numbers:
                filings.append(await self.file(base_url, i))

        await asyncio.gather(*(client(i) for i in range(len(self.requests))))
        return filings

    async def paced(self, base_url: str, count: int, rate: float) -> list[Filing]:
        """`count` filings started every 1/rate seconds, whoever answers when."""
        start = now()

        async def one(i: int) -> Filing:
            await asyncio.sleep(max(0.0, start + i / rate - now()))
            return await self.file(base_url, i)

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    async def close(self) -> None:
        await self.client.aclose()


def answered(filings: list[Filing]) -> list[Filing]:
    good = [f for f in filings if f.status == 201]
    if len(good) < len(filings):
        refused = next(f for f in filings if f.status != 201)
        raise RuntimeError(
            f"{len(filings) - len(good)} filings of {len(filings)} refused, "
            f"e.g. {refused.status} {refused.refusal}"
        )
    return good


async def web_ceiling(bench: Bench, applicants: Applicants, count: int) -> tuple[float, float]:
    """(filings answered per second, peak RSS in MiB) of the web stack alone."""
    web = Processes(bench.folder("surge") / "logs", environment(bench.scoped("surge")))
    try:
        url = web.start("webstack", ["bench.webstack"])
        await web.ready()
        await applicants.flood(url, 20)  # warm-up
        filings = answered(await applicants.flood(url, count))
        rate = len(filings) / (max(f.answered for f in filings) - min(f.started for f in filings))
        return rate, web.peak_rss_mib()["webstack"]
    finally:
        web.stop()


async def kafka_round_trip(settings: Settings, count: int, rate: float) -> list[float]:
    """Milliseconds from send to receipt of `count` records sent at `rate`, as the relay sends."""
    topic = topics.events_topic(settings.topic_prefix, "roundtrip")
    await topics.ensure_topics(settings.kafka_bootstrap, [topic], settings.topic_partitions)
    producer = idempotent_producer(settings.kafka_bootstrap, "bench-roundtrip")
    await producer.start()
    value = json.dumps(demo_dossier(random_siren())).encode()
    sent: dict[str, float] = {}
    try:
        async with Watcher(settings.kafka_bootstrap, topic) as watcher:
            start = now()
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / rate - now()))
                sent[str(i)] = now()
                await producer.send(topic, value=value, key=str(i).encode())
            seen = await all_seen(lambda: watcher.seen, sent, 60, "round trips")
    finally:
        await producer.stop()
    return [(seen[k] - sent[k]) * 1000 for k in sent]


@dataclass
class Surge:
    """What phase 1 found: the rates, and the CPU each part spent per dossier."""

    filed: float
    checked: float
    acknowledged: float
    cpu_ms_per_dossier: dict[str, float]


async def flood(
    applicants: Applicants,
    url: str,
    services: Processes,
    eligibility: Watcher,
    sink: MailSink,
    count: int,
) -> Surge:
    """Phase 1: `count` dossiers as fast as the clients go, followed to eligibility and mail."""
    cpu_before, bench_before = services.cpu_seconds(), cpu_seconds(os.getpid())
    machine_before = machine_busy()
    filings = answered(await applicants.flood(url, count))
    first = min(f.started for f in filings)
    checked = await all_seen(
        lambda: eligibility.seen,
        [f.dossier_id for f in filings],
        120 + count / 10,
        "eligibility checks",
    )
    acknowledged = await all_seen(
        lambda: sink.arrivals.of("acknowledgement"),
        [f.reference for f in filings],
        120 + count / 5,
        "acknowledgement mails",
    )
    spent = {name: cpu - cpu_before[name] for name, cpu in services.cpu_seconds().items()}
    spent["bench client"] = cpu_seconds(os.getpid()) - bench_before
    busy = machine_busy() - machine_before
    spent["the rest (PostgreSQL, Kafka, other load)"] = busy - sum(spent.values())
    return Surge(
        filed=count / (max(f.answered for f in filings) - first),
        checked=count / (max(checked.values()) - first),
        acknowledged=count / (max(acknowledged.values()) - first),
        cpu_ms_per_dossier={name: round(1000 * cpu / count, 1) for name, cpu in spent.items()},
    )


async def paced(
    applicants: Applicants, url: str, eligibility: Watcher, count: int, rate: float
) -> list[float]:
    """Phase 2: milliseconds from filing to eligibility, dossiers filed evenly at `rate`."""
    filings = answered(await applicants.paced(url, count, rate))
    checked = await all_seen(
        lambda: eligibility.seen,
        [f.dossier_id for f in filings],
        120 + count / 10,
        "eligibility checks",
    )
    return [(checked[f.dossier_id] - f.started) * 1000 for f in filings]


async def bare_pipeline(
    bench: Bench, applicants: Applicants, count: int, phases: list[tuple[int, float]]
) -> tuple[Surge, list[list[float]]]:
    """The same phases through the bare pipeline (bench/pipeline.py), its stages as
    processes: phase 1's rates and CPU, then the latencies of each paced phase (how many
    dossiers, at what rate), at the platform's rates."""
    settings = bench.scoped("surge")
    filed = f"{settings.topic_prefix}.bare.filed"
    checked = f"{settings.topic_prefix}.bare.checked"
    await topics.ensure_topics(
        settings.kafka_bootstrap, [filed, checked], settings.topic_partitions
    )
    await db.provision(settings, "bare", pipeline.TABLES)
    common = [
        "--dsn",
        settings.app_dsn("bare"),
        "--bootstrap",
        settings.kafka_bootstrap,
        "--filed",
        filed,
        "--checked",
        checked,
    ]
    with MailSink() as sink:
        stages = Processes(bench.folder("surge") / "bare-logs", environment(settings))
        try:
            url = stages.start("front", ["bench.pipeline", "front", *common])
            stages.start("check", ["bench.pipeline", "check", *common])
            stages.start("mail", ["bench.pipeline", "mail", *common, "--smtp-port", str(sink.port)])
            await stages.ready()
            async with Watcher(
                settings.kafka_bootstrap, checked, of_type("EligibilityChecked")
            ) as eligibility:
                surge = await flood(applicants, url, stages, eligibility, sink, count)
                latencies = [
                    await paced(applicants, url, eligibility, n, rate) for n, rate in phases
                ]
        finally:
            stages.stop()
    return surge, latencies


async def measure(bench: Bench) -> Outcome:
    settings, sizes = bench.scoped("surge"), bench.sizes
    count, clients = sizes.surge_dossiers, sizes.surge_clients
    applicants = Applicants(settings, clients)
    figures: dict[str, object] = {}
    try:
        web_rate, figures["peak_rss_mib_webstack"] = await web_ceiling(bench, applicants, count)
        with MailSink() as sink:
            env = environment(
                settings,
                AAP_SMTP_PORT=str(sink.port),
                AAP_CAMPAIGNS_DIR=str(campaigns_dir(bench.folder("surge") / "campaigns")),
            )
            services = Processes(bench.folder("surge") / "logs", env)
            try:
                for service in topics.SERVICES:
                    services.start(service, ["cli", "serve", service])
                await services.ready()
                if bench.profiles:
                    services.profile(bench.profiles)
                selection = topics.events_topic(settings.topic_prefix, "selection")
                async with Watcher(
                    settings.kafka_bootstrap, selection, of_type("EligibilityChecked")
                ) as eligibility:
                    surge = await flood(
                        applicants,
                        services.urls["applications"],
                        services,
                        eligibility,
                        sink,
                        count,
                    )
                    rate = surge.checked / 2
                    paced_count = max(20, round(rate * sizes.latency_seconds))
                    latencies = await paced(
                        applicants, services.urls["applications"], eligibility, paced_count, rate
                    )
                    calm = surge.acknowledged / 2
                    calm_count = max(20, round(calm * sizes.latency_seconds))
                    calm_latencies = await paced(
                        applicants, services.urls["applications"], eligibility, calm_count, calm
                    )
                services.unprofile()
                for service, rss in services.peak_rss_mib().items():
                    figures[f"peak_rss_mib_{service}"] = rss
            finally:
                services.stop()
        round_trips = await kafka_round_trip(settings, paced_count, rate)
        bare, (bare_latencies, bare_calm) = await bare_pipeline(
            bench, applicants, count, [(paced_count, rate), (calm_count, calm)]
        )
    finally:
        await applicants.close()
    figures.update(
        {f"cpu_ms_per_dossier_{name}": ms for name, ms in surge.cpu_ms_per_dossier.items()}
    )
    figures.update(
        {f"bare_cpu_ms_per_dossier_{name}": ms for name, ms in bare.cpu_ms_per_dossier.items()}
    )
    figures["bare_filed_per_s"] = round(bare.filed, 1)
    figures["http_retries"] = applicants.retries
    web = "the web stack alone (same route, model, auth, uvicorn; no write)"
    hops = "the bare pipeline (HTTP → INSERT → Kafka → INSERT → Kafka, same libraries)"
    mailed = "the bare pipeline, then its consumer → SMTP"
    return Outcome(
        parameters={
            "dossiers": count,
            "clients": clients,
            "phase2_dossiers": paced_count,
            "phase2_rate_per_s": round(rate, 1),
            "phase3_dossiers": calm_count,
            "phase3_rate_per_s": round(calm, 1),
        },
        comparisons=[
            Comparison("filings answered 201", "dossiers/s", surge.filed, web_rate, web),
            Comparison(
                "filed → EligibilityChecked on the topic",
                "dossiers/s",
                surge.checked,
                bare.checked,
                hops,
            ),
            Comparison(
                "filed → EligibilityChecked on the topic",
                "dossiers/s",
                surge.checked,
                web_rate,
                web,
            ),
            Comparison(
                "filed → acknowledgement mail at the sink",
                "dossiers/s",
                surge.acknowledged,
                bare.acknowledged,
                mailed,
            ),
            Comparison(
                "filed → acknowledgement mail at the sink",
                "dossiers/s",
                surge.acknowledged,
                web_rate,
                web,
            ),
            Comparison(
                "filed → eligibility latency p50 at half rate",
                "ms",
                percentile(latencies, 50),
                percentile(bare_latencies, 50),
                "the bare pipeline p50, same rate",
                higher_is_better=False,
            ),
            Comparison(
                "filed → eligibility latency p50 at half rate",
                "ms",
                percentile(latencies, 50),
                percentile(round_trips, 50),
                "Kafka round trip p50 (aiokafka produce → consume)",
                higher_is_better=False,
            ),
            Comparison(
                "filed → eligibility latency p99 at half rate",
                "ms",
                percentile(latencies, 99),
                percentile(bare_latencies, 99),
                "the bare pipeline p99, same rate",
                higher_is_better=False,
            ),
            Comparison(
                "filed → eligibility latency p99 at half rate",
                "ms",
                percentile(latencies, 99),
                percentile(round_trips, 99),
                "Kafka round trip p99 (aiokafka produce → consume)",
                higher_is_better=False,
            ),
            *(
                Comparison(
                    f"filed → eligibility latency p{p} at half the mail rate",
                    "ms",
                    percentile(calm_latencies, p),
                    percentile(bare_calm, p),
                    f"the bare pipeline p{p}, same rate",
                    higher_is_better=False,
                )
                for p in (50, 99)
            ),
        ],
        figures=figures,
    )
