"""A small progress line on stderr, drawn only when stderr is a terminal.

Shared by generation, coherence scoring and the Label Studio push.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``Progress(total, "generate")``; ``update(n)``; ``close()``.  Silent when not a TTY."""

    def __init__(self, total: int, label: str, *, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.label, self.done = int(total), label, 0
        self.start = time.perf_counter()

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:.1f}/s {note}"[:120])
        self.stream.flush()

    def advance_to(self, done: int, note: str = "") -> None:
        """Move to ``done`` items (for callers that count absolute progress)."""
        self.update(int(done) - self.done, note)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
