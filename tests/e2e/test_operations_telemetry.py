"""What an operator watches: one trace from the HTTP request through Kafka into the consumers,
metrics that move with the traffic, JSON logs carrying the trace id, OTLP export."""

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from shared.kernel.settings import Settings
from shared.language.actors import Role
from tests.conftest import own_namespace
from tests.e2e.conftest import sink_in
from tests.e2e.otlp import Received, otlp_receiver
from tests.e2e.processes import Service, running
from tests.factories import eligible_dossier
from tests.helpers import bearer, wait_for

FILING = {"route": "/campaigns/{campaign_id}/dossiers", "method": "POST", "status": "201"}


@dataclass
class Observed:
    settings: Settings
    applications: Service
    selection: Service
    notifications: Service
    received: Received


@pytest.fixture(scope="module")
async def observed(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Observed]:
    logs = tmp_path_factory.mktemp("observed")
    # A mail server of its own: its references (AAP-DEMO-00001…) are also the main platform's.
    with otlp_receiver() as (endpoint, received), sink_in(logs) as mail_sink:
        async with (
            own_namespace(settings) as own,
            running(
                own,
                ["applications", "selection", "notifications"],
                logs,
                AAP_SMTP_PORT=str(mail_sink.port),
                OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
                OTEL_BSP_SCHEDULE_DELAY="100",
                OTEL_METRIC_EXPORT_INTERVAL="500",
            ) as services,
        ):
            yield Observed(own, *services, received=received)


async def file_traced(observed: Observed) -> str:
    """File a dossier under a trace of our own; its trace id."""
    trace_id = secrets.token_hex(16)
    dossier = eligible_dossier()
    headers = {
        **bearer(observed.settings, Role.applicant, siren=dossier["applicant"]["siren"]),
        "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(
            observed.applications.url("/campaigns/demo/dossiers"), json=dossier, headers=headers
        )
    assert response.status_code == 201, response.text
    return trace_id


async def test_one_trace_spans_the_request_kafka_and_the_consumers_of_two_services(
    observed: Observed,
):
    trace_id = await file_traced(observed)
    expected = {
        ("aap-applications", ProtoSpan.SPAN_KIND_SERVER),
        ("aap-selection", ProtoSpan.SPAN_KIND_CONSUMER),
        ("aap-notifications", ProtoSpan.SPAN_KIND_CONSUMER),
    }

    async def spanned() -> bool:
        return expected <= {(s.service, s.kind) for s in observed.received.trace(trace_id)}

    await wait_for(spanned, timeout=60, what=f"spans of trace {trace_id} from the three services")


async def test_the_metrics_move_with_the_traffic(observed: Observed):
    applications, selection = observed.applications, observed.selection
    filed = await applications.metric("aap_http_requests_total", **FILING)
    published = await applications.metric("aap_relay_published_total")
    applied = await selection.metric(
        "aap_events_consumed_total",
        consumer="eligibility",
        type="ApplicationSubmitted",
        outcome="applied",
    )

    await file_traced(observed)

    async def moved() -> bool:
        return (
            await applications.metric("aap_http_requests_total", **FILING) == filed + 1
            and await applications.metric("aap_relay_published_total") > published
            and await selection.metric(
                "aap_events_consumed_total",
                consumer="eligibility",
                type="ApplicationSubmitted",
                outcome="applied",
            )
            == applied + 1
        )

    await wait_for(moved, timeout=60, what="the counters to count the new dossier")
    assert (
        await applications.metric("aap_http_request_duration_seconds_count", **FILING) == filed + 1
    )

    async def caught_up() -> bool:  # the sampled gauges: nothing left behind
        return (
            await selection.metric("aap_consumer_lag") == 0
            and await applications.metric("aap_outbox_backlog") == 0
        )

    await wait_for(caught_up, timeout=30, what="lag and backlog back to zero")


async def test_the_logs_are_json_lines_carrying_the_trace_id(observed: Observed):
    trace_id = await file_traced(observed)

    async def logged() -> bool:
        return all(
            any(line.get("trace_id") == trace_id for line in service.log_lines())
            for service in (observed.applications, observed.selection)
        )

    await wait_for(logged, timeout=30, what=f"log lines of trace {trace_id}")
    line = next(
        line for line in observed.applications.log_lines() if line.get("trace_id") == trace_id
    )
    assert {"time", "level", "service", "logger", "message", "span_id"} <= set(line)


async def test_metrics_are_exported_over_otlp(observed: Observed):
    async def exported() -> bool:
        return {"aap.http.requests", "aap.events.consumed"} <= observed.received.metric_names

    await wait_for(exported, timeout=30, what="metrics at the OTLP endpoint")
