"""OpenTelemetry: the tracer and meter providers of a process, and the trace context on events.

Both export over OTLP when the standard OTEL_* variables point at a collector
(OTEL_EXPORTER_OTLP_ENDPOINT, or the per-signal _TRACES_/_METRICS_ENDPOINT; headers, timeout,
compression, OTEL_METRIC_EXPORT_INTERVAL and OTEL_BSP_* are read by the SDK itself).
Metrics are also kept for Prometheus, in a registry of the service's own (`/metrics`).
"""

import os

from opentelemetry import propagate, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import CollectorRegistry


def _exports(signal: str) -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    )


def resource(service_name: str) -> Resource:
    """service.name is aap-<service>; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES add to it."""
    return Resource.create({"service.name": f"aap-{service_name}"})


def setup_tracing(service_name: str) -> TracerProvider:
    """The process's tracer provider; spans go to the OTLP collector when one is configured."""
    provider = TracerProvider(resource=resource(service_name))
    if _exports("TRACES"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def setup_metrics(service_name: str) -> tuple[MeterProvider, CollectorRegistry]:
    """A meter provider read by Prometheus (the registry returned) and, when set, by OTLP."""
    registry = CollectorRegistry()
    readers: list[MetricReader] = [
        PrometheusMetricReader(
            scope_info_enabled=False,
            resource_attribute_filter=lambda key: key == "service.name",
            registry=registry,
        )
    ]
    if _exports("METRICS"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    provider = MeterProvider(
        resource=resource(service_name), metric_readers=readers, shutdown_on_exit=False
    )
    return provider, registry


def trace_headers() -> dict[str, str]:
    """W3C trace context of the current span (`traceparent`), to store with an event."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
