"""The metrics a service reports: what it served, consumed and published, and how far behind it is.

Counters and histograms are recorded where things happen; the gauges (consumer lag, outbox
backlog, relay delay) read the latest `Samples`, which `shared.kernel.sampling` refreshes.
Names as Prometheus shows them are in docs/operators.md.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, NoOpMeterProvider, Observation
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def event_name(ce_type: str) -> str:
    """`fr.gouv.mildeca.aap.ApplicationSubmitted.v1` -> `ApplicationSubmitted`."""
    return ce_type.removeprefix("fr.gouv.mildeca.aap.").rsplit(".", 1)[0] or "unknown"


@dataclass
class Samples:
    """The gauges' latest values, replaced whole at each sampling."""

    lag: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (group, topic, partition)
    outbox_backlog: int = 0
    relay_delay_seconds: float = 0.0


class Metrics:
    def __init__(self, meter: Meter) -> None:
        self.samples = Samples()
        self._requests = meter.create_counter(
            "aap.http.requests", description="HTTP requests answered, by method, route and status"
        )
        self._latency = meter.create_histogram(
            "aap.http.request.duration",
            unit="s",
            description="time to answer an HTTP request",
            explicit_bucket_boundaries_advisory=SECONDS,
        )
        self._consumed = meter.create_counter(
            "aap.events.consumed",
            description="events read by a consumer: applied, duplicate, ignored or dead-lettered",
        )
        self._dead_letters = meter.create_counter(
            "aap.dead.letters", description="events sent to the service's dead-letter topic"
        )
        self._published = meter.create_counter(
            "aap.relay.published", description="events published to Kafka by the outbox relay"
        )
        self._jobs = meter.create_counter(
            "aap.schedule.jobs", description="scheduled jobs run, by kind: done or failed"
        )
        self._mails = meter.create_counter(
            "aap.mails", description="mails handed to the mail server (sent) or not (failed)"
        )
        self._publish_latency = meter.create_histogram(
            "aap.relay.publish.duration",
            unit="s",
            description="time for Kafka to acknowledge one batch of the outbox",
            explicit_bucket_boundaries_advisory=SECONDS,
        )
        meter.create_observable_gauge(
            "aap.consumer.lag",
            callbacks=[self._lag],
            description="events on a partition not yet committed by the consumer group",
        )
        meter.create_observable_gauge(
            "aap.outbox.backlog",
            callbacks=[self._backlog],
            description="events recorded but not yet published to Kafka",
        )
        meter.create_observable_gauge(
            "aap.relay.delay",
            unit="s",
            callbacks=[self._delay],
            description="age of the oldest event not yet published (0 when none waits)",
        )

    @classmethod
    def discarded(cls) -> "Metrics":
        """Instruments that record nothing: for runtimes built outside a service (tests, CLI)."""
        return cls(NoOpMeterProvider().get_meter("aap"))

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.add(1, {"method": method, "route": route, "status": str(status)})
        self._latency.record(seconds, {"method": method, "route": route, "status": str(status)})

    def consumed(self, consumer: str, ce_type: str, outcome: str) -> None:
        self._consumed.add(
            1, {"consumer": consumer, "type": event_name(ce_type), "outcome": outcome}
        )

    def dead_lettered(self, consumer: str, topic: str) -> None:
        self._dead_letters.add(1, {"consumer": consumer, "topic": topic})

    def published(self, topics: Sequence[str], seconds: float) -> None:
        for topic in set(topics):
            self._published.add(sum(1 for t in topics if t == topic), {"topic": topic})
        self._publish_latency.record(seconds)

    def job_ran(self, kind: str, outcome: str) -> None:
        self._jobs.add(1, {"kind": kind, "outcome": outcome})

    def mailed(self, template: str, outcome: str) -> None:
        """A mail sent, or an attempt failed (`sent`, `failed`): the mailer's."""
        self._mails.add(1, {"template": template, "outcome": outcome})

    def _lag(self, _: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(lag, {"group": group, "topic": topic, "partition": str(partition)})
            for (group, topic, partition), lag in self.samples.lag.items()
        ]

    def _backlog(self, _: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.samples.outbox_backlog)]

    def _delay(self, _: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.samples.relay_delay_seconds)]


def exposition(registry: CollectorRegistry) -> Response:
    """The Prometheus text exposition of one service's registry."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """ASGI middleware: every request counted and timed under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            # The template, never the raw path: one series per route, whatever the ids.
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request(scope["method"], template, status, perf_counter() - started)
