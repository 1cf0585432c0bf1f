"""The documents of a dossier as PDF (decision letter, convention, payment attestations) and a
committee session's minutes: built from the audited events, each carrying its event's hash."""
