"""corporate-grading: a year of demo data for the `jituan` tenant."""
