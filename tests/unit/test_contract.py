"""The published contract: the committed JSON Schemas are those of the code."""

from pathlib import Path

from shared.contracts.schemas import event_schemas

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "events"


def test_every_event_type_has_its_committed_schema_and_no_other():
    assert sorted(p.name for p in FOLDER.glob("*.json")) == sorted(event_schemas())


def test_a_change_of_contract_is_never_silent():
    for name, text in event_schemas().items():
        assert (FOLDER / name).read_text() == text, f"{name} changed: run `aap schemas` and review"
