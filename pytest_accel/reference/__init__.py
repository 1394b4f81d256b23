"""Where reference values come from: the hidden reference and oracle passes, and their cache."""
