"""compose.yaml, checked without Docker: it parses, and its services, images, commands, ports,
environment, dependencies and the load balancer's upstreams agree with each other and with
`charla`'s real command line and settings."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from console.cli import main
from console.settings import Files, Settings
from console.store.db import POOL_SIZE
from console.web.attachments import MULTIPART_SLACK

ROOT = Path(__file__).resolve().parent.parent
HUBS = ("hub-1", "hub-2")
CHARLA = ("migrate", *HUBS, "worker")
# What an operator exports before `docker compose up` (see the header of compose.yaml).
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "pg-secret",
    "CHARLA_ADMIN_TOKEN": "admin-token",
    "CHARLA_SECRET_KEY": "secret-key",
    "CHARLA_DATA_KEY": "data-key",
}
# PROTOCOL.md's configuration table: a deployment sets every one of them explicitly.
PROTOCOL_CONFIGURATION = {
    "CHARLA_HOST",
    "CHARLA_PORT",
    "CHARLA_DATA_DIR",
    "CHARLA_DATABASE_URL",
    "CHARLA_REDIS_URL",
    "CHARLA_ADMIN_TOKEN",
    "CHARLA_SECRET_KEY",
    "CHARLA_DATA_KEY",
}
PING_INTERVAL_S, PING_TIMEOUT_S = 20, 20  # console/app.py's AsyncServer


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if name in env and env[name] != "":
            return env[name]
        if op == ":?":
            raise AssertionError(f"{name} is required: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def environment(service: dict[str, Any], env: dict[str, str] = OPERATOR_ENV) -> dict[str, str]:
    raw = service.get("environment") or {}
    assert isinstance(raw, dict), "environment is written as a mapping"
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def cli_accepts(command: str) -> bool:
    """Does `charla <command>` exist? (argparse exits 0 for --help, 2 for an unknown one)"""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        pytest.raises(SystemExit) as exited,
    ):
        main([command, "--help"])
    return exited.value.code == 0


def test_the_deployment_has_its_services(services: dict[str, Any]) -> None:
    assert {"redis", "postgres", "migrate", *HUBS, "worker", "lb"} == set(services)


def test_images_are_pinned_and_charla_is_built_from_this_repository(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        image = service["image"]
        assert re.fullmatch(r"[a-z0-9./-]+:[A-Za-z0-9._-]+", image), (name, image)
        assert not image.endswith(":latest"), name
    assert {"charla:0.1.0"} == {services[name]["image"] for name in CHARLA}
    assert {"."} == {services[name]["build"] for name in CHARLA}
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["charla", "serve"]' in dockerfile
    # the dependencies are a layer of their own, installed from the runtime lock (with its
    # hashes) before any code
    deps = dockerfile.index("pip install --no-cache-dir --require-hashes -r /tmp/runtime.lock")
    assert dockerfile.index("COPY requirements/runtime.lock") < deps
    assert deps < dockerfile.index("COPY pyproject.toml") < dockerfile.index("COPY console")
    assert dockerfile.index("COPY console") < dockerfile.index(
        "pip install --no-cache-dir --no-deps ."
    )
    healthcheck = re.search(r"^HEALTHCHECK .*?(?<!\\)$", dockerfile, re.M | re.S)
    assert healthcheck is not None
    assert "/livez" in healthcheck.group(0)
    assert 'charla = "console.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_charla_services_run_real_subcommands(services: dict[str, Any]) -> None:
    commands = {name: services[name]["command"] for name in CHARLA}
    assert {
        "migrate": ["charla", "migrate"],
        "hub-1": ["charla", "serve"],
        "hub-2": ["charla", "serve"],
        "worker": ["charla", "worker"],
    } == commands
    assert cli_accepts("serve")
    assert cli_accepts("migrate")
    assert cli_accepts("worker")
    assert not cli_accepts("no-such-command")


def test_the_outbox_runs_in_the_worker_not_in_every_hub(services: dict[str, Any]) -> None:
    for name in HUBS:
        assert Settings.from_env(environment(services[name])).outbox.in_process is False
    smtp = Settings.from_env(
        environment(
            services["worker"], {**OPERATOR_ENV, "CHARLA_SMTP_HOST": "smtp.provider.example"}
        )
    )
    assert ("smtp.provider.example", 587) == (smtp.smtp.host, smtp.smtp.port)


def test_every_variable_is_one_that_charla_reads_and_settings_accept_them(
    services: dict[str, Any],
) -> None:
    read = set(re.findall(r'"(CHARLA_[A-Z_]+)"', (ROOT / "console/settings.py").read_text()))
    for name in CHARLA:
        env = environment(services[name])
        assert set(env) <= read, (name, set(env) - read)
        settings = Settings.from_env(env)
        assert "redis" == settings.resolved_fanout
        assert settings.admin_token == OPERATOR_ENV["CHARLA_ADMIN_TOKEN"]
        assert settings.secret_key == OPERATOR_ENV["CHARLA_SECRET_KEY"]
        assert settings.data_key == OPERATOR_ENV["CHARLA_DATA_KEY"]
    hub_env = environment(services["hub-1"])
    assert PROTOCOL_CONFIGURATION <= set(hub_env)
    # Replicas and the worker are one deployment: the same configuration everywhere.
    assert 1 == len({tuple(sorted(environment(services[n]).items())) for n in CHARLA})


def test_a_missing_secret_stops_compose_instead_of_starting_half_configured(
    services: dict[str, Any],
) -> None:
    for missing in OPERATOR_ENV:
        env = {k: v for k, v in OPERATOR_ENV.items() if k != missing}
        with pytest.raises(AssertionError, match=missing):
            environment(services["hub-1"], env)


def test_urls_point_at_the_redis_and_postgres_services(services: dict[str, Any]) -> None:
    settings = Settings.from_env(environment(services["hub-1"]))
    redis = urlsplit(settings.redis_url or "")
    assert ("redis", "redis", 6379) == (redis.scheme, redis.hostname, redis.port)
    command = services["redis"]["command"]
    assert str(redis.port) == command[command.index("--port") + 1]
    assert [f"{redis.port}"] == services["redis"]["expose"]

    database = urlsplit(settings.resolved_database_url)
    pg = environment(services["postgres"])
    assert ("postgresql+asyncpg", "postgres", 5432) == (
        database.scheme,
        database.hostname,
        database.port,
    )
    assert (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"]) == (
        database.username,
        database.password,
        database.path.lstrip("/"),
    )
    assert ["5432"] == services["postgres"]["expose"]


def test_postgres_takes_every_connection_the_charla_processes_may_open(
    services: dict[str, Any],
) -> None:
    command = services["postgres"]["command"]
    assert "postgres" == command[0]
    settings = dict(arg.split("=", 1) for arg in command[2::2])
    assert command[1::2] == ["-c"] * len(settings), command
    reserved = 3  # superuser_reserved_connections: an operator's psql still gets in
    assert len(CHARLA) * POOL_SIZE + reserved <= int(settings["max_connections"])


def test_dependencies_exist_and_wait_for_health(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
            else:
                assert "service_completed_successfully" == rule["condition"]
                assert "no" == services[dependency]["restart"]
    for name in (*HUBS, "worker"):
        assert {
            "redis": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        } == services[name]["depends_on"]
    assert set(HUBS) == set(services["lb"]["depends_on"])


def test_hub_healthchecks_ask_readyz_on_the_port_they_listen_on(
    services: dict[str, Any],
) -> None:
    for name in HUBS:
        settings = Settings.from_env(environment(services[name]))
        assert [str(settings.port), str(settings.metrics_port)] == services[name]["expose"]
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{settings.port}/readyz" in probe
    # the worker serves no API: alive on its metrics port; migrate runs once
    worker = Settings.from_env(environment(services["worker"]))
    assert [str(worker.metrics_port)] == services["worker"]["expose"]
    probe = " ".join(services["worker"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{worker.metrics_port}/livez" in probe
    assert {"disable": True} == services["migrate"]["healthcheck"]


def test_hubs_and_the_balancer_may_hold_ten_thousand_sockets(services: dict[str, Any]) -> None:
    for name in (*HUBS, "lb"):
        nofile = services[name]["ulimits"]["nofile"]
        assert min(nofile["soft"], nofile["hard"]) >= 2 * 10_000 + 1024, name
    conf = (ROOT / "deploy/nginx.conf").read_text()
    rlimit = re.search(r"^worker_rlimit_nofile (\d+);", conf, re.M)
    assert rlimit is not None
    assert int(rlimit.group(1)) <= services["lb"]["ulimits"]["nofile"]["soft"]


def test_metrics_stay_on_the_internal_network(services: dict[str, Any]) -> None:
    port = Settings.from_env(environment(services["hub-1"])).metrics_port
    assert port is not None
    assert port != Settings.from_env(environment(services["hub-1"])).port
    published = " ".join(services["lb"]["ports"])
    assert str(port) not in published
    for name, service in services.items():
        assert "ports" not in service or name == "lb", name
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", conf)


def test_nginx_looks_hubs_up_again_and_compresses_bundles(services: dict[str, Any]) -> None:
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"^\s*resolver 127\.0\.0\.11 valid=\d+s", conf, re.M), "Docker's DNS"
    upstream = re.search(r"upstream charla \{(.*?)\}", conf, re.S)
    assert upstream is not None
    assert re.search(r"^\s*zone charla \w+;", upstream.group(1), re.M)
    servers = re.findall(r"^\s*server\s+\S+(.*);", upstream.group(1), re.M)
    assert servers
    assert all(" resolve" in options for options in servers)
    version = re.search(r"nginx:(\d+)\.(\d+)", services["lb"]["image"])
    assert version is not None
    assert (int(version.group(1)), int(version.group(2))) >= (1, 28)  # `resolve`: 1.27.3
    assert re.search(r"^\s*gzip on;", conf, re.M)
    types = re.search(r"^\s*gzip_types (.*);", conf, re.M)
    assert types is not None
    assert {"application/javascript", "text/css", "application/json"} <= set(types.group(1).split())


def test_the_tls_overlay_serves_the_same_locations_with_mounted_certificates() -> None:
    overlay = yaml.safe_load((ROOT / "compose.tls.yaml").read_text())
    lb = overlay["services"]["lb"]
    assert ["8443:443"] == lb["ports"]
    mounts = [v.split(":") for v in lb["volumes"]]
    conf = (ROOT / "deploy/nginx.conf").read_text()
    include = re.search(r"^\s*include (/etc/nginx/charla\.d)/\*\.conf;", conf, re.M)
    assert include is not None
    [tls_conf] = [m for m in mounts if m[0] == "./deploy/nginx-tls.conf"]
    assert tls_conf[1].startswith(include.group(1) + "/")
    assert tls_conf[1].endswith(".conf")
    [certs] = [m for m in mounts if m[0].startswith("${CHARLA_TLS_DIR")]
    assert ("/etc/nginx/tls", "ro") == (certs[-2], certs[-1])
    tls = (ROOT / "deploy/nginx-tls.conf").read_text()
    assert "listen 443 ssl;" in tls
    assert "ssl_certificate /etc/nginx/tls/fullchain.pem;" in tls
    assert "ssl_certificate_key /etc/nginx/tls/privkey.pem;" in tls

    def locations(text: str) -> list[str]:
        blocks = re.findall(r"(location [^{]+\{.*?\})", text, re.S)
        return [re.sub(r"\s+", " ", b) for b in blocks]

    assert locations(conf) == locations(tls)
    assert tls.count("{") == tls.count("}")


def test_the_load_balancer_proxies_websockets_to_every_hub(services: dict[str, Any]) -> None:
    lb = services["lb"]
    mount = lb["volumes"][0]
    source, target, mode = mount.split(":")
    assert ("/etc/nginx/nginx.conf", "ro") == (target, mode)
    conf = (ROOT / source).read_text()

    upstream = re.search(r"upstream charla \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = set(re.findall(r"^\s*server\s+([\w.-]+:\d+)", upstream.group(1), re.M))
    expected = {f"{name}:{Settings.from_env(environment(services[name])).port}" for name in HUBS}
    assert expected == servers
    assert re.search(r"^\s*ip_hash;", upstream.group(1), re.M), "long-polling needs stickiness"

    listen = re.search(r"listen\s+(\d+);", conf)
    assert listen is not None
    assert [f"8080:{listen.group(1)}"] == lb["ports"]
    assert f"http://127.0.0.1:{listen.group(1)}/readyz" in " ".join(lb["healthcheck"]["test"])

    sockets = re.search(r"location /socket\.io/ \{(.*?)\}", conf, re.S)
    assert sockets is not None
    block = sockets.group(1)
    assert "proxy_pass http://charla;" in block
    assert "proxy_http_version 1.1;" in block
    assert "proxy_set_header Upgrade $http_upgrade;" in block
    assert "proxy_set_header Connection $connection_upgrade;" in block
    timeout = re.search(r"proxy_read_timeout (\d+)s;", block)
    assert timeout is not None
    assert int(timeout.group(1)) > PING_INTERVAL_S + PING_TIMEOUT_S
    assert conf.count("{") == conf.count("}")


def test_a_file_up_to_the_hubs_limit_passes_the_balancer_as_it_streams() -> None:
    """Every body but an attachment's keeps the balancer's 64k; an attachment's may be as
    large as the hub's limit with its form (the hub refuses more while reading it)."""
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"^\s*client_max_body_size 64k;", conf, re.M)
    found = re.search(r"location ~ (\S+) \{(.*?)\}", conf, re.S)
    assert found is not None
    assert re.fullmatch(found.group(1), "/api/chats/c-1/attachments")
    assert not re.fullmatch(found.group(1), "/api/chats/c-1")
    body = found.group(2)
    size = re.search(r"client_max_body_size (\d+)m;", body)
    assert size is not None
    assert int(size.group(1)) * 1024 * 1024 >= Files().max_bytes + MULTIPART_SLACK
    assert re.search(r"^\s*proxy_request_buffering off;", body, re.M)
    assert re.search(r"^\s*proxy_pass http://charla;", body, re.M)
