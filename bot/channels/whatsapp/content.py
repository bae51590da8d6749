"""What the WhatsApp channel reads from `flows/whatsapp.yaml`: templates and short labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config import ConfigError

# A template parameter names a value of the message: its first line (title) or its whole text
# (text), unless the message gives its own values (an event's title, date and place; a call's
# date and time: Reply.fields). A message without a value its template needs is skipped.


@dataclass(frozen=True)
class Template:
    """An approved message template, for messages outside the 24-hour window."""

    name: str
    language: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class WhatsAppContent:
    templates: Mapping[tuple[str, str], Template] = field(default_factory=dict)
    short_labels: Mapping[str, str] = field(default_factory=dict)

    def template(self, kind: str, locale: str) -> Template | None:
        return self.templates.get((kind, locale))


def load_content(path: Path) -> WhatsAppContent:
    """Reads and checks the file; a missing file means no templates and no short labels."""
    if not path.exists():
        return WhatsAppContent()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return WhatsAppContent(_templates(data.get("templates") or {}), _shorts(data))
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"{path}: {error}") from None


def _templates(data: Mapping[str, Any]) -> dict[tuple[str, str], Template]:
    templates = {}
    for kind, per_language in data.items():
        for locale, spec in per_language.items():
            if locale == "category":  # marketing or utility: what Meta charges (costs)
                continue
            params = tuple(str(p) for p in spec.get("params") or ())
            unknown = [p for p in params if not p.isidentifier()]
            if unknown:
                raise ValueError(f"templates.{kind}.{locale}: params must be names, not {unknown}")
            templates[(str(kind), str(locale))] = Template(
                str(spec["name"]), str(spec.get("language", locale)), params
            )
    return templates


def _shorts(data: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (data.get("short_labels") or {}).items()}
