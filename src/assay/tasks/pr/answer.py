"""Reading a YAML answer out of model output: hostile text, bounded work.

Model output is untrusted: it may be a megabyte of backticks, an unclosed fence, a YAML alias
bomb or a thousand nested brackets. So the block is found with linear scans (``str.find`` and a
line-anchored pattern), it is refused above ``MAX_YAML_CHARS`` before any YAML parsing, aliases
are refused by the loader (an alias bomb would expand in validation), and the parsed value is
validated by a pydantic model whose first error names the key (``missing key
'review.key_issues_to_review'``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .._protocol import Unparsed

MAX_YAML_CHARS = 16_000
MAX_NESTING = 64  # flow brackets deeper than this are refused before parsing (PyYAML recurses)
MAX_FENCES = 20  # fenced blocks examined for the answer


def _without_think(text: str) -> str:
    """The text with ``<think>...</think>`` spans removed (an unclosed one runs to the end)."""
    out, pos = [], 0
    while (start := text.find("<think>", pos)) >= 0:
        out.append(text[pos:start])
        end = text.find("</think>", start + 7)
        if end < 0:
            return "".join(out)
        pos = end + 8
    out.append(text[pos:])
    return "".join(out)


def _fenced_bodies(text: str) -> list[tuple[str, str]]:
    """(info string, body) of each ````` ``` ````` fenced block, by a forward scan (linear)."""
    out, pos = [], 0
    while len(out) < MAX_FENCES and (start := text.find("```", pos)) >= 0:
        newline = text.find("\n", start + 3)
        if newline < 0:
            break
        close = text.find("```", newline + 1)
        out.append((text[start + 3:newline].strip().lower(),
                    text[newline + 1:len(text) if close < 0 else close]))
        pos = len(text) if close < 0 else close + 3
    return out


def yaml_block(text: str, keys: Sequence[str]) -> str | Unparsed:
    """The YAML part of an answer: the first fenced block that is YAML or holds one of the
    top-level ``keys``; else the text from the first line that starts with one of them."""
    body = _without_think(text or "")
    if not body.strip():
        return Unparsed("empty output")
    starts = re.compile(r"^(?:" + "|".join(map(re.escape, keys)) + r")[ \t]*:", re.MULTILINE)
    for info, block in _fenced_bodies(body):
        if info in ("yaml", "yml") or starts.search(block):
            return block
    m = starts.search(body)
    if m is None:
        return Unparsed(f"no YAML answer: no line starts with {' or '.join(map(repr, keys))}")
    return body[m.start():]


def _loader():
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """safe_load without aliases: ``*a`` repeated in nested lists is an expansion bomb."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed",
                                                  mark)
            return super().compose_node(parent, index)

    return NoAliasLoader


def _flow_depth(block: str) -> int:
    """The deepest run of open flow brackets ([ and {), counted over the raw text (brackets
    inside strings count too: an over-estimate that only refuses what nobody writes)."""
    import numpy as np

    raw = np.frombuffer(block.encode("utf-32-le"), dtype=np.uint32)
    steps = (np.isin(raw, (ord("["), ord("{"))).astype(np.int32)
             - np.isin(raw, (ord("]"), ord("}"))).astype(np.int32))
    return int(np.cumsum(steps).max(initial=0))


def load_yaml(block: str) -> Any | Unparsed:
    """yaml.safe_load (without aliases) of a bounded block, or Unparsed naming the problem."""
    import yaml

    if len(block) > MAX_YAML_CHARS:
        return Unparsed(f"YAML answer of {len(block)} characters is over the limit of "
                        f"{MAX_YAML_CHARS}")
    depth = _flow_depth(block)
    if depth > MAX_NESTING:
        return Unparsed(f"YAML nested {depth} brackets deep (the limit is {MAX_NESTING})")
    try:
        return yaml.load(block, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        return Unparsed(f"malformed YAML{where}: {exc.problem or exc.context}")
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return Unparsed(f"malformed YAML: {type(exc).__name__}")


def validation_reason(exc: Any) -> str:
    """The first pydantic error, named by its key path: "missing key 'review.key_issues'"."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "missing":
        return f"missing key '{key}'"
    shown = repr(err.get("input"))
    shown = shown[:60] + ("..." if len(shown) > 60 else "")
    return f"key '{key}': {err.get('msg', 'invalid')} (got {shown})"


def parse_answer(text: str, model: type, keys: Sequence[str]) -> Any | Unparsed:
    """The answer as an instance of the pydantic ``model``, or Unparsed with the reason."""
    from pydantic import ValidationError

    block = yaml_block(text, keys)
    if isinstance(block, Unparsed):
        return block
    data = load_yaml(block)
    if isinstance(data, Unparsed):
        return data
    if not isinstance(data, dict):
        return Unparsed(f"the YAML answer is a {type(data).__name__}, not a mapping with "
                        f"{' and '.join(map(repr, keys))}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return Unparsed(validation_reason(exc))
    except RecursionError:
        return Unparsed("the YAML answer is nested too deeply")
