"""`python -m demo_app [--host H] [--port P]`: run rag-api with uvicorn (env HOST / PORT)."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from demo_app.config import PORT_MAX, ConfigError, Settings


def _port(text: str) -> int:
    """--port's type: an integer from 0 to PORT_MAX (as PORT)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= PORT_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {PORT_MAX}, got {text!r}")
    return value


def _unresolvable(host: str, port: int) -> str | None:
    """Why uvicorn could not bind to `host` ("Name or service not known"), or None."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot resolve it ({getattr(exc, 'strerror', None) or exc})"
    return None


def main(argv: list[str] | None = None, wrap: Callable[[Any], Any] | None = None) -> int:
    """Run rag-api; `wrap` (benchmarks) wraps the ASGI app uvicorn serves."""
    parser = argparse.ArgumentParser(prog="python -m demo_app", description=__doc__)
    parser.add_argument("--host", help="bind address (default: env HOST or 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="port (default: env PORT or 8000)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"rag-api: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.host:
        settings = settings.replace(host=args.host)
    if args.port is not None:
        settings = settings.replace(port=args.port)
    if reason := _unresolvable(settings.host, settings.port):
        print(
            f"rag-api: configuration error: {'--host' if args.host else 'HOST'}="
            f"{settings.host!r}: {reason}",
            file=sys.stderr,
        )
        return 2

    from demo_app.app import create_app

    try:
        app = create_app(settings)
    except (ConfigError, ValueError) as exc:
        print(f"rag-api: configuration error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        wrap(app) if wrap else app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our JSON logging (genai_telemetry.logs) handles uvicorn's records
        access_log=False,  # the app writes its own access line with request_id and trace_id
        proxy_headers=False,  # no proxy in front; X-Forwarded-For must not pick rate-limit keys
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
