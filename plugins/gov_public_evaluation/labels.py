"""The township scheme's terms in Chinese and English: the ``labels`` of its ``Scheme`` (term →
{"zh", "en"}), which the core's pages use for a result's flags, ``extra`` keys, breakdown labels and
input keys (:func:`core.cycles.views._label`, :func:`core.results.views.result_term`).

Only terms that mean the same whatever the tenant's settings are named here. The indicator tree and
the respondent categories are settings: the flags of the default first-level indicators carry their
code (``reward:S`` reads "奖励 (S)", never a name a tenant's own tree may have changed), and a
category code reads as the default category of that code.

:func:`formula_text` writes the total's formula (a setting) with these names, for people.
"""
from __future__ import annotations

import re
from decimal import Decimal

from plugins.gov_public_evaluation.indicators import DEFAULT_INDICATORS

REWARD = {"zh": "奖励", "en": "Reward"}
ACCOUNTABILITY = {"zh": "追究主要领导责任", "en": "Accountability of the unit's head"}

LABELS: dict[str, dict[str, str]] = {
    # inputs (the case file's keys) and the total formula's terms
    "indicators": {"zh": "指标考核", "en": "Indicator points"},
    "survey": {"zh": "公众评议", "en": "Public evaluation"},
    "inspection": {"zh": "察访核验扣分", "en": "Inspection deductions"},
    "info_reports": {"zh": "信息报送条数", "en": "Information items reported"},
    "indicator_points": {"zh": "指标考核得分", "en": "Indicator points"},
    "public_score": {"zh": "公众评议得分", "en": "Public score"},
    "reporting_shortfall": {"zh": "信息报送扣分", "en": "Reporting shortfall"},
    "item": {"zh": "事项", "en": "Item"},
    "points": {"zh": "分值", "en": "Points"},
    "reported": {"zh": "已报送", "en": "Reported"},
    "minimum": {"zh": "最低条数", "en": "Minimum"},
    "points_per_missing": {"zh": "每少一条扣分", "en": "Points per missing item"},
    # extra
    "public": {"zh": "公众评议得分", "en": "Public score"},
    # answers
    "satisfied": {"zh": "满意", "en": "Satisfied"},
    "basically_satisfied": {"zh": "基本满意", "en": "Basically satisfied"},
    "dissatisfied": {"zh": "不满意", "en": "Dissatisfied"},
    "dont_know": {"zh": "不了解", "en": "Don't know"},
    # the default respondent categories
    "npc_deputy": {"zh": "人大代表", "en": "NPC deputies"},
    "business": {"zh": "企业经营者", "en": "Business operators"},
    "urban": {"zh": "城镇居民", "en": "Urban residents"},
    "rural": {"zh": "农村居民", "en": "Rural residents"},
    # flags
    "reward": REWARD,
    "accountability": ACCOUNTABILITY,
    # the breakdown's labels (scoring.py writes them "english 中文")
    "total 总分": {"zh": "总分", "en": "Total"},
    "indicator points 指标考核": {"zh": "指标考核", "en": "Indicator points"},
    "public score 公众评议": {"zh": "公众评议", "en": "Public score"},
    "inspection 察访核验": {"zh": "察访核验", "en": "Inspection"},
    "reporting shortfall 信息报送": {"zh": "信息报送", "en": "Reporting shortfall"},
    "satisfied 满意": {"zh": "满意", "en": "Satisfied"},
    "basically_satisfied 基本满意": {"zh": "基本满意", "en": "Basically satisfied"},
    "dissatisfied 不满意": {"zh": "不满意", "en": "Dissatisfied"},
    "dont_know 不了解": {"zh": "不了解", "en": "Don't know"},
    "npc_deputy 人大代表": {"zh": "人大代表", "en": "NPC deputies"},
    "business 企业经营者": {"zh": "企业经营者", "en": "Business operators"},
    "urban 城镇居民": {"zh": "城镇居民", "en": "Urban residents"},
    "rural 农村居民": {"zh": "农村居民", "en": "Rural residents"},
}

# reward:<code> and accountability:<code> of the default tree's first-level indicators (S, H, D)
for _group in DEFAULT_INDICATORS:
    _code = _group["code"]
    LABELS[f"reward:{_code}"] = {"zh": f"{REWARD['zh']} ({_code})", "en": f"{REWARD['en']} ({_code})"}
    LABELS[f"accountability:{_code}"] = {"zh": f"{ACCOUNTABILITY['zh']} ({_code})",
                                         "en": f"{ACCOUNTABILITY['en']} ({_code})"}
del _group, _code


# ----------------------------------------------------------------------------------- the total's formula

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|==|!=|<=|>=|[-+*/(),<>])|(?P<other>\S))")
_OPERATORS = {"*": "×", "/": "÷", "-": "−", "+": "+", "**": "^", "==": "=", "!=": "≠", "<=": "≤", ">=": "≥",
              "<": "<", ">": ">"}
_WORDS = {"and": {"zh": "且", "en": "and"}, "or": {"zh": "或", "en": "or"}, "not": {"zh": "非", "en": "not"},
          "if": {"zh": "若", "en": "if"}, "else": {"zh": "否则", "en": "else"}}


def term(key: str, locale: str) -> str:
    """A term of the scheme in ``locale`` (``zh`` / ``en``), else as written."""
    names = LABELS.get(key)
    if not names:
        return key
    return names.get(locale) or names.get("zh") or key


def _percent(value: str) -> str | None:
    """``0.7`` → ``70%`` (a weight between 0 and 1 with at most two decimals once in percent)."""
    number = Decimal(value)
    if not 0 < number < 1:
        return None
    percent = (number * 100).normalize()
    if percent.as_tuple().exponent < -2:
        return None
    return f"{format(percent, 'f')}%"


def formula_text(source: str, locale: str) -> str:
    """The total's formula as people read it: each name by its label, × ÷ − for * / -, and a weight
    multiplying a term as a percentage. The default formula reads "指标考核得分 × 70% + 公众评议得分 ×
    30% − 察访核验扣分 − 信息报送扣分". Any formula the settings accept can be shown (functions and
    other names are kept as written); text that is not a formula comes back unchanged."""
    tokens: list[tuple[str, str]] = []
    position = 0
    source = source or ""
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup or "other"
        tokens.append((kind, match.group(kind)))
    if source[position:].strip() or any(kind == "other" for kind, _v in tokens):
        return source
    out: list[str] = []
    previous: tuple[str, str] | None = None
    for i, (kind, value) in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if kind == "number":
            beside_times = (previous == ("op", "*")) or (following == ("op", "*"))
            shown = (_percent(value) if beside_times else None) or value
            out.append(shown)
        elif kind == "name":
            if following == ("op", "("):
                out.append(value)  # a function: avg(...), min(...)
            elif value in _WORDS:
                out.append(f" {_WORDS[value].get(locale, value)} ")
            else:
                out.append(term(value, locale))
        elif value == "(":
            out.append("(")
        elif value == ")":
            out.append(")")
        elif value == ",":
            out.append(", ")
        elif value == "-" and (previous is None or previous[0] == "op" and previous[1] not in (")",)):
            out.append("−")  # unary minus
        else:
            out.append(f" {_OPERATORS.get(value, value)} ")
        previous = (kind, value)
    return re.sub(r"\s{2,}", " ", "".join(out)).strip()
