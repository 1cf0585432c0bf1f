"""Wiring of the payments service: commitment at signature, instalments, the balance."""

from importlib import resources

from fastapi import FastAPI

from services.payments import api, consumers, projections
from shared.audit.streams import published_heads, stream_audit_router
from shared.kernel.app import build_app
from shared.kernel.consumer import Subscription
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.settings import Settings

NAME = "payments"


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [
        consumers.commitments(rt.store, rt.campaigns, rt.clock),
        projections.dossiers(),
        published_heads(NAME),
    ]


def spec() -> ServiceSpec:
    schema = resources.files("services.payments").joinpath("schema.sql").read_text()
    return ServiceSpec(NAME, schema, subscriptions)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(spec(), settings or Settings(), [api.router, stream_audit_router(NAME)])
