"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

import asyncio

import socketio
from aiohttp import web
from redis.asyncio import Redis

from console.domain.clock import Clock
from console.hub import Hub
from console.realtime.namespaces import Gate
from console.realtime.ratelimit import Buckets
from console.runtime.embedded_redis import EmbeddedRedis
from console.runtime.metrics import Metrics
from console.security.passwords import PasswordHasher
from console.security.tokens import TokenSigner
from console.settings import Settings
from console.store.repository import Store

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", Metrics)
SIO = web.AppKey("sio", socketio.AsyncServer)
REDIS = web.AppKey("redis", Redis)
STORE = web.AppKey("store", Store)
HUB = web.AppKey("hub", Hub)
SIGNER = web.AppKey("signer", TokenSigner)
PASSWORDS = web.AppKey("passwords", PasswordHasher)
LOGIN_LIMITS = web.AppKey("login_limits", Buckets)
ORIGINS = web.AppKey("origins", set[str])
# Serialises origin refreshes: a slow periodic read must not overwrite a newer one
ORIGINS_LOCK = web.AppKey("origins_lock", asyncio.Lock)
BACKGROUND = web.AppKey("background", list[asyncio.Task[None]])
GATE = web.AppKey("gate", Gate)
EMBEDDED_REDIS = web.AppKey("embedded_redis", EmbeddedRedis)
