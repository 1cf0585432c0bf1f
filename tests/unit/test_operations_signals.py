"""What a service tells its operator, in memory: JSON log lines with the trace id, requests
counted under their route template, events under their short name."""

import json
import logging
import sys

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from shared.kernel.logs import JsonLines
from shared.kernel.metrics import Metrics, RequestMetrics, event_name


def log_record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "shared.kernel.runtime", logging.INFO, __file__, 1, message, None, None
    )
    record.__dict__.update(extra)
    return record


def test_a_log_line_is_one_json_object_carrying_the_current_trace_and_span():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("filing") as span:
        line = JsonLines("applications").format(log_record("dossier filed"))
    entry = json.loads(line)
    context = span.get_span_context()
    assert "\n" not in line
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")
    assert (entry["service"], entry["level"], entry["message"]) == (
        "applications",
        "INFO",
        "dossier filed",
    )


def test_a_log_line_outside_any_span_has_no_trace_id():
    entry = json.loads(JsonLines("selection").format(log_record("started")))
    assert "trace_id" not in entry and "span_id" not in entry


def test_what_is_logged_as_extra_goes_into_the_line():
    entry = json.loads(
        JsonLines("selection").format(log_record("applied", partition=2, topic="aap.x"))
    )
    assert (entry["partition"], entry["topic"]) == (2, "aap.x")


def test_an_exception_is_logged_within_its_line():
    try:
        raise ValueError("thirteen is unlucky")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    entry = json.loads(JsonLines("selection").format(record))
    assert "ValueError: thirteen is unlucky" in entry["exception"]


def test_an_event_type_is_counted_under_its_short_name():
    assert event_name("fr.gouv.mildeca.aap.ApplicationSubmitted.v1") == "ApplicationSubmitted"
    assert event_name("") == "unknown"


async def test_requests_are_counted_under_their_route_template_never_their_path():
    reader = InMemoryMetricReader()
    metrics = Metrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    app = FastAPI()

    @app.get("/dossiers/{dossier_id}")
    async def dossier(dossier_id: str) -> dict[str, str]:
        return {"id": dossier_id}

    app.add_middleware(RequestMetrics, metrics=metrics)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for path in ("/dossiers/1", "/dossiers/2", "/nowhere"):
            await client.get(path)

    data = reader.get_metrics_data()
    [requests] = [
        m
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "aap.http.requests"
    ]
    counted = {
        (p.attributes["route"], p.attributes["status"]): p.value for p in requests.data.data_points
    }
    assert counted == {("/dossiers/{dossier_id}", "200"): 2, ("unmatched", "404"): 1}
