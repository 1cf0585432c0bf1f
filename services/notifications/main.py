"""Wiring of the notifications service."""

from importlib import resources

from fastapi import FastAPI

from services.notifications import api, audit_trail, consumers, projections
from services.notifications.mailer import run_mailer
from shared.audit.streams import published_heads, stream_audit_router
from shared.kernel.app import build_app
from shared.kernel.consumer import Subscription
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.settings import Settings

NAME = "notifications"


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [
        consumers.mail_requests(rt.store),
        projections.notification_log(),
        audit_trail.audit_trail(),
        published_heads(NAME),
    ]


def spec() -> ServiceSpec:
    schema = resources.files("services.notifications").joinpath("schema.sql").read_text()
    return ServiceSpec(NAME, schema, subscriptions, background=[run_mailer])


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(spec(), settings or Settings(), [api.router, stream_audit_router(NAME)])
