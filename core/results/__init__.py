"""Results after publication, seen by the people they concern: own results, interviews and
signatures, appeals, notifications."""
