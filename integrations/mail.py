"""Handing an e-mail to the provider's SMTP relay, for the connectors that send mail (ADF
leads, ticket notices): the relay's answer as the outbox understands it (a 5xx is final,
anything else is tried again)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from aiosmtplib.errors import SMTPResponseException

from integrations.adf.config import Smtp
from integrations.base import Delivered, PermanentError, RetryableError

PERMANENT_SMTP = 500


def check_relay(smtp: Smtp) -> None:
    if not smtp.host:
        raise PermanentError(
            "the provider's SMTP relay is not configured (CHARLA_SMTP_HOST)", code="smtp"
        )


async def hand_to_relay(mail: EmailMessage, smtp: Smtp) -> Delivered:
    """Sends `mail`; its Message-ID is the delivery's external id."""
    try:
        await aiosmtplib.send(
            mail,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.user,
            password=smtp.password,
            start_tls=smtp.starttls,
            use_tls=False,
            timeout=smtp.timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = sorted({r.code for r in exc.recipients})
        text = f"the SMTP relay refused the recipient ({', '.join(map(str, codes))})"
        if codes and min(codes) >= PERMANENT_SMTP:
            raise PermanentError(text + ": check `to`", code=str(codes[0])) from exc
        raise RetryableError(text, code=str(codes[0]) if codes else "smtp") from exc
    except SMTPResponseException as exc:
        text = f"the SMTP relay answered {exc.code}: {exc.message}"
        if exc.code >= PERMANENT_SMTP:
            raise PermanentError(text, code=str(exc.code)) from exc
        raise RetryableError(text, code=str(exc.code)) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise RetryableError(
            f"cannot hand the e-mail to the SMTP relay: {type(exc).__name__}", code="smtp"
        ) from exc
    return Delivered(external_id=str(mail["Message-ID"]))
