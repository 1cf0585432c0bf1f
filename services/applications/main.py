"""Wiring of the applications service: the only module that knows all its parts."""

from collections.abc import Mapping
from importlib import resources

from fastapi import FastAPI

from services.applications import (
    api,
    api_corrections,
    api_drafts,
    api_exchange,
    consumers,
    handlers,
    projections,
)
from services.applications.ds import sync, writeback
from services.applications.ds.settings import DsSettings
from shared.audit.streams import published_heads, stream_audit_router
from shared.kernel.app import build_app
from shared.kernel.consumer import Subscription
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.schedule import Handler
from shared.kernel.settings import Settings

NAME = "applications"


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [
        projections.dossiers(rt.store),
        consumers.decisions(rt.store, rt.clock),
        consumers.deadlines(rt.campaigns),
        writeback.subscription(writeback.mappings_of(DsSettings())),
        published_heads(NAME),
    ]


def jobs(rt: Runtime) -> Mapping[str, Handler]:
    return handlers.deadline_jobs(rt.store, rt.campaigns)


def spec() -> ServiceSpec:
    schema = resources.files("services.applications").joinpath("schema.sql").read_text()
    return ServiceSpec(
        NAME,
        schema,
        subscriptions,
        background=(sync.sync_forever, writeback.write_forever),
        jobs=jobs,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(
        spec(),
        settings or Settings(),
        [
            api.router,
            api_exchange.router,
            api_corrections.router,
            api_drafts.router,
            stream_audit_router(NAME),
        ],
    )
