"""Makes and models sold in Puerto Rico, for recognising a vehicle in free text.

Spelling variants map to one canonical name, as a CRM expects it ("crv" -> "CR-V"). The
lists are data: vehicles.yaml, beside this module, is where a new make or model goes.
"""

from __future__ import annotations

from bots.qualifier.data import load, table, words

_DATA = load("vehicles.yaml")

# canonical make -> variants (folded, as typed)
MAKES: dict[str, tuple[str, ...]] = table(_DATA["makes"], "makes")

# canonical model -> (make, variants); the file groups the models by make
MODELS: dict[str, tuple[str, tuple[str, ...]]] = {
    model: (make, variants)
    for make, models in _DATA["models"].items()
    for model, variants in table(models, f"models.{make}").items()
}

# Models whose name is also a common word or an ambiguous token: only recognised next
# to their make or a year ("rio" is a river, "es" is Spanish for "is").
AMBIGUOUS_MODELS = frozenset(words(_DATA["ambiguous_models"], "ambiguous_models"))

# Ordinary words one typo away from a spelling above, never corrected into a car.
NOT_TYPOS = frozenset(words(_DATA["not_typos"], "not_typos"))
