"""Bulk entry of a cycle's inputs: a template the portal generates (.xlsx or .csv), filled in and
imported all or nothing, with every problem named by row and column.

The columns are the scheme's declared fields (scorecards as one score each, unit lists as codes
separated by commas); a cell left empty leaves that input unset. A row is checked with the same rules as the form.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Iterable

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from sqlalchemy import bindparam, update

from core.cycles import inputs as forms
from core.cycles import service
from core.db import db_session
from core.models import Cycle, CycleSubject
from core.plugins import get_schemes
from core.schemes import InputField
from core.scoring.case import Period

FIXED = ("code", "name", "class")
MAX_ROWS = 50_000


class ImportError_(ValueError):  # noqa: N801 - "ImportError" is a builtin
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Column:
    key: str          # the header: a field path (scorecards: path_score)
    field: InputField | None
    title: str


def columns(cycle: Cycle, kind: str, locale: str) -> list[Column]:
    """The template's columns for one kind of subject: the union of the fields of its classes."""
    scheme = get_schemes()[cycle.scheme_id]
    period = Period.parse(cycle.period)
    seen: dict[str, Column] = {}
    for f in (scheme.input_fields(cycle.settings) if scheme.input_fields else []):
        if f.subject != kind or (f.periods and period.kind not in f.periods):
            continue
        key = f"{f.path}_score" if f.kind == "scorecard" else f.path
        seen.setdefault(key, Column(key, f, f.label(locale)))
    fixed = [Column(k, None, k) for k in FIXED]
    return fixed + list(seen.values())


def _cell(inputs: dict, column: Column) -> Any:
    value = forms.get_value(inputs, column.key)
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, list):  # unit codes (class A's overseen units)
        return ", ".join(str(v) for v in value)
    return value if value is not None else ""


def rows_for(cycle: Cycle, kind: str, cols: list[Column]) -> list[list[Any]]:
    out = []
    for subject in service.subjects(cycle):
        if subject.kind != kind:
            continue
        values = {"code": subject.code, "name": subject.name, "class": subject.staff_class or ""}
        out.append([values[c.key] if c.field is None else _cell(subject.inputs or {}, c) for c in cols])
    return out


def template_xlsx(cycle: Cycle, kind: str, locale: str) -> bytes:
    cols = columns(cycle, kind, locale)
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    sheet.append([c.key for c in cols])
    sheet.append([c.title for c in cols])  # a second header row people can read; skipped on import
    for row in rows_for(cycle, kind, cols):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_csv(cycle: Cycle, kind: str, locale: str) -> str:
    cols = columns(cycle, kind, locale)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.key for c in cols])
    writer.writerow([c.title for c in cols])
    writer.writerows(rows_for(cycle, kind, cols))
    return buffer.getvalue()


def read_rows(filename: str, data: bytes) -> list[list[Any]]:
    """The rows of an uploaded .xlsx or .csv file (UTF-8, with or without a byte-order mark)."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportError_([_("%(file)s is not an .xlsx workbook.", file=filename)]) from None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        return _not_too_many(rows, filename)
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportError_([_("%(file)s is not UTF-8 text; save the CSV as UTF-8.", file=filename)]) from None
        return _not_too_many(list(csv.reader(io.StringIO(text))), filename)
    raise ImportError_([_("%(file)s: upload an .xlsx or .csv file made from the template.", file=filename)])


def changed_fields(fields: list[InputField], before: dict, after: dict) -> list[str]:
    """The paths of the declared fields whose values differ between two versions of the inputs."""
    changed = []
    for f in fields:
        keys = (f"{f.path}_score", f"{f.path}_items") if f.kind == "scorecard" else (f.path,)
        if any(forms.get_value(before, k) != forms.get_value(after, k) for k in keys) and f.path not in changed:
            changed.append(f.path)
    return changed


def inputs_saving(cycle: Cycle, subject: CycleSubject, account: Any, fields: list[InputField], inputs: dict) -> None:
    """Ask the plugins whether these inputs may be saved (``jixiao_event_inputs_saving``); a plugin
    refuses by raising :class:`core.cycles.service.CycleError`."""
    from flask import current_app

    from core.models import Tenant

    current_app.extensions["jixiao.plugins"].hook.jixiao_event_inputs_saving(
        tenant=db_session.get(Tenant, cycle.tenant_id), cycle=cycle, subject=subject, account=account,
        fields=changed_fields(fields, subject.inputs or {}, inputs), inputs=inputs)


def _not_too_many(rows: list, filename: str) -> list:
    if len(rows) > MAX_ROWS + 2:
        raise ImportError_([_("%(file)s has %(n)s rows; at most %(max)s subjects are imported at once.",
                              file=filename, n=len(rows), max=MAX_ROWS)])
    return rows


YES = {"true", "1", "yes", "y", "是", "√", "✓"}
NO = {"", "false", "0", "no", "n", "否", "×"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def import_rows(cycle: Cycle, kind: str, rows: list[list[Any]], actor: str, account: Any = None) -> int:
    """Check every row, then write them all (or nothing); ``account`` is who imports (the plugins
    may refuse a row, see :func:`inputs_saving`). :return: subjects updated."""
    if cycle.state not in service.EDITABLE_STATES:
        raise ImportError_([_("This cycle is %(state)s: its inputs can no longer be changed.", state=cycle.state)])
    if not rows:
        raise ImportError_([_("The file is empty.")])
    cols = {c.key: c for c in columns(cycle, kind, "en")}
    header = [_text(h) for h in rows[0]]
    problems = []
    unknown = [h for h in header if h and h not in cols]
    if unknown:
        problems.append(_("Row 1: unknown column(s) %(cols)s; allowed: %(allowed)s.", cols=", ".join(unknown),
                          allowed=", ".join(cols)))
    if "code" not in header:
        problems.append(_("Row 1: the column code is missing."))
    if problems:
        raise ImportError_(problems)
    subjects = {s.code: s for s in service.subjects(cycle) if s.kind == kind}
    unit_codes = {s.code for s in service.subjects(cycle) if s.kind == "unit"}
    updates: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {h: _text(v) for h, v in zip(header, row) if h}
        code = values.get("code", "")
        if not any(values.values()) or code == "code":  # blank, or the template's readable header row
            continue
        subject = subjects.get(code)
        if subject is None:
            problems.append(_("Row %(row)s, column code: %(code)s is not a subject of this cycle.", row=number, code=code or "—"))
            continue
        if code in seen:
            problems.append(_("Row %(row)s, column code: %(code)s already appears in row %(first)s.", row=number, code=code,
                              first=seen[code]))
            continue
        seen[code] = number
        applicable = {f.path for f in get_schemes()[cycle.scheme_id].fields_for(
            cycle.settings, kind, subject.staff_class, Period.parse(cycle.period).kind)}
        form: dict[str, Any] = {}
        fields: list[InputField] = []
        for key, column in cols.items():
            if column.field is None or key not in values or column.field.path not in applicable:
                continue
            fields.append(column.field)
            name = forms.form_name(column.field.path)
            if column.field.kind == "scorecard":
                if not values[key] and forms.get_value(subject.inputs or {}, f"{column.field.path}_items"):
                    fields.pop()  # an empty score cell leaves a scorecard entered item by item alone
                    continue
                form[f"{name}__mode"] = "score"
                form[f"{name}_score"] = values[key]
            elif column.field.kind == "units":
                form[name] = [c.strip() for c in values[key].replace("，", ",").replace("、", ",").split(",") if c.strip()]
            elif column.field.kind == "bool":
                answer = values[key].lower()
                if answer in YES:
                    form[name] = "on"
                elif answer not in NO:
                    problems.append(_("Row %(row)s, column %(col)s: %(value)s is not yes or no; allowed: true/false, "
                                      "1/0, 是/否.", row=number, col=key, value=values[key]))
            else:
                form[name] = values[key]
        parsed = forms.parse(fields, form, subject.inputs or {}, unit_codes)
        for name, messages in parsed.errors.items():
            key = next((k for k, c in cols.items() if c.field and name.startswith(forms.form_name(c.field.path))), name)
            for message in messages:
                problems.append(_("Row %(row)s, column %(col)s (%(title)s): %(message)s", row=number, col=key,
                                  title=cols[key].title if key in cols else key, message=message))
        if not parsed.errors:
            try:
                inputs_saving(cycle, subject, account, fields, parsed.inputs)
            except service.CycleError as exc:
                problems.append(_("Row %(row)s (%(code)s): %(message)s", row=number, code=code, message=str(exc)))
        updates.append({"sid": subject.id, "old": subject.inputs_version, "inputs": parsed.inputs,
                        "new": subject.inputs_version + 1, "by": actor, "at": service.now()})
    if problems:
        raise ImportError_(problems)
    if updates:
        # Each row only if nobody saved that subject since the file was checked (optimistic locking).
        stmt = (update(CycleSubject.__table__)
                .where(CycleSubject.__table__.c.id == bindparam("sid"),
                       CycleSubject.__table__.c.inputs_version == bindparam("old"),
                       CycleSubject.__table__.c.tenant_id == cycle.tenant_id)
                .values(inputs=bindparam("inputs"), inputs_version=bindparam("new"),
                        inputs_updated_by=bindparam("by"), inputs_updated_at=bindparam("at")))
        written = db_session.connection().execute(stmt, updates).rowcount
        if written != len(updates):
            raise ImportError_([_("Some subjects were changed by someone else during the import; nothing was "
                                  "imported. Download a fresh template and try again.")])
    return len(updates)


def kinds(cycle: Cycle) -> Iterable[str]:
    return [k for k in ("unit", "person") if k in get_schemes()[cycle.scheme_id].subject_kinds]
