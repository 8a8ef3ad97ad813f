"""How code review says its acronyms and abbreviations, in syllables.

The CMU dictionary knows English, not code: it reads ``id`` as Freud's id (one syllable) and
does not know ``kwargs``, ``json`` or ``stdout``. This table gives the readings reviewers use,
the primary one first; every listed reading is accepted when a line is checked against its
target. It is consulted before the dictionary for all-capital tokens (``API``) and for the parts
of a split identifier (``api_key``), and after it for a plain lower-case word.

Choices worth knowing:
- Pronounceable acronyms are read as words: JSON "jay-son" (2), YAML (2), SQL "sequel" (2) or
  S-Q-L (3), GUI "gooey" (2), ASCII "ask-ee" (2), CRUD (1).
- Other letters-only acronyms are spelled out (``letter_syllables``), W being "double-you" (3).
- Clipped words are read as the word: ``str`` "string", ``ctx`` "context", ``src`` "source",
  with the spelled-out reading accepted as well.
"""

from __future__ import annotations

# Syllables of each letter said on its own ("double-you" is three).
LETTER_SYLLABLES = {c: 1 for c in "abcdefghijklmnopqrstuvxyz"} | {"w": 3}


def letter_syllables(word: str) -> int:
    """Syllables of a word spelled out letter by letter (``HTTP`` -> 4, ``www`` -> 9)."""
    return sum(LETTER_SYLLABLES.get(c, 1) for c in word.lower() if c.isalpha())


# Words read as words; the spelled-out reading is added automatically for words of at most four
# letters (see ``acronym_syllables``).
_WORDS: dict[str, tuple[int, ...]] = {
    # pronounceable acronyms
    "json": (2,), "yaml": (2,), "toml": (1,), "sql": (2,), "gui": (2,), "ascii": (2,),
    "crud": (1,), "jax": (1,), "nan": (1,), "oop": (1,), "gil": (1,), "pep": (1,), "wip": (1,),
    "regex": (2,), "regexp": (3,), "todo": (2,), "fixme": (2,), "ok": (2,), "okay": (2,),
    "nit": (1,), "nits": (1,), "repo": (2,), "uuid": (4,), "scsi": (2,), "sqlite": (3, 4),
    "numpy": (2, 3), "scipy": (2, 3), "pytest": (2,), "mypy": (2,), "pypi": (2,),
    "django": (2,), "keras": (2,), "conda": (2,), "pandas": (2,), "pydantic": (3,),
    # clipped words and code vocabulary the dictionary lacks
    "str": (1,), "int": (1,), "bool": (1,), "dict": (1,), "dicts": (1,), "func": (1,),
    "args": (1,), "arg": (1,), "kwargs": (2,), "kwarg": (2,), "init": (2,), "config": (2,),
    "configs": (2,), "async": (2,), "impl": (2, 3), "util": (2,), "utils": (2,), "env": (1,),
    "len": (1,), "param": (2,), "params": (2,), "attr": (2, 4), "attrs": (2, 4),
    "obj": (1, 3), "src": (1,), "dst": (1,), "tmp": (1,), "num": (1,), "nums": (1,),
    "idx": (2,), "ctx": (2,), "msg": (2,), "cmd": (2,), "pkg": (2,), "ptr": (2,),
    "buf": (1,), "lib": (1,), "libs": (1,), "enum": (2,), "tuple": (2,), "tuples": (2,),
    "dtype": (2,), "dtypes": (2,), "ndarray": (3,), "elif": (2,), "def": (1,),
    "isinstance": (4,), "getattr": (3,), "setattr": (3,), "hasattr": (3,), "eval": (2,),
    "stdout": (3, 2), "stdin": (3, 2), "stderr": (3,), "stdlib": (2, 3), "std": (1,),
    "docstring": (2,), "docstrings": (2,), "doctest": (2,), "doctests": (2,),
    "namespace": (2,), "runtime": (2,), "metadata": (4,), "mutex": (2,), "mixin": (2,),
    "webhook": (2,), "backend": (2,), "frontend": (2,), "refactor": (3,),
    "refactoring": (4,), "refactored": (3,), "subclass": (2,), "subclasses": (3,),
    "cls": (1,), "arr": (1,), "img": (1, 3), "fn": (2, 3), "txt": (1, 3), "concat": (2,),
    "sqrt": (2,), "const": (1,), "var": (1,), "vars": (1,), "tf": (2,), "np": (2,),
    "py": (1,), "pd": (2,), "df": (2,), "lr": (2,), "jnp": (3,), "rng": (3,),
}
# Letters-only acronyms that are spelled out; listed so that they win over the dictionary
# inside identifiers (``id`` in ``user_id`` is "eye-dee", not Freud's id) and so that plurals
# (``APIs``) are known.
_SPELLED = ("api id ui ux io os cli css html http https url uri xml db pr ci cd ssh tcp udp ip "
            "dns gpu cpu llm ai ml nlp orm jwt csv tsv pdf npm gc tls ssl aws gcp sdk ide utf "
            "rpc grpc qa tbd lgtm ast dsl dom vm ttl ssd mb kb gb ms ns nn pk fk cpp jvm js ts "
            "svg png jpg gif mp cuda rbac acl cors csrf xss sso mfa oom gpt bert cnn rnn lstm "
            "sha md ecdsa rsa hmac http2 ipc pid tty vcs jit").split()

ACRONYMS: dict[str, tuple[int, ...]] = dict(_WORDS)
for _word in _SPELLED:
    ACRONYMS.setdefault(_word, (letter_syllables(_word),))
# A few spelled acronyms also have a common word reading.
ACRONYMS["sql"] = (2, 3)
ACRONYMS["gif"] = (1, 3)
ACRONYMS["jpg"] = (2, 3)
ACRONYMS["png"] = (3, 1)
ACRONYMS["cuda"] = (2,)
ACRONYMS["bert"] = (1,)
ACRONYMS["url"] = (3, 1)
ACRONYMS["ascii"] = (2,)


def acronym_syllables(part: str) -> tuple[int, ...] | None:
    """Accepted syllable counts of an acronym or code abbreviation (primary first), or None.

    Plurals of listed entries are recognised (``APIs``, ``IDs``, ``PRs``); for entries of at most
    four letters the spelled-out reading is accepted too.
    """
    key = part.lower()
    counts = ACRONYMS.get(key)
    if counts is None and key.endswith("s") and len(key) > 2:
        counts = ACRONYMS.get(key[:-1])
        key = key[:-1]
    if counts is None:
        return None
    if len(key) <= 4 and key.isalpha():
        counts = tuple(dict.fromkeys(counts + (letter_syllables(key),)))
    return counts
