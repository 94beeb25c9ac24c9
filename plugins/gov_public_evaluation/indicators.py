"""The indicator tree of `gov-public-evaluation` (schemes.md §3) and its validation.

``DEFAULT_INDICATORS`` is a **default** (schemes.md marks the tree as tenant settings; the demo
ships this one): the township plan of source 004 part 6 names the three first-level indicators
(一级指标) 可持续发展, 和谐社会构建 and 勤政廉政 over 23 second-level indicators (二级指标) but does not
list the 23. The second-level names below are invented to fit a Chinese township's plan and the
survey topics the plan lists (经济发展, 新农村建设, 文化教育, 医疗卫生, 社会保障, 促进就业, 环境保护,
社会治安, 安全生产, 廉洁从政, 行政效率); their maxima sum to 100 (40 + 35 + 25). A tenant replaces
the whole tree in its settings (``indicators``).

The tree is plain data (``code``, ``name``, ``max`` as decimal text) so that tools such as the
benchmark generator can read it without the settings model.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.scoring.numbers import NumberError, exact

DEFAULT_INDICATORS: list[dict[str, Any]] = [
    {"code": "S", "name": "可持续发展", "children": [
        {"code": "S1", "name": "地区生产总值增长", "max": "6"},
        {"code": "S2", "name": "财政一般预算收入", "max": "5"},
        {"code": "S3", "name": "固定资产投资与重点项目建设", "max": "6"},
        {"code": "S4", "name": "招商引资", "max": "4"},
        {"code": "S5", "name": "现代农业与农民增收", "max": "5"},
        {"code": "S6", "name": "节能减排", "max": "3"},
        {"code": "S7", "name": "生态环境保护", "max": "4"},
        {"code": "S8", "name": "耕地保护与节约集约用地", "max": "4"},
        {"code": "S9", "name": "新农村建设", "max": "3"},
    ]},
    {"code": "H", "name": "和谐社会构建", "children": [
        {"code": "H1", "name": "安全生产", "max": "5"},
        {"code": "H2", "name": "社会治安综合治理", "max": "5"},
        {"code": "H3", "name": "信访维稳", "max": "4"},
        {"code": "H4", "name": "文化教育", "max": "4"},
        {"code": "H5", "name": "医疗卫生", "max": "4"},
        {"code": "H6", "name": "社会保障与促进就业", "max": "5"},
        {"code": "H7", "name": "扶贫帮困", "max": "4"},
        {"code": "H8", "name": "基本公共服务", "max": "4"},
    ]},
    {"code": "D", "name": "勤政廉政", "children": [
        {"code": "D1", "name": "政务公开", "max": "4"},
        {"code": "D2", "name": "行政效能", "max": "5"},
        {"code": "D3", "name": "依法行政", "max": "4"},
        {"code": "D4", "name": "廉洁从政", "max": "5"},
        {"code": "D5", "name": "机关作风建设", "max": "4"},
        {"code": "D6", "name": "绩效管理与信息报送", "max": "3"},
    ]},
]
"""The default indicator tree **(default)**: 3 first-level indicators, 23 second-level, maxima 100."""

DEFAULT_SURVEY_CATEGORIES: list[dict[str, Any]] = [
    {"code": "npc_deputy", "name": "人大代表", "weight": "1"},
    {"code": "business", "name": "企业经营者", "weight": "1"},
    {"code": "urban", "name": "城镇居民", "weight": "1"},
    {"code": "rural", "name": "农村居民", "weight": "1"},
]
"""Respondent categories **(default list; the source says 等, tenants may add categories)**, with
equal weights **(default)**."""

CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
CODE_RULE = "1-32 letters, digits, '_', '.' or '-'"


# ----------------------------------------------------------------------------------- validation

def _error(loc: tuple, value: Any, kind: str, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)


def _reraise(exc: ValidationError) -> list[InitErrorDetails]:
    """The handler's own errors, kept as they are (type, place, value and message)."""
    return [_error(e["loc"], e["input"], e["type"], e["msg"]) for e in exc.errors()]


def _positive(value: Any) -> bool | None:
    """``True``/``False`` when ``value`` reads as a number, ``None`` when it does not (the model
    reports that)."""
    if isinstance(value, bool):
        return None
    try:
        return exact(value) > 0
    except (NumberError, TypeError):
        return None


def _code_and_name(raw: dict, loc: tuple, seen: dict[str, str], errors: list, where: str) -> None:
    code, name = raw.get("code"), raw.get("name")
    if isinstance(code, str):
        if not CODE.match(code):
            errors.append(_error(loc + ("code",), code, "code_pattern", f"a code is {CODE_RULE}"))
        elif code in seen:
            errors.append(_error(loc + ("code",), code, "duplicate_code",
                                 f"code {code!r} is already used by {seen[code]}; codes must be unique"))
        else:
            seen[code] = where
    if isinstance(name, str) and not name.strip():
        errors.append(_error(loc + ("name",), name, "empty_name", "a name must not be empty"))


def applies(units: list[str] | tuple[str, ...], unit_code: str, unit_kind: str) -> bool:
    """Does a second-level indicator whose ``units`` setting is ``units`` apply to this unit? Empty
    means every unit; otherwise the unit's code or its kind is listed."""
    return not units or unit_code in units or unit_kind in units


def check_tree(raw: Any, handler: Any) -> Any:
    """Wrap validator of the ``indicators`` setting: every problem of the tree at once.

    Codes are unique across the whole tree (first and second level together), names are not
    empty, every first-level indicator has at least one child and every maximum is above 0.
    """
    errors: list[InitErrorDetails] = []
    value = None
    try:
        value = handler(raw)
    except ValidationError as exc:
        errors.extend(_reraise(exc))
    if isinstance(raw, (list, tuple)):
        if not raw:
            errors.append(_error((), raw, "empty_tree", "the tree needs at least one first-level indicator"))
        seen: dict[str, str] = {}
        for i, first in enumerate(raw):
            if not isinstance(first, dict):
                continue
            _code_and_name(first, (i,), seen, errors, f"indicators[{i}]")
            children = first.get("children")
            if isinstance(children, (list, tuple)):
                if not children:
                    errors.append(_error((i, "children"), children, "no_children",
                                         "a first-level indicator needs at least one second-level indicator"))
                for j, child in enumerate(children):
                    if not isinstance(child, dict):
                        continue
                    _code_and_name(child, (i, "children", j), seen, errors, f"indicators[{i}].children[{j}]")
                    for k, unit in enumerate(child.get("units") or ()):
                        if isinstance(unit, str) and not CODE.match(unit):
                            errors.append(_error((i, "children", j, "units", k), unit, "code_pattern",
                                                 f"a unit code or kind is {CODE_RULE}"))
                    if _positive(child.get("max")) is False:
                        errors.append(_error((i, "children", j, "max"), child.get("max"), "max_not_positive",
                                             "a maximum must be above 0"))
    if errors:
        raise ValidationError.from_exception_data("indicators", errors)
    return value


def check_categories(raw: Any, handler: Any) -> Any:
    """Wrap validator of the ``survey_categories`` setting: unique codes, names, weights above 0."""
    errors: list[InitErrorDetails] = []
    value = None
    try:
        value = handler(raw)
    except ValidationError as exc:
        errors.extend(_reraise(exc))
    if isinstance(raw, (list, tuple)):
        if not raw:
            errors.append(_error((), raw, "no_categories", "the survey needs at least one respondent category"))
        seen: dict[str, str] = {}
        for i, category in enumerate(raw):
            if not isinstance(category, dict):
                continue
            _code_and_name(category, (i,), seen, errors, f"survey_categories[{i}]")
            if "weight" in category and _positive(category["weight"]) is False:
                errors.append(_error((i, "weight"), category["weight"], "weight_not_positive",
                                     "a category's weight must be above 0"))
    if errors:
        raise ValidationError.from_exception_data("survey_categories", errors)
    return value
