"""Container names: validation, and generated adjective_surname names like Docker's.

The word lists are our own: adjectives and the surnames of people who shaped
computing and the sciences.
"""

import random
import re

from pydocker.errdefs import InvalidParameter

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

ADJECTIVES = (
    "agile", "amber", "ardent", "brave", "bright", "calm", "candid", "clever", "cosmic", "crisp",
    "daring", "deft", "eager", "earnest", "elated", "fearless", "fervent", "gentle", "glad", "golden",
    "gracious", "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "loyal", "lucid",
    "merry", "mellow", "modest", "nimble", "noble", "patient", "placid", "plucky", "polite", "proud",
    "quick", "quiet", "radiant", "rapid", "serene", "sharp", "silent", "sincere", "smart", "snappy",
    "spirited", "stoic", "sturdy", "sunny", "swift", "tender", "tidy", "upbeat", "valiant", "vivid",
    "warm", "wise", "witty", "zealous",
)

SURNAMES = (
    "babbage", "backus", "bartik", "berners", "boole", "cerf", "church", "codd", "conway", "corbato",
    "curie", "dijkstra", "einstein", "engelbart", "euler", "faraday", "feynman", "floyd", "gauss",
    "goldberg", "hamilton", "hopper", "huffman", "kahn", "kay", "knuth", "kernighan", "lamport",
    "lovelace", "liskov", "mccarthy", "meitner", "minsky", "newton", "noether", "pascal", "perlman",
    "ritchie", "shannon", "stallman", "sutherland", "tarjan", "thompson", "torvalds", "turing",
    "vonneumann", "wilkes", "wirth", "wozniak", "yonath",
)


def validate(name):
    if not NAME_RE.match(name):
        raise InvalidParameter(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name.lstrip("/")


def generate(taken, rng=random):
    """A free adjective_surname name; a digit is added after many collisions, as Docker does."""
    for attempt in range(10):
        name = f"{rng.choice(ADJECTIVES)}_{rng.choice(SURNAMES)}"
        if attempt > 2:
            name += str(rng.randint(0, 9))
        if not taken(name):
            return name
    while True:
        name = f"{rng.choice(ADJECTIVES)}_{rng.choice(SURNAMES)}{rng.randint(10, 10**6)}"
        if not taken(name):
            return name
