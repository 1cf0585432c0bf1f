"""Readiness on the real servers: false while the service's database is out of reach, true
again when it returns. The shared PostgreSQL keeps running: a proxy of the test's own stands
between the service and it, and is cut and restored."""

import asyncio

from shared.kernel.settings import Settings
from tests.conftest import own_namespace
from tests.helpers import wait_for
from tests.integration.test_payments_handlers import running


class Proxy:
    """A TCP proxy to PostgreSQL that can be cut (every connection dropped) and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.connections: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.connections:
            writer.transport.abort()
        self.connections.clear()

    async def _pipe(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        server_reader, server = await asyncio.open_connection(*self.target)
        self.connections += [client, server]

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        await asyncio.gather(copy(client_reader, server), copy(server_reader, client))


async def test_readiness_follows_the_database_going_away_and_coming_back(settings: Settings):
    proxy = Proxy(settings.pg_host, settings.pg_port)
    await proxy.open()
    async with own_namespace(settings) as own:
        through_proxy = own.model_copy(update={"pg_port": proxy.port})
        async with running(through_proxy) as http:  # the payments service, in process

            async def readiness() -> dict:
                answer = await http.get("/readyz")
                return {"status": answer.status_code, **answer.json()}

            ready = await readiness()
            assert ready["status"] == 200 and ready["checks"] == {
                "database": True,
                "kafka": True,
                "consumers": True,
            }

            proxy.cut()

            async def unready() -> dict | None:
                answer = await readiness()
                return answer if answer["status"] == 503 else None

            gone = await wait_for(unready, timeout=30, what="readiness to go false")
            assert gone["checks"]["database"] is False and gone["checks"]["kafka"] is True
            assert (await http.get("/healthz")).status_code == 200  # alive all along: no restart

            await proxy.open()

            async def back() -> bool:
                return (await readiness())["status"] == 200

            await wait_for(back, timeout=30, what="readiness to come back")
    proxy.cut()
