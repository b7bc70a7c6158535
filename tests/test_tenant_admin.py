"""The tenant admin API: roles, tenant isolation, plan gates, validation, and the export of a
tenant's configuration imported into another tenant."""

from __future__ import annotations

from typing import Any

from bots.script import default_script
from console.store.models import IntegrationRow, InvitationRuleRow, WebhookRow
from console.store.tenant_config import public_config
from console.web.keys import STORE
from console.web.tenant_admin import ImportIn, import_plan_needs
from tests.support.harness import PASSWORD, HubFactory, LiveHub, start_chat

HOURS = {"mon": [["09:00", "18:00"]], "sat": [["09:00", "13:00"]]}
SCRIPT = default_script().model_dump(mode="json")


def code_of(status: int, body: Any) -> tuple[int, str]:
    assert {"error"} == set(body), body
    assert "" != body["error"]["message"].strip(), body
    return status, body["error"]["code"]


async def team(hub: LiveHub, plan: str = "premium") -> dict[str, Any]:
    """A tenant with an admin, a supervisor and an agent (each logged in)."""
    tenant = await hub.tenant(plan=plan)
    return {
        "tenant": tenant,
        "admin": await hub.agent(tenant, languages=["es", "en"], role="admin"),
        "supervisor": await hub.agent(tenant, languages=["es"], role="supervisor"),
        "agent": await hub.agent(tenant, languages=["es"]),
    }


async def test_canned_responses_are_written_by_admins_and_read_by_every_agent(
    hub: LiveHub,
) -> None:
    t = await team(hub)
    body = {"shortcut": "/Hours", "text": {"es": "Abrimos de 9 a 6.", "en": "We open 9 to 6."}}
    status, created = await hub.request(
        "POST", "/api/canned-responses", token=t["admin"]["token"], json=body
    )
    assert 201 == status, created
    assert "/hours" == created["shortcut"]
    assert {"es": "Abrimos de 9 a 6.", "en": "We open 9 to 6."} == created["text"]

    status, listed = await hub.request("GET", "/api/canned-responses", token=t["agent"]["token"])
    assert 200 == status
    assert [created["id"]] == [c["id"] for c in listed["canned_responses"]]

    status, refused = await hub.request(
        "POST", "/api/canned-responses", token=t["agent"]["token"], json=body
    )
    assert (403, "forbidden") == code_of(status, refused)
    status, twice = await hub.request(
        "POST", "/api/canned-responses", token=t["admin"]["token"], json=body
    )
    assert (409, "conflict") == code_of(status, twice)

    status, _ = await hub.request(
        "DELETE", f"/api/canned-responses/{created['id']}", token=t["admin"]["token"]
    )
    assert 204 == status
    status, listed = await hub.request("GET", "/api/canned-responses", token=t["admin"]["token"])
    assert [] == listed["canned_responses"]


async def test_bad_canned_responses_get_what_to_fix(hub: LiveHub) -> None:
    t = await team(hub)
    cases = [
        ({"shortcut": "hours", "text": {"es": "x"}}, "shortcut"),
        ({"shortcut": "/hours", "text": {}}, "text"),
        ({"shortcut": "/hours", "text": {"spanish": "x"}}, "text"),
        ({"shortcut": "/hours", "text": {"es": "   "}}, "text"),
        ({"shortcut": "/hours", "text": {"es": "x" * 4001}}, "text"),
        ({"shortcut": "/hours"}, "text"),
    ]
    for body, field in cases:
        status, error = await hub.request(
            "POST", "/api/canned-responses", token=t["admin"]["token"], json=body
        )
        assert (400, "invalid_payload") == code_of(status, error), body
        assert error["error"]["message"].startswith(field), error


async def test_another_tenants_ids_are_not_found(hub: LiveHub) -> None:
    mine, theirs = await team(hub), await team(hub)
    status, canned = await hub.request(
        "POST",
        "/api/canned-responses",
        token=theirs["admin"]["token"],
        json={"shortcut": "/hi", "text": {"es": "Hola"}},
    )
    assert 201 == status
    token = mine["admin"]["token"]
    for method, path, body in [
        ("DELETE", f"/api/canned-responses/{canned['id']}", None),
        ("PATCH", f"/api/agents/{theirs['agent']['id']}", {"max_chats": 5}),
        ("DELETE", f"/api/agents/{theirs['agent']['id']}", None),
    ]:
        status, error = await hub.request(method, path, token=token, json=body)
        assert (404, "not_found") == code_of(status, error), path
    status, listed = await hub.request("GET", "/api/canned-responses", token=token)
    assert [] == listed["canned_responses"]
    status, agents = await hub.request("GET", "/api/agents", token=token)
    ids = {a["id"] for a in agents["agents"]}
    assert {mine["admin"]["id"], mine["supervisor"]["id"], mine["agent"]["id"]} == ids


async def test_admins_manage_their_team(make_hub: HubFactory, database_url: str) -> None:
    """On SQLite and on PostgreSQL."""
    hub = await make_hub(database_url=database_url)
    t = await team(hub)
    admin = t["admin"]["token"]
    new = {
        "email": "Lucia@Dealer.example",
        "name": "Lucía",
        "password": PASSWORD,
        "languages": ["en"],
        "max_chats": 2,
    }
    status, lucia = await hub.request("POST", "/api/agents", token=admin, json=new)
    assert 201 == status, lucia
    assert ("lucia@dealer.example", "agent", ["en"], 2) == (
        lucia["email"],
        lucia["role"],
        lucia["languages"],
        lucia["max_chats"],
    )
    # The e-mail is the login across the provider: another tenant cannot take it either.
    other = await team(hub)
    status, taken = await hub.request(
        "POST", "/api/agents", token=other["admin"]["token"], json=new
    )
    assert (409, "conflict") == code_of(status, taken)
    status, refused = await hub.request("POST", "/api/agents", token=t["agent"]["token"], json=new)
    assert (403, "forbidden") == code_of(status, refused)
    status, bad = await hub.request(
        "POST",
        "/api/agents",
        token=admin,
        json={**new, "email": "x@y.example", "languages": ["fr"]},
    )
    assert (400, "invalid_payload") == code_of(status, bad)

    status, changed = await hub.request(
        "PATCH",
        f"/api/agents/{lucia['id']}",
        token=admin,
        json={"languages": ["es", "en"], "max_chats": 4, "role": "supervisor"},
    )
    assert 200 == status, changed
    assert (["es", "en"], 4, "supervisor", "Lucía") == (
        changed["languages"],
        changed["max_chats"],
        changed["role"],
        changed["name"],
    )
    status, bad = await hub.request(
        "PATCH", f"/api/agents/{lucia['id']}", token=admin, json={"max_chats": 0}
    )
    assert (400, "invalid_payload") == code_of(status, bad)
    status, self_demote = await hub.request(
        "PATCH", f"/api/agents/{t['admin']['id']}", token=admin, json={"role": "agent"}
    )
    assert (409, "conflict") == code_of(status, self_demote)

    status, login = await hub.request(
        "POST", "/api/login", json={"email": "lucia@dealer.example", "password": PASSWORD}
    )
    assert 200 == status
    status, gone = await hub.request("DELETE", f"/api/agents/{lucia['id']}", token=admin)
    assert 200 == status
    assert False is gone["active"]
    status, refused = await hub.request(
        "POST", "/api/login", json={"email": "lucia@dealer.example", "password": PASSWORD}
    )
    assert (401, "unauthorized") == code_of(status, refused)
    status, stale = await hub.request("GET", "/api/me", token=login["token"])
    assert (401, "unauthorized") == code_of(status, stale)


async def test_deactivating_an_agent_requeues_their_chats(hub: LiveHub) -> None:
    t = await team(hub)
    peer = await hub.agent_peer(t["agent"])
    visitor = await hub.visitor_peer(t["tenant"])
    chat = await start_chat(visitor, "Hola, quiero una cita", language="es")
    await peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    status, _ = await hub.request(
        "DELETE", f"/api/agents/{t['agent']['id']}", token=t["admin"]["token"]
    )
    assert 200 == status
    status, body = await hub.request("GET", f"/api/chats/{chat['id']}", token=t["admin"]["token"])
    assert ("queued", None) == (body["status"], body.get("agent_id"))


async def test_hours_holidays_and_settings_of_the_admins_own_tenant(hub: LiveHub) -> None:
    t = await team(hub)
    admin = t["admin"]["token"]
    patch = {"hours": HOURS, "holidays": "pr", "settings": {"prechat_fields": ["name", "phone"]}}
    status, tenant = await hub.request("PATCH", "/api/tenant", token=admin, json=patch)
    assert 200 == status, tenant
    assert (HOURS, "PR", {"prechat_fields": ["name", "phone"]}) == (
        tenant["hours"],
        tenant["holidays"],
        tenant["settings"],
    )
    status, merged = await hub.request(
        "PATCH",
        "/api/tenant",
        token=admin,
        json={"settings": {"invitation_cooldown_min": 10, "prechat_fields": None}},
    )
    assert {"invitation_cooldown_min": 10} == merged["settings"]
    status, seen = await hub.request("GET", "/api/tenant", token=t["agent"]["token"])
    assert (HOURS, ["es", "en"]) == (seen["hours"], seen["languages"])
    assert "site_key" not in seen

    for body, field in [
        ({"hours": {"mon": [["18:00", "09:00"]]}}, "hours"),
        ({"hours": {"monday": [["09:00", "18:00"]]}}, "hours"),
        ({"holidays": "XX"}, "holidays"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"plan": "premium"}, "plan"),
        ({"settings": {"x": "y" * 20000}}, "settings"),
        ({"settings": {"prechat": True}}, "settings"),
        ({"bot_script": {"flow": "nope"}}, "bot_script"),
    ]:
        status, error = await hub.request("PATCH", "/api/tenant", token=admin, json=body)
        assert (400, "invalid_payload") == code_of(status, error), body
        assert field in error["error"]["message"], error
    status, refused = await hub.request(
        "PATCH", "/api/tenant", token=t["supervisor"]["token"], json={"hours": None}
    )
    assert (403, "forbidden") == code_of(status, refused)


async def test_export_imports_into_another_tenant_idempotently(
    make_hub: HubFactory, database_url: str
) -> None:
    """On SQLite and on PostgreSQL."""
    hub = await make_hub(database_url=database_url)
    source = await team(hub)
    admin = source["admin"]["token"]
    for shortcut, text in [("/hours", "Abrimos de 9 a 6."), ("/price", "El precio es...")]:
        status, _ = await hub.request(
            "POST",
            "/api/canned-responses",
            token=admin,
            json={"shortcut": shortcut, "text": {"es": text, "en": "In English"}},
        )
        assert 201 == status
    status, _ = await hub.request(
        "PATCH",
        "/api/tenant",
        token=admin,
        json={
            "hours": HOURS,
            "holidays": "PR",
            "settings": {"invitation_cooldown_min": 45},
            "bot_script": SCRIPT,
        },
    )
    assert 200 == status
    # Invitation rules, integrations and webhooks come from other branches' APIs; here the
    # rows are written as those APIs store them, to prove the export carries them.
    db = hub.app[STORE]
    async with db.session() as s, s.begin():
        s.add(
            InvitationRuleRow(
                id="rule-1",
                tenant_id=source["tenant"]["id"],
                name="Inventory browsers",
                enabled=True,
                text={"es": "¿Le ayudo?", "en": "Can I help?"},
                conditions={"url_pattern": "/inventory/*", "min_seconds_on_page": 20},
                only_when_agents_available=True,
                created_at=db.clock.now(),
            )
        )
        s.add(
            IntegrationRow(
                tenant_id=source["tenant"]["id"],
                kind="adf",
                config={"to": "leads@crm.example", "vendor_name": "Autos"},
                secret_enc=None,
                updated_at=db.clock.now(),
            )
        )
        s.add(
            IntegrationRow(
                tenant_id=source["tenant"]["id"],
                kind="notify",
                config={"to": "ventas@autos.example"},
                secret_enc=None,
                updated_at=db.clock.now(),
            )
        )
        s.add(
            IntegrationRow(
                tenant_id=source["tenant"]["id"],
                kind="salesforce",
                config={"login_url": "https://x.my.salesforce.com", "client_id": "abc"},
                secret_enc=db.cipher.encrypt("top-secret-value"),
                updated_at=db.clock.now(),
            )
        )
        s.add(
            WebhookRow(
                id="hook-1",
                tenant_id=source["tenant"]["id"],
                url="https://hooks.example/charla",
                secret_enc=db.cipher.encrypt("hook-secret-value"),
                events=["lead.qualified"],
                created_at=db.clock.now(),
            )
        )

    status, exported = await hub.request("GET", "/api/export", token=admin)
    assert 200 == status, exported
    assert "top-secret-value" not in str(exported)
    assert "hook-secret-value" not in str(exported)
    assert ["/hours", "/price"] == [c["shortcut"] for c in exported["canned_responses"]]
    assert ["Inventory browsers"] == [r["name"] for r in exported["invitation_rules"]]
    assert ["adf", "notify", "salesforce"] == [i["kind"] for i in exported["integrations"]]
    assert [{"url": "https://hooks.example/charla", "events": ["lead.qualified"]}] == exported[
        "webhooks"
    ]

    target = await team(hub)
    status, outcome = await hub.request(
        "POST", "/api/import", token=target["admin"]["token"], json=exported
    )
    assert 200 == status, outcome
    assert {
        "canned_responses": 2,
        "invitation_rules": 1,
        "integrations": 2,
        "webhooks": 0,
    } == outcome["imported"]
    assert ["integrations", "webhooks"] == [s["section"] for s in outcome["skipped"]]
    again_status, again = await hub.request(
        "POST", "/api/import", token=target["admin"]["token"], json=exported
    )
    assert (200, outcome) == (again_status, again)

    status, copied = await hub.request("GET", "/api/export", token=target["admin"]["token"])
    assert 200 == status
    for section in ("canned_responses", "invitation_rules", "hours", "holidays", "settings"):
        assert exported[section] == copied[section], section
    assert exported["bot_script"] == copied["bot_script"]
    assert [
        {"kind": "adf", "config": exported["integrations"][0]["config"]},
        {"kind": "notify", "config": {"to": "ventas@autos.example"}},
    ] == copied["integrations"]
    # The source tenant is untouched by the import into the target.
    status, source_again = await hub.request("GET", "/api/export", token=admin)
    assert exported["canned_responses"] == source_again["canned_responses"]

    # With the secrets added to the document, the webhook and Salesforce come along too.
    exported["webhooks"][0]["secret"] = "a-new-hook-secret"
    exported["integrations"][2]["secret"] = "a-new-sf-secret"
    status, outcome = await hub.request(
        "POST", "/api/import", token=target["admin"]["token"], json=exported
    )
    assert ({"integrations": 3, "webhooks": 1}, []) == (
        {k: outcome["imported"][k] for k in ("integrations", "webhooks")},
        outcome["skipped"],
    )


async def test_import_refuses_what_the_plan_lacks_and_bad_documents(hub: LiveHub) -> None:
    basic = await team(hub, plan="basic")
    token = basic["admin"]["token"]
    rules = {
        "invitation_rules": [
            {"name": "r", "text": {"es": "Hola"}, "conditions": {"min_pages_viewed": 2}}
        ]
    }
    status, error = await hub.request("POST", "/api/import", token=token, json=rules)
    assert (403, "plan_required") == code_of(status, error)
    assert error["error"]["message"].startswith("invitation_rules"), error
    for body, field in [
        ({"canned_responses": [{"shortcut": "nope", "text": {"es": "x"}}]}, "canned_responses"),
        ({"hours": {"mon": "all day"}}, "hours"),
        ({"version": 2}, "version"),
        ({"surprise": True}, "surprise"),
        (
            {
                "canned_responses": [
                    {"shortcut": "/a", "text": {"es": "x"}},
                    {"shortcut": "/a", "text": {"es": "y"}},
                ]
            },
            "canned_responses",
        ),
    ]:
        status, error = await hub.request("POST", "/api/import", token=token, json=body)
        assert (400, "invalid_payload") == code_of(status, error), body
        assert error["error"]["message"].startswith(field), error
    status, refused = await hub.request(
        "POST", "/api/import", token=basic["supervisor"]["token"], json={}
    )
    assert (403, "forbidden") == code_of(status, refused)
    status, nothing = await hub.request("GET", "/api/export", token=None)
    assert (401, "unauthorized") == code_of(status, nothing)
    # A basic tenant still imports what its plan has: canned responses and hours.
    status, outcome = await hub.request(
        "POST",
        "/api/import",
        token=token,
        json={"hours": HOURS, "canned_responses": [{"shortcut": "/a", "text": {"es": "x"}}]},
    )
    assert 200 == status, outcome
    assert 1 == outcome["imported"]["canned_responses"]


def test_plan_needs_of_an_import_name_each_section() -> None:
    body = ImportIn.model_validate(
        {
            "invitation_rules": [{"name": "r", "text": {"es": "Hola"}}],
            "integrations": [
                {"kind": "adf", "config": {"to": "leads@crm.example"}},
                {"kind": "notify", "config": {"to": "ventas@autos.example"}},
                {"kind": "salesforce", "config": {"login_url": "https://x.my.salesforce.com"}},
            ],
        }
    )
    assert [
        ("invitation_rules", "proactive"),
        ("integrations.adf", "proactive"),
        ("integrations.salesforce", "premium"),
    ] == import_plan_needs(body)
    assert [] == import_plan_needs(ImportIn.model_validate({"hours": None}))


def test_an_exported_config_never_carries_a_secret_looking_key() -> None:
    config = {"login_url": "https://x", "client_id": "id", "client_secret": "s", "Token": "t"}
    assert {"login_url": "https://x", "client_id": "id"} == public_config(config)


async def test_the_bot_script_in_effect_is_the_admins_to_download(hub: LiveHub) -> None:
    t = await team(hub)
    admin = t["admin"]["token"]
    status, script = await hub.request("GET", "/api/bot-script", token=admin)
    assert (200, SCRIPT) == (status, script)  # none of its own: Charla's default

    # downloaded, edited and sent back whole, it is the tenant's own
    script["settings"]["bot_name"] = "Lola"
    script["faq"] = script["faq"][:1]
    status, patched = await hub.request(
        "PATCH", "/api/tenant", token=admin, json={"bot_script": script}
    )
    assert 200 == status, patched
    status, own = await hub.request("GET", "/api/bot-script", token=admin)
    assert (200, script) == (status, own)
    assert ("Lola", 1) == (own["settings"]["bot_name"], len(own["faq"]))

    for role in ("agent", "supervisor"):
        status, refused = await hub.request("GET", "/api/bot-script", token=t[role]["token"])
        assert (403, "forbidden") == code_of(status, refused), role
    status, _ = await hub.request("GET", "/api/bot-script")
    assert 401 == status

    # another tenant's admin gets their own tenant's script, never this one
    other = await team(hub)
    status, theirs = await hub.request("GET", "/api/bot-script", token=other["admin"]["token"])
    assert (200, SCRIPT) == (status, theirs)
