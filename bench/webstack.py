"""The web stack alone: the filing route with the same server, auth and model, writing nothing.

The ceiling of the surge's HTTP side: uvicorn with the services' settings, FastAPI with the
same error handlers and tracing middleware, the bearer token verified, the body validated as
a `Dossier`, the applicant's binding checked, and the answer of the same shape (the
ApplicationSubmitted it would record) — but no database, no outbox, no Kafka.
"""

import argparse
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import Depends, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.kernel.auth import TokenVerifier
from shared.kernel.deps import actor_of
from shared.kernel.http import install_error_handlers
from shared.kernel.settings import Settings
from shared.kernel.telemetry import setup_tracing
from shared.language.actors import Actor, Role, require_own_dossier, require_role


def create_app() -> FastAPI:
    provider = setup_tracing("bench-webstack")
    app = FastAPI(title="aap bench: the web stack alone")
    app.state.verifier = TokenVerifier.from_settings(Settings())
    install_error_handlers(app)

    @app.get("/readyz")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.post("/campaigns/{campaign_id}/dossiers", status_code=201)
    async def file_dossier(
        campaign_id: str, dossier: Dossier, actor: Annotated[Actor, Depends(actor_of)]
    ) -> dict[str, Any]:
        require_role(actor, Role.applicant, to="file a dossier")
        require_own_dossier(actor, dossier.applicant.siren, "file a dossier")
        event = ApplicationSubmitted(
            dossier_id=uuid4(),
            reference="AAP-DEMO-00000",
            campaign_id=campaign_id,
            submitted_at=datetime.now(UTC),
            dossier=dossier,
        )
        return {
            "dossier_id": str(event.dossier_id),
            "reference": event.reference,
            "campaign_id": campaign_id,
            "submitted_at": event.submitted_at.isoformat(),
            "recorded": [
                {
                    "type": "ApplicationSubmitted",
                    "event_id": str(uuid4()),
                    "version": 1,
                    "data": event.model_dump(mode="json"),
                }
            ],
        }

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz"
    )
    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.webstack")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    # The settings of `aap serve` (cli/main.py).
    uvicorn.run(
        create_app,
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="info",
        timeout_graceful_shutdown=20,
        # Named, not "auto": without them uvicorn would fall back to asyncio and h11 silently.
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
