"""The wording of each mail, in French: the collectivités and the State services read it. Pure."""

from collections.abc import Callable
from typing import Any

from services.notifications import reminders
from services.notifications.domain import PARTIES, Party, Recipient
from shared.language.french import (
    DUE_ON,
    OPINIONS,
    SIDES,
    SIGNING_PARTIES,
    date,
    date_and_time,
    euros,
    fields,
)

Facts = dict[str, Any]

# Why a committee member stood aside (shared.contracts.committee.Conflict), in French.
CONFLICTS = {
    "elected_office": "mandat électif dans la collectivité",
    "employment": "emploi, contrat ou mission pour la collectivité",
    "family": "lien familial avec un élu ou un agent de la collectivité",
    "other": "autre intérêt",
}
Wording = Callable[[Recipient, Facts], tuple[str, str]]  # (subject, body)

MILDECA = (
    "La Mission interministérielle de lutte contre les drogues et les conduites "
    "addictives (MILDECA)"
)
CLOSING = (
    "Nous vous prions d'agréer, Madame, Monsieur, l'expression de notre considération distinguée."
)
AUTOMATIC = "Message automatique de la plateforme des appels à projets de la MILDECA."
# The decision is notified to the holder under cover of the departmental project lead.
UNDER_COVER = (
    "À l'attention de {name}, sous couvert de Madame ou Monsieur le préfet, chef de "
    "projet départemental MILDECA (département {departement})"
)


# The document a mail carries (services/notifications/documents), as the mail announces it.
ATTACHED = {
    "decision": "Le courrier de décision est joint à ce message (PDF).",
    "convention": "La convention signée, avec ses annexes, est jointe à ce message (PDF).",
    "attestation": "L'attestation de ce versement est jointe à ce message (PDF).",
}
HASH_NOTE = (
    "Chaque document porte l'empreinte de l'événement qu'il atteste, vérifiable dans "
    "l'historique audité du dossier."
)


def render(template: str, recipient: Recipient, facts: Facts) -> tuple[str, str]:
    """(subject, body) of a mail: a letter to the collectivité or the préfecture, a notice to
    MILDECA."""
    try:
        wording = _WORDINGS[template]
    except KeyError:
        raise ValueError(f"no template {template!r}") from None
    subject, text = wording(recipient, facts)
    if "document" in facts:
        text = f"{text}\n\n{ATTACHED[facts['document']['kind']]} {HASH_NOTE}"
    heading = [f"Objet : {subject}", f"Dossier {recipient.reference} — {recipient.holder}"]
    if template.startswith("decision_"):
        heading.append(UNDER_COVER.format(name=recipient.name, departement=recipient.departement))
    to, _ = PARTIES[template]
    if to == (Party.mildeca,):
        parts = ["\n".join(heading), "Bonjour,", text, AUTOMATIC]
    else:
        parts = ["\n".join(heading), "Madame, Monsieur,", text, CLOSING, MILDECA]
    return f"[{recipient.reference}] {subject}", "\n\n".join(parts) + "\n"


def _motivation(facts: Facts) -> str:
    return f"Motivation :\n{facts['motivation']}"


def _acknowledgement(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Accusé de réception de votre dossier", (
        f"Nous accusons réception du dossier de candidature « {f['project_title']} », déposé le "
        f"{date_and_time(f['submitted_at'])} (heure de Paris). Son éligibilité va être vérifiée ; "
        "chaque étape de son instruction vous sera notifiée."
    )


def _eligible(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Votre dossier est éligible", (
        "Votre dossier remplit les critères d'éligibilité de l'appel à projets. "
        "Il est transmis pour avis à la préfecture de votre département."
    )


def _ineligible(r: Recipient, f: Facts) -> tuple[str, str]:
    reasons = "\n".join(f"  - {rule['rule']} : {rule['reason']}" for rule in f["failed_rules"])
    return "Votre dossier n'est pas éligible", (
        f"Votre dossier ne remplit pas les critères d'éligibilité suivants :\n{reasons}"
    )


def _opinion_requested(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Demande d'avis de la préfecture", (
        f"Le dossier {r.reference}, déposé par la collectivité « {r.holder} » (département "
        f"{f['departement']}) au titre de l'appel à projets MILDECA (campagne {f['campaign_id']}), "
        "est éligible. En votre qualité de chef de projet "
        "départemental MILDECA, nous vous remercions de rendre l'avis de la préfecture sur ce "
        "dossier : favorable, réservé ou défavorable, accompagné d'une motivation. Cet avis sera "
        "déterminant pour le comité de sélection."
    )


def _opinion_given(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Avis de la préfecture : {OPINIONS[f['opinion']]}", (
        f"La préfecture du département {f['departement']} a rendu le {date(f['given_at'])} un avis "
        f"{OPINIONS[f['opinion']]} sur le dossier {r.reference} ({r.holder}).\n\n{_motivation(f)}"
    )


def _withdrawn(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Retrait de votre dossier", (
        f"Nous prenons acte du retrait de votre dossier {r.reference}, le "
        f"{date(f['withdrawn_at'])}. "
        f"Son instruction est close.\n\nMotif indiqué :\n{f['reason']}"
    )


def _grant_released(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Dossier retenu puis retiré : subvention rendue à l'enveloppe", (
        f"Le dossier {r.reference} ({r.holder}) a été retiré par la collectivité au moment où la "
        "présidence de la MILDECA le retenait. La subvention qui lui était attribuée, "
        f"{euros(f['released_eur'])}, est rendue le {date(f['released_at'])} à l'enveloppe de "
        f"l'appel à projets (campagne {f['campaign_id']}). Aucune convention ne sera proposée "
        "à la signature pour ce dossier."
    )


def _decision_selected(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Votre projet est retenu", (
        "Nous avons le plaisir de vous informer que le projet de votre collectivité a été "
        "retenu par "
        f"décision de la présidence de la MILDECA. Une subvention de {euros(f['granted_eur'])} "
        f"vous est attribuée, pour un montant demandé de {euros(f['requested_eur'])}.\n\n"
        f"{_motivation(f)}\n\n"
        "Une convention tripartite entre votre collectivité, la préfecture et la MILDECA vous sera "
        "proposée à la signature ; les fonds seront engagés dès sa signature par les trois parties."
    )


def _decision_rejected(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Votre projet n'est pas retenu", (
        "Nous avons le regret de vous informer que le projet de votre collectivité n'a pas été "
        f"retenu par décision de la présidence de la MILDECA.\n\n{_motivation(f)}"
    )


def _signature_added(r: Recipient, f: Facts) -> tuple[str, str]:
    party = SIGNING_PARTIES[f["party"]]
    return f"Convention signée par {party}", (
        f"La convention relative au dossier {r.reference} a été signée pour {party} par "
        f"{f['signatory']}, le {date(f['signed_at'])}. Elle engagera les parties lorsque la "
        "collectivité, la préfecture et la MILDECA l'auront toutes trois signée."
    )


def _convention_signed(r: Recipient, f: Facts) -> tuple[str, str]:
    return "La convention est signée", (
        f"La convention tripartite relative au dossier {r.reference} a été signée par la "
        "collectivité, la préfecture et la MILDECA ; elle est en vigueur depuis le "
        f"{date(f['signed_at'])}. Elle porte sur une subvention de {euros(f['granted_eur'])}, "
        "dont les fonds vont être engagés."
    )


def _funds_committed(r: Recipient, f: Facts) -> tuple[str, str]:
    plan = "\n".join(
        f"  {i['number']}. {DUE_ON.get(i['due_on'], i['label'])} : {euros(i['amount_eur'])}"
        for i in f["plan"]
    )
    return "Engagement de la subvention", (
        f"La MILDECA a engagé le {date(f['committed_at'])} une subvention de "
        f"{euros(f['committed_eur'])} au titre du dossier {r.reference}, sur le fonds de concours "
        f"« drogues ». Elle sera versée selon l'échéancier suivant :\n{plan}"
    )


def _instalment_paid(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Versement n° {f['number']} de la subvention", (
        f"Le versement n° {f['number']} de la subvention du dossier {r.reference}, d'un montant de "
        f"{euros(f['amount_eur'])}, a été effectué le {date(f['paid_at'])}. Total versé à ce "
        f"jour : {euros(f['paid_total_eur'])}."
    )


def _activity_report_submitted(r: Recipient, f: Facts) -> tuple[str, str]:
    asked = (
        "Elle demande le versement de l'échéance que ce rapport conditionne : il vous revient de "
        "l'enregistrer une fois le rapport examiné."
        if f["instalment_asked"]
        else "Elle ne demande pas, à ce stade, le versement d'une échéance."
    )
    attached = len(f.get("attachments") or [])
    proofs = (
        f" Il renvoie à {attached} justificatif(s) de dépenses joint(s) au dossier."
        if attached
        else ""
    )
    return f"Rapport d'activité n° {f['number']} déposé", (
        f"La collectivité « {r.holder} » a déposé le {date(f['submitted_at'])} le rapport "
        f"d'activité n° {f['number']} du dossier {r.reference} : {euros(f['spent_to_date_eur'])} "
        f"dépensés à ce jour.{proofs}\n\nSynthèse du rapport :\n{f['summary']}\n\n{asked}"
    )


def _opinion_on_balance_requested(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Avis motivé demandé avant le versement du solde", (
        f"La collectivité « {r.holder} » a remis le {date(f['submitted_at'])} le rapport final du "
        f"dossier {r.reference}, qui justifie {euros(f['justified_spending_eur'])} de dépenses.\n\n"
        f"Synthèse du rapport :\n{f['summary']}\n\n"
        "Avant le versement du solde, il vous revient, en "
        "qualité de chef de projet départemental MILDECA, de rendre un avis motivé, favorable ou "
        "défavorable, fondé sur l'évaluation de l'efficacité de l'action. Un avis défavorable "
        "suspend le versement du solde."
    )


def _departmental_opinion_given(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Avis du chef de projet départemental : {OPINIONS[f['opinion']]}", (
        f"Le chef de projet départemental MILDECA (département {f['departement']}) a rendu le "
        f"{date(f['given_at'])} un avis {OPINIONS[f['opinion']]} sur l'efficacité de l'action du "
        f"dossier {r.reference} ({r.holder}). Le versement du solde en dépend.\n\n{_motivation(f)}"
    )


def _balance_released(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Versement du solde de la subvention", (
        f"Le solde de la subvention du dossier {r.reference}, d'un montant de "
        f"{euros(f['amount_eur'])}, a été versé le {date(f['released_at'])}. Le total versé "
        f"s'élève à {euros(f['paid_total_eur'])}."
    )


def _balance_withheld(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Le solde de la subvention n'est pas versé", (
        f"Le solde de la subvention du dossier {r.reference}, qui se serait élevé à "
        f"{euros(f['withheld_eur'])}, n'est pas versé, par décision du "
        f"{date(f['withheld_at'])}.\n\n{_motivation(f)}"
    )


ON_THE_PLATFORM = "Connectez-vous à la plateforme des appels à projets pour le lire et répondre."


def _message_posted(r: Recipient, f: Facts) -> tuple[str, str]:
    files = (
        f" Il est accompagné de {len(f['attachments'])} pièce(s) jointe(s)."
        if f["attachments"]
        else ""
    )
    return f"Nouveau message de {SIDES[f['side']]}", (
        f"Un nouveau message a été écrit le {date_and_time(f['posted_at'])} par {SIDES[f['side']]} "
        f"dans la messagerie du dossier {r.reference} ({r.holder}).{files} {ON_THE_PLATFORM}"
    )


def _note_added(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Note interne de {SIDES[f['side']]}", (
        f"Une note interne aux services de l'État a été ajoutée le {date_and_time(f['added_at'])} "
        f"par {SIDES[f['side']]} au dossier {r.reference} ({r.holder}). Elle n'est pas visible de "
        f"la collectivité. {ON_THE_PLATFORM}"
    )


def _correction_requested(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Demande de correction de votre dossier", (
        "Avant de poursuivre l'instruction de votre dossier, la MILDECA vous demande de "
        f"corriger : {fields(f['fields'])}.\n\nMotif :\n{f['reason']}\n\nVous pouvez modifier "
        f"ces éléments, et eux seuls, sur la plateforme jusqu'au {date_and_time(f['due_at'])} "
        "(heure de Paris). Passé ce délai, le dossier pourra être clos comme incomplet."
    )


def _application_amended(r: Recipient, f: Facts) -> tuple[str, str]:
    changed = [c["field"] for c in f["changes"]]
    return "Dossier corrigé par la collectivité", (
        f"La collectivité « {r.holder} » a corrigé le {date_and_time(f['amended_at'])} son dossier "
        f"{r.reference} : {fields(changed)}. Son éligibilité est vérifiée à nouveau ; les deux "
        "versions figurent dans l'historique du dossier."
    )


def _amendments_set_aside(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Correction écartée : la décision porte sur le dossier tel qu'examiné", (
        f"La correction de votre dossier {r.reference} nous est parvenue après la décision de la "
        f"présidence de la MILDECA, prise le {date_and_time(f['decided_at'])} (heure de Paris) sur "
        "le dossier tel qu'il avait été examiné. Elle est donc écartée : c'est ce dossier-là que "
        "la décision et la convention retiennent. La correction figure dans l'historique du "
        "dossier."
    )


def _correction_overdue(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Délai de correction dépassé", (
        f"La correction demandée sur le dossier {r.reference} était attendue au plus tard le "
        f"{date_and_time(f['due_at'])} (heure de Paris). Elle ne nous est pas parvenue : le "
        "dossier peut désormais être clos comme incomplet."
    )


def _closed_incomplete(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Clôture de votre dossier comme incomplet", (
        f"La correction demandée n'ayant pas été apportée dans le délai, votre dossier "
        f"{r.reference} est clos comme incomplet le {date(f['closed_at'])}. Son instruction "
        f"s'arrête.\n\n{_motivation(f)}"
    )


def _draft_shared(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Un projet vous est présenté avant son dépôt", (
        f"La collectivité « {f['applicant_name']} » (SIREN {f['siren']}) vous présente le "
        f"brouillon de son dossier pour l'appel à projets (campagne {f['campaign_id']}), afin que "
        "la préfecture soit associée dès la conception du projet. Vous pouvez le lire et le "
        "commenter sur la plateforme ; ce brouillon n'est pas un dépôt."
    )


def _draft_commented(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Commentaire de la préfecture sur votre brouillon", (
        f"La préfecture du département {f['departement']} a commenté le "
        f"{date_and_time(f['commented_at'])} le brouillon de votre dossier. {ON_THE_PLATFORM}"
    )


def _reviewer_assigned(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Vous êtes désigné(e) examinateur d'un dossier", (
        f"Le dossier {r.reference} de la collectivité « {r.holder} » vous est confié pour "
        "examen par le comité de sélection. Avant de le consulter, déclarez sur la plateforme "
        "vos liens d'intérêts avec cette collectivité : un mandat électif, un emploi ou une "
        "mission pour elle, un lien familial avec l'un de ses élus ou agents. Sans conflit, "
        "vous pourrez lire le dossier et le noter ; en cas de conflit, vous êtes déporté de ce "
        "dossier et un autre examinateur est désigné."
    )


def _reviewer_recused(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Un examinateur s'est déporté", (
        f"{f['reviewer']} a déclaré le {date(f['recused_at'])} un conflit d'intérêts avec le "
        f"dossier {r.reference} ({CONFLICTS.get(f['conflict'], f['conflict'])}) et s'en est "
        "déporté : il n'en lit ni n'en note plus rien. Un autre examinateur est à désigner."
    )


_WORDINGS: dict[str, Wording] = {
    "activity_report_submitted": _activity_report_submitted,
    "acknowledgement": _acknowledgement,
    "eligible": _eligible,
    "ineligible": _ineligible,
    "opinion_requested": _opinion_requested,
    "opinion_given": _opinion_given,
    "withdrawn": _withdrawn,
    "grant_released": _grant_released,
    "decision_selected": _decision_selected,
    "decision_rejected": _decision_rejected,
    "signature_added": _signature_added,
    "convention_signed": _convention_signed,
    "funds_committed": _funds_committed,
    "instalment_paid": _instalment_paid,
    "opinion_on_balance_requested": _opinion_on_balance_requested,
    "departmental_opinion_given": _departmental_opinion_given,
    "balance_released": _balance_released,
    "balance_withheld": _balance_withheld,
    **reminders.WORDINGS,  # the deadlines: reminders before each, a notice once it passed
    "message_posted": _message_posted,
    "note_added": _note_added,
    "correction_requested": _correction_requested,
    "application_amended": _application_amended,
    "amendments_set_aside": _amendments_set_aside,
    "correction_overdue": _correction_overdue,
    "closed_incomplete": _closed_incomplete,
    "draft_shared": _draft_shared,
    "draft_commented": _draft_commented,
    "reviewer_assigned": _reviewer_assigned,
    "reviewer_recused": _reviewer_recused,
}
