"""Bad input over /visitor and /agent: each gets its exact error ack, never a dropped
connection, and the transcript neither loses nor doubles a message."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest
import socketio

from console.settings import Limits
from console.web.keys import SIGNER
from tests.support.harness import ORIGIN, HubFactory, LiveHub, Peer, active_chat, start_chat

# Table tests send many events on one connection; these limits keep the rate limit out.
ROOMY = Limits(visitor_burst=1000, agent_burst=1000)
NOT_OBJECTS: dict[str, Any] = {
    "number": 42,
    "list": [{"chat_id": "1", "text": "hola", "client_msg_id": "c"}],
    "string": "hola",
    "boolean": True,
    "bytes": b"\x00\xff",
    "nothing": None,
}


def error_of(ack: Any) -> str:
    """The code of an error ack, once the ack is proven to have the protocol's shape."""
    assert isinstance(ack, dict), ack
    assert {"ok", "error"} == set(ack), ack
    assert False is ack["ok"]
    assert {"code", "message"} == set(ack["error"]), ack
    message = ack["error"]["message"]
    assert isinstance(message, str), ack
    assert "" != message.strip(), ack
    code: str = ack["error"]["code"]
    return code


def message_of(ack: Any) -> str:
    error_of(ack)
    text: str = ack["error"]["message"]
    return text


async def transcript(hub: LiveHub, agent: dict[str, Any], chat_id: str) -> list[tuple[str, str]]:
    status, chat = await hub.request("GET", f"/api/chats/{chat_id}", token=agent["token"])
    assert 200 == status, chat
    return [(m["author"], m["text"]) for m in chat["messages"]]


async def still_works_for_visitor(visitor: Peer, chat_id: str, text: str) -> dict[str, Any]:
    """The connection survived: it is connected and a valid message is stored."""
    assert visitor.sio.connected
    ack = await visitor.call("message", {"chat_id": chat_id, "text": text, "client_msg_id": text})
    assert True is ack["ok"], ack
    return ack  # type: ignore[no-any-return]


async def still_works_for_agent(agent_peer: Peer) -> None:
    assert agent_peer.sio.connected
    assert {"ok": True, "status": "online"} == await agent_peer.call(
        "set_status", {"status": "online"}
    )


async def refused(
    hub: LiveHub, namespace: str, auth: Any, headers: dict[str, str] | None = None
) -> Any:
    """Connect and expect a refusal; returns what `connect_error` carried."""
    peer = Peer(hub.url, namespace)
    hub.peers.append(peer)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect(auth, headers)
    assert not peer.sio.connected
    return peer.connect_error


def refusal_code(connect_error: Any) -> str:
    assert isinstance(connect_error, dict), connect_error
    data = connect_error["data"]
    assert {"code", "message"} == set(data), connect_error
    assert "" != data["message"].strip()
    code: str = data["code"]
    return code


# -- payloads that are not objects, or lack fields ----------------------------------------


async def answers_to_non_objects(
    peer: Peer, events: list[str]
) -> dict[tuple[str, str], tuple[str, bool]]:
    """Each event sent each kind of non-object: (error code, whether it asks for an object)."""
    actual = {}
    for event in events:
        for kind, payload in NOT_OBJECTS.items():
            ack = await peer.call(event, payload)
            actual[event, kind] = (error_of(ack), "JSON object" in message_of(ack))
    return actual


async def test_visitor_payloads_that_are_not_objects_get_invalid_payload(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(limits=ROOMY)
    _tenant, agent, _agent_peer, visitor, chat = await active_chat(hub)
    events = ["page_view", "start_chat", "message", "sync", "end_chat"]

    actual = await answers_to_non_objects(visitor, events)

    assert {(e, k): ("invalid_payload", True) for e in events for k in NOT_OBJECTS} == actual
    await still_works_for_visitor(visitor, chat["id"], "sigo aquí")
    assert [("visitor", "Hola, busco una Tacoma"), ("visitor", "sigo aquí")] == await transcript(
        hub, agent, chat["id"]
    )


async def test_agent_payloads_that_are_not_objects_get_invalid_payload(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(limits=ROOMY)
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    events = ["set_status", "message", "close_chat", "transfer", "sync"]

    actual = await answers_to_non_objects(agent_peer, events)

    assert {(e, k): ("invalid_payload", True) for e in events for k in NOT_OBJECTS} == actual
    await still_works_for_agent(agent_peer)
    reply = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "Dígame", "client_msg_id": "a-1"}
    )
    assert True is reply["ok"], reply
    assert "Dígame" == (await visitor.wait_for("message"))["message"]["text"]
    assert [("visitor", "Hola, busco una Tacoma"), ("agent", "Dígame")] == await transcript(
        hub, agent, chat["id"]
    )


async def test_missing_fields_get_invalid_payload_naming_the_field(make_hub: HubFactory) -> None:
    hub = await make_hub(limits=ROOMY)
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    cases: list[tuple[Peer, str, dict[str, Any], str]] = [
        (visitor, "page_view", {"title": "Inventory"}, "url"),
        (visitor, "start_chat", {"language": "es"}, "text"),
        (visitor, "message", {"text": "hola", "client_msg_id": "m"}, "chat_id"),
        (visitor, "message", {"chat_id": chat_id, "client_msg_id": "m"}, "text"),
        (visitor, "message", {"chat_id": chat_id, "text": "hola"}, "client_msg_id"),
        (visitor, "sync", {"after_id": "1"}, "chat_id"),
        (visitor, "end_chat", {}, "chat_id"),
        (agent_peer, "set_status", {}, "status"),
        (agent_peer, "message", {"chat_id": chat_id, "client_msg_id": "m"}, "text"),
        (agent_peer, "message", {"chat_id": chat_id, "text": "hola"}, "client_msg_id"),
        (agent_peer, "close_chat", {}, "chat_id"),
        (agent_peer, "transfer", {"language": "en"}, "chat_id"),
        (agent_peer, "sync", {}, "chat_id"),
    ]

    actual = []
    for peer, event, payload, field in cases:
        ack = await peer.call(event, payload)
        actual.append((event, field, error_of(ack), message_of(ack).startswith(field)))

    assert [(e, f, "invalid_payload", True) for _p, e, _d, f in cases] == actual
    await still_works_for_agent(agent_peer)
    await still_works_for_visitor(visitor, chat_id, "¿hola?")
    assert [("visitor", "Hola, busco una Tacoma"), ("visitor", "¿hola?")] == await transcript(
        hub, agent, chat_id
    )


# -- wrongly typed fields ---------------------------------------------------------------


async def test_wrongly_typed_fields_get_invalid_payload_naming_the_field(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(limits=ROOMY)
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    cases: list[tuple[Peer, str, dict[str, Any], str]] = [
        (visitor, "message", {"chat_id": chat_id, "text": 42, "client_msg_id": "m"}, "text"),
        (visitor, "message", {"chat_id": 7, "text": "hola", "client_msg_id": "m"}, "chat_id"),
        (visitor, "message", {"chat_id": chat_id, "text": "hi", "client_msg_id": 5}, "client"),
        (visitor, "message", {"chat_id": chat_id, "text": ["hi"], "client_msg_id": "m"}, "text"),
        (visitor, "message", {"chat_id": chat_id, "text": "", "client_msg_id": "m"}, "text"),
        (visitor, "start_chat", {"text": "hola", "language": "spanish"}, "language"),
        (visitor, "start_chat", {"text": "hola", "name": 12}, "name"),
        (visitor, "page_view", {"url": 3}, "url"),
        (visitor, "sync", {"chat_id": chat_id, "after_id": 3}, "after_id"),
        (visitor, "typing", {"chat_id": chat_id, "typing": "yes"}, "typing"),
        (visitor, "typing", {"chat_id": chat_id, "typing": 1}, "typing"),
        (agent_peer, "set_status", {"status": "busy"}, "status"),
        (agent_peer, "set_status", {"status": 1}, "status"),
        (agent_peer, "message", {"chat_id": chat_id, "text": 4.5, "client_msg_id": "m"}, "text"),
        (agent_peer, "close_chat", {"chat_id": None}, "chat_id"),
        (agent_peer, "transfer", {"chat_id": chat_id, "language": 5}, "language"),
        (agent_peer, "transfer", {"chat_id": chat_id, "agent_id": ["x"]}, "agent_id"),
        (agent_peer, "sync", {"chat_id": chat_id, "after_id": False}, "after_id"),
        (agent_peer, "typing", {"chat_id": chat_id, "typing": "yes"}, "typing"),
    ]

    actual = []
    for peer, event, payload, field in cases:
        ack = await peer.call(event, payload)
        actual.append((event, field, error_of(ack), message_of(ack).startswith(field)))

    assert [(e, f, "invalid_payload", True) for _p, e, _d, f in cases] == actual
    await still_works_for_agent(agent_peer)
    await still_works_for_visitor(visitor, chat_id, "sigo")
    assert [("visitor", "Hola, busco una Tacoma"), ("visitor", "sigo")] == await transcript(
        hub, agent, chat_id
    )
    assert "active" == (await agent_peer.call("sync", {"chat_id": chat_id}))["chat"]["status"]


async def test_typing_with_a_wrong_type_is_not_forwarded_and_a_valid_one_is(hub: LiveHub) -> None:
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub)

    await visitor.emit("typing", {"chat_id": chat["id"], "typing": "yes"})
    await visitor.emit("typing", "typing")
    await visitor.emit("typing", {"chat_id": chat["id"], "typing": True})
    await agent_peer.emit("typing", {"chat_id": chat["id"], "typing": "no"})
    await agent_peer.emit("typing", {"chat_id": chat["id"], "typing": True})

    heard = await agent_peer.wait_for("typing")
    assert {"chat_id": chat["id"], "author": "visitor", "typing": True} == heard
    told = await visitor.wait_for("typing")
    assert {"chat_id": chat["id"], "author": "agent", "typing": True} == told
    await still_works_for_visitor(visitor, chat["id"], "ok")
    await agent_peer.wait_for("message")
    assert [heard] == agent_peer.seen("typing")
    assert [told] == visitor.seen("typing")


# -- text length --------------------------------------------------------------------------


async def test_text_over_4000_characters_is_too_large_and_exactly_4000_is_stored(
    hub: LiveHub,
) -> None:
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    longest, too_long = "a" * 4000, "b" * 4001

    visitor_ack = await visitor.call(
        "message", {"chat_id": chat_id, "text": too_long, "client_msg_id": "v-long"}
    )
    agent_ack = await agent_peer.call(
        "message", {"chat_id": chat_id, "text": too_long, "client_msg_id": "a-long"}
    )
    other = await hub.visitor_peer(await hub.tenant())
    start_ack = await other.call("start_chat", {"text": too_long})

    assert ["too_large"] * 3 == [error_of(a) for a in (visitor_ack, agent_ack, start_ack)]
    assert "4000" in message_of(visitor_ack)
    visitor_ok = await visitor.call(
        "message", {"chat_id": chat_id, "text": longest, "client_msg_id": "v-4000"}
    )
    agent_ok = await agent_peer.call(
        "message", {"chat_id": chat_id, "text": longest, "client_msg_id": "a-4000"}
    )
    assert longest == visitor_ok["message"]["text"]
    assert longest == agent_ok["message"]["text"]
    assert [
        ("visitor", "Hola, busco una Tacoma"),
        ("visitor", longest),
        ("agent", longest),
    ] == await transcript(hub, agent, chat_id)
    assert True is (await other.call("start_chat", {"text": longest}))["ok"]


# -- chats that are not yours -------------------------------------------------------------


async def test_unknown_chat_ids_are_not_found(hub: LiveHub) -> None:
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub)
    unknown = "no-such-chat"
    calls: list[tuple[Peer, str, dict[str, Any]]] = [
        (visitor, "message", {"chat_id": unknown, "text": "hola", "client_msg_id": "x"}),
        (visitor, "sync", {"chat_id": unknown}),
        (visitor, "end_chat", {"chat_id": unknown}),
        (agent_peer, "message", {"chat_id": unknown, "text": "hola", "client_msg_id": "x"}),
        (agent_peer, "sync", {"chat_id": unknown}),
        (agent_peer, "close_chat", {"chat_id": unknown}),
        (agent_peer, "transfer", {"chat_id": unknown, "language": "en"}),
    ]

    actual = [(event, error_of(await peer.call(event, data))) for peer, event, data in calls]

    assert [(event, "not_found") for _p, event, _d in calls] == actual
    await still_works_for_visitor(visitor, chat["id"], "sigo")
    await still_works_for_agent(agent_peer)


async def test_another_tenants_chat_is_not_found_and_nothing_of_it_leaks(hub: LiveHub) -> None:
    secret_text = "Mi tarjeta vence pronto, llámenme al 787-555-0199"
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub, text=secret_text)
    chat_id = chat["id"]
    other_tenant = await hub.tenant()
    other_admin = await hub.agent(other_tenant, languages=["es"], role="admin")
    other_agent_peer = await hub.agent_peer(other_admin)
    other_visitor = await hub.visitor_peer(other_tenant)
    calls: list[tuple[Peer, str, dict[str, Any]]] = [
        (other_visitor, "message", {"chat_id": chat_id, "text": "hola", "client_msg_id": "x"}),
        (other_visitor, "sync", {"chat_id": chat_id}),
        (other_visitor, "end_chat", {"chat_id": chat_id}),
        (other_agent_peer, "message", {"chat_id": chat_id, "text": "hola", "client_msg_id": "x"}),
        (other_agent_peer, "sync", {"chat_id": chat_id}),
        (other_agent_peer, "close_chat", {"chat_id": chat_id}),
        (other_agent_peer, "transfer", {"chat_id": chat_id, "language": "en"}),
        (other_agent_peer, "transfer", {"chat_id": chat_id, "agent_id": other_admin["id"]}),
    ]

    acks = [await peer.call(event, data) for peer, event, data in calls]

    assert [(e, "not_found") for _p, e, _d in calls] == [
        (e, error_of(a)) for (_p, e, _d), a in zip(calls, acks, strict=True)
    ]
    visitor_id = visitor.seen("session")[0]["visitor_id"]
    leaked = [a for a in acks if "555" in str(a) or "tarjeta" in str(a) or visitor_id in str(a)]
    assert [] == leaked
    status, body = await hub.request("GET", f"/api/chats/{chat_id}", token=other_admin["token"])
    assert (404, "not_found") == (status, body["error"]["code"])
    assert "tarjeta" not in str(body)
    reply = await still_works_for_visitor(visitor, chat_id, "¿siguen ahí?")
    heard = await agent_peer.wait_for("message")
    assert reply["message"] == heard["message"]
    assert [("visitor", secret_text), ("visitor", "¿siguen ahí?")] == await transcript(
        hub, agent, chat_id
    )
    assert [] == [e for e, _ in other_agent_peer.events if e in ("message", "chat_closed")]
    assert [] == other_agent_peer.seen("chat_assigned")
    assert [] == [e for e, _ in other_visitor.events if e != "session"]


async def test_a_visitor_cannot_use_another_visitors_chat_of_the_same_tenant(
    hub: LiveHub,
) -> None:
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    intruder = await hub.visitor_peer(tenant)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("message", {"chat_id": chat_id, "text": "soy yo", "client_msg_id": "x"}),
        ("sync", {"chat_id": chat_id}),
        ("end_chat", {"chat_id": chat_id}),
    ]

    actual = [(event, error_of(await intruder.call(event, data))) for event, data in calls]

    assert [(event, "not_found") for event, _ in calls] == actual
    assert True is (await intruder.call("page_view", {"url": "https://dealer.example/"}))["ok"]
    await still_works_for_visitor(visitor, chat_id, "sigo aquí")
    assert "active" == (await visitor.call("sync", {"chat_id": chat_id}))["chat"]["status"]
    assert [("visitor", "Hola, busco una Tacoma"), ("visitor", "sigo aquí")] == await transcript(
        hub, agent, chat_id
    )
    assert [] == agent_peer.seen("chat_closed")


async def test_an_agent_cannot_act_on_a_chat_assigned_to_another_agent(hub: LiveHub) -> None:
    tenant, owner, owner_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    colleague = await hub.agent(tenant, languages=["es", "en"])
    colleague_peer = await hub.agent_peer(colleague)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("message", {"chat_id": chat_id, "text": "yo lo atiendo", "client_msg_id": "x"}),
        ("close_chat", {"chat_id": chat_id}),
        ("transfer", {"chat_id": chat_id, "language": "en"}),
        ("transfer", {"chat_id": chat_id, "agent_id": colleague["id"]}),
    ]

    actual = [(event, error_of(await colleague_peer.call(event, data))) for event, data in calls]

    assert [(event, "forbidden") for event, _ in calls] == actual
    await still_works_for_agent(colleague_peer)
    reply = await owner_peer.call(
        "message", {"chat_id": chat_id, "text": "Sigo con usted", "client_msg_id": "o-1"}
    )
    assert True is reply["ok"], reply
    assert [("visitor", "Hola, busco una Tacoma"), ("agent", "Sigo con usted")] == (
        await transcript(hub, owner, chat_id)
    )
    assert [] == colleague_peer.seen("chat_assigned")
    assert [] == owner_peer.seen("chat_closed")
    assert [] == visitor.seen("chat_closed")


async def test_messages_to_a_closed_chat_get_closed(hub: LiveHub) -> None:
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    assert {"ok": True} == await visitor.call("end_chat", {"chat_id": chat_id})
    await agent_peer.wait_for("chat_closed")

    actual = [
        error_of(
            await visitor.call(
                "message", {"chat_id": chat_id, "text": "una más", "client_msg_id": "v-late"}
            )
        ),
        error_of(
            await agent_peer.call(
                "message", {"chat_id": chat_id, "text": "¿sigue ahí?", "client_msg_id": "a-late"}
            )
        ),
        error_of(await agent_peer.call("close_chat", {"chat_id": chat_id})),
    ]

    assert ["closed", "closed", "closed"] == actual
    assert [("visitor", "Hola, busco una Tacoma")] == await transcript(hub, agent, chat_id)
    synced = await visitor.call("sync", {"chat_id": chat_id})
    assert "closed" == synced["chat"]["status"]
    await still_works_for_agent(agent_peer)
    again = await start_chat(visitor, "Otra pregunta", language="es")
    assert chat_id != again["id"]


async def test_an_agent_closed_chat_refuses_the_visitors_next_message(hub: LiveHub) -> None:
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    await visitor.wait_for("chat_closed")

    ack = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "espere", "client_msg_id": "v-2"}
    )

    assert "closed" == error_of(ack)
    assert [("visitor", "Hola, busco una Tacoma")] == await transcript(hub, agent, chat["id"])
    assert True is (await visitor.call("page_view", {"url": "https://dealer.example/"}))["ok"]


# -- sync ---------------------------------------------------------------------------------


async def test_sync_with_a_bad_after_id_gets_invalid_payload(make_hub: HubFactory) -> None:
    hub = await make_hub(limits=ROOMY)
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub)
    chat_id = chat["id"]
    second = await still_works_for_visitor(visitor, chat_id, "segundo")
    bad = ["abc", "-1", "1.5", " 1", "\uff11\uff12", "0x10", "9" * 21]

    actual = [
        (after, error_of(await peer.call("sync", {"chat_id": chat_id, "after_id": after})))
        for after in bad
        for peer in (visitor, agent_peer)
    ]

    assert [(after, "invalid_payload") for after in bad for _ in range(2)] == actual
    everything = await visitor.call("sync", {"chat_id": chat_id})
    first_id = everything["messages"][0]["id"]
    after_first = await agent_peer.call("sync", {"chat_id": chat_id, "after_id": first_id})
    assert [second["message"]] == after_first["messages"]
    assert ["Hola, busco una Tacoma", "segundo"] == [m["text"] for m in everything["messages"]]


# -- unknown events -----------------------------------------------------------------------


async def test_unknown_events_get_invalid_payload_on_both_namespaces(hub: LiveHub) -> None:
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub)

    names = ["delete_everything", "set_status", "start_chat", "end_chat"]
    acks = [
        await visitor.call("delete_everything", {"chat_id": chat["id"]}),
        await visitor.call("set_status", {"status": "online"}),
        await agent_peer.call("start_chat", {"text": "hola"}),
        await agent_peer.call("end_chat", {"chat_id": chat["id"]}),
        await visitor.call("nonsense"),
        await agent_peer.call("nonsense", [1, 2, 3]),
    ]

    assert ["invalid_payload"] * 6 == [error_of(a) for a in acks]
    assert [True] * 4 == [name in message_of(a) for name, a in zip(names, acks, strict=False)]
    await still_works_for_visitor(visitor, chat["id"], "hola")
    await still_works_for_agent(agent_peer)
    assert [] == visitor.seen("chat_closed")


async def test_client_events_named_connect_or_disconnect_are_unknown_events(
    hub: LiveHub,
) -> None:
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)

    acks = [
        await visitor.call("disconnect", {"reason": "spoofed"}),
        await visitor.call("connect", {"site_key": tenant["site_key"]}),
        await agent_peer.call("disconnect", "client disconnect"),
        await agent_peer.call("connect", {"token": agent["token"]}),
    ]

    assert ["invalid_payload"] * 4 == [error_of(a) for a in acks]
    status, metrics = await raw_get(hub, "/metrics")
    assert 200 == status
    assert "charla_connected_agents 1.0" in metrics
    assert "charla_connected_visitors 1.0" in metrics
    newcomer = await hub.visitor_peer(tenant)
    second = await start_chat(newcomer, "Hola, otra consulta", language="es")
    assert "active" == second["status"]
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == second["id"])
    await still_works_for_visitor(visitor, chat["id"], "sigo")


async def raw_get(hub: LiveHub, path: str) -> tuple[int, str]:
    async with hub.http.get(hub.url + path) as response:
        return response.status, await response.text()


# -- refused connections ------------------------------------------------------------------


async def test_garbage_agent_auth_is_refused_as_unauthorized(make_hub: HubFactory) -> None:
    hub = await make_hub(token_ttl_s=60)
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    signer = hub.app[SIGNER]
    expired = signer.issue(agent["id"], tenant["id"], "agent", now=time.time() - 3600)
    foreign = jwt.encode(
        {
            "sub": agent["id"],
            "tid": tenant["id"],
            "role": "admin",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "iss": "charla",
        },
        "another-secret-that-is-long-enough-0123456789",
        algorithm="HS256",
    )
    unsigned = jwt.encode(
        {"sub": agent["id"], "tid": tenant["id"], "role": "admin", "iss": "charla"},
        key="",  # no key: PyJWT takes "" for None, which its annotations do not admit
        algorithm="none",
    )
    wrong_tenant = signer.issue(agent["id"], "another-tenant", "agent")
    auths: dict[str, Any] = {
        "missing": None,
        "string": "garbage",
        "number": 42,
        "list": [agent["token"]],
        "no token": {"site_key": tenant["site_key"]},
        "token as number": {"token": 42},
        "empty token": {"token": ""},
        "not a jwt": {"token": "not.a.jwt"},
        "signed elsewhere": {"token": foreign},
        "alg none": {"token": unsigned},
        "expired": {"token": expired},
        "tenant mismatch": {"token": wrong_tenant},
    }

    actual = {
        name: refusal_code(await refused(hub, "/agent", auth)) for name, auth in auths.items()
    }

    assert dict.fromkeys(auths, "unauthorized") == actual
    expired_error = await refused(hub, "/agent", {"token": expired})
    assert "expired" in expired_error["data"]["message"]
    peer = await hub.agent_peer(agent)
    assert peer.sio.connected


async def test_visitor_connections_without_a_known_site_key_are_refused(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    origin = {"Origin": ORIGIN}
    auths: dict[str, Any] = {
        "missing": None,
        "string": "garbage",
        "list": [tenant["site_key"]],
        "no site key": {"visitor_id": "v-1"},
        "site key as number": {"site_key": 42},
        "empty site key": {"site_key": ""},
        "unknown site key": {"site_key": "sk_does_not_exist"},
        "tenant id for site key": {"site_key": tenant["id"]},
    }

    actual = {
        name: refusal_code(await refused(hub, "/visitor", auth, origin))
        for name, auth in auths.items()
    }

    assert dict.fromkeys(auths, "unauthorized") == actual
    visitor = await hub.visitor_peer(tenant)
    assert True is (await visitor.call("page_view", {"url": "https://dealer.example/"}))["ok"]


async def test_a_visitor_from_another_tenants_origin_is_forbidden(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    await hub.tenant(allowed_origins=["https://other-dealer.example"])

    refusal = await refused(
        hub,
        "/visitor",
        {"site_key": tenant["site_key"]},
        {"Origin": "https://other-dealer.example"},
    )

    assert "forbidden" == refusal_code(refusal)
    assert "https://other-dealer.example" in refusal["data"]["message"]
    visitor = await hub.visitor_peer(tenant, origin=ORIGIN)
    assert visitor.sio.connected


# -- idempotent resends -------------------------------------------------------------------


async def test_a_resent_client_msg_id_is_stored_and_delivered_once(
    make_hub: HubFactory, database_url: str
) -> None:
    hub = await make_hub(database_url=database_url)
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    payload = {"chat_id": chat["id"], "text": "¿Aceptan trade-in?", "client_msg_id": "v-7"}

    first = await visitor.call("message", payload)
    again = await visitor.call("message", payload)
    different_text = await visitor.call("message", {**payload, "text": "otra cosa"})
    await still_works_for_visitor(visitor, chat["id"], "fin")
    await agent_peer.wait_for("message", lambda d: d["message"]["text"] == "fin")

    assert first == again
    assert first["message"] == different_text["message"]
    assert ["¿Aceptan trade-in?", "fin"] == [
        d["message"]["text"] for d in agent_peer.seen("message")
    ]
    assert [
        ("visitor", "Hola, busco una Tacoma"),
        ("visitor", "¿Aceptan trade-in?"),
        ("visitor", "fin"),
    ] == await transcript(hub, agent, chat["id"])


async def test_concurrent_resends_of_one_client_msg_id_store_and_deliver_once(
    make_hub: HubFactory, database_url: str
) -> None:
    hub = await make_hub(database_url=database_url)
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    from_visitor = {"chat_id": chat["id"], "text": "¿Tienen la roja?", "client_msg_id": "v-9"}
    from_agent = {"chat_id": chat["id"], "text": "Sí, la tenemos", "client_msg_id": "a-9"}

    acks = await asyncio.gather(
        *(visitor.call("message", from_visitor) for _ in range(5)),
        *(agent_peer.call("message", from_agent) for _ in range(5)),
    )
    await still_works_for_visitor(visitor, chat["id"], "gracias")
    await agent_peer.wait_for("message", lambda d: d["message"]["text"] == "gracias")
    await visitor.wait_for("message", lambda d: d["message"]["text"] == "Sí, la tenemos")

    assert 1 == len({a["message"]["id"] for a in acks[:5]})
    assert 1 == len({a["message"]["id"] for a in acks[5:]})
    assert ["¿Tienen la roja?", "gracias"] == [
        d["message"]["text"] for d in agent_peer.seen("message")
    ]
    assert ["Sí, la tenemos"] == [d["message"]["text"] for d in visitor.seen("message")]
    stored = await transcript(hub, agent, chat["id"])
    assert ("visitor", "Hola, busco una Tacoma") == stored[0]
    assert [("agent", "Sí, la tenemos"), ("visitor", "¿Tienen la roja?")] == sorted(stored[1:3])
    assert [("visitor", "gracias")] == stored[3:]
