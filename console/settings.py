"""Configuration from the environment, read once at start-up into an immutable value."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from integrations.adf.config import Smtp

N = TypeVar("N", int, float)


class ConfigError(ValueError):
    """A configuration value is unusable; the message names the variable and the fix."""


def _number(
    env: Mapping[str, str], name: str, default: N, parse: Callable[[str], N], kind: str
) -> N:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = _number(env, name, default, int, "a whole number")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default, float, "a number")
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = (env.get(name) or "").strip().lower()
    if raw and raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Limits:
    """Protocol limits: what one chat needs, and no more (text length: realtime/schemas)."""

    max_http_buffer_bytes: int = 64 * 1024  # an HTTP request body
    # One Engine.IO packet (a WebSocket frame, a long-polling POST): the hard cap past which
    # the connection closes. Below it a payload too big for its event gets an error ack.
    max_frame_bytes: int = 1024 * 1024
    visitor_events_per_s: float = 5.0
    visitor_burst: int = 20
    agent_events_per_s: float = 20.0
    agent_burst: int = 60
    typing_min_interval_s: float = 0.3
    # files sent into chats (PROTOCOL 1.2), a minute each, all at once at most: each is up to
    # CHARLA_ATTACHMENT_MAX_BYTES of the provider's storage
    visitor_uploads_per_minute: int = 10
    agent_uploads_per_minute: int = 60
    # per tenant and client address (CHARLA_TRUSTED_PROXIES), whatever visitor ids it
    # makes up: chats that would fill the agents' queue, and files the provider's storage
    address_chat_starts_per_minute: int = 10
    address_uploads_per_minute: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        """The event budgets can be changed per deployment (a provider's own widget that
        polls more, or a load test measuring the hub rather than the protocol's limit)."""
        limits = cls(
            visitor_events_per_s=_float(env, "CHARLA_VISITOR_EVENTS_PER_S", 5.0),
            visitor_burst=_int(env, "CHARLA_VISITOR_BURST", 20, minimum=1),
            agent_events_per_s=_float(env, "CHARLA_AGENT_EVENTS_PER_S", 20.0),
            agent_burst=_int(env, "CHARLA_AGENT_BURST", 60, minimum=1),
            visitor_uploads_per_minute=_int(
                env, "CHARLA_VISITOR_UPLOADS_PER_MINUTE", cls.visitor_uploads_per_minute, minimum=1
            ),
            agent_uploads_per_minute=_int(
                env, "CHARLA_AGENT_UPLOADS_PER_MINUTE", cls.agent_uploads_per_minute, minimum=1
            ),
            address_chat_starts_per_minute=_int(
                env,
                "CHARLA_ADDRESS_CHAT_STARTS_PER_MINUTE",
                cls.address_chat_starts_per_minute,
                minimum=1,
            ),
            address_uploads_per_minute=_int(
                env, "CHARLA_ADDRESS_UPLOADS_PER_MINUTE", cls.address_uploads_per_minute, minimum=1
            ),
        )
        for name, rate in (
            ("CHARLA_VISITOR_EVENTS_PER_S", limits.visitor_events_per_s),
            ("CHARLA_AGENT_EVENTS_PER_S", limits.agent_events_per_s),
        ):
            if rate <= 0:
                raise ConfigError(f"{name} must be more than 0 (events per second), got {rate}")
        return limits


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def smtp_from_env(env: Mapping[str, str]) -> Smtp:
    """The provider's SMTP relay (CHARLA_SMTP_*), through which ADF lead e-mails leave."""
    return Smtp(
        host=env.get("CHARLA_SMTP_HOST") or None,
        port=_int(env, "CHARLA_SMTP_PORT", 587, minimum=1),
        user=env.get("CHARLA_SMTP_USER") or None,
        password=env.get("CHARLA_SMTP_PASSWORD") or None,
        sender=env.get("CHARLA_SMTP_FROM") or "leads@charla.invalid",
        starttls=_bool(env, "CHARLA_SMTP_STARTTLS", True),
        pickup_dir=env.get("CHARLA_SMTP_PICKUP_DIR") or None,
    )


@dataclass(frozen=True)
class Outbox:
    """The delivery worker: leases, retries (exponential backoff with jitter, capped)."""

    in_process: bool = True
    lease_s: float = 120.0
    delivery_timeout_s: float = 60.0
    max_attempts: int = 8
    backoff_s: float = 5.0
    backoff_cap_s: float = 900.0
    poll_s: float = 2.0
    concurrency: int = 8
    # the least wait after a destination's rate limit (Salesforce: a 24-hour window)
    throttle_pause_s: float = 300.0
    # deliver to loopback/private addresses (on-premises CRMs, tests); off: SSRF guard
    allow_private: bool = False
    # where dealers' staff reach Charla (CHARLA_PUBLIC_URL): a CRM transcript links files there
    public_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Outbox:
        lease_s = _float(env, "CHARLA_OUTBOX_LEASE_S", 120.0)
        poll_s = _float(env, "CHARLA_OUTBOX_POLL_S", 2.0)
        if lease_s < 2:
            raise ConfigError(f"CHARLA_OUTBOX_LEASE_S must be at least 2 (seconds), got {lease_s}")
        if poll_s < 0.05:
            raise ConfigError(f"CHARLA_OUTBOX_POLL_S must be at least 0.05, got {poll_s}")
        return cls(
            in_process=_bool(env, "CHARLA_OUTBOX_WORKER", True),
            lease_s=lease_s,
            # a delivery must end before its lease does, or another worker could start it
            delivery_timeout_s=min(60.0, lease_s / 2),
            max_attempts=_int(env, "CHARLA_OUTBOX_MAX_ATTEMPTS", 8, minimum=1),
            backoff_s=_float(env, "CHARLA_OUTBOX_BACKOFF_S", 5.0),
            backoff_cap_s=_float(env, "CHARLA_OUTBOX_BACKOFF_CAP_S", 900.0),
            poll_s=poll_s,
            allow_private=_bool(env, "CHARLA_OUTBOX_ALLOW_PRIVATE", False),
            throttle_pause_s=_float(env, "CHARLA_OUTBOX_THROTTLE_PAUSE_S", 300.0),
            public_url=(env.get("CHARLA_PUBLIC_URL") or "").strip().rstrip("/"),
        )


def _host_port(item: str, name: str) -> tuple[str, int]:
    host, _, port = item.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{name} must be host:port pairs separated by commas, got {item!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class RedisSentinel:
    """Redis behind Sentinel: every Redis client Charla opens asks the sentinels for the
    service's primary, and follows it through a failover (console/runtime/redis_client.py)."""

    sentinels: tuple[tuple[str, int], ...]
    service: str = "charla"
    password: str | None = field(default=None, repr=False)  # the sentinels' own, if any

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedisSentinel | None:
        raw = (env.get("CHARLA_REDIS_SENTINELS") or "").strip()
        if not raw:
            return None
        name = "CHARLA_REDIS_SENTINELS"
        return cls(
            sentinels=tuple(_host_port(item, name) for item in raw.split(",") if item.strip()),
            service=env.get("CHARLA_REDIS_SENTINEL_SERVICE") or "charla",
            password=env.get("CHARLA_REDIS_SENTINEL_PASSWORD") or None,
        )


@dataclass(frozen=True)
class Database:
    """The SQL connection pool of each process, and PgBouncer's transaction pooling."""

    pool_size: int = 30  # connections per process, at most (docs/deploy.md sizes for it)
    pool_timeout_s: float = 30.0  # how long a caller waits for a free one
    # PgBouncer in transaction pooling: asyncpg's prepared statement caches off
    pgbouncer: bool = False
    # connections opened at start with the hot statements readied on each (store/hot.py)
    pool_warm: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Database:
        return cls(
            pool_size=_int(env, "CHARLA_DB_POOL_SIZE", 30, minimum=1),
            pool_timeout_s=_float(env, "CHARLA_DB_POOL_TIMEOUT_S", 30.0),
            pgbouncer=_bool(env, "CHARLA_DB_PGBOUNCER", False),
            pool_warm=_int(env, "CHARLA_DB_POOL_WARM", 10, minimum=0),
        )


ROLES = ("agent", "supervisor", "admin")


def _roles(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    roles = tuple(dict.fromkeys(r.strip().lower() for r in raw.split(",") if r.strip()))
    for role in roles:
        if role not in ROLES:
            raise ConfigError(f"{name} lists roles among {', '.join(ROLES)}; got {role!r}")
    return roles


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """CIDR blocks or addresses, comma-separated (checked where they are used)."""
    found = []
    for part in (env.get(name) or "").split(","):
        if part.strip():
            try:
                found.append(str(ipaddress.ip_network(part.strip(), strict=False)))
            except ValueError:
                raise ConfigError(
                    f"{name} lists addresses or CIDR blocks like 10.0.0.0/8; got {part!r}"
                ) from None
    return tuple(found)


@dataclass(frozen=True)
class Issuer:
    """The provider as its invoices name it (CHARLA_BILLING_NAME, _ADDRESS, _TAX_ID, _EMAIL)."""

    name: str = "Charla Chat Services LLC"
    address: str = "San Juan, Puerto Rico"
    tax_id: str = ""  # número de registro de comerciante (Hacienda)
    email: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Issuer:
        return cls(
            name=env.get("CHARLA_BILLING_NAME") or cls.name,
            address=env.get("CHARLA_BILLING_ADDRESS") or cls.address,
            tax_id=env.get("CHARLA_BILLING_TAX_ID") or "",
            email=env.get("CHARLA_BILLING_EMAIL") or "",
        )


@dataclass(frozen=True)
class Files:
    """Attachments (PROTOCOL 1.2): the size limit and where files are kept (console/files/)."""

    max_bytes: int = 10 * 1024 * 1024
    # unset: the data dir, encrypted with the data key; "s3://bucket/prefix": an object store
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Files:
        url = (env.get("CHARLA_STORAGE_URL") or "").strip() or None
        if url is not None and not (url.startswith("s3://") and len(url) > len("s3://")):
            raise ConfigError(
                f"CHARLA_STORAGE_URL must be s3://bucket or s3://bucket/prefix, got {url!r}; "
                "unset it to keep files in the data dir"
            )
        return cls(
            max_bytes=_int(env, "CHARLA_ATTACHMENT_MAX_BYTES", cls.max_bytes, minimum=1),
            storage_url=url,
            s3_endpoint_url=env.get("CHARLA_S3_ENDPOINT_URL") or None,
            s3_region=env.get("CHARLA_S3_REGION") or None,
            s3_access_key_id=env.get("CHARLA_S3_ACCESS_KEY_ID") or None,
            s3_secret_access_key=env.get("CHARLA_S3_SECRET_ACCESS_KEY") or None,
        )


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    redis_password: str | None = field(default=None, repr=False)
    redis_sentinel: RedisSentinel | None = None
    admin_token: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    data_key: str | None = field(default=None, repr=False)
    token_ttl_s: int = 12 * 3600
    agent_grace_s: float = 60.0
    visitor_grace_s: float = 60.0
    sweep_interval_s: float = 1.0
    reconcile_interval_s: float = 30.0
    default_handle_time_s: float = 240.0
    fanout: str = (
        ""  # "redis" | "local"; empty: redis when redis_url is set (console/realtime/fanout.py)
    )
    event_loop: str = ""  # "uvloop" | "asyncio"; empty: uvloop where it is installed
    heartbeat_s: float = 5.0
    # after SIGTERM, how long /readyz answers 503 while the hub still serves, before it drains
    drain_delay_s: float = 0.0
    # "charla": engine.py's WebSocket loop; "stock": python-engineio's own (slower, same wire)
    socketio_engine: str = "charla"
    database: Database = field(default_factory=Database)
    log_level: str = "info"
    log_json: bool = True
    limits: Limits = field(default_factory=Limits)
    smtp: Smtp = field(default_factory=Smtp)
    outbox: Outbox = field(default_factory=Outbox)
    # roles that must log in with a second factor (a tenant may add more)
    mfa_roles: tuple[str, ...] = ("admin", "supervisor")
    # proxies whose X-Forwarded-For is believed (the load balancer of compose.yaml)
    trusted_proxies: tuple[str, ...] = ()
    # how often a hub checks whether a tenant's daily retention purge is due
    purge_check_s: float = 3600.0
    # /metrics on a port of its own (internal network only); None: on `port`, as before
    metrics_port: int | None = None
    # the provider's details printed on invoices
    issuer: Issuer = field(default_factory=Issuer)
    files: Files = field(default_factory=Files)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            host=env.get("CHARLA_HOST") or "127.0.0.1",
            port=_int(env, "CHARLA_PORT", 8080),
            data_dir=Path(env.get("CHARLA_DATA_DIR") or "./var"),
            database_url=env.get("CHARLA_DATABASE_URL") or None,
            redis_url=env.get("CHARLA_REDIS_URL") or None,
            redis_password=env.get("CHARLA_REDIS_PASSWORD") or None,
            redis_sentinel=RedisSentinel.from_env(env),
            admin_token=env.get("CHARLA_ADMIN_TOKEN") or None,
            secret_key=env.get("CHARLA_SECRET_KEY") or None,
            data_key=env.get("CHARLA_DATA_KEY") or None,
            token_ttl_s=_int(env, "CHARLA_TOKEN_TTL_S", 12 * 3600, minimum=60),
            agent_grace_s=_float(env, "CHARLA_AGENT_GRACE_S", 60.0),
            visitor_grace_s=_float(env, "CHARLA_VISITOR_GRACE_S", 60.0),
            fanout=_choice(env, "CHARLA_FANOUT", ("redis", "local")),
            event_loop=_choice(env, "CHARLA_EVENT_LOOP", ("uvloop", "asyncio")),
            heartbeat_s=_float(env, "CHARLA_HEARTBEAT_S", 5.0),
            drain_delay_s=_float(env, "CHARLA_DRAIN_DELAY_S", 0.0),
            socketio_engine=_choice(env, "CHARLA_SOCKETIO_ENGINE", ("charla", "stock")) or "charla",
            database=Database.from_env(env),
            log_level=(env.get("CHARLA_LOG_LEVEL") or "info").lower(),
            log_json=(env.get("CHARLA_LOG_FORMAT") or "json").lower() != "console",
            limits=Limits.from_env(env),
            smtp=smtp_from_env(env),
            outbox=Outbox.from_env(env),
            mfa_roles=_roles(env, "CHARLA_MFA_ROLES", ("admin", "supervisor")),
            trusted_proxies=_networks(env, "CHARLA_TRUSTED_PROXIES"),
            metrics_port=_int(env, "CHARLA_METRICS_PORT", 0) or None,
            issuer=Issuer.from_env(env),
            files=Files.from_env(env),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def resolved_fanout(self) -> str:
        """Socket.IO fan-out across processes: through Redis when Redis is shared (an
        external CHARLA_REDIS_URL), in-process otherwise (the embedded Redis is private)."""
        if self.fanout:
            return self.fanout
        return "redis" if self.external_redis else "local"

    @property
    def external_redis(self) -> bool:
        """A Redis the deployment runs (by URL or through Sentinel), not the embedded one."""
        return self.redis_url is not None or self.redis_sentinel is not None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'charla.sqlite3').resolve()}"
