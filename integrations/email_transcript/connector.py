"""A chat's transcript, e-mailed to the visitor who asked for it, in the chat's language,
through the provider's SMTP relay (every plan: the relay is the provider's).

What it holds: the tenant's name, this chat's messages in order with who wrote them and when
(in the tenant's time zone), and the names of the files attached. Whispers never reach it:
the worker reads the chat without them. Text was redacted by the hub before it was stored.
Plain text only: chat text is never HTML. The Message-ID comes from the delivery's id, so a
relay that sees the same e-mail twice (a retry after a lost answer) can tell.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from integrations.adf.config import Smtp
from integrations.base import Connector, Delivered, DeliveryJob, PermanentError, TranscriptLine
from integrations.mail import check_relay, hand_to_relay

WORDS: dict[str, dict[str, str]] = {
    "es": {
        "subject": "Su conversación con {dealer}",
        "intro": "Conversación con {dealer}, {day}.",
        "visitor": "Usted",
        "agent": "Asesor",
        "bot": "Asistente virtual",
        "attachment": "archivo adjunto",
        "attachments": "Archivos adjuntos",
        "outro": "Recibe este correo porque lo pidió al terminar su chat con {dealer}.",
    },
    "en": {
        "subject": "Your chat with {dealer}",
        "intro": "Chat with {dealer}, {day}.",
        "visitor": "You",
        "agent": "Agent",
        "bot": "Virtual assistant",
        "attachment": "attachment",
        "attachments": "Attachments",
        "outro": "You get this e-mail because you asked for it at the end of your chat "
        "with {dealer}.",
    },
}
LOCALES = {"es": "es_PR", "en": "en_US"}


def language_of(job: DeliveryJob) -> str:
    """The chat's language when there are words for it, else the tenant's, else English."""
    chat: dict[str, Any] = job.payload.get("chat") or {}
    for language in (chat.get("language"), job.tenant.primary_language):
        if language in WORDS:
            return str(language)
    return "en"


def one_line(text: str) -> str:
    """For a header: a name with a line break in it must not start another header."""
    return " ".join(text.split())


def author(line: TranscriptLine, words: dict[str, str], dealer: str, visitor: str | None) -> str:
    if line.author == "visitor":
        return visitor or words["visitor"]
    if line.author in ("agent", "bot"):
        return line.author_name or words[line.author]
    return dealer


def body(job: DeliveryJob, language: str) -> str:
    words = WORDS[language]
    locale = LOCALES[language]
    zone = ZoneInfo(job.tenant.timezone)
    dealer = one_line(job.tenant.name)
    visitor = job.payload.get("visitor_name")
    chat: dict[str, Any] = job.payload.get("chat") or {}
    started = chat.get("created_at")
    began = (
        datetime.fromisoformat(str(started).replace("Z", "+00:00"))
        if started
        else job.transcript[0].at
        if job.transcript
        else job.created_at
    )
    day = format_date(began.astimezone(zone), "long", locale=locale)
    lines = [words["intro"].format(dealer=dealer, day=day), ""]
    files: list[str] = []
    for line in job.transcript:
        at = format_time(line.at.astimezone(zone), "short", locale=locale)
        text = line.text
        if line.attachment:
            files.append(line.attachment)
            listed = f"[{words['attachment']}: {line.attachment}]"
            text = f"{text} {listed}" if text else listed
        who = author(line, words, dealer, str(visitor) if visitor else None)
        lines.append(f"[{at.replace(chr(0x202F), ' ')}] {who}: {text}")
    if files:
        lines += ["", f"{words['attachments']}:", *(f"- {name}" for name in files)]
    lines += ["", words["outro"].format(dealer=dealer)]
    return "\n".join(lines) + "\n"


def message(job: DeliveryJob, smtp: Smtp) -> EmailMessage:
    language = language_of(job)
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = str(job.payload["email"])
    mail["Subject"] = WORDS[language]["subject"].format(dealer=one_line(job.tenant.name))
    mail["Date"] = formatdate(localtime=False)
    domain = smtp.sender.rpartition("@")[2] or "charla.invalid"
    mail["Message-ID"] = f"<transcript.{job.delivery_id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body(job, language), subtype="plain", charset="utf-8")
    mail["Content-Language"] = language  # after set_content, which clears Content-* headers
    return mail


class EmailTranscriptConnector(Connector):
    destination = "email"

    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.event != "transcript.email":
            raise PermanentError(f"transcript e-mails carry transcripts, not {job.event} events")
        check_relay(self.smtp)
        if not job.payload.get("email"):
            raise PermanentError("the visitor's address is gone (purged or erased)")
        return await hand_to_relay(message(job, self.smtp), self.smtp)

    async def close(self) -> None:
        return None
