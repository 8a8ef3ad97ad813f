"""Numbers read aloud, for counting their syllables.

A number has more than one reading and a haiku may use any of them, so ``number_readings``
returns every reading we accept, the first being the primary one:

- the cardinal, without "and" (``404`` -> "four hundred four", ``2024`` -> "two thousand
  twenty-four");
- digit by digit with "oh" for zero, for 3 or 4 digits or a leading zero (``404`` -> "four oh
  four", as developers say HTTP codes);
- in pairs for four digits, as years are said (``2024`` -> "twenty twenty-four", ``1900`` ->
  "nineteen hundred").
"""

from __future__ import annotations

from functools import lru_cache

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
# Syllables of every word the readings use (checked against the CMU dictionary).
_WORD_SYLLABLES = {
    "zero": 2, "oh": 1, "one": 1, "two": 1, "three": 1, "four": 1, "five": 1, "six": 1,
    "seven": 2, "eight": 1, "nine": 1, "ten": 1, "eleven": 3, "twelve": 1, "thirteen": 2,
    "fourteen": 2, "fifteen": 2, "sixteen": 2, "seventeen": 3, "eighteen": 2, "nineteen": 2,
    "twenty": 2, "thirty": 2, "forty": 2, "fifty": 2, "sixty": 2, "seventy": 3, "eighty": 2,
    "ninety": 2, "hundred": 2, "thousand": 2, "million": 2, "billion": 2, "trillion": 2,
}
MAX_DIGITS = 15  # beyond that a number is read digit by digit only


def cardinal(n: int) -> str:
    """English words for a non-negative integer, without "and": 404 -> "four hundred four"."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" " + cardinal(rest) if rest else "")
    for value, name in _SCALES:
        if n >= value:
            rest = n % value
            return cardinal(n // value) + " " + name + (" " + cardinal(rest) if rest else "")
    raise AssertionError("unreachable")


def _digits(digits: str) -> str:
    return " ".join("oh" if d == "0" else _ONES[int(d)] for d in digits)


def _pairs(digits: str) -> str | None:
    hi, lo = int(digits[:2]), int(digits[2:])
    if hi < 10:
        return None
    if lo == 0:
        return cardinal(hi) + " hundred"
    return cardinal(hi) + " " + (("oh " + _ONES[lo]) if lo < 10 else cardinal(lo))


def number_readings(digits: str) -> tuple[str, ...]:
    """Every accepted reading of a string of ASCII digits, the primary one first."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"digits must be a string of ASCII digits, got {digits!r}")
    if len(digits) > MAX_DIGITS:
        return (_digits(digits),)
    readings = [cardinal(int(digits))]
    if digits.startswith("0") and len(digits) > 1:
        readings.insert(0, _digits(digits))
    elif 3 <= len(digits) <= 4:
        readings.append(_digits(digits))
    if len(digits) == 4 and (pair := _pairs(digits)):
        readings.append(pair)
    return tuple(dict.fromkeys(readings))


def reading_syllables(reading: str) -> int:
    """Syllables of a reading made by this module."""
    return sum(_WORD_SYLLABLES[w] for w in reading.replace("-", " ").split())


@lru_cache(maxsize=4096)
def number_syllables(digits: str) -> tuple[int, ...]:
    """Syllable counts of every reading of a number, primary first, without repeats."""
    return tuple(dict.fromkeys(reading_syllables(r) for r in number_readings(digits)))
