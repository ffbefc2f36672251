"""The one error type of the exporter: its message names what is wrong and where."""

from __future__ import annotations


class ExportError(Exception):
    """Bad input or output location; printed as `error: <message>`, exit code 2."""
