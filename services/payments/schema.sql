-- Read model, rebuilt from the log: each dossier's commitment, payments and balance.
CREATE TABLE IF NOT EXISTS payments_dossiers (
    dossier_id             UUID PRIMARY KEY,
    reference              TEXT NOT NULL,
    campaign_id            TEXT NOT NULL,
    siren                  TEXT NOT NULL,
    departement            TEXT NOT NULL,
    committed_eur          NUMERIC(12, 2) NOT NULL,
    committed_at           TIMESTAMPTZ NOT NULL,
    paid_total_eur         NUMERIC(12, 2) NOT NULL DEFAULT 0,
    justified_spending_eur NUMERIC(12, 2),
    report_summary         TEXT,
    report_submitted_at    TIMESTAMPTZ,
    opinion                TEXT,
    opinion_motivation     TEXT,
    opinion_given_at       TIMESTAMPTZ,
    -- due (the plan's balance until settled), released or withheld (what was settled).
    balance_status         TEXT NOT NULL DEFAULT 'due',
    balance_eur            NUMERIC(12, 2) NOT NULL,
    balance_settled_at     TIMESTAMPTZ
);
-- The final report's deadline (services/payments/deadlines.py), and whether the report came (or
-- still has not come) after it; ADD ... IF NOT EXISTS upgrades an older database.
ALTER TABLE payments_dossiers
    ADD COLUMN IF NOT EXISTS final_report_due_at   TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS final_report_overdue  BOOLEAN NOT NULL DEFAULT false;
-- The activity reports filed (services/payments/activity.py): the plan's instalments due on an
-- activity report follow them.
ALTER TABLE payments_dossiers
    ADD COLUMN IF NOT EXISTS activity_reports             INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS activity_report_submitted_at TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS activity_report_spent_eur    NUMERIC(12, 2),
    ADD COLUMN IF NOT EXISTS activity_instalment_asked    BOOLEAN;
CREATE INDEX IF NOT EXISTS payments_dossiers_by_campaign ON payments_dossiers (campaign_id, reference);

-- The plan of each dossier, entry by entry; the balance is paid when released.
CREATE TABLE IF NOT EXISTS payments_instalments (
    dossier_id  UUID NOT NULL,
    number      INTEGER NOT NULL,
    label       TEXT NOT NULL,
    due_on      TEXT NOT NULL,
    amount_eur  NUMERIC(12, 2) NOT NULL,
    paid_eur    NUMERIC(12, 2),
    paid_at     TIMESTAMPTZ,
    PRIMARY KEY (dossier_id, number)
);

-- Read model: the proofs of spending of each dossier (their bytes are in `blobs`).
CREATE TABLE IF NOT EXISTS spending_proofs (
    attachment_id  UUID PRIMARY KEY,
    dossier_id     UUID NOT NULL,
    name           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    added_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS spending_proofs_by_dossier ON spending_proofs (dossier_id, added_at);
