"""The qualifier understands visitors as they write (issue: "a bot that understands
visitors"): the question just asked frames the answer, corrections replace, nothing is
asked a third time, bad input gets a clear question back, and what it writes for the
dealer's staff is sentences in the tenant's language.

Each test is one visitor's chat through `TestBot`, in the default script's words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bots.base import BotResult
from bots.script import default_script
from bots.testing import TestBot

Make = Callable[..., TestBot]
S = default_script()
DEALER = "Autos Borinquen"


def es(key: str, **values: str) -> str:
    return S.text(key, "es", **{"dealer": DEALER, **values})


def en(key: str, **values: str) -> str:
    return S.text(key, "en", **{"dealer": DEALER, **values})


def questions(bot: TestBot) -> Counter[str]:
    """How often each of the flow's questions was asked (first and second wording)."""
    asked: Counter[str] = Counter()
    for result in bot.results:
        for reply in result.replies:
            for key, texts in S.messages.items():
                if key.startswith("ask_") and reply in texts.values():
                    asked[key.removesuffix("_again")] += 1
    return asked


# -- the question just asked frames the answer --------------------------------------------------


def test_english_a_car_in_answer_to_the_trade_in_question_is_the_trade_in(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hi, I want to buy a Honda CR-V")
    assert [en("ask_timeframe")] == bot.say("I have a 2015 Corolla with 90,000 miles")
    assert [en("ask_name")] == bot.say("This week")
    assert [en("ask_contact")] == bot.say("Luis Perez")
    assert [en("handoff", name="Luis")] == bot.say("787-555-0199")
    assert bot.lead is not None
    assert {"make": "Honda", "model": "CR-V"} == bot.lead["vehicle"]
    assert {"year": 2015, "make": "Toyota", "model": "Corolla", "mileage": 90000} == (
        bot.lead["trade_in"]
    )
    assert ("Luis", "Perez", "this_week") == (
        bot.lead["first_name"],
        bot.lead["last_name"],
        bot.lead["timeframe"],
    )
    assert "notes" not in bot.lead


def test_spanish_a_car_in_answer_to_the_trade_in_question_is_the_trade_in(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, quiero comprar una Honda CR-V")
    assert [es("ask_timeframe")] == bot.say("Tengo un Corolla 2015 con 90,000 millas")
    bot.say("esta semana")
    bot.say("Luis Pérez Rivera")
    bot.say("787-555-0199")
    assert bot.lead is not None
    assert ("CR-V", "Corolla", 90000) == (
        bot.lead["vehicle"]["model"],
        bot.lead["trade_in"]["model"],
        bot.lead["trade_in"]["mileage"],
    )
    assert ("Luis", "Pérez Rivera") == (bot.lead["first_name"], bot.lead["last_name"])


def test_yes_and_a_car_keeps_the_wanted_vehicle(testbot: Make) -> None:
    bot = testbot()
    bot.say("I want to buy a Honda CR-V")
    bot.say("Yes, a 2015 Toyota Corolla with 90,000 miles")
    bot.say("this week, I'm Luis Perez, 787-555-0199")
    assert bot.lead is not None
    assert "CR-V" == bot.lead["vehicle"]["model"]
    assert "Corolla" == bot.lead["trade_in"]["model"]
    assert "no details" not in bot.lead.get("notes", "")


@pytest.mark.parametrize("answer", ["no", "No, ninguno", "nope", "no tengo", "No trade"])
def test_no_to_the_trade_in_question_means_none(testbot: Make, answer: str) -> None:
    bot = testbot()
    bot.say("Quiero comprar una Kia Sportage")
    assert [es("ask_timeframe")] == bot.say(answer)
    assert False is bot.last.state["fields"]["has_trade_in"]


def test_a_bare_year_after_the_vehicle_question_is_its_year(testbot: Make) -> None:
    bot = testbot()
    bot.say("quiero comprar")
    bot.say("2022")
    assert {"year": 2022} == bot.last.state["fields"]["vehicle"]


@pytest.mark.parametrize(
    ("answer", "mileage"),
    [
        ("un Civic 2014, 90k", 90000),
        ("un Civic 2014 con 90,000 millas", 90000),
        ("un Civic 2014, tiene 90 mil", 90000),
        ("my 2014 Civic, like 110k miles", 110000),
    ],
)
def test_mileage_as_visitors_write_it(testbot: Make, answer: str, mileage: int) -> None:
    bot = testbot()
    bot.say("quiero comprar una Tucson")
    bot.say(answer)
    assert {"year": 2014, "make": "Honda", "model": "Civic", "mileage": mileage} == (
        bot.last.state["fields"]["trade_in"]
    )


def test_service_mileage_is_not_a_trade_in(testbot: Make) -> None:
    bot = testbot()
    bot.say("Quiero sacar cita para el mantenimiento de las 30 mil millas")
    bot.say("Mazda CX-30 2022")
    fields = bot.last.state["fields"]
    assert ("service", {"year": 2022, "make": "Mazda", "model": "CX-30"}) == (
        fields["interest"],
        fields["vehicle"],
    )
    assert "trade_in" not in fields


# -- corrections ---------------------------------------------------------------------------


def test_a_corrected_phone_replaces_the_first(testbot: Make) -> None:
    bot = testbot()
    bot.say("Soy Ana Rivera, 787-555-0191, quiero comprar una Tacoma, no tengo trade-in")
    bot.say("no, perdón, el número es 939-555-0123. Y este mes")
    assert bot.lead is not None
    assert "+19395550123" == bot.lead["phone"]


def test_mejor_una_tucson_replaces_the_wanted_vehicle_and_not_the_trade_in(testbot: Make) -> None:
    bot = testbot()
    bot.say("Quiero comprar una Santa Fe 2022")
    bot.say("tengo un Corolla 2015")
    bot.say("mejor una Tucson")
    fields = bot.last.state["fields"]
    assert {"make": "Hyundai", "model": "Tucson"} == fields["vehicle"]
    assert {"year": 2015, "make": "Toyota", "model": "Corolla"} == fields["trade_in"]


def test_the_trade_in_never_replaces_the_wanted_vehicle(testbot: Make) -> None:
    bot = testbot()
    bot.say("I want to buy a 2025 Honda CR-V")
    bot.say("my 2016 Civic")
    bot.say("this week. My Civic has 80k miles by the way")
    fields = bot.last.state["fields"]
    assert ("CR-V", 2025) == (fields["vehicle"]["model"], fields["vehicle"]["year"])
    assert {"year": 2016, "make": "Honda", "model": "Civic", "mileage": 80000} == (
        fields["trade_in"]
    )


# -- never a loop ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening",
    ["Hola", "Quiero comprar", "Quiero comprar una Tacoma", "Soy Ana, quiero una Tacoma"],
)
def test_no_question_is_asked_a_third_time(opening: str) -> None:
    """Whatever the visitor writes that the bot does not understand, with a person free or
    not, every question is asked at most twice and the chat ends."""
    for agents in (True, False):
        bot = TestBot(agents_available=agents)
        bot.say(opening)
        for _ in range(20):
            if bot.last.state.get("done"):
                break
            bot.say("🤷")
        assert bot.last.state.get("done"), bot.results[-1].replies
        assert max(questions(bot).values()) <= 2, questions(bot)


def test_a_question_not_understood_is_asked_again_with_an_example_then_left(
    testbot: Make,
) -> None:
    bot = testbot()
    bot.say("Hola, soy Ana, 787-555-0123, quiero comprar una Tacoma")
    assert [es("ask_timeframe")] == bot.say("no tengo")
    assert [es("not_understood"), es("ask_timeframe_again")] == bot.say("el azul")
    # understood something else, the timeframe is left (noted), and the chat goes on
    assert [es("handoff", name="Ana")] == bot.say("una Tacoma roja por favor")
    assert bot.lead is not None
    assert "no entendió para cuándo lo quiere" in bot.lead["notes"]


def test_a_name_not_understood_twice_goes_to_a_person(testbot: Make) -> None:
    bot = testbot()
    bot.say("Quiero comprar una Tacoma este mes, no tengo trade-in")
    bot.say("?")
    assert [es("not_understood"), es("handoff_requested")] == bot.say("?!")
    assert bot.handoff is not None
    assert "not_understood" == bot.handoff.reason


def test_a_lead_is_saved_whatever_the_bot_did_not_understand(testbot: Make) -> None:
    bot = testbot(agents_available=False)
    bot.say("hola")
    bot.say("🙂")
    bot.say("🙂")  # the interest is left
    bot.say("Soy Ana Rivera")
    bot.say("787-555-0123")
    for _ in range(10):
        if bot.last.state.get("done"):
            break
        bot.say("...")
    assert bot.lead is not None
    assert ("Ana", "+17875550123") == (bot.lead["first_name"], bot.lead["phone"])
    assert bot.ticket is not None


# -- the bot speaks as the dealer ----------------------------------------------------------


def test_the_greeting_names_the_dealer(testbot: Make) -> None:
    assert es("greeting") == testbot().say("Hola")[0]
    assert "Autos Borinquen" in es("greeting")


def test_an_accepted_invitation_is_greeted_at_once(testbot: Make) -> None:
    bot = testbot(browser_language="en")
    assert (en("greeting"), en("ask_interest")) == bot.open().replies
    assert [en("ask_vehicle")] == bot.say("I'd like to buy")


def test_the_ticket_reads_as_sentences_in_the_tenants_language(testbot: Make) -> None:
    bot = testbot(agents_available=False)
    bot.say("I want to buy a 2023 Honda CR-V, I have a 2015 Corolla with 90k miles, this month")
    bot.say("Luis Perez, 787-555-0199")
    ticket = bot.ticket
    assert ticket is not None
    assert (
        "Luis Perez quiere comprar: Honda CR-V 2023. Entregaría Toyota Corolla 2015 con "
        "90,000 millas. Lo quiere este mes. Teléfono: +17875550199. Escribió en inglés."
    ) in ticket.text
    assert not re.search(r"[{}\[\]_]|True|False|'year'", ticket.text)


def test_an_english_tenant_reads_its_notes_in_english(testbot: Make) -> None:
    bot = testbot(languages=("en", "es"), agents_available=False)
    bot.say("Quiero comprar una Tacoma, tengo trade-in, este mes")
    bot.say("Ana Rivera, 787-555-0123")
    assert bot.lead is not None
    assert bot.lead["notes"].startswith("Has a trade-in (no details given).")
    assert bot.ticket is not None
    assert bot.ticket.text.startswith("Ana Rivera wants to buy: Toyota Tacoma.")


# -- an honest night -----------------------------------------------------------------------


def test_with_nobody_online_the_first_line_says_so(testbot: Make) -> None:
    bot = testbot(agents_available=False)
    assert es("greeting_no_agents") == bot.say("Hola, quiero una Tacoma")[0]
    assert "no hay asesores disponibles" in es("greeting_no_agents")


def test_after_hours_the_first_line_promises_a_callback(testbot: Make) -> None:
    sunday_night = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Sunday 22:00 in San Juan
    bot = testbot(now=sunday_night, agents_available=False)
    first = bot.say("Hi, I want a Tacoma")[0]
    assert en("greeting_after_hours", opening="on Monday, November 30 at 9:00 AM") == first


# -- bad input -----------------------------------------------------------------------------


def replies_in(result: BotResult, language: str) -> bool:
    texts = {t.get(language) for t in S.messages.values()}
    return all(reply in texts for reply in result.replies)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Hola, quiero comprar. " + "bla " * 1000, None),
        ("😀😀😀", "not_understood"),
        ("https://autosborinquen.example/inventario/2024-toyota-tacoma", "link"),
    ],
)
def test_bad_input_gets_a_clear_question_in_the_visitors_language(
    testbot: Make, text: str, key: str | None
) -> None:
    bot = testbot()
    bot.say("Hola, buenas tardes")
    result = bot.push(text)
    assert replies_in(result, "es"), result.replies
    if key is not None:
        assert es(key) in result.replies
    assert result.replies[-1].startswith("¿")  # a question back


def test_a_foreign_phone_is_refused_with_a_reason(testbot: Make) -> None:
    bot = testbot()
    bot.say("Soy Ana, quiero comprar una Tacoma este mes, no tengo trade-in")
    assert [es("foreign_phone")] == bot.say("+52 55 1234 5678")
    assert "phone" not in bot.last.state["fields"]
    assert [es("handoff", name="Ana")] == bot.say("787-555-0123")


def test_an_address_at_a_misspelt_provider_is_questioned(testbot: Make) -> None:
    bot = testbot()
    bot.say("I'm Ann, I want to buy a Tacoma this month, no trade-in")
    assert [en("email_typo", value="ann@gmial.com", suggestion="ann@gmail.com")] == bot.say(
        "ann@gmial.com"
    )
    assert [en("handoff", name="Ann")] == bot.say("ann@gmail.com")
    assert bot.lead is not None
    assert "ann@gmail.com" == bot.lead["email"]


def test_a_bad_contact_twice_is_not_asked_a_third_time(testbot: Make) -> None:
    bot = testbot()
    bot.say("I'm Ann, I want to buy a Tacoma this month, no trade-in")
    bot.say("787-555-01")
    bot.say("787-555-02")
    assert bot.handoff is not None
    assert bot.lead is None  # no impossible phone is ever saved


def test_spanglish_stays_in_spanish(testbot: Make) -> None:
    bot = testbot()
    bot.say("Buenas! Ando buscando una Chevrolet Trax 2025")
    bot.say("Tengo un Honda Fit 2010 pa' entregar")
    assert [es("ask_name")] == bot.say("this week si puedo")


# -- language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "language"),
    [("Hello", "en"), ("hello, i want to buy a car", "en"), ("Hola", "es"), ("buenas", "es")],
)
def test_a_short_opening_is_answered_in_its_language(
    opening: str, language: str, testbot: Make
) -> None:
    bot = testbot(browser_language="es" if language == "en" else "en")
    assert S.text("greeting", language, dealer=DEALER) == bot.say(opening)[0]


def test_a_spanish_timeframe_in_an_english_chat_does_not_switch(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hey, I wanna lease a Mazda CX-50 2025")
    bot.say("nope, no trade")
    assert [en("ask_name")] == bot.say("como en dos semanas")


def test_asking_for_a_language_switches_at_once(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, quiero comprar una Tacoma")
    assert [en("ask_trade_in")] == bot.say("english please")


# -- after the hand-off --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "changes"),
    [
        ("wait, wrong number, it's 787-555-0192", {"phone": "+17875550192"}),
        ("sorry, last 4 are 0132 not 0135", {"phone": "+17875550132"}),
        ("ay perdón, es ana.rivera@example.com", {"email": "ana.rivera@example.com"}),
        ("gracias!", None),
        ("mi cel es 787-555-0135", None),  # the same number: nothing to correct
    ],
)
def test_a_correction_after_the_hand_off(text: str, changes: dict[str, str] | None) -> None:
    lead = {"first_name": "Ana", "phone": "+17875550135", "email": "ana@example.com"}
    corrected = TestBot().bot.correct(text, lead)
    assert (None if changes is None else {**lead, **changes}) == corrected


@pytest.mark.parametrize(
    ("text", "interest", "model"),
    [
        ("Saludos, quisiera ver precios de la tacona 2025", "buy", "Tacoma"),
        ("hey, any Silverados on the lot?", "buy", "Silverado"),
        ("Good evening, I'm after a 2025 Crosstrek", "buy", "Crosstrek"),
        ("Hola, estoy buscando una Santa Cruz, preferiblemente en azul", "buy", "Santa Cruz"),
    ],
)
def test_a_car_named_with_no_other_purpose_is_a_purchase(
    testbot: Make, text: str, interest: str, model: str
) -> None:
    bot = testbot()
    bot.say(text)
    fields = bot.last.state["fields"]
    assert (interest, model) == (fields["interest"], fields["vehicle"]["model"])


def test_a_question_about_trade_ins_is_not_a_trade_in(testbot: Make) -> None:
    bot = testbot()
    bot.say("busco una guagua, estoy mirando la Santa Fe")
    assert [S.faq[2].answers["es"], es("ask_trade_in")] == bot.say("aceptan trade-in?")
    bot.say("sí, una Pathfinder del 2014")
    assert {"year": 2014, "make": "Nissan", "model": "Pathfinder"} == (
        bot.last.state["fields"]["trade_in"]
    )


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("una Tucson del 19", 2019),
        ("busco una Tacoma 22", 2022),
        ("una CX-30 del 21", 2021),
        ("aros de 18 pulgadas para mi Corolla", None),
    ],
)
def test_a_two_digit_year_beside_the_car(testbot: Make, text: str, year: int | None) -> None:
    bot = testbot()
    bot.say(text)
    assert year == bot.last.state["fields"]["vehicle"].get("year")


@pytest.mark.parametrize(
    ("text", "interest"),
    [
        ("Hi, I need to order brake pads.", "parts"),
        ("¿Tienen disponible un filtro de aire acondicionado?", "parts"),
        ("Necesito que me revisen los frenos, hacen un ruido.", "service"),
        ("my brakes are squeaking", "service"),
        ("Deseo adquirir una camioneta GMC Sierra 1500", "buy"),
    ],
)
def test_parts_service_and_purchase_told_apart(testbot: Make, text: str, interest: str) -> None:
    bot = testbot()
    bot.say(text)
    assert interest == bot.last.state["fields"]["interest"]


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("Un Lexus RX 350 del 2015", "RX 350"),
        ("A Mercedes GLC 300, 2025 model", "GLC 300"),
        ("un BMW 330i", "330i"),
        ("una GMC Sierra 1500", "Sierra 1500"),
        ("una Ford F150", "F-150"),
        ("una Ram 1500", "1500"),
    ],
)
def test_a_model_keeps_the_number_the_visitor_gave(testbot: Make, text: str, model: str) -> None:
    bot = testbot()
    bot.say(text)
    assert model == bot.last.state["fields"]["vehicle"]["model"]


@pytest.mark.parametrize(
    ("answer", "first", "last"),
    [
        ("Sra. Nilda Rosario", "Nilda", "Rosario"),
        ("Dale Thibodeaux", "Dale", "Thibodeaux"),
        ("Nombre: José Luis. Apellidos: Ocasio Meléndez.", "José Luis", "Ocasio Meléndez"),
        ("Sean O'Neill", "Sean", "O'Neill"),
        ("Catherine Beaumont-Ruiz", "Catherine", "Beaumont-Ruiz"),
        ("Ana R.", "Ana", "R."),  # an initial keeps its dot
        ("A. Rivera", "A.", "Rivera"),
        ("M. Figueroa", "M.", "Figueroa"),
        ("Cintrón, Wilfredo", "Wilfredo", "Cintrón"),  # surname first
        ("Roberto 'Bobby' Santana", "Roberto", "Santana"),  # a nickname is no name
    ],
)
def test_names_as_people_write_them(testbot: Make, answer: str, first: str, last: str) -> None:
    bot = testbot()
    bot.say("Quiero comprar una Tacoma este mes, no tengo trade-in")
    bot.say(answer)
    fields = bot.last.state["fields"]
    assert (first, last) == (fields["first_name"], fields.get("last_name"))


@pytest.mark.parametrize(
    ("answer", "timeframe"),
    [
        ("As soon as possible.", "now"),
        ("idk todavía", "undecided"),
        ("No rush, probably in several months.", "later"),
        ("no es urgente, en un par de semanas", "this_month"),
    ],
)
def test_timeframes_as_people_write_them(testbot: Make, answer: str, timeframe: str) -> None:
    bot = testbot()
    bot.say("I want to buy a Tacoma, no trade-in")
    bot.say(answer)
    assert timeframe == bot.last.state["fields"]["timeframe"]


def test_a_two_digit_year_before_the_car_and_a_condition_in_slang(testbot: Make) -> None:
    bot = testbot()
    bot.say("quiero una toyota tacoma de paquete")
    bot.say("We have a '14 Subaru Outback, it's at about 120k")
    fields = bot.last.state["fields"]
    assert "new" == fields["vehicle"]["condition"]
    assert {"year": 2014, "make": "Subaru", "model": "Outback", "mileage": 120000} == (
        fields["trade_in"]
    )


@pytest.mark.parametrize(
    ("opening", "interest"),
    [
        ("Hola, el aire de mi carro no enfría", "service"),
        ("bns nchs, necesito alineación y balanceo", "service"),
        ("Hi! quiero hacer trade in de mi Corolla 2016 for a new Camry", "buy"),
    ],
)
def test_own_car_talk_is_not_a_purchase_unless_traded(
    testbot: Make, opening: str, interest: str
) -> None:
    bot = testbot()
    bot.say(opening)
    bot.say("es un Accord 2015")
    assert interest == bot.last.state["fields"]["interest"]


@pytest.mark.parametrize(
    ("opening", "interest"),
    [
        ("I wanna buy a car pero estoy worried about getting approved", "buy"),
        ("Do you guys do financing for people with bad credit?", "finance"),
        ("Necesito comprar otro carro ya, el mecánico dice que la transmisión no sirve", "buy"),
        ("Buenas, soy retirado y quiero comprarme un carro más cómodo", "buy"),
    ],
)
def test_a_verb_of_buying_outweighs_worries_and_breakdowns(
    testbot: Make, opening: str, interest: str
) -> None:
    bot = testbot()
    bot.say(opening)
    fields = bot.last.state["fields"]
    assert interest == fields["interest"]
    assert "first_name" not in fields  # "soy retirado" is no name


@pytest.mark.parametrize(
    "said", ["Un Toyota Corolla, nuevo o usado me da igual", "a Kia Forte, doesn't have to be new"]
)
def test_either_condition_is_no_condition(testbot: Make, said: str) -> None:
    bot = testbot()
    bot.say("Quiero comprar")
    bot.say(said)
    assert "condition" not in bot.last.state["fields"]["vehicle"]
