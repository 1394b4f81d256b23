"""Dtype names and floating-point formats: plain descriptions every other package can use."""
