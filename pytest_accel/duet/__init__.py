"""The duet gate: two pytest processes, base and head, measured in alternation (``driver``, ``worker``),
round 1 in full and later rounds as short bursts (``burst``) until each test is decided (``rounds``)."""
