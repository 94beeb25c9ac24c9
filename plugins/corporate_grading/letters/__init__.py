"""corporate-grading: letters."""
