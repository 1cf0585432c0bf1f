"""The whole life of dossiers of the 2024-style call, across the four running services:
one selected and paid to its balance, one withheld, one rejected, one ineligible, one withdrawn,
one withdrawn as it was selected."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from shared.contracts.applications import ApplicationWithdrawn
from shared.language.actors import Role
from tests.e2e.conftest import Platform, text_of
from tests.e2e.steps import Journey
from tests.e2e.submissions import publish
from tests.factories import dossier_failing_several_rules, eligible_dossier, random_siren
from tests.helpers import metric, wait_for


async def test_a_selected_dossier_is_signed_paid_by_instalments_and_paid_its_balance(
    platform: Platform,
):
    j = await Journey(platform).file()
    checked = await j.checked()
    assert checked["eligible"] is True
    await j.opinion("favorable")
    await j.assess("120000.00")
    decided = await j.decide("selected", "120000.00")
    assert decided["recorded"][0]["data"]["granted_eur"] == "120000.00"
    await j.command("selection", "/convention/signatures", Role.applicant)
    await j.command("selection", "/convention/signatures", Role.prefecture)
    signed = await j.command("selection", "/convention/signatures", Role.president)
    assert [r["type"] for r in signed["recorded"]] == [
        "ConventionSignatureAdded",
        "ConventionSigned",
    ]

    committed = await j.committed()
    assert Decimal(committed["committed_eur"]) == Decimal("120000.00")
    advance = await j.command("payments", "/instalments", Role.instructor)
    assert advance["recorded"][0]["data"]["amount_eur"] == "60000.00"
    # The second instalment is paid on the first activity report: refused until it is filed.
    awaited = await j.refused("payments", "/instalments", Role.instructor)
    assert "activity report no. 1" in awaited
    waiting = await j.seen(
        "payments", lambda d: d["next_instalment"]["number"] == 2, "the advance paid"
    )
    assert waiting["next_instalment"]["awaits_activity_report"] is True
    filed = await j.activity_report(spent="70000.00")
    assert [(r["type"], r["data"]["number"]) for r in filed["recorded"]] == [
        ("ActivityReportSubmitted", 1)
    ]
    reported = await j.seen(
        "payments", lambda d: d["activity_reports"]["count"] == 1, "the activity report"
    )
    assert reported["next_instalment"]["awaits_activity_report"] is False
    second = await j.command("payments", "/instalments", Role.instructor)
    assert second["recorded"][0]["data"]["amount_eur"] == "36000.00"
    # The balance is no instalment: it waits for the final report and the departmental opinion.
    await j.refused("payments", "/instalments", Role.instructor)
    await j.refused("payments", "/balance", Role.instructor)
    await j.report(justified="118000.00")
    await j.refused("payments", "/balance", Role.instructor)
    await j.departmental_opinion("favorable")
    balance = await j.command("payments", "/balance", Role.instructor)
    # Never above the justified spending: 118,000 justified − 96,000 paid.
    assert balance["recorded"][0]["data"]["amount_eur"] == "22000.00"
    assert balance["recorded"][0]["data"]["paid_total_eur"] == "118000.00"

    payments = await j.seen(
        "payments", lambda d: d["balance"]["status"] == "released", "the balance"
    )
    assert Decimal(payments["paid_total_eur"]) == Decimal("118000.00")
    selection = await j.seen("selection", lambda d: d.get("convention_signed_at"), "the convention")
    assert selection["outcome"] == "selected"
    assert await j.events("selection") == [
        "EligibilityChecked",
        "PrefectureOpinionRequested",
        "PrefectureOpinionGiven",
        "CommitteeAssessmentRecorded",
        "SelectionDecided",
        "ConventionSignatureAdded",
        "ConventionSignatureAdded",
        "ConventionSignatureAdded",
        "ConventionSigned",
    ]
    assert await j.events("payments") == [
        "FundsCommitted",
        "InstalmentPaid",
        "ActivityReportSubmitted",
        "InstalmentPaid",
        "FinalReportSubmitted",
        "DepartmentalOpinionGiven",
        "BalanceReleased",
    ]

    await j.mails(
        "acknowledgement",
        "eligible",
        "opinion_requested",
        "opinion_given",
        "decision_selected",
        "signature_added",
        "signature_added",
        "signature_added",
        "convention_signed",
        "funds_committed",
        "instalment_paid",
        "activity_report_submitted",
        "instalment_paid",
        "opinion_on_balance_requested",
        "departmental_opinion_given",
        "balance_released",
    )
    [letter] = [
        m
        for m in platform.mail.to_dossier(j.reference)
        if m["X-AAP-Template"] == "decision_selected"
    ]
    # Notified to the holder under cover of the departmental project lead, a party to the letter.
    assert letter["To"].addresses[0].addr_spec == j.dossier["representative"]["email"]
    assert any(f"-{j.departement}@" in a.addr_spec for a in letter["Cc"].addresses)
    assert "sous couvert" in text_of(letter)


async def test_an_unfavourable_departmental_opinion_withholds_the_balance(platform: Platform):
    j = await Journey(platform).selected_and_signed("100000.00")
    await j.command("payments", "/instalments", Role.instructor)
    await j.report(justified="100000.00")
    given = await j.departmental_opinion("unfavorable")
    assert [r["type"] for r in given["recorded"]] == ["DepartmentalOpinionGiven", "BalanceWithheld"]
    await j.refused("payments", "/balance", Role.instructor)
    payments = await j.seen(
        "payments", lambda d: d["balance"]["status"] == "withheld", "the withholding"
    )
    assert Decimal(payments["paid_total_eur"]) == Decimal("50000.00")
    await j.mails("balance_withheld", "opinion_on_balance_requested")


async def test_a_rejected_dossier_has_no_convention_and_can_no_longer_be_withdrawn(
    platform: Platform,
):
    j = await Journey(platform).file()
    await j.checked()
    await j.opinion("unfavorable")
    await j.assess("0.00")
    decided = await j.decide("rejected")
    assert decided["recorded"][0]["data"]["granted_eur"] == "0.00"
    await j.refused("selection", "/convention/signatures", Role.applicant)
    await j.mails("decision_rejected")

    # Once applications has heard of the decision (through Kafka), a withdrawal is too late.
    await wait_for(lambda: _decision_known(j), timeout=30, what="applications to know the decision")
    await j.refused("applications", "/withdrawal", Role.applicant, {"reason": "trop tard"})
    assert "SelectionDecided" in await j.events("selection")
    assert await j.events("payments") == []


async def _decision_known(j: Journey) -> bool:
    conn = await asyncpg.connect(j.platform.settings.admin_dsn("applications"))
    try:
        return bool(
            await conn.fetchval(
                "SELECT count(*) FROM decisions WHERE dossier_id = $1::uuid", j.dossier_id
            )
        )
    finally:
        await conn.close()


async def test_an_ineligible_dossier_gets_no_opinion_request_and_no_opinion(platform: Platform):
    j = await Journey(platform, dossier_failing_several_rules()).file()
    checked = await j.checked()
    assert checked["eligible"] is False
    detail = await j.refused(
        "selection",
        "/prefecture-opinion",
        Role.prefecture,
        {"opinion": "favorable", "motivation": "x"},
    )
    assert "eligib" in detail
    assert await j.events("selection") == ["EligibilityChecked"]
    await j.mails("acknowledgement", "ineligible")


async def test_a_withdrawn_dossier_stops_every_later_step(platform: Platform):
    j = await Journey(platform).file()
    await j.checked()
    withdrawn = await j.command(
        "applications",
        "/withdrawal",
        Role.applicant,
        {"reason": "Le conseil municipal a retiré le projet."},
    )
    assert withdrawn["recorded"][0]["type"] == "ApplicationWithdrawn"
    await j.seen("selection", lambda d: d.get("withdrawn"), "the withdrawal")
    detail = await j.refused(
        "selection",
        "/prefecture-opinion",
        Role.prefecture,
        {"opinion": "favorable", "motivation": "x"},
    )
    assert "withdrawn" in detail
    await j.refused("applications", "/withdrawal", Role.applicant, {"reason": "encore"})
    applications = await j.seen(
        "applications", lambda d: d["status"] == "withdrawn", "the withdrawal"
    )
    assert applications["reference"] == j.reference
    await j.mails("withdrawn")
    # Selection's withdrawals consumer (which gives back a grant decided meanwhile) took it too.
    await wait_for(
        lambda: consumed(
            platform,
            "selection",
            consumer="withdrawals",
            type="ApplicationWithdrawn",
            outcome="applied",
        ),
        what="selection's withdrawals consumer",
    )
    assert not await consumed(
        platform, "selection", consumer="withdrawals", outcome="dead-lettered"
    )
    assert await j.events("selection") == ["EligibilityChecked", "PrefectureOpinionRequested"]


async def consumed(platform: Platform, service: str, **labels: str) -> float:
    return await metric(platform.url(service, "/metrics"), "aap_events_consumed_total", **labels)


async def test_a_prefecture_cannot_act_on_another_departement_and_nothing_is_stored(
    platform: Platform,
):
    j = await Journey(platform).file()
    await j.checked()
    before = await j.events("selection")
    detail = await j.refused(
        "selection",
        "/prefecture-opinion",
        Role.prefecture,
        {"opinion": "favorable", "motivation": "x"},
        status=404,  # as for a dossier that does not exist: the 62 learns nothing of the 59's
        departement="62",
    )
    assert j.departement not in detail
    assert await j.events("selection") == before
    response = await j.read("selection", Role.prefecture)
    assert response.status_code == 200
    assert (
        await j.call(
            "selection", "GET", f"/dossiers/{j.dossier_id}", Role.prefecture, departement="62"
        )
    ).status_code == 404


async def test_each_actor_does_only_what_its_role_allows(platform: Platform):
    j = await Journey(platform).file()
    await j.checked()
    # Nobody unauthenticated; an applicant only on its own SIREN; an auditor writes nothing.
    assert (await j.call("selection", "GET", f"/dossiers/{j.dossier_id}", None)).status_code == 401
    other = random_siren()
    # another SIREN's dossier is answered as one that does not exist
    assert (
        await j.call(
            "applications", "GET", f"/dossiers/{j.dossier_id}", Role.applicant, siren=other
        )
    ).status_code == 404
    await j.refused(
        "applications", "/withdrawal", Role.applicant, {"reason": "x"}, status=404, siren=other
    )
    await j.refused(
        "selection",
        "/prefecture-opinion",
        Role.auditor,
        {"opinion": "favorable", "motivation": "x"},
        status=403,
    )
    await j.refused(
        "selection",
        "/prefecture-opinion",
        Role.instructor,
        {"opinion": "favorable", "motivation": "x"},
        status=403,
    )
    await j.opinion()
    await j.refused(
        "selection",
        "/decision",
        Role.instructor,
        {"outcome": "rejected", "motivation": "x"},
        status=403,
    )
    # A decision before the committee's assessment is refused.
    await j.refused(
        "selection", "/decision", Role.president, {"outcome": "rejected", "motivation": "x"}
    )
    foreign = eligible_dossier()
    response = await j.call(
        "applications", "POST", "/campaigns/demo/dossiers", Role.applicant, foreign
    )
    assert response.status_code == 403  # filing for another collectivité's SIREN


async def test_concurrent_decisions_never_exceed_the_campaigns_envelope(platform: Platform):
    journeys = [Journey(platform, campaign="small") for _ in range(4)]
    for j in journeys:
        await j.file()
    for j in journeys:
        await j.checked()
        await j.opinion()
        await j.assess("100000.00")
    body = {"outcome": "selected", "granted_eur": "100000.00", "motivation": "Retenu."}
    responses = await asyncio.gather(
        *[
            j.call("selection", "POST", f"/dossiers/{j.dossier_id}/decision", Role.president, body)
            for j in journeys
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 201, 409, 409], [r.text for r in responses]
    ranking = await journeys[0].call("selection", "GET", "/campaigns/small/ranking", Role.auditor)
    assert ranking.status_code == 200, ranking.text
    assert Decimal(ranking.json()["granted_eur"]) == Decimal("200000.00")
    assert Decimal(ranking.json()["remaining_eur"]) == Decimal("50000.00")


async def test_a_withdrawal_that_crossed_the_decision_gives_the_grant_back_to_the_envelope(
    platform: Platform,
):
    # given an assessed dossier, selected for 120,000.00
    j = await Journey(platform).file()
    await j.checked()
    await j.opinion()
    await j.assess()
    before = await granted(j)
    await j.decide("selected", "120000.00")
    assert await granted(j) == before + Decimal("120000.00")
    # when a withdrawal that applications accepted before it heard the decision follows it on the
    # bus
    await publish(
        platform.settings,
        [
            ApplicationWithdrawn(
                dossier_id=UUID(j.dossier_id),
                reference=j.reference,
                campaign_id=j.campaign,
                withdrawn_at=datetime.now(UTC),
                reason="Le conseil municipal a retiré le projet.",
            )
        ],
    )
    # then selection gives the grant back, MILDECA is told, and the convention is never signed
    view = await j.seen(
        "selection", lambda d: d.get("released_eur") is not None, "the grant released"
    )
    assert view["released_eur"] == "120000.00" and view["withdrawn"] is True
    assert (await j.events("selection"))[-1] == "GrantReleased"
    assert await granted(j) == before
    await j.mails("decision_selected", "grant_released")
    detail = await j.refused("selection", "/convention/signatures", Role.applicant)
    assert "withdrawn" in detail


async def granted(j: Journey) -> Decimal:
    ranking = await j.call("selection", "GET", f"/campaigns/{j.campaign}/ranking", Role.auditor)
    assert ranking.status_code == 200, ranking.text
    return Decimal(ranking.json()["granted_eur"])
