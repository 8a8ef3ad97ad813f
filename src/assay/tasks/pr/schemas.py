"""The answer schemas of the PR tasks, as pydantic models (written for assay, in the spirit of
PR-Agent's describe / review / improve tools). The prompts show these classes to the model, and
the same classes validate its YAML, so the prompt and the parser cannot drift apart."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PR_TYPES = ("Bug fix", "Enhancement", "Tests", "Documentation", "Refactoring", "Other")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _as_list(value):
    return [value] if isinstance(value, (str, dict)) else value


def _as_text(value):
    if isinstance(value, list):  # bullets written as a YAML list
        return "\n".join(f"- {v}" for v in value)
    return value


# ---- describe


class FileChange(_Answer):
    filename: str = Field(description="the file's path, as in the diff")
    changes_title: str = Field(description="one line: what changed in this file")
    label: str = Field("", description="a short label, e.g. bug fix, tests, enhancement")


class PRDescription(_Answer):
    type: list[Literal[PR_TYPES]] = Field(description="one or more of: " + ", ".join(PR_TYPES))
    description: str = Field(description="up to four short bullet points, '- ' each")
    title: str = Field(description="a concise title for the PR")
    pr_files: list[FileChange] = Field([], description="the changed files that matter")

    _list = field_validator("type", "pr_files", mode="before")(_as_list)
    _text = field_validator("description", mode="before")(_as_text)


# ---- review


class KeyIssue(_Answer):
    relevant_file: str = Field(description="the file's path, as in the diff")
    issue_header: str = Field(description="a few words naming the issue")
    issue_content: str = Field(description="the issue, briefly, and why it matters")
    start_line: int = Field(description="first numbered line of the issue in the new code")
    end_line: int = Field(description="last numbered line of the issue in the new code")


class ReviewBody(_Answer):
    estimated_effort_to_review_1_5: int = Field(ge=1, le=5, description="1 (trivial) to 5")
    key_issues_to_review: list[KeyIssue] = Field(description="0-3 issues; [] when none")
    security_concerns: str = Field(description="'No' or a short description")

    _list = field_validator("key_issues_to_review", mode="before")(
        lambda v: [] if v is None else _as_list(v))
    # YAML reads a bare No / Yes as a boolean
    _yes_no = field_validator("security_concerns", mode="before")(
        lambda v: ("Yes" if v else "No") if isinstance(v, bool) else v)


class PRReview(_Answer):
    review: ReviewBody


# ---- improve


class CodeSuggestion(_Answer):
    relevant_file: str = Field(description="the file's path, as in the diff")
    language: str = Field(description="the programming language")
    existing_code: str = Field(description="the exact lines to change, copied from the '+' or "
                               "context lines of the diff, without line numbers")
    improved_code: str = Field(description="the replacement for existing_code")
    one_sentence_summary: str = Field(description="the suggestion in one sentence")
    label: str = Field(description="e.g. possible bug, best practice, performance, security")


class CodeSuggestions(_Answer):
    code_suggestions: list[CodeSuggestion] = Field(description="1-5 suggestions; [] when none")

    _list = field_validator("code_suggestions", mode="before")(
        lambda v: [] if v is None else _as_list(v))


class SuggestionScore(_Answer):
    suggestion_summary: str = Field(description="the suggestion's one_sentence_summary")
    relevant_file: str = Field(description="the suggestion's relevant_file")
    suggestion_score: int = Field(ge=0, le=10, description="0 (wrong or useless) to 10")
    why: str = Field(description="one sentence")


class Reflection(_Answer):
    code_suggestions: list[SuggestionScore]

    _list = field_validator("code_suggestions", mode="before")(
        lambda v: [] if v is None else _as_list(v))


def schema_text(model: type[BaseModel], indent: int = 0) -> str:
    """The model as the prompt shows it: one line per field, nested models indented."""
    pad = "  " * indent
    lines = [f"{pad}class {model.__name__}:"]
    for name, info in model.model_fields.items():
        ann = info.annotation
        inner = _nested(ann)
        shown = (f"list[{inner.__name__}]" if inner is not None and _is_list(ann)
                 else inner.__name__ if inner is not None else _type_name(ann))
        lines.append(f"{pad}  {name}: {shown}  # {info.description or ''}".rstrip(" #"))
    nested = [_nested(i.annotation) for i in model.model_fields.values()]
    for sub in dict.fromkeys(n for n in nested if n is not None):
        lines.append(schema_text(sub, indent))
    return "\n".join(lines)


def _is_list(ann) -> bool:
    return getattr(ann, "__origin__", None) is list


def _nested(ann):
    args = getattr(ann, "__args__", None) or ()
    cand = args[0] if _is_list(ann) and args else ann
    return cand if isinstance(cand, type) and issubclass(cand, BaseModel) else None


def _type_name(ann) -> str:
    if _is_list(ann):
        return "list[str]"
    return getattr(ann, "__name__", str(ann))
