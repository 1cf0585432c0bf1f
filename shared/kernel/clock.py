"""The services' clock: UTC now, or, to rehearse a campaign's calendar, now shifted by an offset.

The rehearsal clock reads a number of seconds from a file (AAP_CLOCK_OFFSET_FILE) and adds it
to the real time; the file is read again whenever it changes, so that a rehearsal (or an end to
end test) moves the time of running service processes without restarting them. A missing or
empty file is no offset. Never in production: every instant a service records would be false.
"""

import logging
import os
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class RehearsalClock:
    """`clock()`: the real UTC time plus the offset the file says, in seconds."""

    def __init__(self, offset_file: str) -> None:
        self.offset_file = offset_file
        self._seen: tuple[int, int] | None = None  # the file's (mtime, size) last read
        self._offset = timedelta(0)

    def __call__(self) -> datetime:
        return utc_now() + self.offset()

    def offset(self) -> timedelta:
        try:
            stat = os.stat(self.offset_file)
        except OSError:
            self._seen, self._offset = None, timedelta(0)
            return self._offset
        version = (stat.st_mtime_ns, stat.st_size)
        if version != self._seen:
            self._seen, self._offset = version, self._read()
        return self._offset

    def _read(self) -> timedelta:
        try:
            with open(self.offset_file) as f:
                text = f.read().strip()
            return timedelta(seconds=float(text)) if text else timedelta(0)
        except (OSError, ValueError) as error:
            log.warning(
                "the clock offset file %s does not read as seconds (%s): offset kept at 0",
                self.offset_file,
                error,
            )
            return timedelta(0)
