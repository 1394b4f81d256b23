"""One pytest session of the plugin: its state, and what it saves and writes at its end."""
