"""The library's own error types: every problem with user data raises one of these.

All derive from :class:`Error` (itself a ``ValueError``), so a caller can catch
``inference_arithmetic.errors.Error`` to handle any bad input; the command line
turns each into one line on stderr and exit status 2.  Any other exception is a
bug in the library.
"""
from __future__ import annotations

__all__ = ["Error", "CatalogError", "InputError", "UnitError"]


class Error(ValueError):
    """Base of the library's errors: bad or unknown user data, with a one-line message."""


class CatalogError(Error):
    """A catalog entry or a user-supplied config is missing, malformed or unknown."""


class InputError(Error):
    """A numeric input is missing, negative, zero where it must be positive, not a number, or out of range."""


class UnitError(Error):
    """A unit string could not be parsed, or two dimensions do not match."""
