"""Reading and validating a tenant file, all of it, before anything is written.

Structure and types are checked by pydantic models (unknown keys refused); references between
entries, uniqueness, the tree shape and scheme settings by the checks below. Every problem becomes
one line naming the field, the value found and what is allowed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from core.models import LOCALES, PERSON_STATUSES, ROLES, UNIT_KINDS, UNIT_ROLES
from core.schemes import Scheme, format_pydantic_error, loc_path
from core.yamlio import YamlError, load_strict

FILE_NAME = "tenant.yaml"
CODE = r"^[A-Za-z0-9_-]{1,32}$"
SLUG = r"^[a-z0-9][a-z0-9-]{1,39}$"
USERNAME = r"^[a-z0-9._-]{2,40}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class SchemeEntry(_Entry):
    enabled: StrictBool = True
    settings: dict[str, Any] | None = None


class UnitEntry(_Entry):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=100)
    kind: Literal[UNIT_KINDS]  # type: ignore[valid-type]
    parent: str | None = Field(default=None, pattern=CODE)
    active: StrictBool = True


class PersonEntry(_Entry):
    number: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=100)
    unit: str = Field(pattern=CODE)
    position: str | None = Field(default=None, max_length=100)
    staff_class: str | None = Field(default=None, alias="class", max_length=20)
    status: Literal[PERSON_STATUSES] = "regular"  # type: ignore[valid-type]
    active: StrictBool = True


class AccountEntry(_Entry):
    username: str = Field(pattern=USERNAME)
    person: str | None = Field(default=None, pattern=CODE)
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, pattern=EMAIL, max_length=200)
    roles: list[Literal[ROLES]] = Field(min_length=1)  # type: ignore[valid-type]
    units: list[str] = Field(default_factory=list)
    active: StrictBool = True

    @field_validator("units")
    @classmethod
    def _unit_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.match(CODE, code):
                raise ValueError(f"{code!r} is not a unit code (letters, digits, '-' and '_', 1-32 characters)")
        return value


class TenantFile(_Entry):
    slug: str | None = Field(default=None, pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    locale: Literal[LOCALES] = "zh"  # type: ignore[valid-type]
    schemes: dict[str, SchemeEntry] = Field(default_factory=dict)
    units: list[UnitEntry] = Field(default_factory=list)
    people: list[PersonEntry] = Field(default_factory=list)
    accounts: list[AccountEntry] = Field(default_factory=list)


@dataclass
class ValidTenantFile:
    """A tenant file that passed every check, with scheme settings merged over the defaults."""

    slug: str
    data: TenantFile
    scheme_settings: dict[str, dict[str, Any]] = field(default_factory=dict)


class TenantFileError(ValueError):
    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))


_KEYS = {"units": "code", "people": "number", "accounts": "username"}


def _path(raw: Any, loc: tuple) -> str:
    """Name list entries by their key too: ``units[3](FIN).kind``."""
    path = loc_path(loc)
    if len(loc) >= 2 and loc[0] in _KEYS and isinstance(loc[1], int):
        try:
            key = raw[loc[0]][loc[1]].get(_KEYS[loc[0]])
        except (AttributeError, IndexError, KeyError, TypeError):
            key = None
        if key:
            head = f"{loc[0]}[{loc[1]}]"
            path = f"{head}({key})" + path[len(head):]
    return path


_ENTRY_MODELS: dict[str, type[BaseModel]] = {"units": UnitEntry, "people": PersonEntry, "accounts": AccountEntry}


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model that refused an unknown key at ``loc`` (so the message can list its keys)."""
    if len(loc) == 1:
        return TenantFile
    if len(loc) == 3 and loc[0] in _ENTRY_MODELS and isinstance(loc[1], int):
        return _ENTRY_MODELS[loc[0]]
    if len(loc) == 3 and loc[0] == "schemes":
        return SchemeEntry
    return None


def _problem(raw: Any, err: dict[str, Any]) -> str:
    """One pydantic error as a line; unknown keys list the allowed keys, booleans say true/false."""
    loc = tuple(err["loc"])
    path = _path(raw, loc)
    model = _model_at(loc) if err["type"] == "extra_forbidden" else None
    if model is not None:
        keys = ", ".join(f.alias or name for name, f in model.model_fields.items())
        return f"{path}: unknown key (value {err['input']!r}); allowed keys: {keys}"
    if err["type"] == "bool_type":
        return f"{path}: {err['input']!r} is not allowed — only true or false"
    return format_pydantic_error(err, path=path)


def validate(raw: Any, folder_slug: str, schemes: dict[str, Scheme]) -> ValidTenantFile:
    """Check a parsed tenant file completely; raise TenantFileError listing every problem."""
    if not isinstance(raw, dict):
        raise TenantFileError(FILE_NAME, [f"the file must be a mapping with name, units, people ...; found {type(raw).__name__}"])
    try:
        data = TenantFile.model_validate(raw)
    except ValidationError as exc:
        raise TenantFileError(FILE_NAME, [_problem(raw, e) for e in exc.errors()]) from None

    problems: list[str] = []
    slug = data.slug or folder_slug
    if data.slug and data.slug != folder_slug:
        problems.append(f"slug: {data.slug!r} differs from the folder name {folder_slug!r}; they must be equal")
    if not re.match(SLUG, slug):
        problems.append(f"slug: {slug!r} is not allowed; use 2-40 lowercase letters, digits and '-'")

    settings: dict[str, dict[str, Any]] = {}
    for scheme_id, entry in data.schemes.items():
        scheme = schemes.get(scheme_id)
        if scheme is None:
            problems.append(f"schemes.{scheme_id}: unknown scheme; loaded schemes are {', '.join(schemes) or 'none'}")
            continue
        known = scheme.settings_model.model_fields
        overrides = entry.settings or {}
        for key in overrides.keys() - known.keys():
            problems.append(f"schemes.{scheme_id}.settings.{key}: unknown setting (value {overrides[key]!r}); "
                            f"allowed: {', '.join(known) or 'none (the scheme has no settings)'}")
        merged, errors = scheme.validate_settings({k: v for k, v in overrides.items() if k in known})
        problems.extend(f"schemes.{scheme_id}.{e}" for e in errors)
        if merged is not None:
            settings[scheme_id] = merged

    unit_codes = _unique(problems, "units", [u.code for u in data.units], "code")
    for i, unit in enumerate(data.units):
        if unit.parent is not None and unit.parent not in unit_codes:
            problems.append(f"units[{i}]({unit.code}).parent: {unit.parent!r} is not a unit code in this file; allowed: one of the units' codes or null")
        if unit.parent == unit.code:
            problems.append(f"units[{i}]({unit.code}).parent: {unit.parent!r} is the unit itself; allowed: another unit's code or null")
    problems.extend(_cycles(data.units))

    classes = sorted({c for sid, e in data.schemes.items() if e.enabled and sid in schemes for c in schemes[sid].staff_classes})
    numbers = _unique(problems, "people", [p.number for p in data.people], "number")
    for i, person in enumerate(data.people):
        where = f"people[{i}]({person.number})"
        if person.unit not in unit_codes:
            problems.append(f"{where}.unit: {person.unit!r} is not a unit code in this file; allowed: one of the units' codes")
        if person.staff_class is not None and person.staff_class not in classes:
            allowed = ", ".join(classes) if classes else "none (the enabled schemes have no staff classes)"
            problems.append(f"{where}.class: {person.staff_class!r} is not a staff class of the enabled schemes; allowed: {allowed}")
    problems.extend(_inactive_units_in_use(data))

    _unique(problems, "accounts", [a.username for a in data.accounts], "username")
    linked: dict[str, str] = {}
    for i, account in enumerate(data.accounts):
        where = f"accounts[{i}]({account.username})"
        if account.person is not None:
            if account.person not in numbers:
                problems.append(f"{where}.person: {account.person!r} is not a person number in this file; allowed: one of the people's numbers or null")
            elif account.person in linked:
                problems.append(f"{where}.person: {account.person!r} already has the account {linked[account.person]!r}; one account per person")
            else:
                linked[account.person] = account.username
        elif account.display_name is None:
            problems.append(f"{where}.display_name: required when the account has no person")
        unit_roles = [r for r in account.roles if r in UNIT_ROLES]
        if unit_roles and not account.units:
            problems.append(f"{where}.units: required with role {unit_roles[0]}; list the codes of the units headed")
        if account.units and not unit_roles:
            problems.append(f"{where}.units: {account.units!r} only goes with role unit_head")
        for code in account.units:
            if code not in unit_codes:
                problems.append(f"{where}.units: {code!r} is not a unit code in this file; allowed: the units' codes")
        if len(set(account.roles)) != len(account.roles):
            problems.append(f"{where}.roles: {account.roles!r} lists a role twice")

    if problems:
        raise TenantFileError(FILE_NAME, problems)
    return ValidTenantFile(slug=slug, data=data, scheme_settings=settings)


def _inactive_units_in_use(data: TenantFile) -> list[str]:
    """An inactive unit may not hold active people or active sub-units (the portal refuses it too)."""
    inactive = {u.code: i for i, u in enumerate(data.units) if not u.active}
    problems = []
    for code, i in inactive.items():
        people = [p.number for p in data.people if p.unit == code and p.active]
        children = [u.code for u in data.units if u.parent == code and u.active]
        if people or children:
            held = ", ".join(f"{label} {', '.join(keys)}" for label, keys in (("people", people), ("sub-units", children)) if keys)
            problems.append(f"units[{i}]({code}).active: false is not allowed while active {held} remain in it; "
                            f"allowed: true, or deactivate or move them too")
    return problems


def _unique(problems: list[str], section: str, keys: list[str], key_name: str) -> set[str]:
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            problems.append(f"{section}[{i}].{key_name}: {key!r} is already used by {section}[{seen[key]}]; it must be unique")
        else:
            seen[key] = i
    return set(seen)


def _cycles(units: list[UnitEntry]) -> list[str]:
    parent = {u.code: u.parent for u in units}
    index = {u.code: i for i, u in enumerate(units)}
    problems, reported = [], set()
    for code in parent:
        path, node = [], code
        while node is not None and node in parent and node not in path:
            path.append(node)
            node = parent[node]
        if node is not None and node in path and node not in reported:
            loop = path[path.index(node):]
            reported.update(loop)
            if len(loop) > 1:  # a unit that is its own parent is reported by validate()
                problems.append(f"units[{index[node]}]({node}).parent: {parent[node]!r} closes the loop "
                                f"{' → '.join(loop + [node])}; allowed: a unit outside {node}'s own sub-tree, or null for a root")
    return problems


def read_folder(folder: str | Path, schemes: dict[str, Scheme]) -> ValidTenantFile:
    """Read and validate ``<folder>/tenant.yaml``."""
    folder = Path(folder)
    path = folder / FILE_NAME
    if not path.is_file():
        raise TenantFileError(str(path), [f"no such file; a tenant folder holds {FILE_NAME}"])
    try:
        raw = load_strict(path.read_text(encoding="utf-8"))
    except (YamlError, UnicodeDecodeError) as exc:
        raise TenantFileError(str(path), [str(exc)]) from None
    try:
        return validate(raw, folder.resolve().name, schemes)
    except TenantFileError as exc:
        raise TenantFileError(str(path), exc.problems) from None
