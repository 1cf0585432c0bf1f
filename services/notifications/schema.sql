-- Who receives the mails of a dossier (from its submission).
CREATE TABLE IF NOT EXISTS recipients (
    dossier_id  UUID PRIMARY KEY,
    reference   TEXT NOT NULL,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL,
    holder      TEXT NOT NULL
);
-- Who the holder is and where: the préfecture's mailbox, and who may read the dossier's mail.
-- (NULL only for dossiers submitted before these columns existed.)
ALTER TABLE recipients ADD COLUMN IF NOT EXISTS siren TEXT;
ALTER TABLE recipients ADD COLUMN IF NOT EXISTS departement TEXT;

-- The mail outbox: queued with the event's tracking row, sent by the mailer, never twice queued.
CREATE TABLE IF NOT EXISTS mails (
    notification_id  TEXT PRIMARY KEY,
    dossier_id       UUID NOT NULL,
    template         TEXT NOT NULL,
    facts            JSONB NOT NULL,
    queued_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    message_id       TEXT
);
-- When the event that called for the mail happened: a dossier's mails go out in that order.
ALTER TABLE mails ADD COLUMN IF NOT EXISTS event_time TIMESTAMPTZ NOT NULL DEFAULT now();
-- The parties of the mail (applicant, prefecture, mildeca), resolved to addresses at send time.
ALTER TABLE mails ADD COLUMN IF NOT EXISTS to_parties TEXT[] NOT NULL DEFAULT '{applicant}';
ALTER TABLE mails ADD COLUMN IF NOT EXISTS cc_parties TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS mails_pending ON mails (next_attempt_at) WHERE sent_at IS NULL;
-- The instant the mail's final line went to the mail server: from then on it is never sent again.
ALTER TABLE mails ADD COLUMN IF NOT EXISTS handed_over_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS mails_handed_over ON mails (handed_over_at)
    WHERE sent_at IS NULL AND handed_over_at IS NOT NULL;

-- Read model, rebuilt from the log: the mails sent for each dossier.
CREATE TABLE IF NOT EXISTS notification_log (
    notification_id  TEXT PRIMARY KEY,
    dossier_id       UUID NOT NULL,
    template         TEXT NOT NULL,
    recipients       TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    sent_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_log_by_dossier ON notification_log (dossier_id);

-- Read model, rebuilt from the log: every event of every service as it was published, for the
-- auditors. One dossier's history is a range of (dossier_id, occurred_at), never a scan.
CREATE TABLE IF NOT EXISTS audit_trail (
    event_id         UUID PRIMARY KEY,
    dossier_id       UUID        NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    event_type       TEXT        NOT NULL,  -- as written (the hash covers that version)
    headers          JSONB       NOT NULL,  -- the CloudEvents headers, aap* chain extensions included
    value            JSONB       NOT NULL,
    topic            TEXT        NOT NULL,
    kafka_partition  INTEGER     NOT NULL,
    kafka_offset     BIGINT      NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_trail_by_dossier ON audit_trail (dossier_id, occurred_at);

-- Read model: each decision's grant at its instant, for a campaign's envelope at any instant
-- (a grant released again, its dossier withdrawn after the decision, is a negative row).
CREATE TABLE IF NOT EXISTS campaign_grants (
    event_id     UUID PRIMARY KEY,
    campaign_id  TEXT           NOT NULL,
    occurred_at  TIMESTAMPTZ    NOT NULL,
    granted_eur  NUMERIC(14, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS campaign_grants_by_time ON campaign_grants (campaign_id, occurred_at);
