"""A protocol-level fake Salesforce: an aiohttp server over TLS on a random loopback port.

It implements what Charla calls: the OAuth 2.0 token endpoint (client credentials), SOQL
queries (a small, real parser: SELECT fields FROM object WHERE field = literal joined by
AND/OR with parentheses, ORDER BY, LIMIT), sObject create (POST) and update (PATCH) for Lead
and Task. Bodies, status codes and error bodies are Salesforce's own (REST API reference,
"Status Codes and Error Responses"; DuplicateResult/MatchResult for duplicate rules).

Failures on demand: `fail_next(kind, ...)` makes the next matching request fail as
Salesforce would ("expired_session", "rate_limit", "unavailable", "duplicates", "slow"),
and `hold_next_create(sobject)` stores the record, then holds the answer until released (to
kill a client while its request is in flight).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.fakes.tls import TestCertificates, make_certificates

API_PREFIX = "/services/data/v"
ORG_ID = "00D5e000000Fake"
USER_ID = "0055e000000Fake"
KEY_PREFIX = {"Lead": "00Q", "Task": "00T"}
STANDARD_FIELDS = {
    "Lead": {
        "Id",
        "FirstName",
        "LastName",
        "Company",
        "Email",
        "Phone",
        "LeadSource",
        "Description",
        "Status",
        "IsConverted",
        "CreatedDate",
        "LastModifiedDate",
    },
    "Task": {
        "Id",
        "WhoId",
        "Subject",
        "Status",
        "Priority",
        "ActivityDate",
        "Description",
        "CreatedDate",
        "LastModifiedDate",
    },
}
DEFAULTS = {"Lead": {"Status": "Open - Not Contacted", "IsConverted": False}, "Task": {}}


def error(status: int, code: str, message: str, fields: list[str] | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return web.json_response([body], status=status)


# -- SOQL -------------------------------------------------------------------------------


class SoqlError(ValueError):
    pass


TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:\\.|[^'\\])*')|(?P<punct>[(),=])|(?P<word>[A-Za-z0-9_.]+))"
)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def tokenize(soql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    soql = soql.strip()
    while position < len(soql):
        match = TOKEN.match(soql, position)
        if not match or match.end() == position:
            raise SoqlError(f"unexpected token at: {soql[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def unquote(literal: str) -> str:
    out = []
    chars = iter(literal[1:-1])
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            if nxt not in ESCAPES:
                raise SoqlError(f"invalid escape sequence \\{nxt}")
            out.append(ESCAPES[nxt])
        else:
            out.append(char)
    return "".join(out)


@dataclass
class Query:
    fields: list[str]
    sobject: str
    where: Any = None
    order_by: tuple[str, bool] | None = None
    limit: int | None = None


class Parser:
    def __init__(self, soql: str) -> None:
        self.tokens = tokenize(soql)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() == word:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise SoqlError(f"expected {value or kind}, found {token[1] if token else 'end'}")
        self.i += 1
        return token[1]

    def parse(self) -> Query:
        if not self.keyword("SELECT"):
            raise SoqlError("a query starts with SELECT")
        fields = [self.expect("word")]
        while self.peek() == ("punct", ","):
            self.i += 1
            fields.append(self.expect("word"))
        if not self.keyword("FROM"):
            raise SoqlError("expected FROM")
        query = Query(fields=fields, sobject=self.expect("word"))
        if self.keyword("WHERE"):
            query.where = self.expression()
        if self.keyword("ORDER"):
            if not self.keyword("BY"):
                raise SoqlError("expected BY after ORDER")
            name = self.expect("word")
            descending = self.keyword("DESC")
            if not descending:
                self.keyword("ASC")
            query.order_by = (name, descending)
        if self.keyword("LIMIT"):
            query.limit = int(self.expect("word"))
        extra = self.peek()
        if extra is not None:
            raise SoqlError(f"unexpected {extra[1]!r}")
        return query

    def expression(self) -> Any:
        node = self.term()
        while self.keyword("OR"):
            node = ("or", node, self.term())
        return node

    def term(self) -> Any:
        node = self.factor()
        while self.keyword("AND"):
            node = ("and", node, self.factor())
        return node

    def factor(self) -> Any:
        if self.peek() == ("punct", "("):
            self.i += 1
            node = self.expression()
            self.expect("punct", ")")
            return node
        name = self.expect("word")
        self.expect("punct", "=")
        token = self.peek()
        if token is None:
            raise SoqlError("expected a value")
        self.i += 1
        if token[0] == "string":
            return ("eq", name, unquote(token[1]))
        lowered = token[1].lower()
        if lowered in ("true", "false"):
            return ("eq", name, lowered == "true")
        if lowered == "null":
            return ("eq", name, None)
        raise SoqlError(f"unquoted value {token[1]!r}")


def matches(node: Any, record: dict[str, Any]) -> bool:
    if node is None:
        return True
    op = node[0]
    if op == "or":
        return matches(node[1], record) or matches(node[2], record)
    if op == "and":
        return matches(node[1], record) and matches(node[2], record)
    value = record.get(node[1])
    if isinstance(value, str) and isinstance(node[2], str):
        return value.lower() == node[2].lower()  # SOQL's = is case-insensitive on text
    return bool(value == node[2])


def where_fields(node: Any) -> list[str]:
    if node is None:
        return []
    if node[0] == "eq":
        return [node[1]]
    return where_fields(node[1]) + where_fields(node[2])


# -- the server -------------------------------------------------------------------------


@dataclass
class Hold:
    sobject: str
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeSalesforce:
    certificates: TestCertificates
    client_id: str = "3MVG9-charla-test-client"
    client_secret: str = "fake-salesforce-client-secret-1234"
    custom_fields: dict[str, set[str]] = field(default_factory=lambda: {"Lead": set()})
    # An org's admin can make (custom) fields required: add them here
    required: dict[str, list[str]] = field(
        default_factory=lambda: {"Lead": ["LastName", "Company"], "Task": []}
    )
    base_url: str = ""
    records: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"Lead": {}, "Task": {}}
    )
    tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    token_requests: int = 0
    failures: list[tuple[str, str | None, Any]] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    every_hold: list[Hold] = field(default_factory=list)
    # time.perf_counter() when each record was created, for latency measurements
    created_at: dict[str, float] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # -- what tests look at ----------------------------------------------------------

    @property
    def leads(self) -> list[dict[str, Any]]:
        return list(self.records["Lead"].values())

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return list(self.records["Task"].values())

    def fail_next(self, kind: str, *, on: str | None = None, detail: Any = None) -> None:
        """The next request matching `on` ("query", "create:Lead", "update:Lead", "token",
        None for any API call) fails as `kind`."""
        self.failures.append((kind, on, detail))

    def hold_next_create(self, sobject: str) -> Hold:
        hold = Hold(sobject)
        self.holds.append(hold)
        self.every_hold.append(hold)
        return hold

    def expire_sessions(self) -> None:
        self.tokens.clear()

    async def wait_for(self, sobject: str, count: int = 1, timeout_s: float = 10) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(self.records[sobject]) < count:
            if loop.time() > deadline:
                raise AssertionError(
                    f"{len(self.records[sobject])} {sobject} records after {timeout_s}s, "
                    f"wanted {count}; requests: {self.requests[-10:]}"
                )
            await asyncio.sleep(0.02)

    # -- plumbing ------------------------------------------------------------------------

    def _new_id(self, sobject: str) -> str:
        return f"{KEY_PREFIX[sobject]}5e{next(self._ids):013d}"

    def _take_failure(self, operation: str) -> tuple[str, Any] | None:
        for index, (kind, on, detail) in enumerate(self.failures):
            if (on is None and operation != "token") or on == operation:
                del self.failures[index]
                return kind, detail
        return None

    async def _injected(self, operation: str) -> web.Response | None:
        failure = self._take_failure(operation)
        if failure is None:
            return None
        kind, detail = failure
        if kind == "expired_session":
            self.tokens.clear()
            return None  # the auth check below answers INVALID_SESSION_ID
        if kind == "rate_limit":
            return error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if kind == "unavailable":
            return error(
                503,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable: maintenance in progress.",
            )
        if kind == "slow":
            await asyncio.sleep(float(detail or 5))
            return None
        if kind == "duplicates":
            return self._duplicates(str(detail))
        raise AssertionError(f"unknown failure kind {kind}")

    def _duplicates(self, record_id: str) -> web.Response:
        message = (
            "You're creating a duplicate record. We recommend you use an existing record instead."
        )
        body = [
            {
                "duplicateResult": {
                    "allowSave": False,
                    "duplicateRule": "Standard_Lead_Duplicate_Rule",
                    "duplicateRuleEntityType": "Lead",
                    "errorMessage": message,
                    "matchResults": [
                        {
                            "entityType": "Lead",
                            "errors": [],
                            "matchEngine": "FuzzyMatchEngine",
                            "matchRecords": [
                                {
                                    "additionalInformation": [],
                                    "fieldDiffs": [],
                                    "matchConfidence": 100.0,
                                    "record": {
                                        "attributes": {
                                            "type": "Lead",
                                            "url": f"{self._api()}/sobjects/Lead/{record_id}",
                                        },
                                        "Id": record_id,
                                    },
                                }
                            ],
                            "rule": "Standard_Lead_Match_Rule_v1_0",
                            "size": 1,
                            "success": True,
                        }
                    ],
                },
                "errorCode": "DUPLICATES_DETECTED",
                "message": message,
            }
        ]
        return web.json_response(body, status=400)

    def _api(self, version: str = "59.0") -> str:
        return f"{API_PREFIX}{version}"

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _fields(self, sobject: str) -> set[str]:
        return STANDARD_FIELDS[sobject] | self.custom_fields.get(sobject, set())

    # -- handlers ------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", "token"))
        self.token_requests += 1
        form = await request.post()
        injected = await self._injected("token")
        if injected is not None:
            return injected
        if form.get("grant_type") != "client_credentials":
            return web.json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                status=400,
            )
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status=400,
            )
        access_token = f"{ORG_ID}!AQ{secrets.token_urlsafe(24)}"
        self.tokens.add(access_token)
        return web.json_response(
            {
                "access_token": access_token,
                "signature": secrets.token_urlsafe(32),
                "scope": "api",
                "instance_url": self.base_url,
                "id": f"{self.base_url}/id/{ORG_ID}/{USER_ID}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            }
        )

    async def query(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "query"))
        injected = await self._injected("query")
        if injected is not None:
            return injected
        if not self._authorized(request):
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        version = request.match_info["version"]
        try:
            query = Parser(request.query.get("q", "")).parse()
        except (SoqlError, ValueError) as exc:
            return error(400, "MALFORMED_QUERY", str(exc))
        if query.sobject not in self.records:
            return error(
                400,
                "INVALID_TYPE",
                f"sObject type '{query.sobject}' is not supported.",
            )
        known = self._fields(query.sobject)
        for name in [*query.fields, *where_fields(query.where)]:
            if name not in known:
                return error(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{query.sobject}'."
                )
        found = [r for r in self.records[query.sobject].values() if matches(query.where, r)]
        if query.order_by:
            name, descending = query.order_by
            found.sort(key=lambda r: (str(r.get(name) or ""), r["Id"]), reverse=descending)
        if query.limit is not None:
            found = found[: query.limit]
        records = [
            {
                "attributes": {
                    "type": query.sobject,
                    "url": f"{self._api(version)}/sobjects/{query.sobject}/{r['Id']}",
                },
                **{name: r.get(name) for name in query.fields},
            }
            for r in found
        ]
        return web.json_response({"totalSize": len(records), "done": True, "records": records})

    async def create(self, request: web.Request) -> web.Response:
        sobject = request.match_info["sobject"]
        self.requests.append(("POST", f"create:{sobject}"))
        injected = await self._injected(f"create:{sobject}")
        if injected is not None:
            return injected
        if not self._authorized(request):
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if sobject not in self.records:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        body = await request.json()
        problem = self._check(sobject, body, creating=True)
        if problem is not None:
            return problem
        record_id = self._new_id(sobject)
        self.created_at[record_id] = time.perf_counter()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
        self.records[sobject][record_id] = {
            **DEFAULTS[sobject],
            **body,
            "Id": record_id,
            "CreatedDate": stamp,
            "LastModifiedDate": stamp,
        }
        for hold in list(self.holds):
            if hold.sobject == sobject:
                self.holds.remove(hold)
                hold.arrived.set()
                await hold.release.wait()
        return web.json_response({"id": record_id, "success": True, "errors": []}, status=201)

    async def update(self, request: web.Request) -> web.Response:
        sobject = request.match_info["sobject"]
        self.requests.append(("PATCH", f"update:{sobject}"))
        injected = await self._injected(f"update:{sobject}")
        if injected is not None:
            return injected
        if not self._authorized(request):
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        record = self.records.get(sobject, {}).get(request.match_info["record_id"])
        if record is None:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        body = await request.json()
        problem = self._check(sobject, body, creating=False)
        if problem is not None:
            return problem
        record.update(body)
        return web.Response(status=204)

    def _check(self, sobject: str, body: Any, *, creating: bool) -> web.Response | None:
        if not isinstance(body, dict):
            return error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of Lead")
        for name in body:
            if name not in self._fields(sobject) or name in ("Id", "CreatedDate", "IsConverted"):
                return error(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
                )
        if creating:
            missing = [name for name in self.required[sobject] if not body.get(name)]
        else:
            missing = [name for name in self.required[sobject] if name in body and not body[name]]
        if missing:
            return error(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        return None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/services/oauth2/token", self.token)
        app.router.add_get(r"/services/data/v{version:[0-9.]+}/query", self.query)
        app.router.add_get(r"/services/data/v{version:[0-9.]+}/query/", self.query)
        app.router.add_post(r"/services/data/v{version:[0-9.]+}/sobjects/{sobject}/", self.create)
        app.router.add_post(r"/services/data/v{version:[0-9.]+}/sobjects/{sobject}", self.create)
        app.router.add_patch(
            r"/services/data/v{version:[0-9.]+}/sobjects/{sobject}/{record_id}", self.update
        )
        return app


@asynccontextmanager
async def running_fake_salesforce(directory: Path) -> AsyncIterator[FakeSalesforce]:
    """A fake Salesforce on https://127.0.0.1:<random port>, its CA in `directory`."""
    fake = FakeSalesforce(certificates=make_certificates(directory))
    runner = web.AppRunner(fake.app(), handle_signals=False, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=fake.certificates.server_context())
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"https://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        for hold in fake.every_hold:
            hold.release.set()
        await runner.cleanup()
