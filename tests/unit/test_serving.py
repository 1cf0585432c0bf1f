"""How the services are served: uvloop's event loop and httptools' parser, never a fallback."""

import asyncio

import pytest
import uvicorn
import uvloop
from typer.testing import CliRunner

from cli.main import app


def test_a_service_is_served_on_uvloop_and_httptools(monkeypatch: pytest.MonkeyPatch):
    # given `aap serve`, with uvicorn's run recorded instead of run
    served: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app_factory, **options: served.update(options))
    # when a service is served
    assert CliRunner().invoke(app, ["serve", "applications"]).exit_code == 0
    # then uvicorn is told which loop and parser, and both load
    config = uvicorn.Config(lambda: None, loop=served["loop"], http=served["http"])
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    try:
        assert isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()
