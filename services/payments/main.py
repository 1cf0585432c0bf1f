"""Wiring of the payments service: its store, outbox and health, ready for the lifecycle."""

from importlib import resources

from fastapi import FastAPI

from shared.app import build_app
from shared.runtime import ServiceSpec
from shared.settings import Settings

NAME = "payments"


def spec() -> ServiceSpec:
    schema = resources.files("services.payments").joinpath("schema.sql").read_text()
    return ServiceSpec(NAME, schema)


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(spec(), settings or Settings(), [])
