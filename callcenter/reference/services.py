"""Load the versioned reference data files into the store (idempotent upsert)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from callcenter.errors import NotFound
from callcenter.locations import find_config
from callcenter.reference.models import Category, Department, Neighbourhood


class ReferenceDataError(Exception):
    """A reference data file is missing or malformed; the message names the file."""


DEADLINE_BASES = ("calendar", "working")


def read_reference(directory: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Read departments, categories and neighbourhoods, checking their links.

    ``directory`` defaults to the first ``reference/`` along the search order.
    """
    directory = directory or find_config("reference")
    data: dict[str, list[dict[str, Any]]] = {}
    problems: list[str] = []  # all of them at once: check-config shows every one
    for name in ("departments", "categories", "neighbourhoods"):
        path = directory / f"{name}.yaml"
        try:
            data[name] = yaml.safe_load(path.read_text(encoding="utf-8"))[name]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            problems.append(f"{path}: cannot read list '{name}': {exc}")
    if "departments" in data and "categories" in data:
        departments = {row["code"] for row in data["departments"]}
        problems += [f"{directory / 'categories.yaml'}: category {row.get('code')!r} names "
                     f"unknown department {row.get('department')!r}"
                     for row in data["categories"] if row.get("department") not in departments]
        problems += [f"{directory / 'categories.yaml'}: category {row.get('code')!r}: "
                     f"deadline_basis must be calendar or working"
                     for row in data["categories"]
                     if row.get("deadline_basis", "calendar") not in DEADLINE_BASES]
    if problems:
        raise ReferenceDataError("\n".join(problems))
    return data


def sync_reference(*, session: Session, directory: Path | None = None) -> None:
    """Upsert the reference files into their tables (rows are never deleted)."""
    data = read_reference(directory)
    for row in data["departments"]:
        session.merge(Department(code=row["code"], name_fa=row["fa"], name_en=row["en"]))
    session.flush()
    for row in data["categories"]:
        session.merge(
            Category(
                code=row["code"],
                digit=int(row["digit"]),
                name_fa=row["fa"],
                name_en=row["en"],
                department_code=row["department"],
                deadline_hours=int(row["deadline_hours"]),
                keywords=[str(word) for word in row.get("keywords") or []],

                deadline_basis=str(row.get("deadline_basis", "calendar")),
            )
        )
    for row in data["neighbourhoods"]:
        session.merge(
            Neighbourhood(
                code=row["code"], district=int(row["district"]),
                name_fa=row["fa"], name_en=row["en"],
            )
        )
    session.flush()


def get_category(*, session: Session, code: str) -> Category:
    category = session.get(Category, code)
    if category is None:
        raise NotFound(f"unknown category {code!r}", category=code)
    return category


def category_by_digit(*, session: Session, digit: int) -> Category:
    category = session.exec(select(Category).where(Category.digit == digit)).first()
    if category is None:
        raise NotFound(f"no category on key {digit}", digit=digit)
    return category


def populations(directory: Path | None = None) -> dict[str, int]:
    """Residents per neighbourhood where ``neighbourhoods.yaml`` gives ``population``."""
    return {row["code"]: int(row["population"])
            for row in read_reference(directory)["neighbourhoods"]
            if row.get("population")}
