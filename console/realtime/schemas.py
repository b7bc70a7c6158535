"""Inbound payloads, validated strictly: a wrongly typed field is an error, not a guess.

Unknown fields are ignored so that newer clients keep working with this hub.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from console.domain.leads import LeadIn

MAX_TEXT = 4000

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{2,3}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
ClientMsgId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Short = Annotated[str, StringConstraints(max_length=200)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class VisitorAuth(Payload):
    site_key: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    visitor_id: Id | None = None


class AgentAuth(Payload):
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class PageViewIn(Payload):
    url: Url
    title: Short | None = None
    referrer: Annotated[str, StringConstraints(max_length=2048)] | None = None
    # The browser's language (BCP 47, e.g. "es-PR"): an invitation's text is in it
    language: Annotated[str, StringConstraints(max_length=35)] | None = None


class StartChatIn(Payload):
    text: Text
    language: Language | None = None
    name: Short | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    client_msg_id: ClientMsgId | None = None
    # an agent's invitation this visitor accepted: the chat goes to that agent (PROTOCOL 1.2)
    invitation_id: Id | None = None


class MessageIn(Payload):
    chat_id: Id
    text: Text
    client_msg_id: ClientMsgId


class AgentMessageIn(MessageIn):
    # for the chat's agent and supervisors only (PROTOCOL 1.2, Supervision)
    whisper: bool = False


class AssignIn(Payload):
    chat_id: Id
    agent_id: Id


class JoinIn(Payload):
    chat_id: Id
    mode: Literal["whisper", "visible"]


class SyncIn(Payload):
    chat_id: Id
    after_id: Annotated[str, StringConstraints(max_length=20)] | None = None


class ChatRef(Payload):
    chat_id: Id


class EmailTranscriptIn(Payload):
    chat_id: Id
    # checked by email-validator in the hub, which says what is wrong with it
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]


class TypingIn(Payload):
    chat_id: Id
    typing: bool


class SetStatusIn(Payload):
    status: Literal["online", "away", "offline"]


class CloseChatIn(Payload):
    chat_id: Id
    # Why the chat ended, for reports and lead follow-up (stored in chats.disposition)
    disposition: Literal["sales_lead", "service", "support", "spam"] | None = None


class TransferIn(Payload):
    chat_id: Id
    agent_id: Id | None = None
    language: Language | None = None


class SaveLeadIn(Payload):
    chat_id: Id
    lead: LeadIn
