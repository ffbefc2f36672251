"""Content negotiation of the /metrics exposition: prometheus-client's, behind a guard."""

from __future__ import annotations

import re
from collections.abc import Callable

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

# A `version` media-type parameter prometheus-client can compare: dotted numbers of at most 9
# digits (int() of longer parts has limits too). "abc", "1.x" or "1.0.0-rc1" made its
# choose_encoder compare str with int: a TypeError, so a 500 for every such scrape.
_EXPOSITION_VERSION = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})*")


def negotiate(accept: str) -> tuple[Callable[[Collector], bytes], str]:
    """The encoder and content type for an `Accept` header (never an error)."""
    return choose_encoder(servable_accept(accept))


def servable_accept(accept: str) -> str:
    """`accept` without the media ranges whose version names no format at all.

    Such a range is dropped as content negotiation drops any range it cannot serve: the rest
    decides, and with nothing left the answer is the Prometheus text format, the format
    Prometheus itself falls back to for a content type it cannot use. Not 406: that would fail
    a scrape over a header only a broken client sends, and the text format is always readable.
    """
    return ",".join(r for r in accept.split(",") if _versions_servable(r))


def _versions_servable(media_range: str) -> bool:
    for param in media_range.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key == "version" and value and not _EXPOSITION_VERSION.fullmatch(value):
            return False
    return True
