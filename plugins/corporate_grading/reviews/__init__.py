"""corporate-grading: reviews."""
