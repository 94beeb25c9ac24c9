"""corporate-grading: posts (president, specialists, plan supervisors, committee chair) and oversight."""
from plugins.corporate_grading.organisation.views import bp, cycle_links, menu_items  # noqa: F401
