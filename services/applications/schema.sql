-- Numbering of dossiers, per campaign: gap-free because it is taken in the filing transaction.
CREATE TABLE IF NOT EXISTS dossier_counters (
    campaign_id  TEXT PRIMARY KEY,
    last_number  INTEGER NOT NULL
);

-- Read model, rebuilt from the log.
CREATE TABLE IF NOT EXISTS dossiers (
    dossier_id     UUID PRIMARY KEY,
    reference      TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    siren          TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    departement    TEXT NOT NULL,
    title          TEXT NOT NULL,
    requested_eur  NUMERIC(12, 2) NOT NULL,
    status         TEXT NOT NULL,
    submitted_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS dossiers_by_campaign ON dossiers (campaign_id, reference);
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS withdrawn_at TIMESTAMPTZ;
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS withdrawal_reason TEXT;
CREATE INDEX IF NOT EXISTS dossiers_by_siren ON dossiers (siren);
-- The dossier as filed, whole: the préfecture and the committee read it in full.
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS filed JSONB;
CREATE INDEX IF NOT EXISTS dossiers_by_departement ON dossiers (departement);

-- Input of the withdrawal rule, not a read model: the decisions taken by the President of
-- MILDECA (from SelectionDecided), written with the consumer's tracking row.
CREATE TABLE IF NOT EXISTS decisions (
    dossier_id  UUID PRIMARY KEY,
    outcome     TEXT NOT NULL,
    decided_at  TIMESTAMPTZ NOT NULL
);

-- Who of the committee may read a dossier, not a read model: a reviewer who declared no conflict
-- of interest with it (NoConflictDeclared), unless they were recused (ReviewerRecused), heard
-- from selection's log by the `decisions` consumer with its tracking row.
CREATE TABLE IF NOT EXISTS reviewer_access (
    dossier_id UUID NOT NULL,
    reviewer   TEXT NOT NULL,
    cleared    BOOLEAN NOT NULL DEFAULT false,
    recused    BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (dossier_id, reviewer)
);

-- The exchange and the corrections (read models, rebuilt from the log).
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS correction JSONB;  -- the one asked, unanswered
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS amended_at TIMESTAMPTZ;
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS closed_at TIMESTAMPTZ;
ALTER TABLE dossiers ADD COLUMN IF NOT EXISTS closure_motivation TEXT;

CREATE TABLE IF NOT EXISTS dossier_attachments (
    attachment_id  UUID PRIMARY KEY,
    dossier_id     UUID NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    audience       TEXT NOT NULL,  -- parties: the three sides; agents: MILDECA and the préfecture
    side           TEXT NOT NULL,
    added_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS dossier_attachments_by_dossier ON dossier_attachments (dossier_id);

-- The thread (private = false) and the agents' notes (private = true).
CREATE TABLE IF NOT EXISTS dossier_messages (
    message_id   UUID PRIMARY KEY,
    dossier_id   UUID NOT NULL,
    private      BOOLEAN NOT NULL,
    side         TEXT NOT NULL,
    author       TEXT NOT NULL,
    text         TEXT NOT NULL,
    attachments  UUID[] NOT NULL,
    posted_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS dossier_messages_by_dossier ON dossier_messages (dossier_id, posted_at);

CREATE TABLE IF NOT EXISTS dossier_amendments (
    dossier_id  UUID NOT NULL,
    request_id  UUID NOT NULL,
    amended_at  TIMESTAMPTZ NOT NULL,
    changes     JSONB NOT NULL,  -- each field with its value before and after
    PRIMARY KEY (dossier_id, request_id)
);

CREATE TABLE IF NOT EXISTS drafts (
    draft_id     UUID PRIMARY KEY,
    campaign_id  TEXT NOT NULL,
    siren        TEXT NOT NULL,
    content      JSONB NOT NULL,
    saved_at     TIMESTAMPTZ NOT NULL,
    departement  TEXT,  -- the préfecture it was shared with
    shared_at    TIMESTAMPTZ,
    filed_as     TEXT   -- the dossier's reference, once filed
);
CREATE INDEX IF NOT EXISTS drafts_by_siren ON drafts (siren);
CREATE INDEX IF NOT EXISTS drafts_by_departement ON drafts (departement);

CREATE TABLE IF NOT EXISTS draft_comments (
    comment_id    UUID PRIMARY KEY,
    draft_id      UUID NOT NULL,
    departement   TEXT NOT NULL,
    author        TEXT NOT NULL,
    text          TEXT NOT NULL,
    commented_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS draft_comments_by_draft ON draft_comments (draft_id, commented_at);

-- The Démarches Simplifiées bridge (services/applications/ds, docs/ds-bridge.md). Not read
-- models: the import's own state, never dropped by a rebuild.
-- Each DS dossier imported, once: its aap dossier, and what was last imported of it.
CREATE TABLE IF NOT EXISTS ds_dossiers (
    demarche_number    INTEGER NOT NULL,
    ds_number          INTEGER NOT NULL,
    ds_id              TEXT NOT NULL,
    dossier_id         UUID NOT NULL UNIQUE,
    campaign_id        TEXT NOT NULL,
    digest             TEXT NOT NULL,
    ds_state           TEXT NOT NULL,
    champs_modified_at TIMESTAMPTZ,
    files              JSONB NOT NULL DEFAULT '[]',  -- the attachment ids of its files kept
    imported_at        TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (demarche_number, ds_number)
);
-- Where each démarche's sync stands: the page it reached (a rerun resumes after it) and the
-- DS instant the next run reads changes from.
CREATE TABLE IF NOT EXISTS ds_sync (
    demarche_number INTEGER PRIMARY KEY,
    campaign_id     TEXT NOT NULL,
    updated_since   TIMESTAMPTZ,
    run_since       TIMESTAMPTZ,
    cursor          TEXT,
    seen_until      TIMESTAMPTZ,
    deleted_since   TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    last_error      TEXT
);
-- DS dossiers that could not be imported, with every reason: read again at the next run.
CREATE TABLE IF NOT EXISTS ds_import_errors (
    demarche_number INTEGER NOT NULL,
    ds_number       INTEGER NOT NULL,
    modified_at     TIMESTAMPTZ,
    problems        JSONB NOT NULL,
    transient       BOOLEAN NOT NULL,  -- it may pass as it is (a scan pending, DS away)
    recorded_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (demarche_number, ds_number)
);
-- What aap's events ask DS to do, one row per step, written with the event's tracking row (so
-- each event yields its steps once), sent in order per dossier by the write-back
-- (services/applications/ds/writeback.py); a row found `sending` after a crash is checked on DS
-- before anything is sent again.
CREATE TABLE IF NOT EXISTS ds_writes (
    event_id     UUID NOT NULL,
    step         SMALLINT NOT NULL,
    position     BIGSERIAL UNIQUE,
    dossier_id   UUID NOT NULL,
    demarche_number INTEGER NOT NULL,
    ds_number    INTEGER NOT NULL,
    ds_id        TEXT NOT NULL,
    mutation     TEXT NOT NULL,
    input        JSONB NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',  -- pending, sending, done, dead
    attempts     INTEGER NOT NULL DEFAULT 0,
    retry_at     TIMESTAMPTZ NOT NULL,
    attempted_at TIMESTAMPTZ,
    outcome      TEXT,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, step)
);
CREATE INDEX IF NOT EXISTS ds_writes_to_send ON ds_writes (position) WHERE status IN ('pending', 'sending');
