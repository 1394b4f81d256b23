"""What a run produced: one record per item, and the saved results file (written atomically)."""
