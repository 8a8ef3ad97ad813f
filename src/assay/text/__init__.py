"""Text utilities for code-review prose: syllables (with identifiers, acronyms and numbers read
aloud as a reviewer would), identifier splitting and the 5-7-5 form of a haiku."""

from .acronyms import ACRONYMS, acronym_syllables, letter_syllables
from .haiku import TARGETS, HaikuForm, LineForm, haiku_form
from .identifiers import line_tokens, split_identifier, strip_edges
from .numbers import cardinal, number_readings, number_syllables
from .syllables import (PartSyllables, SyllableCount, TokenSyllables, count_syllables,
                        count_token, guess_syllables, pronouncing_dictionary, rule_syllables)

__all__ = ["ACRONYMS", "TARGETS", "HaikuForm", "LineForm", "PartSyllables", "SyllableCount",
           "TokenSyllables", "acronym_syllables", "cardinal", "count_syllables", "count_token",
           "guess_syllables", "haiku_form", "letter_syllables", "line_tokens", "number_readings",
           "number_syllables", "pronouncing_dictionary", "rule_syllables", "split_identifier",
           "strip_edges"]
from .redact import RedactionResult, redact, redact_obj, redact_with_counts  # noqa: E402

__all__ += ["RedactionResult", "redact", "redact_obj", "redact_with_counts"]
