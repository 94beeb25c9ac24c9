"""corporate-grading: approvals."""
from plugins.corporate_grading.approvals.views import bp, cycle_links, menu_items  # noqa: F401
