"""The run shown to people: the terminal summary, markdown and JSON reports, charts, formatting."""
