"""Forms for units and people. Error messages name the value found and what is allowed."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.models import PERSON_STATUSES, UNIT_KINDS
from core.tenant_files.validate import CODE

UNIT_KIND_LABELS = {
    "group": _l("Group"), "company": _l("Company"), "subsidiary": _l("Subsidiary"),
    "department": _l("Department"), "office": _l("Office"), "village": _l("Village"), "team": _l("Team"),
}
STATUS_LABELS = {
    "regular": _l("Regular"), "probation": _l("Probation"), "intern": _l("Intern"),
    "transfer": _l("Transfer period"), "promotion": _l("Promotion period"), "demotion": _l("Demotion period"),
}
assert set(UNIT_KIND_LABELS) == set(UNIT_KINDS) and set(STATUS_LABELS) == set(PERSON_STATUSES)


def code_format(form, field) -> None:
    if field.data and not re.match(CODE, field.data):
        raise ValidationError(_("%(value)s is not allowed: use 1-32 letters, digits, '-' or '_'.", value=field.data))


def choices(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms options."""
    return [SelectChoice(value, label) for value, label in pairs]


class ChoiceField(SelectField):
    """A select whose error names the value sent and the values allowed."""

    def pre_validate(self, form) -> None:
        allowed = [c.value for c in self.choices]
        if self.data not in allowed:
            shown = self.raw_data[0] if self.raw_data else self.data
            names = ", ".join(str(c.label) for c in self.choices if c.value not in (None, ""))
            raise ValidationError(_("%(value)s is not allowed; choose one of: %(allowed)s.",
                                    value=shown, allowed=names or "-"))


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value  # pre_validate reports it with the allowed values


class VersionedForm(FlaskForm):
    version = HiddenField()

    def version_number(self) -> int | None:
        return int(self.version.data) if (self.version.data or "").isdigit() else None


class UnitForm(VersionedForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32), code_format])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = ChoiceField(_l("Kind"), choices=choices(UNIT_KIND_LABELS.items()))
    parent_id = ChoiceField(_l("Parent unit"), coerce=_int_or_none, validators=[Optional()])

    def values(self) -> dict:
        return {"code": self.code.data.strip(), "name": self.name.data.strip(), "kind": self.kind.data,
                "parent_id": self.parent_id.data}


class PersonForm(VersionedForm):
    number = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32), code_format])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    unit_id = ChoiceField(_l("Unit"), coerce=_int_or_none)
    position = StringField(_l("Position"), validators=[Optional(), Length(max=100)])
    staff_class = ChoiceField(_l("Staff class"), validators=[Optional()])
    status = ChoiceField(_l("Status"), choices=choices(STATUS_LABELS.items()))

    def values(self) -> dict:
        return {"number": self.number.data.strip(), "name": self.name.data.strip(), "unit_id": self.unit_id.data,
                "position": (self.position.data or "").strip() or None,
                "staff_class": self.staff_class.data or None, "status": self.status.data}
