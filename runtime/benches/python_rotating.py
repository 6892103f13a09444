"""The seed's own number: Python's RotatingFileHandler with the seed's format.

Run: python3 runtime/benches/python_rotating.py [LINES]

Writes LINES (default 200,000) `REQUEST_END | path=... status_code=200`
lines through logging.handlers.RotatingFileHandler (1 MiB x 10) with the
seed's ReadableFormatter layout, single thread, and prints lines/s.
"""

import logging
import logging.handlers
import sys
import tempfile
import time


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as root:
        handler = logging.handlers.RotatingFileHandler(
            f"{root}/bench.log", maxBytes=1_048_576, backupCount=10
        )
        handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
        logger = logging.getLogger("bench")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        start = time.perf_counter()
        for _ in range(lines):
            # StructuredLogger.info("REQUEST_END", path=..., status_code=...)
            fields = {"path": "/api/builds", "status_code": 200}
            logger.info("REQUEST_END | " + " ".join(f"{k}={v}" for k, v in fields.items()))
        elapsed = time.perf_counter() - start
        handler.close()
    print(f"python RotatingFileHandler: {lines / elapsed:,.0f} lines/s ({elapsed * 1e9 / lines:.0f} ns/line)")


if __name__ == "__main__":
    main()
