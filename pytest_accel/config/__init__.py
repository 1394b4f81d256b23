"""What the user configured: command-line options and ini keys, the marker, percentages."""
