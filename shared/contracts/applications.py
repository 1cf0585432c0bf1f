"""Events of the applications service and the dossier they carry."""

from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.values import DepartementCode, Euros, ShortText, Siren, Text


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HolderKind(str, Enum):
    commune = "commune"
    intercommunalite = "intercommunalite"
    departement = "departement"
    region = "region"
    association = "association"
    other = "other"


class RepresentativeRole(str, Enum):
    maire = "maire"
    president = "president"
    adjoint = "adjoint"
    vice_president = "vice_president"
    directeur_general = "directeur_general"
    other = "other"


class Objective(str, Enum):
    partnership_training = "partnership_training"
    prevent_entry = "prevent_entry"
    counter_attractiveness = "counter_attractiveness"
    detect_and_support = "detect_and_support"
    reclaim_public_space = "reclaim_public_space"


class BudgetCategory(str, Enum):
    actions = "actions"
    personnel = "personnel"
    training = "training"
    communication = "communication"
    equipment = "equipment"
    evaluation = "evaluation"
    structure_operation = "structure_operation"


class Applicant(Strict):
    siren: Siren
    name: ShortText
    kind: HolderKind
    departement: DepartementCode


class Representative(Strict):
    name: ShortText
    role: RepresentativeRole
    email: EmailStr


class Partner(Strict):
    name: ShortText
    kind: ShortText


class Project(Strict):
    title: ShortText
    summary: Text
    territory: Text
    beneficiaries: Text
    objectives: list[Objective] = Field(min_length=1, max_length=5)
    partners: list[Partner] = Field(default_factory=list, max_length=100)
    duration_months: int = Field(ge=1, le=120)


class BudgetLine(Strict):
    year: int = Field(ge=1, le=10, description="project year: 1 for the first year")
    category: BudgetCategory
    label: ShortText
    amount_eur: Euros
    permanent_post: bool = Field(
        default=False, description="personnel lines only: the post outlives the project"
    )


class Budget(Strict):
    lines: list[BudgetLine] = Field(min_length=1, max_length=200)
    total_cost_eur: Euros


class Dossier(Strict):
    """What an applicant files: the body of `POST /campaigns/{id}/dossiers`."""

    applicant: Applicant
    representative: Representative
    project: Project
    budget: Budget
    requested_eur: Euros


class ApplicationSubmitted(DomainEvent):
    name = "ApplicationSubmitted"

    reference: str
    campaign_id: str
    submitted_at: AwareDatetime
    dossier: Dossier


class ApplicationWithdrawn(DomainEvent):
    """The applicant withdraws its dossier, before the decision: every later step stops."""

    name = "ApplicationWithdrawn"

    reference: str
    campaign_id: str
    withdrawn_at: AwareDatetime
    reason: Text


EVENTS = (ApplicationSubmitted, ApplicationWithdrawn)
UPCASTERS: tuple[Upcaster, ...] = ()
