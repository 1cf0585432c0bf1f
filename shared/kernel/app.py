"""The HTTP face of a service: FastAPI app whose lifespan runs the service's Runtime."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from shared.kernel.auth import TokenVerifier
from shared.kernel.docs import install_docs
from shared.kernel.http import install_error_handlers, operations_router
from shared.kernel.idempotency import IdempotentCommands
from shared.kernel.logs import configure_logging
from shared.kernel.metrics import Metrics, RequestMetrics
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.settings import Settings
from shared.kernel.telemetry import setup_metrics, setup_tracing


def build_app(spec: ServiceSpec, settings: Settings, routers: Sequence[APIRouter]) -> FastAPI:
    configure_logging(spec.name, settings.log_level)
    tracer_provider = setup_tracing(spec.name)
    meter_provider, registry = setup_metrics(spec.name)
    metrics = Metrics(meter_provider.get_meter("aap"))
    runtime = Runtime(spec, settings, metrics=metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier.from_settings(settings)  # fail fast without a key
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            tracer_provider.shutdown()
            meter_provider.shutdown()

    # /docs from the service's own files (shared/kernel/docs.py); no ReDoc: one page is enough
    app = FastAPI(
        title=f"aap {spec.name}",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.metrics_registry = registry
    install_error_handlers(app)
    install_docs(app, settings)
    app.include_router(operations_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(IdempotentCommands)
    app.add_middleware(RequestMetrics, metrics=metrics)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="healthz,readyz,metrics"
    )
    return app
