"""corporate-grading: committee."""
