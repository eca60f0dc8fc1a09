"""``python -m fastdicom``: the command line (see :mod:`fastdicom.cli`)."""
from __future__ import annotations

import sys

from fastdicom.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
