"""(scaffold, replaced by the feature's pages)"""
from flask import Blueprint

bp = Blueprint("township_results", __name__, url_prefix="/t/<tenant>/township")


def cycle_links(cycle, user):
    return []


def menu_items(tenant, user):
    return []
