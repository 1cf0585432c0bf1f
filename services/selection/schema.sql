-- Read model, rebuilt from the log: what selection knows of each dossier.
CREATE TABLE IF NOT EXISTS selection_dossiers (
    dossier_id    UUID PRIMARY KEY,
    reference     TEXT NOT NULL,
    campaign_id   TEXT NOT NULL,
    departement   TEXT,
    applicant     TEXT,
    requested_eur NUMERIC(12, 2),
    eligible      BOOLEAN,
    failed_rules  JSONB,
    checked_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS selection_dossiers_by_campaign ON selection_dossiers (campaign_id);
