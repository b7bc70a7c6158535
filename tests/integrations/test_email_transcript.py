"""The transcript e-mail's text, without a server: the chat's language (and what stands in
for one it has no words for), times in the dealer's zone, who wrote each line, a file named
and never attached, and a dealer's name that cannot start a header."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from integrations.adf.config import Smtp
from integrations.base import DeliveryJob, PermanentError, TranscriptLine
from integrations.email_transcript.connector import EmailTranscriptConnector, message
from tests.support.connectors import STARTED, job, tenant

RELAY = Smtp(host="127.0.0.1", port=25, starttls=False, sender="chat@provider.example")
LINES = (
    TranscriptLine(STARTED, "visitor", None, "Hola, busco una Tacoma"),
    TranscriptLine(STARTED + timedelta(minutes=1), "bot", None, "¿Para cuándo la busca?"),
    TranscriptLine(STARTED + timedelta(minutes=2), "agent", "Ana Rivera", "Tenemos dos"),
    TranscriptLine(STARTED + timedelta(minutes=3), "system", None, "Chat transferido"),
    TranscriptLine(STARTED + timedelta(minutes=4), "visitor", None, "", attachment="licencia.jpg"),
)


def transcript_job(language: str, **payload: object) -> DeliveryJob:
    body = {"email": "luis@example.com", "chat": {"language": language}, **payload}
    return replace(
        job(destination="email", event="transcript.email", payload=body), transcript=LINES
    )


def test_spanish_lines_in_the_dealers_time_with_their_authors_and_the_file_named() -> None:
    mail = message(transcript_job("es", visitor_name="Luis Pérez"), RELAY)
    text = mail.get_content().replace("\u202f", " ")
    # 14:00 UTC on 24 November 2026 is 10:00 in San Juan
    assert text.splitlines()[:7] == [
        "Conversación con Toyota de Bayamón, 24 de noviembre de 2026.",
        "",
        "[10:00 a. m.] Luis Pérez: Hola, busco una Tacoma",
        "[10:01 a. m.] Asistente virtual: ¿Para cuándo la busca?",
        "[10:02 a. m.] Ana Rivera: Tenemos dos",
        "[10:03 a. m.] Toyota de Bayamón: Chat transferido",
        "[10:04 a. m.] Luis Pérez: [archivo adjunto: licencia.jpg]",
    ]
    assert "Archivos adjuntos:\n- licencia.jpg\n" in text
    assert ("Su conversación con Toyota de Bayamón", "es", "<transcript.d-1@provider.example>") == (
        mail["Subject"],
        mail["Content-Language"],
        mail["Message-ID"],
    )
    assert not mail.is_multipart()


def test_a_language_without_words_falls_back_to_the_dealers_first() -> None:
    mail = message(transcript_job("fr"), RELAY)
    assert ("es", "Su conversación con Toyota de Bayamón") == (
        mail["Content-Language"],
        mail["Subject"],
    )
    assert "Usted: Hola, busco una Tacoma" in mail.get_content()


def test_a_dealer_name_with_a_line_break_stays_one_header() -> None:
    named = replace(transcript_job("en"), tenant=tenant(name="Autos\r\nBcc: all@x.example"))
    mail = message(named, RELAY)
    assert "Your chat with Autos Bcc: all@x.example" == mail["Subject"]
    assert mail["Bcc"] is None


async def test_without_a_relay_or_an_address_the_delivery_is_parked() -> None:
    with pytest.raises(PermanentError, match="CHARLA_SMTP_HOST"):
        await EmailTranscriptConnector(Smtp()).deliver(transcript_job("es"))
    gone = replace(transcript_job("es"), payload={"chat": {"language": "es"}})
    with pytest.raises(PermanentError, match="address"):
        await EmailTranscriptConnector(RELAY).deliver(gone)
