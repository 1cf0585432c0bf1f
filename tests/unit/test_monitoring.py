"""The operators' alert rules and dashboard (deploy/prometheus, deploy/grafana) name only metrics
the services really export, and promtool (Debian's prometheus package) accepts the rules."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from shared.kernel.metrics import Metrics
from shared.kernel.telemetry import setup_metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "aap-dashboard.json"
NAME = re.compile(r"\baap_[a-z_]+")


def exported() -> set[str]:
    """Every series name a service's /metrics shows once each instrument has recorded."""
    provider, registry = setup_metrics("aap-tests")
    metrics = Metrics(provider.get_meter("aap"))
    metrics.request("GET", "/dossiers/{dossier_id}", 200, 0.01)
    metrics.consumed("dossiers", "fr.gouv.mildeca.aap.ApplicationSubmitted.v2", "applied")
    metrics.dead_lettered("dossiers", "aap.applications.events")
    metrics.published(["aap.selection.events"], 0.02)
    metrics.job_ran("prefecture_opinion.reminder", "done")
    metrics.mailed("acknowledgement", "sent")
    metrics.samples.lag[("dossiers", "aap.applications.events", 0)] = 3
    text = generate_latest(registry).decode()
    provider.shutdown()
    return set(re.findall(r"^(aap_[a-z_]+)", text, re.MULTILINE))


def expressions() -> dict[str, str]:
    rules = RULES.read_text()
    named = {m.group(1): m.group(2) for m in re.finditer(r"alert: (\w+)\n\s+expr: (.+)", rules)}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    named |= {p["title"]: t["expr"] for p in panels for t in p["targets"]}
    return named


def test_every_metric_the_alerts_and_the_dashboard_query_is_one_the_services_export():
    names = exported()
    assert {"aap_relay_delay_seconds", "aap_consumer_lag", "aap_mails_total"} <= names
    for where, expr in expressions().items():
        assert set(NAME.findall(expr)) <= names, f"{where}: {expr}"


def test_the_alerts_cover_delay_backlog_lag_dead_letters_readiness_and_mail():
    alerts = set(re.findall(r"alert: (\w+)", RULES.read_text()))
    assert {
        "AapRelayDelayed",
        "AapOutboxBacklogGrowing",
        "AapConsumerLagGrowing",
        "AapDeadLetters",
        "AapServiceDown",
        "AapMailFailures",
    } <= alerts


def test_promtool_accepts_the_alert_rules():
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: deploy/local/tools.sh installs Debian's prometheus")
        pytest.skip("promtool is not installed (deploy/local/tools.sh installs it)")
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout
