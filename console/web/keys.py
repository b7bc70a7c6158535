"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from aiohttp import web
from redis.asyncio import Redis

from console.domain.clock import Clock
from console.hub import Hub
from console.realtime.namespaces import Gate
from console.runtime.embedded_redis import EmbeddedRedis
from console.runtime.metrics import Metrics
from console.runtime.shutdown import Readiness
from console.security.passwords import PasswordHasher
from console.security.tokens import TokenSigner
from console.settings import Settings
from console.store.repository import Store
from console.web.login_guard import LoginGuard

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", Metrics)
SIO = web.AppKey("sio", socketio.AsyncServer)
REDIS = web.AppKey("redis", Redis)
STORE = web.AppKey("store", Store)
HUB = web.AppKey("hub", Hub)
SIGNER = web.AppKey("signer", TokenSigner)
PASSWORDS = web.AppKey("passwords", PasswordHasher)
LOGIN_GUARD = web.AppKey("login_guard", LoginGuard)
ORIGINS = web.AppKey("origins", set[str])
# Serialises origin refreshes: a slow periodic read must not overwrite a newer one
ORIGINS_LOCK = web.AppKey("origins_lock", asyncio.Lock)
BACKGROUND = web.AppKey("background", list[asyncio.Task[None]])
GATE = web.AppKey("gate", Gate)
EMBEDDED_REDIS = web.AppKey("embedded_redis", EmbeddedRedis)
# Who makes this request, for the audit log: (their tenant or None for the provider, actor)
ACTOR = web.RequestKey("actor", tuple[str | None, str])
# Set by a handler that wrote its own audit event (the middleware then writes none)
AUDITED = web.RequestKey("audited", bool)
# A JSON body a handler streamed itself (aiohttp keeps only what `read()` read)
BODY = web.RequestKey("body", dict[str, Any])
READINESS = web.AppKey("readiness", Readiness)
