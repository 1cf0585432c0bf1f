-- The kernel's tables, in every service's database. Idempotent: applied at each setup.

CREATE TABLE IF NOT EXISTS events (
    stream_id    TEXT        NOT NULL,
    version      INTEGER     NOT NULL CHECK (version >= 1),
    event_id     UUID        NOT NULL UNIQUE,
    event_type   TEXT        NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    data         JSONB       NOT NULL,
    metadata     JSONB       NOT NULL DEFAULT '{}',
    prev_hash    TEXT        NOT NULL,
    hash         TEXT        NOT NULL,
    -- The primary key is the optimistic concurrency check: two writers of one version collide.
    PRIMARY KEY (stream_id, version)
);

-- One dossier's stream is a range of the primary key. Events of one type over time (e.g. every
-- decision up to an instant, for a campaign's envelope then) are a range of this index.
CREATE INDEX IF NOT EXISTS events_by_type_time ON events (event_type, occurred_at);

-- Append-only, whoever connects: history is never rewritten.
CREATE OR REPLACE FUNCTION aap_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only (% refused on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION aap_refuse_rewrite();
DROP TRIGGER IF EXISTS events_no_truncate ON events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION aap_refuse_rewrite();

-- Transactional outbox. `tx` orders publication: rows become visible to the relay only once
-- every transaction that could still add a smaller one has ended (see shared/outbox.py).
CREATE TABLE IF NOT EXISTS outbox (
    position  BIGSERIAL PRIMARY KEY,
    tx        xid8   NOT NULL,
    topic     TEXT   NOT NULL,
    key       TEXT   NOT NULL,
    headers   JSONB  NOT NULL,
    value     BYTEA  NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_tx ON outbox (tx, position);
CREATE INDEX IF NOT EXISTS outbox_by_key ON outbox (key, position);

CREATE TABLE IF NOT EXISTS outbox_cursor (
    relay     TEXT PRIMARY KEY,
    tx        xid8   NOT NULL,
    position  BIGINT NOT NULL,
    moved_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per (consumer, event): written with the consumer's effects, so that a redelivered
-- event is recognised and has no second effect.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer      TEXT        NOT NULL,
    event_id      UUID        NOT NULL,
    topic         TEXT        NOT NULL,
    kafka_partition INTEGER   NOT NULL,
    kafka_offset  BIGINT      NOT NULL,
    processed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Idempotency-Key of command requests (shared/kernel/idempotency.py): written in the command's
-- transaction with its events; the first answer kept to be answered again.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope        TEXT        NOT NULL,  -- who sent the key: a digest of role, binding and subject
    key          TEXT        NOT NULL,
    fingerprint  TEXT        NOT NULL,  -- the request's route and body
    recorded     JSONB       NOT NULL,  -- the events the command recorded
    status       INTEGER,               -- the first answer, once sent
    headers      JSONB,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at);

-- The durable schedule (shared/kernel/schedule.py): work due at an instant (a reminder, a
-- deadline passing). A runner claims a due row FOR UPDATE SKIP LOCKED and marks it done in the
-- transaction of the events its handler appends: each job runs once, whatever the instances.
-- Not a read model: a rebuild keeps it. Done and cancelled rows stay, so that planning the same
-- job id again is a no-op.
CREATE TABLE IF NOT EXISTS scheduled_jobs (
    job_id        TEXT        PRIMARY KEY,
    kind          TEXT        NOT NULL,   -- which handler runs it
    stream_id     TEXT        NOT NULL,   -- the stream (dossier) it concerns
    due_at        TIMESTAMPTZ NOT NULL,
    payload       JSONB       NOT NULL DEFAULT '{}',
    planned_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts      INTEGER     NOT NULL DEFAULT 0,
    retry_at      TIMESTAMPTZ,            -- after a failed attempt: not before this instant
    last_error    TEXT,
    done_at       TIMESTAMPTZ,            -- committed with the handler's effects
    cancelled_at  TIMESTAMPTZ             -- dropped before it ran: it never will
);
CREATE INDEX IF NOT EXISTS scheduled_jobs_due ON scheduled_jobs (due_at)
    WHERE done_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX IF NOT EXISTS scheduled_jobs_by_stream ON scheduled_jobs (stream_id)
    WHERE done_at IS NULL AND cancelled_at IS NULL;

-- Read model, rebuilt from the service's own topic (shared/audit/streams.py): the last version of
-- each stream published on Kafka and its hash, to compare the store with what it published.
CREATE TABLE IF NOT EXISTS published_heads (
    stream_id  TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    event_id   UUID    NOT NULL
);

-- The bytes of attachments, kept once by their SHA-256 (shared/kernel/blobs.py): written in the
-- transaction of the event that names them, never changed. Not a read model: a rebuild keeps it.
CREATE TABLE IF NOT EXISTS blobs (
    sha256     TEXT        PRIMARY KEY,
    size       BIGINT      NOT NULL,
    content    BYTEA       NOT NULL,
    stored_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
