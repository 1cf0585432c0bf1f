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
