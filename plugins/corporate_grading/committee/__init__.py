"""corporate-grading: committee."""
from plugins.corporate_grading.committee.views import bp, cycle_links, menu_items  # noqa: F401
