"""corporate-grading: letters."""
from plugins.corporate_grading.letters.views import bp, cycle_links, menu_items  # noqa: F401
