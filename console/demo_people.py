"""Who the demo's past visitors are: Puerto Rican names (a given name and both surnames, as
people there sign), phones in 787 and 939, and e-mail addresses, so that History's search
by phone, e-mail or name finds something on first look.

The numbers are the 555-0100 to 555-0199 block of each area code, which the North American
numbering plan keeps for fiction: a demo never shows a real person's number. The addresses
are at `.example` domains, which never deliver.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

GIVEN = (
    "Carmen", "María", "Ana", "Luz", "Gloria", "Marisol", "Yamilet", "Nilda", "Zoraida",
    "Glorimar", "Keishla", "Yesenia", "Coralys", "Natalia", "Sofía", "Valeria", "Gabriela",
    "Ivelisse", "Migdalia", "Brenda", "José", "Luis", "Carlos", "Juan", "Miguel", "Ángel",
    "Héctor", "Edwin", "Wilfredo", "Raúl", "Jorge", "Ramón", "Javier", "Xavier", "Yadiel",
    "Joel", "Kelvin", "Jean Carlos", "Luis Ángel", "José Manuel", "Andrés", "Gustavo",
)  # fmt: skip
SURNAMES = (
    "Rivera", "Rodríguez", "Santiago", "Colón", "Torres", "Ortiz", "Cruz", "Díaz", "Pérez",
    "Rosario", "González", "Vázquez", "Ramos", "Morales", "Reyes", "Figueroa", "Hernández",
    "Martínez", "Maldonado", "Meléndez", "Negrón", "Cintrón", "Rosa", "Ayala", "Quiñones",
    "Acevedo", "Irizarry", "Feliciano", "Marrero", "Pagán", "Nieves", "Báez", "Alicea",
    "Velázquez", "Matos", "Serrano", "Burgos", "Lugo", "Otero", "Caraballo",
)  # fmt: skip
DOMAINS = ("correo.example", "isla.example", "mail.example", "boricua.example")
AREA_CODES = ("787", "939")


@dataclass(frozen=True)
class Person:
    name: str
    phone: str  # E.164, as the pre-chat form stores it
    email: str


def fictional_phones() -> list[str]:
    """The 200 numbers a demo may show: 555-0100 to 555-0199 in 787 and 939."""
    return [f"+1{area}55501{n:02d}" for area in AREA_CODES for n in range(100)]


def person(rng: random.Random, phone: str) -> Person:
    """Someone with `phone`: one or two given names' worth, both surnames, and an address
    made of them ("Carmen Rivera Ortiz", carmen.rivera23@isla.example)."""
    given = rng.choice(GIVEN)
    father, mother = rng.sample(SURNAMES, 2)
    local = f"{_plain(given.split()[0])}.{_plain(father)}"
    if rng.random() < 0.5:
        local += str(rng.randint(1, 99))
    return Person(f"{given} {father} {mother}", phone, f"{local}@{rng.choice(DOMAINS)}")


def demo_people(rng: random.Random) -> list[Person]:
    """One person for each fictional number, in a shuffled order."""
    phones = fictional_phones()
    rng.shuffle(phones)
    return [person(rng, phone) for phone in phones]


def _plain(word: str) -> str:
    bare = unicodedata.normalize("NFKD", word)
    return "".join(c for c in bare if not unicodedata.combining(c)).lower()
