"""pytest-xdist: the controller's side (probing, headers, lost items) and worker pinning."""
