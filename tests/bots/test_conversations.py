"""Scripted conversations with the lead qualifier, in Spanish, English and Spanglish.

Each test is one visitor's chat: what they type, what the bot answers, and what it hands
to the hub (the lead, a hand-off or a ticket). The default script's wording is the
reference, so a test reads like the transcript an agent would see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from bots.base import Handoff, VisitorInfo
from bots.script import default_script, load_script
from bots.testing import TestBot

Make = Callable[..., TestBot]
S = default_script()


DEALER = "Autos Borinquen"  # TestBot's dealer


def es(key: str, **values: str) -> str:
    return S.text(key, "es", **{"dealer": DEALER, **values})


def en(key: str, **values: str) -> str:
    return S.text(key, "en", **{"dealer": DEALER, **values})


# -- all at once and out of order ---------------------------------------------------------


def test_spanish_all_at_once_then_two_short_answers_hand_off_qualified(testbot: Make) -> None:
    bot = testbot()
    assert [es("greeting"), es("ask_trade_in")] == bot.say(
        "Soy Ana, 787-555-0123, me interesa la Tacoma 2022"
    )
    assert [es("ask_timeframe")] == bot.say("No")
    assert [es("handoff", name="Ana")] == bot.say("este mes")
    assert Handoff(reason="qualified", language="es") == bot.handoff
    assert {
        "language": "es",
        "interest": "buy",
        "qualified": True,
        "first_name": "Ana",
        "phone": "+17875550123",
        "timeframe": "this_month",
        "vehicle": {"year": 2022, "make": "Toyota", "model": "Tacoma"},
    } == bot.lead


def test_english_everything_in_one_message_asks_nothing_more(testbot: Make) -> None:
    bot = testbot()
    replies = bot.say(
        "Hi, I'm John Smith, I want to lease a new Honda CR-V this week, no trade-in, "
        "john.smith@example.com"
    )
    assert [en("greeting"), en("handoff", name="John")] == replies
    assert {
        "language": "en",
        "interest": "lease",
        "qualified": True,
        "first_name": "John",
        "last_name": "Smith",
        "email": "john.smith@example.com",
        "timeframe": "this_week",
        "vehicle": {"make": "Honda", "model": "CR-V", "condition": "new"},
    } == bot.lead


def test_spanish_answers_out_of_order_are_kept_and_not_asked_again(testbot: Make) -> None:
    bot = testbot()
    assert [es("greeting"), es("ask_interest")] == bot.say("Buenas tardes")
    # asked for the interest, the visitor gives the name and phone first
    assert [es("ask_interest")] == bot.say("me llamo Carlos Rivera, mi cel es (939) 555-0188")
    assert [es("ask_vehicle")] == bot.say("quiero comprar")
    assert [es("ask_trade_in")] == bot.say("una Kia Sportage 2023 usada")
    assert [es("ask_timeframe")] == bot.say("tengo un Civic 2014 para trade-in con 90,000 millas")
    assert [es("handoff", name="Carlos")] == bot.say("en unos 2 o 3 meses")
    assert {
        "language": "es",
        "interest": "buy",
        "qualified": True,
        "first_name": "Carlos",
        "last_name": "Rivera",
        "phone": "+19395550188",
        "timeframe": "later",
        "vehicle": {"year": 2023, "make": "Kia", "model": "Sportage", "condition": "used"},
        "trade_in": {"year": 2014, "make": "Honda", "model": "Civic", "mileage": 90000},
    } == bot.lead


def test_english_step_by_step_full_flow(testbot: Make) -> None:
    bot = testbot()
    assert [en("greeting"), en("ask_interest")] == bot.say("Hello there, good morning")
    assert [en("ask_vehicle")] == bot.say("I'd like to buy a car")
    assert [en("ask_trade_in")] == bot.say("Camry")
    assert [en("ask_timeframe")] == bot.say("nope")
    assert [en("ask_name")] == bot.say("not sure yet")
    assert [en("ask_contact")] == bot.say("laura")
    assert [en("handoff", name="Laura")] == bot.say("407-555-0199")
    assert {
        "language": "en",
        "interest": "buy",
        "qualified": True,
        "first_name": "Laura",
        "phone": "+14075550199",
        "timeframe": "undecided",
        "vehicle": {"make": "Toyota", "model": "Camry"},
    } == bot.lead


def test_spanish_year_alone_answers_the_vehicle_question(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, quiero comprar una Hilux")
    bot.say("sí")
    bot.say("este mes")
    bot.say("Roberto")
    bot.say("roberto@example.com")
    assert bot.lead is not None
    assert {"make": "Toyota", "model": "Hilux"} == bot.lead["vehicle"]
    other = testbot()
    other.say("quiero comprar")
    assert "vehicle" == other.asked
    assert [es("ask_trade_in")] == other.say("del 2021")
    assert {"year": 2021} == other.last.state["fields"]["vehicle"]


def test_spanglish_all_at_once_is_understood(testbot: Make) -> None:
    bot = testbot()
    replies = bot.say("Hi, soy Pedro, me interesa financiar una RAV4 2024, call me al 787-555-0144")
    assert es("greeting") == replies[0]
    assert es("ask_trade_in") == replies[1]
    assert [es("ask_timeframe")] == bot.say("no, no tengo trade-in")
    assert [es("handoff", name="Pedro")] == bot.say("asap")
    assert {
        "language": "es",
        "interest": "finance",
        "qualified": True,
        "first_name": "Pedro",
        "phone": "+17875550144",
        "timeframe": "now",
        "vehicle": {"year": 2024, "make": "Toyota", "model": "RAV4"},
    } == bot.lead


def test_spanglish_service_visit_skips_the_trade_in_question(testbot: Make) -> None:
    bot = testbot()
    assert [es("greeting"), es("ask_timeframe")] == bot.say(
        "Necesito cita de servicio, oil change para mi Corolla 2017"
    )
    assert [es("ask_name")] == bot.say("next week si es posible")
    assert [es("ask_contact")] == bot.say("Gabriela Torres")
    assert [es("handoff", name="Gabriela")] == bot.say("gaby.torres@gmail.com")
    lead = bot.lead
    assert lead is not None
    assert ("service", "this_week", "gaby.torres@gmail.com") == (
        lead["interest"],
        lead["timeframe"],
        lead["email"],
    )
    assert {"year": 2017, "make": "Toyota", "model": "Corolla"} == lead["vehicle"]


def test_parts_request_with_stock_number_in_english(testbot: Make) -> None:
    bot = testbot()
    assert [en("greeting"), en("ask_timeframe")] == bot.say(
        "Do you have parts for the Nissan Frontier, stock #A9987?"
    )
    bot.say("today")
    bot.say("my name is Mike Lee")
    assert [en("handoff", name="Mike")] == bot.say("mike.lee@example.org")
    assert bot.lead is not None
    assert {"make": "Nissan", "model": "Frontier", "stock": "A9987"} == bot.lead["vehicle"]
    assert "parts" == bot.lead["interest"]


def test_vin_and_visitor_details_from_the_widget_prefill_the_lead(testbot: Make) -> None:
    bot = testbot(visitor=VisitorInfo(name="Sarah Johnson", email="sarah@example.com"))
    replies = bot.say("Is VIN 1HGCM82633A004352 still available? I want to buy it today, no trade")
    assert [en("greeting"), en("handoff", name="Sarah")] == replies
    assert {
        "language": "en",
        "interest": "buy",
        "qualified": True,
        "first_name": "Sarah",
        "last_name": "Johnson",
        "email": "sarah@example.com",
        "timeframe": "now",
        "vehicle": {"vin": "1HGCM82633A004352"},
    } == bot.lead


def test_a_later_model_replaces_the_earlier_one_with_its_make(testbot: Make) -> None:
    bot = testbot()
    bot.say("Busco una Toyota Corolla 2019")
    bot.say("perdón, mejor una Honda Civic")
    assert {"make": "Honda", "model": "Civic"} == bot.last.state["fields"]["vehicle"]


# -- corrections of contact details ----------------------------------------------------------


def test_spanish_invalid_phone_is_corrected(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, soy Luis y quiero comprar una Tacoma, no tengo trade in, este mes")
    assert "contact" == bot.asked
    assert [es("invalid_phone", value="787-555-01")] == bot.say("787-555-01")
    assert "contact" == bot.asked
    assert [es("handoff", name="Luis")] == bot.say("perdón, es 787-555-0123")
    assert bot.lead is not None
    assert "+17875550123" == bot.lead["phone"]


def test_english_invalid_email_is_corrected(testbot: Make) -> None:
    bot = testbot()
    bot.say("I'm Laura, I want to buy a Jeep Wrangler next month, no trade-in")
    assert [en("invalid_email", value="laura@gmail")] == bot.say("laura@gmail")
    assert [en("handoff", name="Laura")] == bot.say("sorry: laura@gmail.com")
    assert bot.lead is not None
    assert "laura@gmail.com" == bot.lead["email"]


def test_a_phone_from_outside_pr_and_the_us_is_refused(testbot: Make) -> None:
    bot = testbot()
    bot.say("I'm Tom, I want to buy a Tacoma next month, no trade-in")
    assert [en("foreign_phone")] == bot.say("+44 20 7946 0958")
    assert None is bot.handoff


def test_spanish_an_email_alone_is_enough_contact(testbot: Make) -> None:
    bot = testbot()
    bot.say("Soy Marta, quiero comprar una Kona este mes, sin trade in")
    assert [es("handoff", name="Marta")] == bot.say("marta@example.com")
    assert bot.lead is not None
    assert "marta@example.com" == bot.lead["email"]


# -- hand-off on request -----------------------------------------------------------------------


def test_spanish_quiero_hablar_con_una_persona_hands_off_at_once(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola")
    assert [es("handoff_requested")] == bot.say("quiero hablar con una persona")
    assert Handoff(reason="requested", language="es") == bot.handoff
    assert None is bot.lead  # no name nor contact yet: nothing to save


def test_english_agent_please_hands_off_with_the_partial_lead(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hi, I'm Sarah, I'm interested in the Grand Cherokee, 321-555-0123")
    assert [en("handoff_requested")] == bot.say("Can I talk to an agent please?")
    assert Handoff(reason="requested", language="en") == bot.handoff
    assert {
        "language": "en",
        "interest": "buy",
        "qualified": True,
        "first_name": "Sarah",
        "phone": "+13215550123",
        "vehicle": {"make": "Jeep", "model": "Grand Cherokee"},
    } == bot.lead


def test_representante_without_accents_or_capitals_hands_off(testbot: Make) -> None:
    bot = testbot()
    bot.say("buenas")
    assert [es("handoff_requested")] == bot.say("REPRESENTANTE por favor")
    assert bot.handoff is not None
    assert "requested" == bot.handoff.reason


def test_human_in_the_first_message_hands_off_in_english(testbot: Make) -> None:
    bot = testbot()
    assert [en("greeting"), en("handoff_requested")] == bot.say("I want to talk to a human")
    assert Handoff(reason="requested", language="en") == bot.handoff


def test_spanglish_pasame_con_un_agent(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, info de la Tacoma please")
    assert [es("handoff_requested")] == bot.say("pásame con un vendedor")
    assert bot.handoff is not None
    assert "requested" == bot.handoff.reason


def test_asking_for_a_person_when_nobody_is_online_takes_contact_then_files_a_ticket(
    testbot: Make,
) -> None:
    bot = testbot(agents_available=False)
    bot.say("Hola")
    assert [es("no_agents"), es("ask_contact")] == bot.say("quiero hablar con un agente")
    assert None is bot.ticket
    assert [es("no_agents_done", name="Ana")] == bot.say("soy Ana, 787-555-0123")
    ticket = bot.ticket
    assert ticket is not None
    assert "no_agents" == ticket.reason
    assert "Teléfono: +17875550123." in ticket.text
    assert None is bot.handoff


def test_only_english_agents_online_means_a_ticket_for_a_spanish_visitor(testbot: Make) -> None:
    bot = TestBot(served_languages=frozenset({"en"}))
    bot.say("Soy Ana Rivera, quiero comprar una Tacoma este mes, no tengo trade in")
    assert [es("no_agents_done", name="Ana")] == bot.say("787-555-0123")
    assert bot.ticket is not None
    assert ("no_agents", None) == (bot.ticket.reason, bot.handoff)
    english = TestBot(served_languages=frozenset({"en"}))
    english.say("I'm Ann Lee, I want to buy a Tacoma this month, no trade-in")
    assert [en("handoff", name="Ann")] == english.say("ann@example.com")


# -- after hours (premium) ---------------------------------------------------------------------

# 2026-11-19 is Puerto Rican Identity Day (a PR holiday), a Thursday: 10:00 in San Juan.
HOLIDAY_MORNING = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)
# Tuesday 2026-11-24 at 22:00 in San Juan.
TUESDAY_NIGHT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def test_spanish_on_a_puerto_rico_holiday_qualifies_and_promises_the_next_opening(
    testbot: Make,
) -> None:
    bot = testbot(now=HOLIDAY_MORNING, agents_available=False)
    opening = "el viernes 20 de noviembre a las 9:00 a. m."
    assert [es("greeting_after_hours", opening=opening), es("ask_trade_in")] == bot.say(
        "Hola, soy Ana, me interesa la Tacoma 2022"
    )
    bot.say("no")
    assert [es("ask_contact")] == bot.say("este mes")
    assert [es("after_hours_done", name="Ana", opening=opening)] == bot.say("787-555-0123")
    ticket = bot.ticket
    assert ticket is not None
    assert "holiday" == ticket.reason
    assert None is bot.handoff
    lead = bot.lead
    assert lead is not None
    assert (True, "+17875550123", "buy") == (lead["qualified"], lead["phone"], lead["interest"])
    assert "fuera de horario" in lead["notes"]  # in the tenant's language (Spanish first)


def test_english_weeknight_promises_tomorrow_morning_in_english_format(testbot: Make) -> None:
    bot = testbot(now=TUESDAY_NIGHT, agents_available=False)
    opening = "on Wednesday, November 25 at 9:00 AM"
    replies = bot.say("Hi, I need a service appointment for my F-150 tomorrow")
    assert en("greeting_after_hours", opening=opening) == replies[0]
    bot.say("I'm Mike")
    assert [en("after_hours_done", name="Mike", opening=opening)] == bot.say("mike@example.com")
    assert bot.ticket is not None
    assert "after_hours" == bot.ticket.reason


def test_after_hours_request_for_a_person_asks_for_contact_then_files_a_ticket(
    testbot: Make,
) -> None:
    bot = testbot(now=HOLIDAY_MORNING, agents_available=False)
    opening = "el viernes 20 de noviembre a las 9:00 a. m."
    bot.say("Hola")
    assert [es("after_hours_contact_needed", opening=opening)] == bot.say(
        "quiero hablar con una persona"
    )
    assert [f"¡Gracias! Un asesor le llamará {opening} ¡Que tenga un buen día!"] == bot.say(
        "787-555-0177"
    )
    assert bot.ticket is not None
    assert "holiday" == bot.ticket.reason
    assert None is bot.lead  # a phone but no name: not a lead, the ticket holds it


def test_christmas_on_a_friday_promises_saturday_morning(testbot: Make) -> None:
    bot = testbot(now=datetime(2026, 12, 25, 16, 0, tzinfo=UTC))
    replies = bot.say("Hola, busco una guagua")
    assert (
        es("greeting_after_hours", opening="el sábado 26 de diciembre a las 9:00 a. m.")
        == replies[0]
    )


def test_below_premium_the_bot_never_promises_a_callback(testbot: Make) -> None:
    # the hub gives such visitors the offline form; if a closed-hours chat reaches the bot
    # anyway it must not promise what the plan does not include
    bot = testbot(plan="proactive", now=HOLIDAY_MORNING)
    assert [es("greeting"), es("ask_vehicle")] == bot.say("Hola, quiero comprar")


# -- FAQ ---------------------------------------------------------------------------------------


def test_spanish_faq_hit_answers_and_goes_back_to_the_question(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, quiero comprar")
    answer = S.faq[0].answers["es"]
    assert [answer, es("ask_vehicle")] == bot.say("¿a qué hora abren?")
    assert 0 == bot.last.state["misses"]


def test_english_faq_hit_with_a_typo(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hi, I want to buy a Camry")
    assert [S.faq[1].answers["en"], en("ask_trade_in")] == bot.say("where r u located?")


def test_faq_in_the_first_message(testbot: Make) -> None:
    bot = testbot()
    assert [en("greeting"), S.faq[2].answers["en"], en("ask_interest")] == bot.say(
        "Do you accept trade-ins?"
    )


def test_faq_miss_goes_on_with_the_flow(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola")
    # a trade-in answer must not be mistaken for the "do you accept trade-ins" question
    assert [es("ask_interest")] == bot.say("quiero hacer trade in")
    # asked twice already: the interest is left, never asked a third time
    assert [es("not_understood"), es("ask_vehicle")] == bot.say("¿tienen café?")


# -- the no-loop rule --------------------------------------------------------------------------


def test_spanish_two_turns_not_understood_hand_off(testbot: Make) -> None:
    bot = testbot()
    bot.say("hola")
    assert [es("not_understood"), es("ask_interest_again")] == bot.say("blablabla")
    assert None is bot.handoff
    assert [es("not_understood"), es("handoff_requested")] == bot.say("xyz")
    assert Handoff(reason="not_understood", language="es") == bot.handoff


def test_english_not_understood_with_nobody_online_files_a_ticket(testbot: Make) -> None:
    bot = testbot(agents_available=False)
    bot.say("hi there, my name is Ann and my email is ann@example.com")
    bot.say("qwerty")
    assert [en("not_understood"), en("no_agents_done", name="Ann")] == bot.say("asdfgh")
    assert bot.ticket is not None
    assert "no_agents" == bot.ticket.reason
    assert bot.lead is not None
    assert "ann@example.com" == bot.lead["email"]
    assert False is bot.lead["qualified"]


def test_an_understood_answer_resets_the_miss_count(testbot: Make) -> None:
    bot = testbot()
    bot.say("hola")
    bot.say("???")
    bot.say("quiero comprar")
    assert [es("not_understood"), es("ask_vehicle_again")] == bot.say("hmm")
    assert None is bot.handoff


def test_a_long_chat_ends_in_a_hand_off_even_when_each_turn_is_understood(
    testbot: Make,
) -> None:
    bot = testbot()
    bot.say("hola")
    for _ in range(S.settings.max_turns):
        if bot.handoff:
            break
        bot.say("¿a qué hora abren?")
    assert Handoff(reason="not_understood", language="es") == bot.handoff


# -- language ----------------------------------------------------------------------------------


def test_unclear_language_falls_back_to_the_browser_language(testbot: Make) -> None:
    # lingua is not confident about "hello" between Spanish and English
    bot = testbot(browser_language="en-US")
    assert [en("greeting"), en("ask_interest")] == bot.say("hello")


def test_unclear_language_without_a_browser_hint_uses_the_primary_one(testbot: Make) -> None:
    assert [es("greeting"), es("ask_interest")] == testbot().say("👋")
    english_first = testbot(languages=("en", "es"))
    assert [en("greeting"), en("ask_interest")] == english_first.say("info")


def test_confident_detection_beats_the_browser_language(testbot: Make) -> None:
    bot = testbot(browser_language="en")
    assert es("greeting") == bot.say("Buenas tardes, estoy buscando una guagua para mi familia")[0]


def test_switching_language_mid_chat_is_followed(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, quiero comprar")
    assert [en("ask_trade_in")] == bot.say("Sorry, can we continue in English? A Toyota Tacoma")


# -- names ---------------------------------------------------------------------------------


def test_repeating_the_first_name_keeps_the_surname_from_the_widget(testbot: Make) -> None:
    bot = testbot(visitor=VisitorInfo(name="Sarah Johnson", phone="+13215550123"))
    bot.say("Hi, I'm Sarah, I want to buy a Camry today, no trade-in")
    assert bot.lead is not None
    assert ("Sarah", "Johnson") == (bot.lead["first_name"], bot.lead["last_name"])


def test_a_different_first_name_drops_the_old_surname(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, me llamo Carlos Rivera")
    bot.say("perdón, escribo por mi esposa, mi nombre es Marta")
    fields = bot.last.state["fields"]
    assert ("Marta", None) == (fields["first_name"], fields.get("last_name"))


def test_una_persona_inside_a_sentence_is_not_a_hand_off_request(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola")
    assert [es("ask_vehicle")] == bot.say("Busco una guagua para una persona mayor, comprar")
    assert None is bot.handoff


# -- the visitor leaves ------------------------------------------------------------------------


def test_a_visitor_who_leaves_after_giving_name_and_phone_is_still_a_lead(testbot: Make) -> None:
    bot = testbot()
    bot.say("Soy Ana, 787-555-0123, me interesa la Tacoma 2022")
    kept = bot.bot.on_leave(replace(bot.context, state=bot.last.state))
    assert {
        "language": "es",
        "interest": "buy",
        "qualified": True,
        "first_name": "Ana",
        "phone": "+17875550123",
        "vehicle": {"year": 2022, "make": "Toyota", "model": "Tacoma"},
        "notes": "El visitante se fue antes de hablar con un asesor.",
    } == kept.lead
    assert (None, None) == (kept.handoff, kept.ticket)


def test_a_visitor_who_leaves_without_contact_details_leaves_no_lead(testbot: Make) -> None:
    bot = testbot()
    bot.say("Hola, quiero comprar una Tacoma")
    assert None is bot.bot.on_leave(replace(bot.context, state=bot.last.state)).lead


# -- a tenant's own script -----------------------------------------------------------------------


def test_a_tenants_script_changes_the_questions_the_faq_and_the_patience(testbot: Make) -> None:
    data = S.to_data()
    data["flow"] = ["interest", "name", "contact"]
    data["settings"]["max_misses"] = 1
    data["messages"]["ask_name"] = {
        "es": "¿Con quién tengo el gusto?",
        "en": "Who am I talking to?",
    }
    data["faq"] = [
        {
            "id": "warranty",
            "questions": {"es": ["cuánto dura la garantía"], "en": ["how long is the warranty"]},
            "answers": {"es": "La garantía es de 5 años.", "en": "The warranty is 5 years."},
        }
    ]
    script = load_script(data)
    bot = testbot(script=script)
    assert [es("greeting"), "¿Con quién tengo el gusto?"] == bot.say("Hola, quiero comprar")
    assert ["La garantía es de 5 años.", "¿Con quién tengo el gusto?"] == bot.say(
        "¿cuánto dura la garantía?"
    )
    assert [es("not_understood"), es("handoff_requested")] == bot.say("???")
    assert bot.handoff is not None
    assert "not_understood" == bot.handoff.reason


def test_contact_details_with_a_few_spanish_words_do_not_switch_to_english(
    testbot: Make,
) -> None:
    bot = testbot()
    assert [es("greeting"), es("ask_trade_in")] == bot.say("Hola, me interesa comprar la Tacoma")
    # names, a phone and an e-mail outweigh "este mes" for a detector: they are not evidence
    assert [es("ask_trade_in")] == bot.say(
        "Soy Ana Rivera, 787-555-0123, ana@example.com, este mes"
    )
    assert [es("handoff", name="Ana")] == bot.say("No")
    assert bot.lead is not None
    assert ("es", "+17875550123", "this_month") == (
        bot.lead["language"],
        bot.lead["phone"],
        bot.lead["timeframe"],
    )
