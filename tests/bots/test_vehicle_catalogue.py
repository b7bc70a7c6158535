"""The vehicle catalogue (bots/qualifier/vehicles.yaml), read through
bots/qualifier/vehicles.py: every spelling names one model, none is a bare number or a
short word on its own, and sample messages name the vehicle a dealer would read in them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bots.qualifier import vehicles
from bots.qualifier.data import load
from bots.qualifier.extract import extract
from bots.qualifier.vehicles import AMBIGUOUS_MODELS, MAKES, MODELS
from bots.text import fold

MODEL_SPELLINGS = [
    (spelling, model) for model, (_, spellings) in MODELS.items() for spelling in spellings
]
MAKE_SPELLINGS = [(spelling, make) for make, spellings in MAKES.items() for spelling in spellings]


def _repeated_keys(node: yaml.Node) -> list[str]:
    """Keys written twice in one mapping of the file, which YAML would silently merge."""
    repeated: list[str] = []
    if isinstance(node, yaml.MappingNode):
        keys = Counter(str(key.value) for key, _ in node.value)
        repeated += [key for key, count in keys.items() if count > 1]
        for _, value in node.value:
            repeated += _repeated_keys(value)
    return repeated


def test_the_file_names_no_make_or_model_twice() -> None:
    path = Path(vehicles.__file__).with_name("vehicles.yaml")
    root = yaml.compose(path.read_text(encoding="utf-8"))
    assert root is not None
    assert _repeated_keys(root) == []


def test_every_model_is_listed_under_one_make_only() -> None:
    # MODELS is keyed by model name: a name listed under two makes would keep only one
    by_make = load("vehicles.yaml")["models"]
    listed = Counter(model for models in by_make.values() for model in models)
    assert [model for model, count in listed.items() if count > 1] == []
    assert sum(listed.values()) == len(MODELS)
    assert {make for make, _ in MODELS.values()} <= set(MAKES)


def test_no_spelling_names_two_models_or_two_makes() -> None:
    for table in (MODEL_SPELLINGS, MAKE_SPELLINGS):
        owners: dict[str, set[str]] = {}
        for spelling, name in table:
            owners.setdefault(spelling, set()).add(name)
        assert {s: names for s, names in owners.items() if len(names) > 1} == {}
    # a model's spelling may repeat its make's ("mini cooper"), not another make's
    make_of = dict(MAKE_SPELLINGS)
    assert [
        (spelling, model)
        for spelling, model in MODEL_SPELLINGS
        if make_of.get(spelling, MODELS[model][0]) != MODELS[model][0]
    ] == []


def test_spellings_are_folded() -> None:
    for spelling, _ in (*MODEL_SPELLINGS, *MAKE_SPELLINGS):
        assert spelling == fold(spelling), spelling


def test_no_spelling_is_a_bare_number_or_a_short_word() -> None:
    for spelling, name in (*MODEL_SPELLINGS, *MAKE_SPELLINGS):
        assert not re.fullmatch(r"[\d\s.\-]+", spelling), (spelling, name)
    for spelling, model in MODEL_SPELLINGS:
        # "k5", "x5" are a letter and a digit; "es", "tl", "x" are words or trims
        letter_and_digit = bool(re.search(r"\d", spelling) and re.search(r"[a-z]", spelling))
        if len(spelling) <= 2 and not letter_and_digit:
            assert model in AMBIGUOUS_MODELS, (spelling, model)


def test_every_ambiguous_model_is_in_the_catalogue() -> None:
    assert sorted(AMBIGUOUS_MODELS - set(MODELS)) == []


@pytest.mark.parametrize(
    ("text", "make", "model"),
    [
        # the brief's cases
        ("una toyota sequoia 2023", "Toyota", "Sequoia"),
        ("kia carnival", "Kia", "Carnival"),
        ("mi f-250 del 2018", "Ford", "F-250"),
        ("una jeepeta", None, None),
        ("acepto", None, None),
        # models alone imply their make
        ("una tucson", "Hyundai", "Tucson"),
        ("me interesa la tahoe", "Chevrolet", "Tahoe"),
        ("quiero una forerunner", "Toyota", "4Runner"),
        ("rav 4 2020", "Toyota", "RAV4"),
        ("la santafe", "Hyundai", "Santa Fe"),
        ("una grand cheroke", "Jeep", "Grand Cherokee"),
        ("grand cherokee l 2022", "Jeep", "Grand Cherokee L"),
        ("jeep grand wagoneer", "Jeep", "Grand Wagoneer"),
        ("una cx 90", "Mazda", "CX-90"),
        ("un mazda 3", "Mazda", "Mazda3"),
        ("hiunday elantra", "Hyundai", "Elantra"),
        ("una ioniq 5", "Hyundai", "Ioniq 5"),
        ("hyundai genesis coupe 2012", "Hyundai", "Genesis Coupe"),
        ("genesis gv80", "Genesis", "GV80"),
        ("un 370z", "Nissan", "370Z"),
        ("nissan z 2023", "Nissan", "Z"),
        ("toyota corolla cross", "Toyota", "Corolla Cross"),
        ("mitsubishi outlander sport 2017", "Mitsubishi", "Outlander Sport"),
        ("subaru crosstrek", "Subaru", "Crosstrek"),
        ("suzuki grand vitara 2010", "Suzuki", "Grand Vitara"),
        ("volkswagen atlas cross sport", "Volkswagen", "Atlas Cross Sport"),
        ("el mustang mach-e", "Ford", "Mustang Mach-E"),
        ("ford e-350 van", "Ford", "E-350"),  # the model as numbered
        ("chevrolet silverado 2500hd", "Chevrolet", "Silverado 2500HD"),
        ("chevrolet bolt euv", "Chevrolet", "Bolt EUV"),
        ("gmc yukon xl", "GMC", "Yukon XL"),
        ("gmc hummer ev", "GMC", "Hummer EV"),
        ("hummer h2", "Hummer", "H2"),
        ("ram 1500 classic", "Ram", "1500"),
        ("dodge ram 2500 del 2016", "Ram", "2500"),
        ("ram promaster city", "Ram", "ProMaster City"),
        ("busco un bmw x5", "BMW", "X5"),
        ("bmw serie 3 2019", "BMW", "3 Series"),
        ("mercedes clase e", "Mercedes-Benz", "E-Class"),
        ("un c300 2017", "Mercedes-Benz", "C300"),
        ("audi q5 2020", "Audi", "Q5"),
        ("busco una rx350", "Lexus", "RX350"),
        ("un lexus es350", "Lexus", "ES350"),
        ("tesla model y", "Tesla", "Model Y"),
        ("polestar 2", "Polestar", "2"),
        ("rivian r1t", "Rivian", "R1T"),
        ("porsche cayenne", "Porsche", "Cayenne"),
        ("una range rover velar", "Land Rover", "Range Rover Velar"),
        ("range rover sport 2019", "Land Rover", "Range Rover Sport"),
        ("mini cooper countryman 2018", "Mini", "Countryman"),
        ("alfa romeo giulia", "Alfa Romeo", "Giulia"),
        ("buick encore gx", "Buick", "Encore GX"),
        ("cadillac escalade esv 2021", "Cadillac", "Escalade"),
        ("chrysler pacifica 2022", "Chrysler", "Pacifica"),
        ("una town & country", "Chrysler", "Town & Country"),
        ("lincoln navigator", "Lincoln", "Navigator"),
        ("scion tc", "Scion", "tC"),
        ("pontiac g6", "Pontiac", "G6"),
        # ambiguous models: recognised next to their make or a year, not alone
        ("honda pilot 2019", "Honda", "Pilot"),
        ("un accent 2019", "Hyundai", "Accent"),
        ("kia optima 2016", "Kia", "Optima"),
        ("ford fiesta 2015", "Ford", "Fiesta"),
        ("una sierra 2020", "GMC", "Sierra"),
        ("chevy cruze", "Chevrolet", "Cruze"),
        ("lamborghini huracan", "Lamborghini", "Huracan"),
        ("la sierra de luquillo", None, None),
        ("una fiesta de cumpleaños", None, None),
        ("el carro está en condición óptima", None, None),
        ("después del huracán", None, None),
        ("tengo una guagua colorada", None, None),
        # words and names that are not vehicles
        ("el pago es 350 al mes", None, None),
        ("qué modelo y año buscas", None, None),
        ("busco una mini van", None, None),
        ("soy Ana Cruz", None, None),
        ("soy Génesis Rivera", None, None),
        ("¿qué pasa con mi solicitud?", None, None),
        ("el precio me mata", None, None),
        ("soy soltera, trabajo freelancer", None, None),
    ],
)
def test_a_message_names_the_expected_vehicle(
    text: str, make: str | None, model: str | None
) -> None:
    vehicle = extract(text).vehicle
    assert (vehicle.make, vehicle.model) == (make, model)
