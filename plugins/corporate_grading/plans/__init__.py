"""corporate-grading: plans."""
from plugins.corporate_grading.plans.views import bp, cycle_links, menu_items  # noqa: F401
