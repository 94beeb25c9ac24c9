"""(scaffold, replaced by the feature's pages)"""
from flask import Blueprint

from plugins.gov_public_evaluation.survey import models  # noqa: F401 (the tables register)

bp = Blueprint("township_survey", __name__, url_prefix="/t/<tenant>/township")


def cycle_links(cycle, user):
    return []


def menu_items(tenant, user):
    return []
