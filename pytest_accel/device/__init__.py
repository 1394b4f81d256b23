"""Which devices a session has: the --accel request, discovery, the xdist probe, device faults."""
