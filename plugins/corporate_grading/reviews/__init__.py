"""corporate-grading: reviews."""
from plugins.corporate_grading.reviews.views import bp, cycle_links, menu_items  # noqa: F401
