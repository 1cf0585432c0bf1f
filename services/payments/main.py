"""Wiring of the payments service: commitment at signature, instalments, the balance."""

from collections.abc import Mapping
from importlib import resources

from fastapi import FastAPI

from services.payments import api, api_exports, api_proofs, consumers, handlers, projections
from shared.audit.streams import published_heads, stream_audit_router
from shared.kernel.app import build_app
from shared.kernel.consumer import Subscription
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.schedule import Handler
from shared.kernel.settings import Settings

NAME = "payments"


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [
        consumers.commitments(rt.store, rt.campaigns, rt.clock),
        consumers.deadlines(rt.campaigns),
        projections.dossiers(),
        projections.proofs(),
        published_heads(NAME),
    ]


def jobs(rt: Runtime) -> Mapping[str, Handler]:
    return handlers.deadline_jobs(rt.store, rt.campaigns)


def spec() -> ServiceSpec:
    schema = resources.files("services.payments").joinpath("schema.sql").read_text()
    return ServiceSpec(NAME, schema, subscriptions, jobs=jobs)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        spec(),
        settings or Settings(),
        [api.router, api_proofs.router, api_exports.router, stream_audit_router(NAME)],
    )
