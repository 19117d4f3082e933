"""Readable local logs: a fixed message followed by its keys, one line per record.

In Lambda the handlers use Powertools' JSON logger instead; the core logs through the
standard `logging` module with `extra` keys either way.
"""

from __future__ import annotations

import logging
import sys

# Attributes every LogRecord has; anything else came from `extra` and is printed as a key.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class KeyValueFormatter(logging.Formatter):
    """`12:00:00.123 INFO  job submitted jobId=JOB-1 toons=3`."""

    def format(self, record: logging.LogRecord) -> str:
        """One readable line, plus the traceback when there is one."""
        keys = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        moment = self.formatTime(record, "%H:%M:%S") + f".{int(record.msecs):03d}"
        line = f"{moment} {record.levelname:<5} {record.getMessage()}"
        line = f"{line} {keys}" if keys else line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(level: str = "INFO") -> None:
    """Send the `toons` loggers to stderr in the readable format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("toons")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
