"""corporate-grading: annual."""
from plugins.corporate_grading.annual.views import bp, cycle_links, menu_items  # noqa: F401
