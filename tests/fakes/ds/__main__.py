"""Run the local Démarches Simplifiées as a process.

    python -m tests.fakes.ds --port 8089 --dossiers 10000 --seed 0

It builds the fixtures, binds the socket, starts uvicorn, and only then prints one line,
`ds fake listening on http://<host>:<port>` (the real port when `--port 0`), on stdout.
"""

import argparse
import asyncio
import gc
import logging
import sys

import uvicorn

from tests.fakes.ds import fixtures
from tests.fakes.ds.server import GRAPHQL_LOGGER, Faults, bind, create_app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: where to listen, what to serve, which tokens, which faults."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.ds", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0: any free port")
    parser.add_argument("--dossiers", type=int, default=250, help="how many dossiers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demarche", type=int, default=fixtures.DEMARCHE_NUMBER)
    parser.add_argument("--read-token", default="ds-read-token")
    parser.add_argument("--write-token", default="ds-write-token")
    parser.add_argument("--log-level", default="warning")
    for name in Faults.__dataclass_fields__:
        default = getattr(Faults(), name)
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Build, bind, start; say so once uvicorn accepts connections; serve until stopped."""
    built = fixtures.build_demarche(args.demarche, args.dossiers, args.seed)
    faults = Faults(**{name: getattr(args, name) for name in Faults.__dataclass_fields__})
    app = create_app(
        built, read_token=args.read_token, write_token=args.write_token, faults_at_start=faults
    )
    logging.getLogger(GRAPHQL_LOGGER).disabled = args.log_level not in ("trace", "debug", "info")
    gc.collect()
    gc.freeze()  # the fixtures live as long as the process: keep them out of the collector's walk
    sock = bind(args.host, args.port)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise SystemExit("the fake DS did not start")
        await asyncio.sleep(0.02)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"ds fake listening on http://{shown}:{port}", flush=True)
    await task


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
