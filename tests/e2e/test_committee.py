"""The committee on the running platform: three reviewers per dossier, each declaring their
interests before seeing it (one recused, another named in their seat), scoring alone, then the
moderator's consensus, which the ranking uses; a session of dossiers decided by the President at
once within the envelope, and refused at once beyond it."""

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey, scores
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

ALICE, BRUNO, CHLOE, DAVID = (
    "alice.martin@mildeca.test",
    "bruno.petit@mildeca.test",
    "chloe.roux@mildeca.test",
    "david.leroy@mildeca.test",
)


async def as_reviewer(
    j: Journey, who: str, method: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    return await j.call(
        "selection", method, f"/dossiers/{j.dossier_id}{path}", Role.reviewer, body, subject=who
    )


async def name(j: Journey, *reviewers: str) -> None:
    for who in reviewers:
        await j.command("selection", "/reviewers", Role.instructor, {"reviewer": who})


async def cleared_and_reviewed(j: Journey, who: str, given: dict[str, int], proposed: str) -> None:
    declared = await as_reviewer(j, who, "POST", "/interests", {"conflict": None})
    assert declared.status_code == 201, declared.text
    review = {"scores": given, "proposed_eur": proposed, "comment": f"Avis de {who}."}
    answer = await as_reviewer(j, who, "POST", "/review", review)
    assert answer.status_code == 201, answer.text


async def readable(answer: Any) -> Any:
    response = await answer
    return response.json() if response.status_code == 200 else None


async def opinion_given(platform: Platform) -> Journey:
    j = await Journey(platform, campaign="committee").file()
    assert (await j.checked())["eligible"] is True
    await j.opinion()
    return j


async def reviewed_by_three(platform: Platform, proposed: str = "100000.00") -> Journey:
    j = await opinion_given(platform)
    await name(j, ALICE, BRUNO, CHLOE)
    for who in (ALICE, BRUNO, CHLOE):
        await cleared_and_reviewed(j, who, scores(), proposed)
    return j


async def consensus(j: Journey, given: dict[str, int], proposed: str = "100000.00") -> None:
    await j.command(
        "selection",
        "/assessment",
        Role.instructor,
        {"scores": given, "proposed_eur": proposed, "comment": "Consensus du comité."},
    )
    await j.seen("selection", lambda d: d.get("weighted_score"), "its consensus")


async def test_three_reviewers_one_recused_and_replaced_then_the_consensus_ranks_the_dossier(
    platform: Platform,
) -> None:
    j = await opinion_given(platform)
    await name(j, ALICE, BRUNO, CHLOE)
    assert "has its 3 reviewers" in await j.refused(
        "selection", "/reviewers", Role.instructor, {"reviewer": DAVID}
    )
    # Before declaring, a reviewer reads nothing of the dossier, and scores nothing.
    unseen = await as_reviewer(j, ALICE, "GET", "/review")
    assert unseen.status_code == 403 and "declare your interests" in unseen.json()["detail"]
    # Chloé is a municipal councillor of the applicant commune: recused, for good.
    recused = await as_reviewer(
        j, CHLOE, "POST", "/interests", {"conflict": "elected_office", "details": "Conseillère."}
    )
    assert recused.status_code == 201, recused.text
    for who in (ALICE, BRUNO):
        await cleared_and_reviewed(j, who, scores(innovation=5), "100000.00")
    refused = await as_reviewer(
        j, CHLOE, "POST", "/review", {"scores": scores(), "proposed_eur": "1.00", "comment": "x"}
    )
    assert refused.status_code == 403 and "recused" in refused.json()["detail"]
    hidden = await as_reviewer(j, CHLOE, "GET", "/review")
    assert hidden.status_code == 403 and "recused" in hidden.json()["detail"]
    # Two reviews in: the consensus waits for a third reviewer without conflict.
    early = {"scores": scores(), "proposed_eur": "100000.00", "comment": "Trop tôt."}
    assert "2 are in" in await j.refused("selection", "/assessment", Role.instructor, early)
    await name(j, DAVID)
    await cleared_and_reviewed(j, DAVID, scores(innovation=4), "90000.00")

    # Applications heard the declarations: the dossier as filed opens to the cleared reviewers,
    # stays closed to the recused one (as a dossier that does not exist).
    async def filed_for(who: str) -> Any:
        return await j.call(
            "applications", "GET", f"/dossiers/{j.dossier_id}", Role.reviewer, subject=who
        )

    opened = await wait_for(
        lambda: readable(filed_for(ALICE)), timeout=30, what="the dossier opened to a reviewer"
    )
    assert opened["reference"] == j.reference and opened["filed"]["project"]
    assert (await filed_for(CHLOE)).status_code == 404
    listed = await j.call("applications", "GET", "/dossiers", Role.reviewer, subject=ALICE)
    assert listed.status_code == 403
    # Each reviewer reads the others' scores once theirs is in, never the recused one's.
    seen = (await as_reviewer(j, ALICE, "GET", "/review")).json()
    assert {r["reviewer"] for r in seen["other_reviews"]} == {BRUNO, DAVID}
    await consensus(j, scores(innovation=5))
    committee = (
        await j.call("selection", "GET", f"/dossiers/{j.dossier_id}/committee", "instructor")
    ).json()
    assert [(r["reviewer"], r["status"]) for r in committee["reviewers"]] == [
        (ALICE, "reviewed"),
        (BRUNO, "reviewed"),
        (CHLOE, "recused"),
        (DAVID, "reviewed"),
    ]
    assert committee["consensus_recorded"] and committee["reviews_missing"] == 0
    # The ranking is the consensus's: (4+5+4+4+4+2·4)/7 = 4.14.
    ranking = (
        await j.call("selection", "GET", "/campaigns/committee/ranking", "instructor")
    ).json()
    [placed] = [d for d in ranking["dossiers"] if d["dossier_id"] == j.dossier_id]
    assert placed["weighted_score"] == "4.14"
    # Individual scores stay in the history; the recusal is an event of its own.
    events = await j.events("selection")
    assert events.count("ReviewSubmitted") == 3 and events.count("ReviewerRecused") == 1
    assert events[-1] == "CommitteeAssessmentRecorded"

    # The auditor's state of the dossier names each reviewer, the recusal and its reason.
    async def audited() -> Any:
        answer = await j.call("notifications", "GET", f"/audit/dossiers/{j.dossier_id}", "auditor")
        state = answer.json().get("state", {}) if answer.status_code == 200 else {}
        return state if state.get("assessment") else None

    state = await wait_for(audited, timeout=30, what="the audited state with its consensus")
    assert state["reviewers"][CHLOE]["conflict"] == "elected_office"
    assert state["reviewers"][DAVID]["review"]["proposed_eur"] == "90000.00"
    # Each named reviewer was told, the moderator told of the recusal.
    await j.mails(*["reviewer_assigned"] * 4, "reviewer_recused")
    to_david = [m for m in platform.mail.messages() if m["X-AAP-Template"] == "reviewer_assigned"]
    assert DAVID in {a.addr_spec for m in to_david for a in m["To"].addresses}
    mine = (await j.call("selection", "GET", "/reviews", Role.reviewer, subject=CHLOE)).json()
    assert [(d["reference"], d["status"]) for d in mine if d["dossier_id"] == j.dossier_id] == [
        (j.reference, "recused")
    ]


async def session(platform: Platform, journeys: list[Journey]) -> str:
    instructor = Journey(platform)
    answer = await instructor.call(
        "selection",
        "POST",
        "/campaigns/committee/committee-sessions",
        Role.instructor,
        {
            "title": "Comité de sélection du 2 décembre",
            "held_at": datetime.now(UTC).isoformat(),
            "members_present": [ALICE, BRUNO, CHLOE],
            "minutes": "Le comité a examiné les dossiers et rendu son avis.",
            "dossiers": [j.dossier_id for j in journeys],
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["recorded"][0]["data"]["session_id"])


async def decide(platform: Platform, session_id: str, journeys: list[Journey]) -> Any:
    body = {
        "motivation": "Au vu du classement du comité.",
        "decisions": [{"dossier_id": j.dossier_id, "outcome": "selected"} for j in journeys],
    }
    return await Journey(platform).call(
        "selection", "POST", f"/committee-sessions/{session_id}/decision", Role.president, body
    )


async def granted(platform: Platform) -> Any:
    conn = await asyncpg.connect(platform.settings.admin_dsn("selection"))
    try:
        return await conn.fetchval(
            "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = 'committee'"
        )
    finally:
        await conn.close()


async def test_a_session_is_decided_at_once_within_the_envelope_and_refused_at_once_beyond_it(
    platform: Platform,
) -> None:
    before = await granted(platform) or 0
    # The envelope of 200,000 EUR: three grants of 70,000 EUR do not fit, two do.
    three = [await reviewed_by_three(platform, "70000.00") for _ in range(3)]
    for j, innovation in zip(three, (5, 3, 4), strict=True):
        await consensus(j, scores(innovation=innovation), "70000.00")
    too_many = await session(platform, three)
    refused = await decide(platform, too_many, three)
    assert refused.status_code == 409, refused.text
    assert "the whole session is refused" in refused.json()["detail"]
    for j in three:
        assert "SelectionDecided" not in await j.events("selection")
    assert (await granted(platform) or 0) == before
    # The session as recorded: its dossiers in the consensus's ranking.
    read = await Journey(platform).call(
        "selection", "GET", f"/committee-sessions/{too_many}", Role.instructor
    )
    ranked = [d["reference"] for d in read.json()["dossiers"]]
    assert ranked == [three[0].reference, three[2].reference, three[1].reference]
    assert read.json()["decision"] is None
    two = await session(platform, three[:2])
    decided = await decide(platform, two, three[:2])
    assert decided.status_code == 201, decided.text
    types = [e["type"] for e in decided.json()["recorded"]]
    assert types == ["CommitteeSessionDecided", "SelectionDecided", "SelectionDecided"]
    for j in three[:2]:
        view = await j.seen("selection", lambda d: d.get("outcome"), "its decision")
        assert view["outcome"] == "selected" and view["granted_eur"] == "70000.00"
    assert await granted(platform) == before + 140000
    again = await decide(platform, two, three[:2])
    assert again.status_code == 409 and "already decided" in again.json()["detail"]


async def test_the_committees_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    platform: Platform,
) -> None:
    j = await opinion_given(platform)
    await name(j, ALICE)
    before = await j.events("selection")
    no_details = await as_reviewer(j, ALICE, "POST", "/interests", {"conflict": "family"})
    assert no_details.status_code == 422 and "details" in no_details.text
    unknown = await as_reviewer(
        j, ALICE, "POST", "/interests", {"conflict": "friendship", "details": "x"}
    )
    assert unknown.status_code == 422 and "conflict" in unknown.text
    session = {
        "title": "Comité",
        "held_at": "2099-01-01T10:00:00+01:00",
        "members_present": [ALICE],
        "minutes": "PV.",
        "dossiers": [j.dossier_id],
    }
    path = "/campaigns/committee/committee-sessions"
    future = await j.call("selection", "POST", path, Role.instructor, session)
    assert future.status_code == 422 and "held_at" in future.text
    twice = {**session, "held_at": datetime.now(UTC).isoformat(), "dossiers": [j.dossier_id] * 2}
    assert (await j.call("selection", "POST", path, Role.instructor, twice)).status_code == 422
    unassessed = {**twice, "dossiers": [j.dossier_id]}
    refused = await j.call("selection", "POST", path, Role.instructor, unassessed)
    assert refused.status_code == 409 and "consensus" in refused.json()["detail"]
    # A reviewer uses only the committee's routes: the others answer 403.
    listed = await j.call(
        "selection", "GET", "/campaigns/committee/dossiers", Role.reviewer, subject=ALICE
    )
    assert listed.status_code == 403
    assert await j.events("selection") == before


async def test_volunteers_take_a_dossier_themselves_until_it_has_its_two_reviewers(
    platform: Platform,
) -> None:
    j = await Journey(platform, campaign="volunteers").file()
    assert (await j.checked())["eligible"] is True
    await j.opinion()

    async def open_to(who: str) -> list[str]:
        listed = await j.call("selection", "GET", "/reviews/open", Role.reviewer, subject=who)
        assert listed.status_code == 200, listed.text
        return [d["reference"] for d in listed.json()]

    await j.seen("selection", lambda d: d.get("opinion"), "its opinion")
    assert j.reference in await open_to(ALICE)
    for who in (ALICE, BRUNO):
        taken = await as_reviewer(j, who, "POST", "/interests", {"conflict": None})
        assert taken.status_code == 201, taken.text
        assert [e["type"] for e in taken.json()["recorded"]] == [
            "ReviewerAssigned",
            "NoConflictDeclared",
        ]

    async def full() -> bool:
        return j.reference not in await open_to(CHLOE)

    await wait_for(full, timeout=30, what="the dossier no longer open once it has its reviewers")
    assert j.reference not in await open_to(ALICE)
    late = await as_reviewer(j, CHLOE, "POST", "/interests", {"conflict": None})
    assert late.status_code == 409 and "has its 2 reviewers" in late.json()["detail"]
