"""Handing an e-mail to the provider's SMTP relay, for the connectors that send mail (ADF
leads, ticket notices, transcripts): the relay's answer as the outbox understands it (a 5xx
is final, anything else is tried again). With no relay but a pickup directory
(`CHARLA_SMTP_PICKUP_DIR`, what `charla demo` sets), each e-mail is written there as a
.eml file instead, for a newcomer to open."""

from __future__ import annotations

import asyncio
import os
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from aiosmtplib.errors import SMTPResponseException

from integrations.adf.config import Smtp
from integrations.base import Delivered, PermanentError, RetryableError

PERMANENT_SMTP = 500


def check_relay(smtp: Smtp) -> None:
    if not smtp.host and not smtp.pickup_dir:
        raise PermanentError(
            "the provider's SMTP relay is not configured (CHARLA_SMTP_HOST)", code="smtp"
        )


async def hand_to_relay(mail: EmailMessage, smtp: Smtp) -> Delivered:
    """Sends `mail` (or, with no relay, drops it into the pickup directory); its Message-ID
    is the delivery's external id."""
    if not smtp.host and smtp.pickup_dir:
        try:
            await asyncio.to_thread(drop, mail, Path(smtp.pickup_dir))
        except OSError as exc:
            raise RetryableError(
                f"cannot write the e-mail into CHARLA_SMTP_PICKUP_DIR: {exc.strerror}",
                code="pickup",
            ) from exc
        return Delivered(external_id=str(mail["Message-ID"]))
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


def drop(mail: EmailMessage, directory: Path) -> Path:
    """Writes `mail` whole into `directory` (a temporary name, then renamed: a reader never
    sees half a file); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.eml"
    partial = directory / f".{name}.part"
    partial.write_bytes(bytes(mail))
    os.replace(partial, directory / name)
    return directory / name
