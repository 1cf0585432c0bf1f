-- Decision state, not read models: commands read them, a rebuild never drops them.

-- The dossiers their applicants withdrew, heard from the applications' log (by the `dossiers`
-- consumer, with the read model's row): every command on them is refused.
CREATE TABLE IF NOT EXISTS withdrawals (
    dossier_id   UUID PRIMARY KEY,
    withdrawn_at TIMESTAMPTZ NOT NULL
);

-- What each campaign granted so far. Every decision locks its campaign's row before it reads the
-- dossier, and adds its grant in the same transaction: concurrent decisions never overspend.
-- A grant released (the dossier withdrawn after its selection) is taken off under the same lock.
CREATE TABLE IF NOT EXISTS campaign_envelopes (
    campaign_id  TEXT PRIMARY KEY,
    envelope_eur NUMERIC(14, 2) NOT NULL,
    granted_eur  NUMERIC(14, 2) NOT NULL DEFAULT 0 CHECK (granted_eur >= 0)
);

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
-- The instruction, decision and convention; ADD ... IF NOT EXISTS upgrades an older database.
ALTER TABLE selection_dossiers
    ADD COLUMN IF NOT EXISTS siren                TEXT,
    ADD COLUMN IF NOT EXISTS submitted_at         TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS opinion              TEXT,
    ADD COLUMN IF NOT EXISTS opinion_motivation   TEXT,
    ADD COLUMN IF NOT EXISTS opinion_given_at     TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS scores               JSONB,
    ADD COLUMN IF NOT EXISTS weighted_score       NUMERIC(4, 2),
    ADD COLUMN IF NOT EXISTS proposed_eur         NUMERIC(12, 2),
    ADD COLUMN IF NOT EXISTS assessment_comment   TEXT,
    ADD COLUMN IF NOT EXISTS assessed_at          TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS outcome              TEXT,
    ADD COLUMN IF NOT EXISTS granted_eur          NUMERIC(12, 2),
    ADD COLUMN IF NOT EXISTS decision_motivation  TEXT,
    ADD COLUMN IF NOT EXISTS decided_at           TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS signatures           JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS convention_signed_at TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS withdrawn            BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS withdrawn_at         TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS released_eur         NUMERIC(12, 2),
    ADD COLUMN IF NOT EXISTS released_at          TIMESTAMPTZ;
-- Deadlines (services/selection/deadlines.py): when the opinion is due, and whether the opinion
-- or the convention came (or still has not come) after its deadline.
ALTER TABLE selection_dossiers
    ADD COLUMN IF NOT EXISTS opinion_due_at       TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS opinion_overdue      BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS convention_overdue   BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS selection_dossiers_by_campaign ON selection_dossiers (campaign_id);

-- Where each dossier stands, said once for the lists, the filters and the dashboard.
ALTER TABLE selection_dossiers ADD COLUMN IF NOT EXISTS state TEXT GENERATED ALWAYS AS (
    CASE
        WHEN withdrawn THEN 'withdrawn'
        WHEN convention_signed_at IS NOT NULL THEN 'convention_signed'
        WHEN outcome = 'selected' THEN 'selected'
        WHEN outcome = 'rejected' THEN 'rejected'
        WHEN weighted_score IS NOT NULL THEN 'assessed'
        WHEN opinion IS NOT NULL THEN 'opinion_given'
        WHEN eligible = false THEN 'ineligible'
        WHEN eligible = true THEN 'awaiting_opinion'
        ELSE 'submitted'
    END
) STORED;
CREATE INDEX IF NOT EXISTS selection_dossiers_by_state
    ON selection_dossiers (campaign_id, state, reference);

-- Read models of the committee, rebuilt from the log (services/selection/committee_views.py):
-- each dossier's reviewers and where each one stands, and the committee's sessions.
CREATE TABLE IF NOT EXISTS committee_reviewers (
    dossier_id     UUID NOT NULL,
    reviewer       TEXT NOT NULL,
    reference      TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    assigned_at    TIMESTAMPTZ NOT NULL,
    declared_at    TIMESTAMPTZ,
    recused_at     TIMESTAMPTZ,
    conflict       TEXT,
    reviewed_at    TIMESTAMPTZ,
    weighted_score NUMERIC(4, 2),
    PRIMARY KEY (dossier_id, reviewer)
);
CREATE INDEX IF NOT EXISTS committee_reviewers_by_reviewer ON committee_reviewers (reviewer);

CREATE TABLE IF NOT EXISTS committee_sessions (
    session_id        UUID PRIMARY KEY,
    campaign_id       TEXT NOT NULL,
    title             TEXT NOT NULL,
    held_at           TIMESTAMPTZ NOT NULL,
    dossiers          INTEGER NOT NULL,
    members_present   JSONB NOT NULL,
    decided_at        TIMESTAMPTZ,
    granted_total_eur NUMERIC(14, 2)
);
CREATE INDEX IF NOT EXISTS committee_sessions_by_campaign ON committee_sessions (campaign_id, held_at);
