"""What a run reports: per-test records, the summary built once, and its writers."""
