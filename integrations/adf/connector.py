"""ADF/XML lead e-mails through the provider's SMTP relay (aiosmtplib).

E-mail cannot be made idempotent end to end, so each message carries a Message-ID made from
the delivery's id: a redelivery after a crash (at least once) is recognisable as the same
message by the dealer's CRM and mail system.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

from integrations.adf.config import Smtp
from integrations.adf.document import build
from integrations.base import (
    LEAD_EVENTS,
    Connector,
    Delivered,
    DeliveryJob,
    PermanentError,
)
from integrations.mail import check_relay, hand_to_relay
from integrations.transcript import summary


def subject(lead: dict[str, object], tenant_name: str) -> str:
    name = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k))
    return f"Lead: {name or 'visitor'} ({lead.get('interest') or 'other'}) - {tenant_name}"


def message(job: DeliveryJob, smtp: Smtp) -> EmailMessage:
    to = str(job.config["to"])
    vendor_name = str(job.config.get("vendor_name") or job.tenant.name)
    document = build(
        job.lead,
        vendor_name=vendor_name,
        vendor_email=to,
        requested_at=job.created_at,
        timezone=job.tenant.timezone,
        transcript_summary=summary(job.transcript),
        provider_email=smtp.sender,
        resend=job.event == "lead.updated",
    )
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = to
    mail["Subject"] = subject(job.lead, vendor_name)
    mail["Date"] = formatdate(localtime=False)
    domain = smtp.sender.rpartition("@")[2] or "charla.invalid"
    mail["Message-ID"] = f"<adf.{job.delivery_id}@{domain}>"
    # CRMs that import ADF read the body; the attachment is for the ones that read files
    mail.set_content(document.decode(), subtype="plain", charset="utf-8")
    mail.add_attachment(document, maintype="application", subtype="xml", filename="lead.xml")
    return mail


class AdfConnector(Connector):
    destination = "adf"

    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.event not in LEAD_EVENTS:
            raise PermanentError(f"ADF e-mails carry leads, not {job.event} events")
        check_relay(self.smtp)
        if not job.config.get("to"):
            raise PermanentError("the ADF integration has no recipient: set `to` again")
        return await hand_to_relay(message(job, self.smtp), self.smtp)

    async def close(self) -> None:
        return None
