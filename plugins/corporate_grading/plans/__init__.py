"""corporate-grading: plans."""
