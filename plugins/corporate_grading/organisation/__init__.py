"""corporate-grading: posts (president, specialists, plan supervisors, committee chair) and oversight."""
