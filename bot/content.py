"""Content files (YAML in faq/ and flows/), loaded into checked, frozen values."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class ContentError(Exception):
    """A content file is broken; the message lists the problems, one per line."""


def load_model(path: Path, model: type[Model], error: type[ContentError]) -> Model:
    """Reads a YAML file into `model`; `error` names each problem with its place."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise error(f"{path.name}: missing") from None
    except yaml.YAMLError as problem:
        raise error(f"{path.name}: not valid YAML: {problem}") from None
    except ValidationError as invalid:
        problems = [
            f"{path.name}: {'.'.join(str(p) for p in item['loc']) or '-'}: "
            f"{str(item['msg']).removeprefix('Value error, ')}"
            for item in invalid.errors()
        ]
        raise error("\n".join(problems)) from None
