"""Reference tables: departments, categories, neighbourhoods (loaded from config/)."""

from __future__ import annotations

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Department(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=40)
    name_fa: str
    name_en: str


class Category(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=40)
    digit: int = Field(unique=True, description="Key pressed in the 137 menu")
    name_fa: str
    name_en: str
    department_code: str = Field(foreign_key="department.code", max_length=40)
    deadline_hours: int = Field(gt=0)
    # Words that file an SMS in this category (Persian and English, categories.yaml).
    keywords: list[str] | None = Field(default=None, sa_column=Column(JSON))

    # ``calendar``: the hours run day and night; ``working``: only in opening hours on
    # working days (no Fridays, no official holidays: ``reference.hours``).
    deadline_basis: str = Field(default="calendar", max_length=8)


class Neighbourhood(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=60)
    district: int
    name_fa: str
    name_en: str
