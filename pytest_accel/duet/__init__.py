"""The duet gate: two pytest processes, base and head, measured in alternation (driver, worker, command)."""
