"""Assessment cycles: from a draft to published, signed and appealed results (the workflow)."""
