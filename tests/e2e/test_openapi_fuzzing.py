"""The services' OpenAPI documents say what the services do: schemathesis, run as an outside
client would run it against the running services, once per role with a valid token, finds no
server error, no answer outside what the documents say, no invalid input taken, no auth ignored.

Bounded here (examples per operation, steps of the stateful phase, a fixed seed); the full run
(`./dev fuzz`: 1,000 examples an operation, chaos/fuzzing.py) keeps each run's summary in
`AAP_FUZZ_REPORT` and writes the figures beside the fault suite's.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.language.actors import Role
from tests.e2e.conftest import SERVICES, Platform
from tests.factories import eligible_dossier, random_siren
from tests.helpers import bearer, wait_for

EXAMPLES = int(os.environ.get("AAP_FUZZ_EXAMPLES", "5"))
REPORT = os.environ.get("AAP_FUZZ_REPORT")

ROLES: dict[Role, dict[str, str]] = {
    Role.applicant: {"siren": "213186091"},
    Role.prefecture: {"departement": "59"},
    Role.instructor: {},
    Role.president: {},
    Role.auditor: {},
    Role.reviewer: {"subject": "reviewer@test.example.fr"},
}

CONFIG = f"""
seed = 1
headers = {{ Authorization = "${{ST_AUTHORIZATION}}" }}

# Half the dossier ids drawn are of dossiers that exist: one of the applicant's SIREN in its
# préfecture's département, one of another collectivité elsewhere (what no bound role owns).
[dictionaries.dossiers]
values = ["OWN_DOSSIER", "OTHER_DOSSIER"]

[parameters]
"path.dossier_id" = {{ dictionary = "dossiers", probability = 0.5 }}

[generation]
max-examples = {EXAMPLES}
database = "none"

[checks]
enabled = true

[phases.stateful]
max-steps = 5

[warnings]
# A mismatch between what the schema allows and what a rule refuses is said below, where it
# is known; the other warnings that say a document is wrong fail the run.
fail-on = ["unsupported_regex", "unresolvable_reference"]

# Rules a JSON Schema cannot say: a SIREN's Luhn check digit (filing), and that a selection
# names an amount above zero while a rejection grants none (decision). A schema-valid body may
# break them: the 422 names the field, as for any invalid input.
[[operations]]
include-operation-id = ["file_dossier", "decide"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# Likewise for the commands of applications' instruction tools: a file is judged by its bytes
# (type, size, emptiness), a draft is written for the token's own SIREN, a message names files
# the dossier holds, an amendment is the dossier checked whole, a correction names parts an
# applicant writes. And a draft takes almost any body, so it succeeds, and the few keys the
# generator draws come back on its commands with other bodies: refused (422), as the
# Idempotency-Key draft says (reuse itself is tested in tests/e2e/test_idempotency.py).
[[operations]]
include-operation-id = [
    "withdraw_dossier", "attach_file", "post_message", "add_note", "request_correction",
    "amend_dossier", "close_incomplete", "start_draft", "save_draft", "share_draft",
    "comment_draft", "file_draft", "add_proof",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# On the dossiers that exist (half the ids drawn), every other command meets the dossier's state
# (409, or 422 for a rule of the step: a score before the opinion, a signature out of turn) and
# the keys the generator draws again with another body (422, as the Idempotency-Key draft says).
[[operations]]
include-operation-id = [
    "give_opinion", "record_assessment", "sign_convention", "assign_reviewer", "submit_review",
    "pay_instalment", "submit_activity_report", "submit_final_report", "release_balance",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A regional dotation needs a figure of every weighed criterion for every région, each for a
# région or a département (not both), and its CSV is judged line by line: rules of the whole
# set of figures, which a schema-valid body seldom meets (422, naming the figure or the line).
# The committee: a declared conflict says what it is; a session is recorded once held and
# examines each dossier once; the President decides each dossier of a session once, granting
# nothing on a rejection (rules across fields, or of a list's items, that a schema cannot say).
[[operations]]
include-operation-id = ["declare_interests", "record_session", "decide_session"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
# An export as of an instant is of a past one: a date-time in the future (the schema's format
# says no bound) is refused (422, naming `as_of`).
[[operations]]
include-operation-id = ["export_dossiers", "export_ranking", "export_payments"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
[[operations]]
include-operation-id = ["compute_dotation", "compute_dotation_from_csv"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


def fuzz(
    url: str, authorization: str, dossiers: tuple[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    config = workdir / "schemathesis.toml"
    own, other = dossiers
    config.write_text(CONFIG.replace("OWN_DOSSIER", own).replace("OTHER_DOSSIER", other))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            f"{url}/openapi.json",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(workdir / "report"),
        ],
        cwd=workdir,
        env={
            **os.environ,
            "ST_AUTHORIZATION": authorization,
        },
        capture_output=True,
        text=True,
        timeout=600 + 4 * EXAMPLES,
    )


def keep(service: str, role: Role, done: subprocess.CompletedProcess[str], seconds: float) -> None:
    """The run's summary (schemathesis's own, from its SUMMARY line on) for the full report."""
    assert REPORT
    out = done.stdout
    summary = out[out.rindex(" SUMMARY ") :] if " SUMMARY " in out else out[-4000:]
    run = {
        "service": service,
        "role": role.value,
        "examples": EXAMPLES,
        "exit_code": done.returncode,
        "seconds": round(seconds, 1),
        "summary": summary.split("\n", 1)[-1].strip(),
    }
    path = Path(REPORT) / f"{service}.{role.value}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")


async def filed(platform: Platform, siren: str, departement: str) -> str:
    """A dossier filed by the collectivité, once every service has heard of it."""
    dossier = eligible_dossier(applicant__siren=siren, applicant__departement=departement)
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            platform.url("applications", "/campaigns/demo/dossiers"),
            json=dossier,
            headers=bearer(platform.settings, Role.applicant, siren=siren),
        )
        assert answer.status_code == 201, answer.text
        dossier_id = answer.json()["dossier_id"]
        auditor = bearer(platform.settings, Role.auditor)

        async def checked() -> bool:
            read = await client.get(
                platform.url("selection", f"/dossiers/{dossier_id}"), headers=auditor
            )
            return read.status_code == 200

        await wait_for(checked, timeout=60, what="the dossier heard by selection")
    return str(dossier_id)


@pytest.mark.parametrize("service", SERVICES)
async def test_schemathesis_finds_nothing_in_the_document_of_each_service_for_any_role(
    platform: Platform, service: str, tmp_path: Path
):
    two_at_a_time = asyncio.Semaphore(2)  # two cores: the services need the rest

    async def as_(
        role: Role, binding: dict[str, str]
    ) -> tuple[Role, subprocess.CompletedProcess[str]]:
        workdir = tmp_path / role.value
        workdir.mkdir()
        token = bearer(platform.settings, role, **binding)["Authorization"]
        async with two_at_a_time:
            # Dossiers of the run's own: each run meets them as filed, not as the runs before
            # left them (a thousand messages later, every command loads a long history).
            dossiers = (
                await filed(platform, ROLES[Role.applicant]["siren"], "59"),
                await filed(platform, random_siren(), "62"),
            )
            started = time.monotonic()
            done = await asyncio.to_thread(fuzz, platform.urls[service], token, dossiers, workdir)
        if REPORT:
            keep(service, role, done, time.monotonic() - started)
        return role, done

    runs = await asyncio.gather(*(as_(role, binding) for role, binding in ROLES.items()))
    failed = {role.value: done.stdout[-4000:] for role, done in runs if done.returncode != 0}
    assert not failed, "\n\n".join(f"{service} as {role}:\n{out}" for role, out in failed.items())
