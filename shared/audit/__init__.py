"""The auditor's tools: replay a dossier, see it as of an instant, prove nothing was altered.

Built on the services' event stores (or the published log): the same pure functions serve
the CLI (`aap audit`), the auditor's HTTP route and the offline check of an exported bundle.
"""

from shared.audit.bundle import export_bundle, verify_bundle
from shared.audit.chain import Break, verify_chain, verify_streams
from shared.audit.events import AuditEvent, ordered
from shared.audit.state import CampaignEnvelope, DossierAsOf, Grant, as_of, campaign_of, to_json
from shared.audit.stores import campaign_envelope, history, until, verify_store

__all__ = [
    "AuditEvent",
    "Break",
    "CampaignEnvelope",
    "DossierAsOf",
    "Grant",
    "as_of",
    "campaign_envelope",
    "campaign_of",
    "export_bundle",
    "history",
    "ordered",
    "to_json",
    "until",
    "verify_bundle",
    "verify_chain",
    "verify_store",
    "verify_streams",
]
