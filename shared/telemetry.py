"""OpenTelemetry: one tracer provider per process, and the trace context carried on events."""

import os

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def setup_tracing(service_name: str) -> TracerProvider:
    """Spans are exported over OTLP when the standard OTEL_* variables point at a collector."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"aap-{service_name}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def trace_headers() -> dict[str, str]:
    """W3C trace context of the current span (`traceparent`), to store with an event."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
