"""deploy/helm/charla, checked without helm (no helm binary can be installed where CI runs):
a small renderer below handles exactly the template constructs the chart uses and fails on
any other; every rendered document must parse as YAML and pass the official Kubernetes JSON
schemas (kubernetes-validate, offline, strict: unknown fields fail too); and the objects must
agree with Charla itself: probes, ports, the drain on SIGTERM, the CLI's commands, the
settings' variable names, secrets only by reference."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from console.cli import SHUTDOWN_TIMEOUT_S, main
from console.runtime.metrics import Metrics

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy" / "helm" / "charla"
# The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion) and the newest the
# schemas know
KUBERNETES = ("1.27", kubernetes_validate.utils.latest_version())
RELEASE = {
    "Name": "chat",
    "Namespace": "charla",
    "Service": "Helm",
    "IsInstall": True,
    "IsUpgrade": False,
    "Revision": 1,
}
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
    },
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
    "smtp": {"host": "smtp.provider.example"},
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


# --- the renderer ----------------------------------------------------------------------------


class TemplateError(Exception):
    """A construct the renderer does not know, or an error helm would report too."""


@dataclass
class Node:
    kind: str  # text | expr | if | with | range | define
    arg: str = ""
    body: list[Node] = field(default_factory=list)
    other: list[Node] = field(default_factory=list)  # the {{ else }} branch


ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\||[^\s|"]+')
PATH = re.compile(r"^(\$|\$?(\.[A-Za-z_][A-Za-z0-9_]*)+|\.)$")
BLOCKS = ("if", "with", "range", "define")


def lex(source: str) -> Iterator[tuple[str, str]]:
    """("text", ...) and ("action", ...) pieces, with {{- and -}} trimming applied."""
    pos, trim_next = 0, False
    for match in ACTION.finditer(source):
        text = source[pos : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        if text:
            yield "text", text
        inner = match.group(2)
        if match.group(1) and not inner.startswith(" "):
            raise TemplateError(f"'{{{{-' must be followed by a space: {match.group(0)!r}")
        yield "action", inner.strip()
        trim_next, pos = bool(match.group(3)), match.end()
    text = source[pos:]
    if trim_next:
        text = text.lstrip()
    if text:
        yield "text", text


def parse(source: str) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[Node, list[Node]]] = []  # open blocks and the branch being filled
    current = root
    for kind, value in lex(source):
        if kind == "text":
            current.append(Node("text", value))
            continue
        if value.startswith("/*"):
            if not value.endswith("*/"):
                raise TemplateError(f"unterminated comment: {value!r}")
            continue
        word, _, rest = value.partition(" ")
        if word in BLOCKS:
            node = Node(word, rest.strip())
            current.append(node)
            stack.append((node, current))
            current = node.body
        elif word == "else":
            if rest.strip() or not stack or stack[-1][0].kind == "define":
                raise TemplateError(f"unsupported: {{{{ {value} }}}}")
            current = stack[-1][0].other
        elif word == "end":
            if not stack:
                raise TemplateError("{{ end }} without a block")
            current = stack.pop()[1]
        elif word in ("template", "block", "break", "continue") or ":=" in value or "=" in word:
            raise TemplateError(f"unsupported: {{{{ {value} }}}}")
        else:
            current.append(Node("expr", value))
    if stack:
        raise TemplateError(f"{{{{ {stack[-1][0].kind} }}}} without {{{{ end }}}}")
    return root


def truthy(value: Any) -> bool:
    """Go templates': false, 0, nil and empty strings, lists and maps are false."""
    return value not in (None, False, 0, "") and value not in ([], {})


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if value is None:
        raise TemplateError("<no value>: a value the template prints is missing")
    raise TemplateError(f"printing a {type(value).__name__} as text: use toYaml")


def indent(width: int, text: str) -> str:
    return "\n".join(" " * width + line for line in text.split("\n"))


def to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def helm_required(message: str, value: Any) -> Any:
    if value is None or value == "":
        raise TemplateError(f"required: {message}")
    return value


class Chart:
    """The chart's templates, rendered as helm would for the constructs they use."""

    def __init__(self, path: Path) -> None:
        self.meta = yaml.safe_load((path / "Chart.yaml").read_text())
        self.defaults = yaml.safe_load((path / "values.yaml").read_text())
        self.files = {
            p.name: parse(p.read_text())
            for p in sorted((path / "templates").iterdir())
            if p.suffix in (".yaml", ".tpl", ".txt")
        }
        self.defines: dict[str, list[Node]] = {}
        for nodes in self.files.values():
            for node in nodes:
                if node.kind == "define":
                    self.defines[json.loads(node.arg)] = node.body
        self.functions: dict[str, Callable[..., Any]] = {
            "include": self.include,
            "toYaml": to_yaml,
            "nindent": lambda width, text: "\n" + indent(width, text),
            "quote": lambda value: json.dumps(text_of(value), ensure_ascii=False),
            "default": lambda fallback, value: value if truthy(value) else fallback,
            "required": helm_required,
            "not": lambda value: not truthy(value),
        }

    def include(self, name: str, dot: Any) -> str:
        if name not in self.defines:
            raise TemplateError(f"no template {name!r}")
        return self.run(self.defines[name], dot, dot)

    def lookup(self, path: str, dot: Any, root: Any) -> Any:
        value = root if path.startswith("$") else dot
        for part in path.lstrip("$").split(".")[1:] if path not in (".", "$") else []:
            if not isinstance(value, dict):
                raise TemplateError(f"nil pointer evaluating {path} (at {part})")
            value = value.get(part)
        return value

    def term(self, token: str, dot: Any, root: Any) -> Any:
        if token.startswith('"'):
            return json.loads(token)
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if token in ("true", "false"):
            return token == "true"
        if PATH.match(token):
            return self.lookup(token, dot, root)
        raise TemplateError(f"unknown term {token!r}")

    def evaluate(self, pipeline: str, dot: Any, root: Any) -> Any:
        commands: list[list[str]] = [[]]
        for token in TOKEN.findall(pipeline):
            if token == "|":
                commands.append([])
            elif token.startswith("(") or token.endswith(")"):
                raise TemplateError(f"parentheses are not supported: {pipeline!r}")
            else:
                commands[-1].append(token)
        value: Any = None
        for number, command in enumerate(commands):
            if not command:
                raise TemplateError(f"empty command in {pipeline!r}")
            name, *args = command
            if name not in self.functions:
                if number or args:
                    raise TemplateError(f"unknown function {name!r} in {pipeline!r}")
                value = self.term(name, dot, root)
                continue
            values = [self.term(arg, dot, root) for arg in args]
            if number:
                values.append(value)
            try:
                value = self.functions[name](*values)
            except TypeError as error:
                raise TemplateError(f"{name}: {error} in {pipeline!r}") from None
        return value

    def run(self, nodes: list[Node], dot: Any, root: Any) -> str:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.arg)
            elif node.kind == "expr":
                out.append(text_of(self.evaluate(node.arg, dot, root)))
            elif node.kind == "if":
                chosen = node.body if truthy(self.evaluate(node.arg, dot, root)) else node.other
                out.append(self.run(chosen, dot, root))
            elif node.kind == "with":
                value = self.evaluate(node.arg, dot, root)
                if truthy(value):
                    out.append(self.run(node.body, value, root))
                else:
                    out.append(self.run(node.other, dot, root))
            elif node.kind == "range":
                value = self.evaluate(node.arg, dot, root)
                items = [value[k] for k in sorted(value)] if isinstance(value, dict) else value
                if not isinstance(items, list):
                    raise TemplateError(f"range over a {type(value).__name__}")
                for item in items:
                    out.append(self.run(node.body, item, root))
                if not items:
                    out.append(self.run(node.other, dot, root))
        return "".join(out)

    def render(self, overrides: dict[str, Any]) -> dict[str, str]:
        """Each template's output (files named _*.tpl give none), as `helm template`."""
        values = merge(copy.deepcopy(self.defaults), overrides)
        chart = {
            "Name": self.meta["name"],
            "Version": self.meta["version"],
            "AppVersion": self.meta["appVersion"],
        }
        top = {"Values": values, "Release": RELEASE, "Chart": chart}
        return {
            name: self.run(nodes, top, top)
            for name, nodes in self.files.items()
            if not name.startswith("_")
        }


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
def chart() -> Chart:
    return Chart(CHART)


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


# --- the renderer itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '{{ printf "%s" .Values.x }}',  # a function it does not know
        "{{ $x := .Values.x }}",  # variables
        "{{ if .a }}x{{ else if .b }}y{{ end }}",  # else if
        "{{ include (print .x) . }}",  # parentheses
        '{{ template "x" . }}',
        "{{ if .a }}x",  # an unclosed block
        "{{ .Values.missing }}",  # prints nothing in helm: here a failure
        "{{ .Values.missing.deeper }}",  # helm's nil pointer
        '{{ include "nowhere" . }}',
    ],
)
def test_the_renderer_refuses_what_it_does_not_know(source: str, tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("name: t\nversion: 0.1.0\nappVersion: '1'\n")
    (tmp_path / "values.yaml").write_text("{}\n")
    (tmp_path / "templates" / "t.yaml").write_text(source)
    with pytest.raises(TemplateError):
        Chart(tmp_path).render({})


def test_the_renderer_renders_as_helm_does(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("name: t\nversion: 0.1.0\nappVersion: '1'\n")
    (tmp_path / "values.yaml").write_text("a: {b: 3, flag: true, l: [x, y], m: {}}\n")
    (tmp_path / "templates" / "_h.tpl").write_text(
        '{{- define "t.n" -}}\n{{ .Release.Name }}-{{ .Chart.Name }}\n{{- end }}\n'
    )
    (tmp_path / "templates" / "t.yaml").write_text(
        'n: {{ include "t.n" . }}\n'
        "b: {{ .Values.a.b | quote }}\n"
        "{{- if .Values.a.flag }}\nt: yes-branch\n{{- else }}\nt: no-branch\n{{- end }}\n"
        "{{- with .Values.a.m }}\nm: {{ . }}\n{{- end }}\n"
        "l:\n{{- range .Values.a.l }}\n  - {{ . }}-{{ $.Values.a.b }}\n{{- end }}\n"
        'd: {{ .Values.a.none | default "z" }}\n'
        "y: {{- toYaml .Values.a.l | nindent 2 }}\n"
    )
    assert {
        "n": "chat-t",
        "b": "3",
        "t": "yes-branch",
        "l": ["x-3", "y-3"],
        "d": "z",
        "y": ["x", "y"],
    } == yaml.safe_load(Chart(tmp_path).render({})["t.yaml"])


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
        "Job/migrate",
        "PodDisruptionBudget/hub",
        "Service/hub",
        "Service/worker",
    ]
    assert base == kinds(documents(chart.render({})))
    assert sorted([*base, "Secret/-", "ServiceMonitor/-"]) == kinds(
        documents(chart.render(OVERRIDE))
    )
    assert ["Deployment/hub", "Service/hub"] == kinds(documents(chart.render(MINIMAL)))


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
    for missing in ("adminToken", "secretKey", "dataKey"):
        values = merge(copy.deepcopy(OVERRIDE), {"secrets": {missing: ""}})
        with pytest.raises(TemplateError, match=missing):
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


def test_the_ingress_is_sticky_and_keeps_websockets_open(chart: Chart) -> None:
    for values in ({}, OVERRIDE):
        docs = documents(chart.render(values))
        ingress = one(docs, "Ingress")
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
    ingress = one(documents(chart.render(OVERRIDE)), "Ingress")
    assert "letsencrypt" == ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert OVERRIDE["ingress"]["tls"] == ingress["spec"]["tls"]
    assert "chat.provider.example" == ingress["spec"]["rules"][0]["host"]


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
