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
