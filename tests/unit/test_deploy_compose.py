"""docker-compose.yml, checked without a Docker engine: valid for docker-compose, every image
pinned, every setting set, the services started in order and probed for readiness."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("applications", "selection", "payments", "notifications")
PINNED = re.compile(r"^[\w./-]+:[\w.-]*\d[\w.-]*$")  # a tag with a version in it


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (ROOT / "docker-compose.yml").read_text()
    )  # merges the anchors
    return loaded


def test_docker_compose_finds_the_file_valid():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (deploy/local/tools.sh installs Debian's)")
    checked = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stderr


def test_every_image_is_pinned_to_a_version(compose):
    images = [service["image"] for service in compose["services"].values()]
    assert images and all(PINNED.match(image) for image in images), images
    base = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert base and PINNED.match(base.group(1))


def test_the_platform_has_kafka_postgres_a_mail_catcher_a_collector_and_a_trace_viewer(compose):
    images = {service["image"].split(":")[0] for service in compose["services"].values()}
    assert {
        "apache/kafka",
        "postgres",
        "axllent/mailpit",
        "otel/opentelemetry-collector-contrib",
        "jaegertracing/all-in-one",
    } <= images


def test_every_setting_is_set_for_every_service(compose):
    expected = {f"AAP_{name.upper()}" for name in Settings.model_fields}
    for name in [*SERVICES, "setup"]:
        missing = expected - set(compose["services"][name]["environment"])
        assert not missing, f"{name} lacks {sorted(missing)}"
    for name in SERVICES:
        assert compose["services"][name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]


def test_the_services_start_after_the_setup_and_report_their_readiness(compose):
    setup = compose["services"]["setup"]
    assert setup["entrypoint"] == ["aap", "setup"]
    assert {setup["depends_on"][s]["condition"] for s in ("kafka", "postgres")} == {
        "service_healthy"
    }
    for name in SERVICES:
        service = compose["services"][name]
        assert service["command"][0] == name
        assert service["depends_on"]["setup"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(service["healthcheck"]["test"])


def test_the_collector_sends_the_traces_to_the_trace_viewer():
    collector = yaml.safe_load((ROOT / "deploy" / "otel" / "collector.yaml").read_text())
    pipelines = collector["service"]["pipelines"]
    for pipeline in pipelines.values():
        assert set(pipeline["receivers"]) <= set(collector["receivers"])
        assert set(pipeline["exporters"]) <= set(collector["exporters"])
    assert collector["exporters"]["otlp/jaeger"]["endpoint"].startswith("jaeger:")
    assert "otlp/jaeger" in pipelines["traces"]["exporters"]
