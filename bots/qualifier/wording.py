"""What the bot writes for the dealer's staff: a ticket's summary and a lead's notes, as
sentences in the tenant's language (its first), never codes or data structures.

"Luis Pérez Rivera quiere comprar un Toyota RAV4 2024. Entregaría un Toyota Corolla
2015 con 90,000 millas. Lo quiere este mes. Teléfono: +17875550199."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "buy": "quiere comprar",
        "lease": "quiere un lease",
        "finance": "busca financiamiento",
        "service": "necesita servicio",
        "parts": "busca piezas",
        "other": "escribió al concesionario",
        "for": "para",
        "someone": "Un visitante",
        "new": "nuevo",
        "used": "usado",
        "trade_in": "Entregaría {car}",
        "mileage": "con {miles} millas",
        "no_trade_in": "No tiene vehículo para entregar.",
        "has_trade_in": "Tiene un vehículo para entregar (no dio detalles).",
        "now": "Lo quiere ya.",
        "this_week": "Lo quiere esta semana.",
        "this_month": "Lo quiere este mes.",
        "later": "Lo quiere más adelante.",
        "undecided": "Todavía no sabe cuándo.",
        "timeframe": "Para cuándo: {value}.",
        "phone": "Teléfono: {value}.",
        "email": "Correo: {value}.",
        "no_contact": "No dejó teléfono ni correo.",
        "language": "Escribió en {value}.",
        "es": "español",
        "en": "inglés",
        "after_hours": "Lo atendió el asistente virtual fuera de horario; se le prometió una "
        "llamada en la próxima apertura.",
        "no_agents": "Lo atendió el asistente virtual porque no había asesores disponibles; "
        "espera que le contacten.",
        "left": "El visitante se fue antes de hablar con un asesor.",
        "skipped": "El asistente no entendió {what} (lo preguntó dos veces).",
        "s_interest": "qué le interesa",
        "s_vehicle": "qué vehículo quiere",
        "s_trade_in": "si tiene vehículo para entregar",
        "s_timeframe": "para cuándo lo quiere",
        "s_name": "su nombre",
        "s_contact": "cómo contactarle",
        "vin": "VIN {value}",
        "stock": "stock {value}",
    },
    "en": {
        "buy": "wants to buy",
        "lease": "wants to lease",
        "finance": "is looking for financing",
        "service": "needs service",
        "parts": "is looking for parts",
        "other": "wrote to the dealership",
        "for": "for",
        "someone": "A visitor",
        "new": "new",
        "used": "used",
        "trade_in": "Would trade in {car}",
        "mileage": "with {miles} miles",
        "no_trade_in": "No trade-in.",
        "has_trade_in": "Has a trade-in (no details given).",
        "now": "Wants it now.",
        "this_week": "Wants it this week.",
        "this_month": "Wants it this month.",
        "later": "Wants it later on.",
        "undecided": "Not sure when yet.",
        "timeframe": "Timeframe: {value}.",
        "phone": "Phone: {value}.",
        "email": "E-mail: {value}.",
        "no_contact": "Left no phone or e-mail.",
        "language": "Wrote in {value}.",
        "es": "Spanish",
        "en": "English",
        "after_hours": "Taken after hours by the virtual assistant; a call at the next "
        "opening was promised.",
        "no_agents": "Taken by the virtual assistant because no advisor was available; "
        "waiting to be contacted.",
        "left": "The visitor left before talking to an advisor.",
        "skipped": "The assistant did not understand {what} (asked twice).",
        "s_interest": "what they are interested in",
        "s_vehicle": "which vehicle they want",
        "s_trade_in": "whether they have a trade-in",
        "s_timeframe": "when they want it",
        "s_name": "their name",
        "s_contact": "how to reach them",
        "vin": "VIN {value}",
        "stock": "stock {value}",
    },
}


def words_for(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["en"])


def describe_car(car: Mapping[str, Any], language: str) -> str:
    """ "un Toyota Corolla 2015" reads "Toyota Corolla 2015" in Spanish, "2015 Toyota
    Corolla" in English, with "nuevo"/"new" or "usado"/"used" where said."""
    w = words_for(language)
    name = " ".join(str(car[k]) for k in ("make", "model") if car.get(k))
    year = str(car["year"]) if car.get("year") else ""
    condition = w[car["condition"]] if car.get("condition") in ("new", "used") else ""
    parts = [name, year, condition] if language == "es" else [condition, year, name]
    text = " ".join(p for p in parts if p)
    for key in ("vin", "stock"):
        if car.get(key):
            text = (
                f"{text} ({w[key].format(value=car[key])})"
                if text
                else w[key].format(value=car[key])
            )
    return text


def notes(
    *,
    language: str,
    has_trade_in: bool,
    trade_in_known: bool,
    mode: str,
    skipped: list[str],
    left: bool = False,
) -> str | None:
    """A lead's notes: what a salesperson should know that the fields do not say."""
    w = words_for(language)
    said: list[str] = []
    if has_trade_in and not trade_in_known:
        said.append(w["has_trade_in"])
    if mode in ("after_hours", "no_agents"):
        said.append(w[mode])
    for slot in skipped:
        said.append(w["skipped"].format(what=w[f"s_{slot}"]))
    if left:
        said.append(w["left"])
    return " ".join(said) or None


def summary(lead: Mapping[str, Any], *, language: str, declined_trade_in: bool) -> str:
    """A ticket's text: the lead in a few sentences, for whoever calls back."""
    w = words_for(language)
    who = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k))
    sentence = f"{who or w['someone']} {w[lead.get('interest') or 'other']}"
    if lead.get("vehicle"):
        car = describe_car(lead["vehicle"], language)
        if car:
            sentence += f": {car}"
    lines = [sentence + "."]
    trade_in = lead.get("trade_in")
    if trade_in:
        car = describe_car(trade_in, language)
        if trade_in.get("mileage"):
            car += " " + w["mileage"].format(miles=f"{int(trade_in['mileage']):,}")
        lines.append(w["trade_in"].format(car=car) + ".")
    elif declined_trade_in:
        lines.append(w["no_trade_in"])
    timeframe = lead.get("timeframe")
    if timeframe:
        lines.append(w.get(timeframe) or w["timeframe"].format(value=timeframe))
    for key in ("phone", "email"):
        if lead.get(key):
            lines.append(w[key].format(value=lead[key]))
    if not (lead.get("phone") or lead.get("email")):
        lines.append(w["no_contact"])
    visitor_language = lead.get("language")
    if visitor_language and visitor_language != language and visitor_language in w:
        lines.append(w["language"].format(value=w[visitor_language]))
    if lead.get("notes"):
        lines.append(str(lead["notes"]))
    return " ".join(lines)
