"""What the services refuse, said in French: a field's refusal by its kind (the `type` of each
422 error: pydantic's, or aap's own such as `amount_negative`), a command's by the rule that
refused it (the 409's `reason`, the refusal's class name). The services decide; the console
only words their answers for the people who read them. What has no wording here is shown in
the service's own words."""

import string
from typing import Any

from services.console.present import size

# A field refused, by the kind of refusal; {placeholders} come from the refusal's context.
FIELDS: dict[str, str] = {
    "missing": "Ce champ est obligatoire.",
    "text_empty": "Écrivez quelque chose : ce champ ne peut être ni vide ni fait d'espaces.",
    "text_nul": "Ce texte contient un caractère invisible (NUL) : retirez-le.",
    "string_too_long": "Ce texte est trop long : {max_length} caractères au plus.",
    "string_too_short": "Ce texte est trop court : {min_length} caractères au moins.",
    "string_type": "Écrivez un texte.",
    "not_a_number": "Écrivez un nombre entier.",
    "not_a_boolean": "Répondez par oui ou par non.",
    "string_pattern_mismatch": "Ce texte n'a pas la forme attendue.",
    "too_short": "Il en faut au moins {min_length}.",
    "too_long": "Il en faut au plus {max_length}.",
    "literal_error": "Choisissez une des valeurs proposées.",
    "enum": "Choisissez une des valeurs proposées.",
    "int_parsing": "Indiquez un nombre entier.",
    "int_type": "Indiquez un nombre entier.",
    "int_from_float": "Indiquez un nombre entier, sans décimales.",
    "greater_than_equal": "Indiquez au moins {ge}.",
    "greater_than": "Indiquez plus de {gt}.",
    "less_than_equal": "Indiquez au plus {le}.",
    "less_than": "Indiquez moins de {lt}.",
    "bool_parsing": "Répondez par oui ou par non.",
    "datetime_parsing": "Indiquez une date et une heure.",
    "datetime_from_date_parsing": "Indiquez une date et une heure.",
    "date_parsing": "Indiquez une date.",
    "uuid_parsing": "Ce n'est pas un identifiant de dossier.",
    "amount_inexact": "Indiquez un montant exact en euros, par exemple 1 200,50.",
    "amount_invalid": "Indiquez un montant en euros, par exemple 1 200,50.",
    "amount_negative": "Un montant ne peut pas être négatif.",
    "amount_cents": "Un montant a au plus deux décimales (les centimes).",
    "amount_too_large": "Ce montant dépasse ce qu'un dossier peut demander.",
    "siren_invalid": "Ce SIREN n'est pas valide : neuf chiffres, dont le dernier est une clé.",
    "departement_unknown": "Ce département n'existe pas : choisissez-en un de la liste.",
    "granted_missing": "Un projet retenu reçoit un montant, au-dessus de 0,00 €.",
    "granted_with_rejection": "Un projet non retenu ne reçoit rien : laissez le montant vide.",
    "idempotency_key_reused": "Ce formulaire a déjà servi : rechargez la page.",
    # files
    "file_name_invalid": "Ce nom de fichier n'est pas accepté : un nom, sans / ni \\.",
    "file_empty": "Ce fichier est vide.",
    "file_too_large": "Ce fichier est trop lourd : {max_bytes} au plus pour cet appel.",
    "file_type_not_accepted": "Ce type de fichier n'est pas accepté : PDF, ODT, DOCX, ODS, XLSX, "
    "PNG ou JPEG.",
    "file_type_mismatch": "Le contenu de ce fichier ne correspond pas à son type déclaré.",
    "agents_only": "Seuls la MILDECA et la préfecture joignent des fichiers réservés aux agents.",
    "attachment_unknown": "Cette pièce n'est pas jointe au dossier : joignez-la d'abord.",
    "attachment_private": "Une pièce réservée aux agents ne peut accompagner un message lu par "
    "la collectivité.",
    # corrections and drafts
    "field_not_correctable": "Cette partie du dossier ne se corrige pas.",
    "field_not_asked": "Seuls les champs dont la correction est demandée se modifient.",
    "nothing_changed": "Rien n'a changé : modifiez au moins un des champs demandés.",
    "identity_changed": (
        "Le SIREN, la nature et le département de la collectivité ne se modifient pas."
    ),
    "due_in_the_past": "Le délai doit être dans le futur : choisissez une date à venir.",
    "event_too_large": "Ce que vous envoyez est trop long pour être enregistré.",
    "event_unencodable": (
        "Ce que vous envoyez ne peut pas être enregistré : un nombre y est trop grand, "
        "écrivez-le comme un texte."
    ),
    "draft_too_large": "Ce brouillon est trop long pour être enregistré.",
    "siren_not_yours": "Un brouillon s'écrit pour le SIREN de votre collectivité.",
    # regional dotations (docs/dotations.md)
    "weights_all_zero": "Au moins un critère doit avoir un poids supérieur à 0.",
    "number_inexact": "Indiquez un nombre exact, en chiffres, par exemple 1200,5.",
    "number_invalid": "Indiquez un nombre positif ou nul, en chiffres, par exemple 1200,5.",
    "number_places": "Ce nombre a trop de décimales : {places} au plus.",
    "number_too_large": "Ce nombre est trop grand : {max} au plus.",
    "region_unknown": "Cette région n'existe pas : indiquez son code INSEE (84, 11, 04…).",
    "figure_counted": (
        "Le nombre de départements se compte d'après le référentiel : n'en donnez pas le chiffre."
    ),
    "figure_place": "Un chiffre porte sur une région ou sur un département, l'un ou l'autre.",
    "figure_duplicate": "Ce chiffre est donné deux fois pour le même critère et le même lieu.",
    "figure_both_levels": (
        "Ce critère est donné à la fois pour la région et pour ses départements : choisissez."
    ),
    "figure_missing": (
        "Il manque le chiffre du critère {criterion} pour la région {region} : donnez-le, ou "
        "un poids nul à ce critère."
    ),
    "figure_incomplete": (
        "Le critère {criterion} de la région {region} se somme sur tous ses départements : "
        "il en manque."
    ),
    "criterion_total_zero": (
        "Le total national du critère {criterion} est nul : donnez ses chiffres, ou un poids nul."
    ),
    "csv_header": "La première ligne du fichier nomme les colonnes criterion, code, value, source.",
    "csv_cells": "Ligne {line} : le nombre de cellules ne correspond pas aux colonnes.",
    "csv_invalid": "Ligne {line} : le fichier ne se lit pas en CSV (un guillemet non fermé ?).",
    "csv_too_long": "Le fichier a trop de lignes : 400 chiffres au plus.",
    "csv_not_utf8": "Le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 ».",
    "details_missing": "Dites en quoi consiste le conflit d'intérêts déclaré.",
    "dossier_twice": "Chaque dossier n'y figure qu'une fois.",
    "in_the_future": "Cette date est dans le futur : une séance est enregistrée une fois tenue.",
    "instant_in_the_future": "Cet instant est dans le futur : choisissez un instant passé.",
    "not_the_session": (
        "La présidence décide tous les dossiers examinés par la séance, et seulement eux."
    ),
}
# What the e-mail validator of pydantic calls its refusals.
_EMAIL = "Indiquez une adresse électronique valide (nom@domaine.fr)."

# A command refused, by the rule that refused it (the refusal's `reason`).
COMMANDS: dict[str, str] = {
    "CallClosed": "L'appel à projets est clos : sa date limite de dépôt est passée.",
    "DossierClosed": "Ce dossier est retiré ou clos : plus rien n'y est fait.",
    "NoCorrectionAsked": "Aucune correction n'est demandée sur ce dossier.",
    "CorrectionPending": "Une correction est déjà demandée sur ce dossier : attendez-la.",
    "CorrectionNotOverdue": "Le délai de correction n'est pas encore passé.",
    "AttachmentAltered": "Ce fichier a été altéré depuis son dépôt : il n'est pas remis. "
    "L'audit le signale.",
    "CallNotOpen": "L'appel à projets n'est pas encore ouvert.",
    "AlreadySubmitted": "Ce dossier a déjà été déposé.",
    "AlreadyWithdrawn": "Ce dossier a déjà été retiré.",
    "AlreadyDecided": "La présidence a déjà décidé de ce dossier.",
    "DossierWithdrawn": "Ce dossier a été retiré par la collectivité : plus rien n'est fait.",
    "NotEligible": "Ce dossier n'est pas éligible : il ne va pas plus loin.",
    "OpinionAlreadyGiven": "L'avis a déjà été donné.",
    "OpinionMissing": "L'avis de la préfecture est attendu d'abord.",
    "AssessmentMissing": "L'évaluation du comité est attendue d'abord.",
    "OverRequest": "Ce montant dépasse celui que la collectivité a demandé.",
    "OverCap": "Ce montant dépasse le plafond d'aide par projet de l'appel.",
    "OverEnvelope": "Ce montant dépasse ce qui reste de l'enveloppe de la campagne.",
    "SingleLever": (
        "Des actions ponctuelles et non coordonnées ne sont pas retenues : un projet retenu "
        "actionne plusieurs leviers."
    ),
    "NotSelected": "Seul un projet retenu a une convention à signer.",
    "AlreadySigned": "Cette partie a déjà signé la convention.",
    "ConventionDeadlinePassed": "Le délai de signature de la convention est passé.",
    "NothingCommitted": "Les crédits ne sont pas encore engagés pour ce dossier.",
    "BalanceIsNext": "Toutes les tranches sont versées : reste le solde.",
    "BalanceSettled": "Le solde a déjà été réglé : les paiements du dossier sont clos.",
    "BalanceWithheldError": "Un avis défavorable a retenu le solde : il n'est pas versé.",
    "ReportAlreadySubmitted": "Le rapport final a déjà été déposé.",
    "ReportMissing": "Le rapport final de la collectivité est attendu d'abord.",
    "ActivityReportAwaited": (
        "Cette tranche est versée sur un rapport d'activité que la collectivité n'a pas encore "
        "déposé."
    ),
    "UnknownProof": (
        "Le rapport d'activité ne renvoie qu'aux justificatifs de dépenses déjà joints au dossier."
    ),
    "DossierBusy": "Le dossier est modifié au même moment par quelqu'un d'autre : réessayez.",
    "KeyTaken": "Ce formulaire est déjà en cours d'envoi : rechargez la page.",
    "NotAReviewer": "Le comité de cette campagne évalue d'une seule voix : pas d'examinateurs.",
    "ReviewerTaken": (
        "Cet examinateur est déjà désigné sur ce dossier, a déjà fait sa déclaration, ou s'est "
        "déporté."
    ),
    "ReviewersComplete": "Ce dossier a tous ses examinateurs.",
    "ReviewerNotCleared": (
        "Déclarez d'abord l'absence de conflit d'intérêts : un examinateur ne note qu'ensuite."
    ),
    "ReviewsMissing": "Le consensus attend la notation de chaque examinateur sans conflit.",
    "ConsensusRecorded": "Le consensus du comité est enregistré : les notations sont closes.",
    "SessionRefused": "Cette séance ne peut être enregistrée ou décidée ainsi : rien n'est fait.",
    "UnknownSession": "Aucune séance du comité n'a cet identifiant.",
    "DotationAlreadyComputed": (
        "Cette dotation est déjà calculée : elle l'est une fois ; donnez un autre identifiant."
    ),
}


class _Known(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        return (
            kwargs.get(key, "…") if isinstance(key, str) else super().get_value(key, args, kwargs)
        )


def field(error: dict[str, Any]) -> str:
    """A field's refusal (`{"field", "type", "reason", "context"}`), in French."""
    kind, reason = str(error.get("type", "")), str(error.get("reason", ""))
    if kind == "value_error" and "email" in reason:
        return _EMAIL
    wording = FIELDS.get(kind)
    if wording is None:
        return reason
    context = dict(error.get("context") or {})
    if "max_bytes" in context:  # 20000000 → "20 Mo"
        context["max_bytes"] = size(context["max_bytes"])
    return _Known().format(wording, **context)


def command(reason: str, detail: str) -> str:
    """A command's refusal, in French when its rule is known here, else in the service's words."""
    return COMMANDS.get(reason, detail)
