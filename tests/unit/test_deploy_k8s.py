"""The Kubernetes manifests, checked offline: the example overlay rendered as kustomize does,
every object valid for Kubernetes 1.33, and each service deployed as an operator expects."""

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES = "1.33"
SERVICES = ("applications", "selection", "payments", "notifications")
# What render() reproduces of kustomize; a kustomization using anything else fails the test.
SUPPORTED = {"apiVersion", "kind", "namespace", "resources", "images", "replicas", "patches"}

Manifest = dict[str, Any]


def _merge(base: Manifest, patch: Manifest) -> None:
    """A strategic merge for maps (what the overlay patches are)."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def _named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    [found] = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def _containers(manifest: Manifest) -> list[Manifest]:
    pod = manifest.get("spec", {}).get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def render(folder: Path) -> list[Manifest]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    assert not unknown, f"{folder}: render() does not reproduce {unknown}"
    manifests: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        manifests += (
            render(path)
            if path.is_dir()
            else [m for m in yaml.safe_load_all(path.read_text()) if m]
        )
    for patch in kustomization.get("patches", []):
        change = yaml.safe_load((folder / patch["path"]).read_text())
        _merge(_named(manifests, change["kind"], change["metadata"]["name"]), change)
    for replicas in kustomization.get("replicas", []):
        _named(manifests, "Deployment", replicas["name"])["spec"]["replicas"] = replicas["count"]
    for image in kustomization.get("images", []):
        for container in [
            c for m in manifests for c in _containers(m) if c["image"] == image["name"]
        ]:
            container["image"] = f"{image['newName']}:{image['newTag']}"
    if namespace := kustomization.get("namespace"):
        for manifest in manifests:
            if manifest["kind"] != "Namespace":
                manifest["metadata"]["namespace"] = namespace
    return manifests


@pytest.fixture(scope="module")
def example() -> list[Manifest]:
    return render(K8S / "overlays" / "example")


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def test_every_manifest_of_the_example_overlay_is_valid_for_kubernetes(example):
    assert len(example) == 18  # the console's Deployment, Service and budget with the rest
    for manifest in example:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_the_validator_refuses_a_manifest_with_a_field_kubernetes_does_not_know(example):
    broken = copy.deepcopy(_named(example, "Deployment", "aap-selection"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {
        "path": "/readyz"
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_the_render_is_what_kustomize_renders():
    kustomize = (
        [shutil.which("kustomize"), "build"]
        if shutil.which("kustomize")
        else ([shutil.which("kubectl"), "kustomize"] if shutil.which("kubectl") else None)
    )
    if kustomize is None:
        pytest.skip("neither kustomize nor kubectl is installed: render() alone is checked")
    overlay = K8S / "overlays" / "example"
    out = subprocess.run(
        [*kustomize, str(overlay)], capture_output=True, text=True, timeout=60, check=True
    )
    theirs = {(m["kind"], m["metadata"]["name"]): m for m in yaml.safe_load_all(out.stdout)}
    assert theirs == {(m["kind"], m["metadata"]["name"]): m for m in render(overlay)}


def test_each_service_is_deployed_with_probes_resources_and_a_non_root_user(example):
    for service in SERVICES:
        deployment = _named(example, "Deployment", f"aap-{service}")
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"][0] == service
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        # Long enough for the HTTP requests, the event in hand and the relay's batch.
        assert pod["terminationGracePeriodSeconds"] >= 45


def test_each_service_has_a_service_and_a_disruption_budget_that_select_its_pods(example):
    for service in SERVICES:
        name = f"aap-{service}"
        labels = _named(example, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        selectors = [
            _named(example, "Service", name)["spec"]["selector"],
            _named(example, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"],
        ]
        assert all(selector.items() <= labels.items() for selector in selectors)


def test_every_setting_reaches_every_service_from_the_config_map_or_the_secret(example):
    config = _named(example, "ConfigMap", "aap-config")["data"]
    for deployment in of_kind(example, "Deployment"):
        [container] = _containers(deployment)
        assert [source["configMapRef"]["name"] for source in container["envFrom"]] == ["aap-config"]
        secret = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
        missing = {f"AAP_{name.upper()}" for name in Settings.model_fields} - set(config) - secret
        assert not missing, f"{deployment['metadata']['name']} lacks {sorted(missing)}"
        assert {"AAP_PG_APP_PASSWORD", "AAP_JWT_PUBLIC_KEY"} <= secret  # never in the ConfigMap
    assert "AAP_PG_APP_PASSWORD" not in config and "AAP_JWT_PUBLIC_KEY" not in config
    assert (
        config["AAP_PROVISION_ON_START"] == "false"
    )  # the Job migrates; services hold no admin DSN
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in config


def test_a_job_creates_the_topics_and_migrates_the_databases_with_the_administrators_dsn(example):
    job = _named(example, "Job", "aap-setup")
    [container] = _containers(job)
    assert container["command"] == ["aap", "setup"]
    admin = next(e for e in container["env"] if e["name"] == "AAP_PG_ADMIN_DSN")
    assert admin["valueFrom"]["secretKeyRef"] == {"name": "aap-secrets", "key": "pg-admin-dsn"}


def test_the_example_overlay_pins_the_image_names_its_namespace_and_runs_two_selections(example):
    images = {c["image"] for m in example for c in _containers(m)}
    assert len(images) == 1
    [image] = images
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest"
    assert {m["metadata"].get("namespace") for m in example if m["kind"] != "Namespace"} == {"aap"}
    assert _named(example, "Deployment", "aap-selection")["spec"]["replicas"] == 2
