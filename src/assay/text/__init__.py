"""Text utilities for code-review prose: syllables (with identifiers, acronyms and numbers read
aloud as a reviewer would) and identifier splitting."""

from .acronyms import ACRONYMS, acronym_syllables, letter_syllables
from .identifiers import line_tokens, split_identifier, strip_edges
from .numbers import cardinal, number_readings, number_syllables
from .syllables import (PartSyllables, SyllableCount, TokenSyllables, count_syllables,
                        count_token, guess_syllables, pronouncing_dictionary, rule_syllables)

__all__ = ["ACRONYMS", "PartSyllables", "SyllableCount", "TokenSyllables", "acronym_syllables",
           "cardinal", "count_syllables", "count_token", "guess_syllables", "letter_syllables",
           "line_tokens", "number_readings", "number_syllables", "pronouncing_dictionary",
           "rule_syllables", "split_identifier", "strip_edges"]
