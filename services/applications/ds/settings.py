"""How aap reaches Démarches Simplifiées, from `AAP_DS_*` (docs/ds-bridge.md)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AAP_DS_", extra="ignore")

    # DS's API v2 endpoint; a local DS in tests and rehearsals.
    url: str = "https://www.demarches-simplifiees.fr/api/v2/graphql"
    # Two tokens, two rate budgets: a read-only one for the import, one that writes back.
    read_token: str = ""
    write_token: str = ""
    # DS's schema (SDL) to validate every document against; empty: DS's own, by introspection.
    schema_file: str = ""
    # DS allows 400 requests a minute per token: stay under it (0: no pacing, for benchmarks).
    requests_per_second: float = Field(default=5.0, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    attempts: int = Field(default=6, ge=1)  # of a query (never of a mutation) before giving up
    # The periodic sync inside applications: "<campaign>=<démarche number>", comma-separated;
    # empty: none (the CLI's `aap ds import` still works).
    sync: str = ""
    sync_seconds: float = Field(default=300.0, gt=0)
    # Decisions written back to DS (the write token is needed).
    writeback: bool = False
    writeback_poll_seconds: float = Field(default=2.0, gt=0)
    # Where the mapping files are (`<campaign>.json`); empty: the ones shipped with aap.
    mappings_dir: str = ""

    def synced(self) -> list[tuple[str, int]]:
        """The (campaign, démarche number) pairs the periodic sync keeps in step."""
        pairs = []
        for item in filter(None, (part.strip() for part in self.sync.split(","))):
            campaign, _, number = item.partition("=")
            if not campaign or not number.strip().isdigit():
                raise ValueError(
                    f"AAP_DS_SYNC: {item!r} is not <campaign>=<démarche number>, e.g. "
                    "mildeca-2024=104857"
                )
            pairs.append((campaign.strip(), int(number)))
        return pairs
