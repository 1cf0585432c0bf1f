"""Events of the regional dotations: the prevention envelope shared among the régions on
objective criteria (seeds 000 and 001, February 2013; docs/dotations.md)."""

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from shared.contracts.base import DomainEvent, Upcaster
from shared.contracts.values import DepartementCode, Euros, ShortText, Source, refuse
from shared.language.regions import BY_CODE, REGION_CODES


class Criterion(str, Enum):
    """The criteria of the circular of 14 February 2013 (seed 001), in its order."""

    departements = "departements"  # the number of départements, counted from the referential
    youth_population = "youth_population"  # the population of young people
    youth_consumption = "youth_consumption"  # the most frequent consumptions among the young
    drug_offences = "drug_offences"  # offences against the law on narcotics (ILS)


@dataclass(frozen=True)
class ExactNumber:
    """A non-negative exact number of at most so many digits and decimals: a string of digits
    (or a whole number), never a float; written back as its digits."""

    integer_digits: int
    places: int
    maximum: Decimal | None = None

    @property
    def pattern(self) -> str:
        return rf"^[0-9]{{1,{self.integer_digits}}}(\.[0-9]{{1,{self.places}}})?$"

    def read(self, value: Any) -> Decimal:
        example = f'digits with at most {self.places} decimals, e.g. "1200.5"'
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            refuse("number_inexact", f"numbers are exact: give a string of {example}")
        if isinstance(value, int | float):
            value = Decimal(int(value))
        if isinstance(value, str):
            if not re.match(self.pattern, value):
                refuse("number_invalid", f"{value[:40]!r} is not a number here: give {example}")
            value = Decimal(value)
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            refuse("number_invalid", f"a number here is not negative: give {example}")
        top = Decimal(10) ** self.integer_digits
        if value >= top or (self.maximum is not None and value > self.maximum):
            most = self.maximum if self.maximum is not None else top
            refuse("number_too_large", f"at most {most}", max=str(most))
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            refuse("number_places", f"at most {self.places} decimals", places=self.places)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.read,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda d: format(d, "f"), when_used="json"
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        written = {"type": "string", "pattern": self.pattern}
        if handler.mode == "serialization":
            return written
        return {"anyOf": [written, {"type": "integer", "minimum": 0}]}


Weight = Annotated[Decimal, ExactNumber(4, 4)]  # 0 to 9999.9999: only their ratios matter
FigureValue = Annotated[Decimal, ExactNumber(12, 6)]  # a count (or a quantity)
RegionalValue = Annotated[Decimal, ExactNumber(14, 6)]  # a région's: its départements' sum
Share = Annotated[Decimal, ExactNumber(1, 6, Decimal(1))]  # 0 to 1, to the millionth


def _region(value: str) -> str:
    if value not in BY_CODE:
        refuse("region_unknown", f"unknown région code {value[:10]!r} (INSEE: '84', '11', '04')")
    return value


RegionCode = Annotated[
    str,
    AfterValidator(_region),
    WithJsonSchema({"type": "string", "enum": list(REGION_CODES), "examples": ["84"]}),
]
DOTATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
DotationId = Annotated[str, Field(pattern=DOTATION_ID_PATTERN, examples=["prevention-2013"])]


def dotation_stream(dotation_id: str) -> str:
    return f"dotation:{dotation_id}"


def dotation_key(dotation_id: str) -> UUID:
    """The key of a dotation's events on the topic (every event is keyed by a UUID): fixed by
    its id, so that its events keep their order as a dossier's do."""
    return uuid5(NAMESPACE_URL, f"urn:aap:{dotation_stream(dotation_id)}")


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Figure(_Value):
    """One figure of a criterion for a région, or for a département (summed to its région),
    with where it comes from."""

    criterion: Criterion
    region: RegionCode | None = None
    departement: DepartementCode | None = None
    value: FigureValue
    source: Source = Field(description="where the figure comes from (survey, year, table)")

    @field_validator("criterion")
    @classmethod
    def _not_counted(cls, criterion: Criterion) -> Criterion:
        if criterion is Criterion.departements:
            refuse(
                "figure_counted",
                "the number of départements is counted from the referential: give no figure",
            )
        return criterion

    @model_validator(mode="after")
    def _one_place(self) -> "Figure":
        if (self.region is None) == (self.departement is None):
            refuse("figure_place", "a figure names either its région or its département")
        return self

    def place(self) -> str:
        return f"région {self.region}" if self.region else f"département {self.departement}"


class CriteriaWeights(_Value):
    """The weight of each criterion; one not given weighs nothing. Only their ratios matter."""

    departements: Weight = Decimal(0)
    youth_population: Weight = Decimal(0)
    youth_consumption: Weight = Decimal(0)
    drug_offences: Weight = Decimal(0)

    def of(self, criterion: Criterion) -> Decimal:
        weight: Decimal = getattr(self, criterion.value)
        return weight


class CriterionShare(_Value):
    """A région's figure for one weighed criterion and its share of the national total."""

    criterion: Criterion
    value: RegionalValue = Field(description="the région's figure (its départements' sum)")
    share: Share = Field(description="value / national total, to the millionth")


class RegionalPart(_Value):
    region: RegionCode
    name: str
    amount_eur: Euros
    share: Share = Field(description="the weighted average of its criteria's shares")
    criteria: list[CriterionShare] = Field(description="one per criterion weighing above 0")


class DotationComputed(DomainEvent):
    """A year's national envelope shared among the 18 régions on objective criteria.

    The parts add up to the envelope to the cent (largest remainders, docs/dotations.md)."""

    name = "DotationComputed"

    dossier_id: UUID = Field(description="the dotation's key on the topic: dotation_key(id)")
    dotation_id: DotationId
    title: ShortText
    year: int = Field(ge=2013, le=2100)
    envelope_eur: Euros
    weights: CriteriaWeights
    figures: list[Figure] = Field(max_length=400, description="as given, each with its source")
    parts: list[RegionalPart] = Field(description="one per région, by région code")
    computed_at: AwareDatetime
    computed_by: str = Field(description="who asked for it: role and subject")


EVENTS = (DotationComputed,)
UPCASTERS: tuple[Upcaster, ...] = ()
