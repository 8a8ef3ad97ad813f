"""Identifier splitting and line tokenisation."""

from __future__ import annotations

import pytest

from assay.text import line_tokens, split_identifier, strip_edges


@pytest.mark.parametrize("token,parts", [
    ("api_key", ("api", "key")),
    ("snake_case_name", ("snake", "case", "name")),
    ("camelCase", ("camel", "Case")),
    ("PascalCase", ("Pascal", "Case")),
    ("kebab-case", ("kebab", "case")),
    ("os.path.join", ("os", "path", "join")),
    ("getHTTPResponse", ("get", "HTTP", "Response")),
    ("HTTPServer", ("HTTP", "Server")),
    ("APIs", ("APIs",)),
    ("utf8", ("utf", "8")),
    ("__init__", ("init",)),
    ("src/assay/cli.py", ("src", "assay", "cli", "py")),
    ("don't", ("don't",)),
    ("café", ("cafe",)),
    ("🎉", ()),
])
def test_split_identifier(token, parts):
    assert split_identifier(token) == parts


def test_line_tokens_strip_backticks_and_punctuation():
    assert line_tokens("Rename `api_key` -- now! (foo), \"bar\" ...") == [
        "Rename", "api_key", "now", "foo", "bar"]
    assert line_tokens("  ") == []
    assert strip_edges("(x),") == "x"


def test_bad_arguments():
    with pytest.raises(ValueError, match="token must be a str"):
        split_identifier(3)
    with pytest.raises(ValueError, match="line must be a str"):
        line_tokens(None)
