"""The operator's guide never drifts from the code: every setting with its default, every metric."""

import re
from pathlib import Path

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry

from services.applications.ds.settings import DsSettings
from shared.kernel.metrics import Metrics
from shared.kernel.settings import Settings

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "operators.md").read_text()
ROW = re.compile(r"^\| `(AAP_\w+)` \| `([^`]*)` \|", re.MULTILINE)


def shown(default: object) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    return str(default) if default != "" else '""'


def test_the_guide_lists_every_setting_with_its_default():
    documented = dict(ROW.findall(GUIDE))
    expected = {
        f"AAP_{name.upper()}": shown(field.default) for name, field in Settings.model_fields.items()
    } | {
        f"AAP_DS_{name.upper()}": shown(field.default)
        for name, field in DsSettings.model_fields.items()
    }
    assert documented == expected


def test_the_guide_explains_every_metric_a_service_exposes():
    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    metrics = Metrics(provider.get_meter("aap"))
    metrics.request("GET", "/healthz", 200, 0.01)
    metrics.consumed("eligibility", "fr.gouv.mildeca.aap.ApplicationSubmitted.v1", "applied")
    metrics.dead_lettered("eligibility", "aap.applications.events")
    metrics.published(["aap.selection.events"], 0.01)
    exposed = {family.name for family in registry.collect()} - {"target"}
    assert exposed
    for name in exposed:
        assert re.search(rf"`{name}(_total)?`", GUIDE), f"{name} is not in docs/operators.md"
    provider.shutdown()
