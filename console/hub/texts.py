"""The few sentences the hub itself writes into a transcript, per language."""

from __future__ import annotations

SYSTEM_TEXT: dict[str, dict[str, str]] = {
    "transferred_agent": {
        "en": "The chat was transferred to {name}.",
        "es": "La conversación fue transferida a {name}.",
    },
    "transferred_queue": {
        "en": "The chat was transferred and is waiting for an agent.",
        "es": "La conversación fue transferida y espera por un agente.",
    },
    "agent_left": {
        "en": "Your agent was disconnected. You are first in line for the next one.",
        "es": "Su agente se desconectó. Usted es el primero en la fila para el próximo.",
    },
    "overflowed": {
        "en": "No agent who speaks your language was free; another agent took the chat.",
        "es": "No había un agente libre en su idioma; otro agente atiende la conversación.",
    },
}


def system_text(key: str, language: str, **values: str) -> str:
    texts = SYSTEM_TEXT[key]
    return texts.get(language, texts["en"]).format(**values)
