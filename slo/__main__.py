"""`python -m slo`: kept as an alias of `python -m generators` (every generated file)."""

from __future__ import annotations

import sys

from generators.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
