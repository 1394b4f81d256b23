"""Exceptions users can catch or see; kept apart so that importing them costs nothing."""

from __future__ import annotations


class ParityError(AssertionError):
    """A value differs from its reference by more than the allowed error."""


class ReferencePassError(AssertionError):
    """The test body failed while running on the reference device, so no parity could be judged."""


class CheckSequenceError(AssertionError):
    """The test called ``check`` differently on the reference device and on the device under test."""


class AccelConfigError(ValueError):
    """A marker argument, option or configuration value that the plugin cannot use."""
