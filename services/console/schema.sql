-- The console's own state: who may act as what (habilitations), and who is logged in (sessions).
-- Nothing of a dossier is kept here: the services hold it.

-- The agents aap habilitates, by the e-mail their identity provider vouches for. Applicants need
-- none: a collectivité's SIREN is the first nine digits of the `siret` claim.
CREATE TABLE IF NOT EXISTS habilitations (
    email        TEXT PRIMARY KEY,  -- in lower case
    role         TEXT NOT NULL,
    departement  TEXT,
    name         TEXT NOT NULL DEFAULT '',
    granted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((role = 'prefecture') = (departement IS NOT NULL))
);
-- The agents' roles, the committee's members (reviewer) included; replaced at every start, so
-- that a database made before a role was added takes it.
ALTER TABLE habilitations DROP CONSTRAINT IF EXISTS habilitations_role_check;
ALTER TABLE habilitations ADD CONSTRAINT habilitations_role_check
    CHECK (role IN ('prefecture', 'instructor', 'president', 'reviewer', 'auditor'));

-- A session: the person as the provider said it, the ID token (for the provider's logout), the
-- form token (CSRF), until when. The role is not kept here: it is read from the habilitations
-- (or the SIRET) at every request, so that a revoked habilitation applies at once.
CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    email        TEXT NOT NULL,
    given_name   TEXT NOT NULL DEFAULT '',
    usual_name   TEXT NOT NULL DEFAULT '',
    siret        TEXT,
    id_token     TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
