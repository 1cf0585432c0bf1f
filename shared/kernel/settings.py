"""Settings read from the environment (prefix AAP_), the only place configuration enters."""

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AAP_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:29092"
    topic_prefix: str = "aap"
    topic_partitions: int = Field(default=3, ge=2)
    # Copies of each topic the platform creates, and how many must hold an event before it
    # counts as published (the producers ask for acks=all). 1/1 for one broker; 3/2 in production.
    topic_replication_factor: int = Field(default=1, ge=1)
    topic_min_insync_replicas: int = Field(default=1, ge=1)
    # One database per service: the service name is appended to this prefix.
    pg_admin_dsn: str = "postgresql://aap@127.0.0.1:25432/postgres"
    pg_app_user: str = "aap_app"
    pg_app_password: str = "aap_app"
    pg_host: str = "127.0.0.1"
    pg_port: int = 25432
    db_prefix: str = "aap"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25025
    mail_from: str = "appels-a-projets@mildeca.example.gouv.fr"
    http_host: str = "127.0.0.1"
    consumer_retries: int = Field(default=3, ge=1)
    # This process's name among the replicas of its service, the same across its restarts (a
    # StatefulSet's pod name, compose's service): its consumers are static members of their
    # groups (KIP-345), and a replica restarted within the session timeout takes its
    # partitions back at once, without a rebalance. Empty: dynamic members (a restarted
    # replica waits for the group to forget its former self, about 10 s).
    instance_id: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,200}$")
    # How often the outbox relay looks for rows written by other processes (the CLI, `aap ds
    # import`); the service's own appends wake it at once.
    relay_poll_seconds: float = Field(default=0.2, gt=0)
    # How often the schedule (reminders, deadlines) looks for due jobs.
    schedule_poll_seconds: float = Field(default=1.0, gt=0)
    # Rehearsals only, never in production: a file holding seconds added to the services' clock
    # (shared/kernel/clock.py), read again when it changes.
    clock_offset_file: str = ""
    # Bearer tokens: the key that verifies them (PEM text, or a file), and what they must say.
    jwt_public_key: str = ""
    jwt_public_key_file: str = ""
    jwt_issuer: str = "aap-dev"
    jwt_audience: str = "aap"
    jwt_algorithms: str = "ES256,RS256"
    # Used only by `aap token mint` (development tokens).
    jwt_private_key_file: str = ""
    # Who receives the mails besides the applicant: MILDECA's instruction team, and the
    # departmental project lead at each préfecture ({departement} is replaced by the code).
    mildeca_mailbox: str = "instruction-aap@mildeca.example.gouv.fr"
    prefecture_mailbox: str = "chef-de-projet-mildeca-{departement}@prefectures.example.gouv.fr"
    # A mail handed over to the mail server by a mailer that stopped before the server's answer
    # is recorded as sent this long after (beyond any live mailer's wait for that answer).
    mail_settle_seconds: float = Field(default=30.0, gt=0)
    # A folder of extra campaign files (JSON), besides the editions shipped with aap.
    campaigns_dir: str = ""
    # The front-end packages the services serve themselves (swagger-ui-dist for /docs): where
    # `npm ci` installed them (deploy/local/assets.sh); a relative path is read from the
    # project's folder.
    assets_dir: str = "web/node_modules"
    # Operations: log level, how often lag and backlog are sampled for the metrics, and whether
    # a service creates its topics and migrates its database at start (off where a setup job
    # does it, so that services never hold the administrator's password).
    log_level: str = "INFO"
    metrics_interval_seconds: float = Field(default=15.0, gt=0)
    provision_on_start: bool = True
    # The web console (services/console): where people reach it, the OpenID Connect provider
    # that says who they are (ProConnect in production), the services it calls for them.
    console_url: str = "http://127.0.0.1:8000"
    oidc_issuer: str = "http://127.0.0.1:28080/realms/aap"
    # Where the console reads the provider's discovery document, when it reaches the provider at
    # another address than people's browsers do (in compose); empty: the issuer's.
    oidc_discovery_url: str = ""
    oidc_client_id: str = "aap-console"
    oidc_client_secret: str = "aap-console-dev-secret"
    oidc_scope: str = "openid email given_name usual_name siret idp_id"
    # Signs the console's session cookie; empty: a new one at each start (sessions end with it).
    console_session_secret: str = ""
    console_session_minutes: int = Field(default=480, ge=1)
    # The tokens the console mints for a person's requests to the services, short-lived.
    console_token_seconds: int = Field(default=300, ge=30)
    applications_url: str = "http://127.0.0.1:8001"
    selection_url: str = "http://127.0.0.1:8002"
    payments_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"

    @model_validator(mode="after")
    def _replicas_can_be_in_sync(self) -> Self:
        if self.topic_min_insync_replicas > self.topic_replication_factor:
            raise ValueError(
                f"topic_min_insync_replicas ({self.topic_min_insync_replicas}) cannot exceed "
                f"topic_replication_factor ({self.topic_replication_factor}): "
                "no event could be published"
            )
        return self

    def as_environment(self) -> dict[str, str]:
        """The same settings as the AAP_* environment of a process started with them."""
        return {f"AAP_{name.upper()}": str(value) for name, value in self.model_dump().items()}

    def kafka_servers(self) -> list[str]:
        """The bootstrap servers one by one (FastStream reads a string as one server's address;
        aiokafka's own clients split it themselves)."""
        return [server.strip() for server in self.kafka_bootstrap.split(",") if server.strip()]

    def database(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def app_dsn(self, service: str) -> str:
        return (
            f"postgresql://{self.pg_app_user}:{self.pg_app_password}"
            f"@{self.pg_host}:{self.pg_port}/{self.database(service)}"
        )

    def admin_dsn(self, service: str) -> str:
        base, _, _ = self.pg_admin_dsn.rpartition("/")
        return f"{base}/{self.database(service)}"
