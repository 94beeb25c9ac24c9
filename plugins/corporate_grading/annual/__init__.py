"""corporate-grading: annual."""
