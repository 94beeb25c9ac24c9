"""Who may do what on the corporate scheme's own pages: the scheme's part of the access policy.

Built on :mod:`core.policy` (roles, headed units); views ask these functions and never test roles
themselves. One section per feature.
"""
from __future__ import annotations

from core.models import User
from plugins.corporate_grading.organisation.service import holds


def is_hr(user: User | None) -> bool:
    """HR / the administration office (tenant administrators) run the scheme."""
    return user is not None and "tenant_admin" in user.roles


# ----------------------------------------------------------------------------- organisation

def may_manage_organisation(user: User | None) -> bool:
    """Posts and oversight are set by HR."""
    return is_hr(user)


# ----------------------------------------------------------------------------- plans


# ----------------------------------------------------------------------------- letters


# ----------------------------------------------------------------------------- committee


# ----------------------------------------------------------------------------- reviews (360)


# ----------------------------------------------------------------------------- approvals


# ----------------------------------------------------------------------------- annual results
