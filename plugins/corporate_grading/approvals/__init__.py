"""corporate-grading: approval chains of the monthly personal scorecards."""
