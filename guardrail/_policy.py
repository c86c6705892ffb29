"""The policy: what to check in prompts and completions, and what to do about hits."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from ._exceptions import ConfigurationError, PolicyError
from ._models import Direction, HarmCategory, OutputType

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "Action",
    "BlocklistRule",
    "CategoryRule",
    "DirectionPolicy",
    "FailMode",
    "HarmRule",
    "IncidentRule",
    "Policy",
    "PolicyTypes",
    "ShieldRule",
]

DEFAULT_REFUSAL = "Sorry, I can't help with that."
DEFAULT_COMPLETION_REFUSAL = "Sorry, I can't share that response."


class Action(str, Enum):
    """What to do with a hit: refuse, mask its span, or let it through marked."""

    BLOCK = "block"
    REDACT = "redact"
    FLAG = "flag"


class FailMode(str, Enum):
    """What to do when the backend fails or times out: block (closed) or allow and flag (open)."""

    CLOSED = "closed"
    OPEN = "open"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action = Action.BLOCK


_LANGUAGE_CODE = r"^[a-z]{2,3}$"


class HarmRule(_Rule):
    """Act when a harm category's severity (EightSeverityLevels, 0-7) reaches ``threshold``;
    ``languages`` sets another threshold for texts in a language (``{es = 3}``)."""

    threshold: int = Field(ge=1, le=7)
    languages: dict[Annotated[str, StringConstraints(pattern=_LANGUAGE_CODE)], Annotated[int, Field(ge=1, le=7)]] = {}

    def threshold_for(self, language: str | None) -> int:
        return self.languages.get(language, self.threshold) if language else self.threshold


class BlocklistRule(_Rule):
    name: str = Field(min_length=1, max_length=64)
    fold: tuple[Literal["leetspeak", "confusables", "spacing"], ...] = ()
    """Opt-in folds (local engine): also match the text read as leetspeak, with Unicode
    confusables as the letters they look like, or with letters typed apart ("b a d") joined;
    each finds evasions and costs false hits."""


class IncidentRule(_Rule):
    name: str = Field(min_length=1, max_length=100)
    threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    """Overrides the incident's own detection threshold (cosine similarity) when set."""


class CategoryRule(_Rule):
    name: str = Field(min_length=1, max_length=128)
    version: int | None = Field(default=None, ge=1)
    """Pin a built version; the latest succeeded build when unset."""


class ShieldRule(BaseModel):
    """Prompt shields: act on a direct attack in the text and, with ``documents``, on
    instructions planted in the documents checked with it. Block or flag: an attack's span
    may lie in a document, which masking the text could not remove."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action = Action.BLOCK
    documents: bool = True
    threshold: float | None = Field(default=None, gt=0.0, lt=1.0)
    """Local engine: the score (0-1) at which an attack is detected; the model's own when unset."""

    @field_validator("action")
    @classmethod
    def _no_redact(cls, value: Action) -> Action:
        if value is Action.REDACT:
            raise ValueError("prompt_shield acts by block or flag; an attack is not a span to mask")
        return value


def _named(value: Any) -> Any:
    # "name" shorthand: a bare string stands for {"name": ...}.
    return {"name": value} if isinstance(value, str) else value


class DirectionPolicy(BaseModel):
    """The rules for one direction (prompts or completions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    harm: dict[HarmCategory, HarmRule] = Field(
        default_factory=lambda: {c: HarmRule(threshold=4) for c in HarmCategory}
    )
    """Per-category thresholds on the 0-7 scale; a bare integer means ``{threshold = N}``."""
    output_type: OutputType = OutputType.FOUR_SEVERITY_LEVELS
    """Scale of the severities reported in findings."""
    blocklists: tuple[BlocklistRule, ...] = ()
    incidents: tuple[IncidentRule, ...] = ()
    image_incidents: tuple[IncidentRule, ...] = ()
    """Image incidents checked against images in the input (``Guard.check_image``)."""
    custom_categories: tuple[CategoryRule, ...] = ()
    prompt_shield: ShieldRule | None = None
    """``true`` (block, documents too) or a table ``{action, documents, threshold}``."""
    refusal: str = Field(default=DEFAULT_REFUSAL, min_length=1, max_length=10_000)
    fail_mode: FailMode = FailMode.CLOSED
    timeout: float = Field(default=5.0, gt=0.0, le=300.0)
    """Seconds the backend may take for one check before the fail mode applies."""
    redaction_char: str = Field(default="*", min_length=1, max_length=1)
    languages: tuple[Annotated[str, StringConstraints(pattern=_LANGUAGE_CODE)], ...] | None = None
    """Languages (ISO 639-1) whose harm scores this policy trusts; unset: the backend's
    (local engine: en; Azure: the eight the service's harm models are trained on)."""
    unsupported_language: Literal["flag", "block", "allow"] = "flag"
    """What a check of harm does with a text in another language (when it can tell)."""

    @field_validator("harm", mode="before")
    @classmethod
    def _harm_shorthand(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: ({"threshold": v} if isinstance(v, int) and not isinstance(v, bool) else v)
                for k, v in value.items()
            }
        return value

    @field_validator("prompt_shield", mode="before")
    @classmethod
    def _shield_shorthand(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        return value

    @field_validator("blocklists", "incidents", "image_incidents", "custom_categories", mode="before")
    @classmethod
    def _name_shorthand(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [_named(v) for v in value]
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> DirectionPolicy:
        for field in ("blocklists", "incidents", "image_incidents", "custom_categories"):
            names = [rule.name for rule in getattr(self, field)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{field} lists {', '.join(dupes)} more than once")
        return self

    @property
    def harm_categories(self) -> tuple[HarmCategory, ...]:
        return tuple(self.harm)


_DIRECTION_FIELDS = frozenset(DirectionPolicy.model_fields)


class Policy(BaseModel):
    """Rules for prompts and for completions.

    Keys given at the top level apply to both directions; ``prompt`` and ``completion``
    tables override them::

        refusal = "Sorry, I can't help with that."
        blocklists = ["slurs"]

        [prompt.harm]
        Violence = 4

        [completion]
        fail_mode = "open"
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: DirectionPolicy = Field(default_factory=DirectionPolicy)
    completion: DirectionPolicy = Field(
        default_factory=lambda: DirectionPolicy(refusal=DEFAULT_COMPLETION_REFUSAL)
    )

    @model_validator(mode="before")
    @classmethod
    def _shared_keys(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        shared = {k: v for k, v in data.items() if k in _DIRECTION_FIELDS}
        out: dict[str, Any] = {k: v for k, v in data.items() if k not in _DIRECTION_FIELDS}
        for direction in ("prompt", "completion"):
            own = data.get(direction)
            if own is None and not shared:
                continue  # the field's default, with its own refusal
            own = own or {}
            if not isinstance(own, Mapping):
                return data  # let field validation report the wrong type
            merged = {**shared, **own}
            if direction == "completion":
                merged.setdefault("refusal", DEFAULT_COMPLETION_REFUSAL)
            out[direction] = merged
        return out

    def for_direction(self, direction: Direction) -> DirectionPolicy:
        return self.prompt if direction is Direction.PROMPT else self.completion

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from a mapping; raises PolicyError naming each bad field."""
        if not isinstance(data, Mapping):
            raise PolicyError(f"a policy must be a mapping, got {type(data).__name__}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise PolicyError(_describe_errors(exc)) from None

    @classmethod
    def from_toml(cls, text: str) -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy is not valid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_yaml(cls, text: str) -> Policy:
        try:
            import yaml
        except ImportError:  # pragma: no cover
            raise ConfigurationError(
                "YAML policies need PyYAML: pip install 'guardrail[yaml]'"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(f"policy is not valid YAML: {exc}") from None
        return cls.from_dict(data if data is not None else {})

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Load a ``.toml``, ``.yaml``/``.yml`` or ``.json`` policy file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {p}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise PolicyError(f"policy file {p} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        suffix = p.suffix.lower()
        if suffix == ".toml":
            return cls.from_toml(text)
        if suffix in (".yaml", ".yml"):
            return cls.from_yaml(text)
        if suffix == ".json":
            try:
                return cls.from_dict(json.loads(text))
            except json.JSONDecodeError as exc:
                raise PolicyError(f"policy {p} is not valid JSON: {exc}") from None
        raise PolicyError(f"policy file {p} must end in .toml, .yaml, .yml or .json")

    @classmethod
    def coerce(cls, value: PolicyTypes | None) -> Policy:
        """Accept a Policy, a mapping, a path, or None (the default policy)."""
        if value is None:
            return cls()
        if isinstance(value, Policy):
            return value
        if isinstance(value, (str, Path)):
            return cls.from_file(value)
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise PolicyError(
            f"policy must be a Policy, a mapping or a file path, got {type(value).__name__}"
        )


PolicyTypes = Union[Policy, Mapping[str, Any], str, Path]


def _describe_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"] if part != "[key]") or "(policy)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "enum" and "expected" in err.get("ctx", {}):
            msg = f"must be one of {err['ctx']['expected']}"
        got = repr(err.get("input"))
        got = got if len(got) <= 80 else got[:77] + "..."
        lines.append(f"{loc}: {msg} (got {got})")
    return "invalid policy: " + "; ".join(lines)
