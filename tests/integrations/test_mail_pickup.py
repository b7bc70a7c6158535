"""With no SMTP relay but a pickup directory (what `charla demo` sets), an e-mail becomes a
whole .eml file there: a newcomer can open the transcript or ticket notice they triggered."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from integrations.adf.config import Smtp
from integrations.base import PermanentError, RetryableError
from integrations.email_transcript.connector import EmailTranscriptConnector
from tests.integrations.test_email_transcript import transcript_job


async def test_a_transcript_is_written_into_the_pickup_directory(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    connector = EmailTranscriptConnector(
        Smtp(sender="chat@provider.example", pickup_dir=str(mail_dir))
    )
    delivered = await connector.deliver(transcript_job("es", visitor_name="Luis Pérez"))
    [file] = list(mail_dir.iterdir())
    assert file.suffix == ".eml"
    mail = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert ("luis@example.com", "chat@provider.example") == (mail["To"], mail["From"])
    assert delivered.external_id == mail["Message-ID"]
    assert "Hola, busco una Tacoma" in mail.get_body().get_content()  # type: ignore[union-attr]


async def test_neither_relay_nor_directory_is_a_final_error(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="CHARLA_SMTP_HOST"):
        await EmailTranscriptConnector(Smtp()).deliver(transcript_job("es"))


async def test_a_directory_that_cannot_be_written_is_tried_again(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    connector = EmailTranscriptConnector(Smtp(pickup_dir=str(blocked / "mail")))
    with pytest.raises(RetryableError, match="CHARLA_SMTP_PICKUP_DIR"):
        await connector.deliver(transcript_job("es"))
