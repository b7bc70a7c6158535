"""A new ticket, told by e-mail to the tenant's notification address in the tenant's
language (its first), through the provider's SMTP relay. Basic tenants too: the relay is
the provider's. The Message-ID comes from the delivery id, as for ADF e-mails."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from integrations.adf.config import Smtp
from integrations.base import Connector, Delivered, DeliveryJob, PermanentError
from integrations.mail import check_relay, hand_to_relay
from integrations.transcript import summary

WORDS: dict[str, dict[str, str]] = {
    "es": {
        "subject": "Nuevo ticket: {who} - {dealer}",
        "visitor": "visitante",
        "intro": "Hay un ticket nuevo para {dealer}.",
        "reason": "Motivo",
        "due": "Llamar antes de",
        "name": "Nombre",
        "phone": "Teléfono",
        "email": "Correo electrónico",
        "text": "Mensaje",
        "chat": "Conversación",
        "outro": "Ábralo en la consola de Charla, sección Tickets.",
        "after_hours": "fuera de horario",
        "holiday": "día feriado",
        "no_agents": "no había asesores disponibles",
        "agent": "creado por un asesor",
    },
    "en": {
        "subject": "New ticket: {who} - {dealer}",
        "visitor": "visitor",
        "intro": "There is a new ticket for {dealer}.",
        "reason": "Reason",
        "due": "Call back by",
        "name": "Name",
        "phone": "Phone",
        "email": "E-mail",
        "text": "Message",
        "chat": "Conversation",
        "outro": "Open it in the Charla console, under Tickets.",
        "after_hours": "after hours",
        "holiday": "holiday",
        "no_agents": "no agents were available",
        "agent": "written by an agent",
    },
}


def _local(at: str, timezone: str, language: str) -> str:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    locale = {"es": "es_PR", "en": "en_US"}.get(language, language)
    return format_datetime(
        moment, "EEEE d MMMM y, h:mm a", tzinfo=ZoneInfo(timezone), locale=locale
    )


def message(job: DeliveryJob, smtp: Smtp) -> EmailMessage:
    ticket: dict[str, Any] = job.payload.get("ticket") or {}
    language = job.tenant.languages[0] if job.tenant.languages[0] in WORDS else "en"
    words = WORDS[language]
    dealer = job.tenant.name
    reason = str(ticket.get("reason") or "")
    lines = [words["intro"].format(dealer=dealer), ""]
    lines.append(f"{words['reason']}: {words.get(reason, reason)}")
    if ticket.get("callback_due_at"):
        due = _local(str(ticket["callback_due_at"]), job.tenant.timezone, language)
        lines.append(f"{words['due']}: {due}")
    for key in ("name", "phone", "email"):
        if ticket.get(key):
            lines.append(f"{words[key]}: {ticket[key]}")
    lines += ["", f"{words['text']}:", str(ticket.get("text") or "")]
    if job.transcript:
        lines += ["", f"{words['chat']}:", summary(job.transcript)]
    lines += ["", words["outro"]]
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = str(job.config["to"])
    who = ticket.get("name") or words["visitor"]
    mail["Subject"] = words["subject"].format(who=who, dealer=dealer)
    mail["Date"] = formatdate(localtime=False)
    domain = smtp.sender.rpartition("@")[2] or "charla.invalid"
    mail["Message-ID"] = f"<ticket.{job.delivery_id}@{domain}>"
    mail.set_content("\n".join(lines), subtype="plain", charset="utf-8")
    mail["Content-Language"] = language  # after set_content, which clears Content-* headers
    return mail


class NotifyConnector(Connector):
    destination = "notify"

    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.event != "ticket.created":
            raise PermanentError(f"notification e-mails carry tickets, not {job.event} events")
        check_relay(self.smtp)
        if not job.config.get("to"):
            raise PermanentError("the notification address is missing: set `to` again")
        return await hand_to_relay(message(job, self.smtp), self.smtp)

    async def close(self) -> None:
        return None
