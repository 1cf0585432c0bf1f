"""The rehearsal clock: real time shifted by the seconds a file says, read again when it changes;
no file, no shift. Chosen by the runtime only when the setting names a file."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.kernel.clock import RehearsalClock, utc_now
from shared.kernel.runtime import Runtime, ServiceSpec
from shared.kernel.settings import Settings


def close(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(seconds=5)


def test_the_clock_is_real_time_plus_the_seconds_in_the_file(tmp_path: Path):
    offset = tmp_path / "offset"
    offset.write_text(str(8 * 86400))
    assert close(RehearsalClock(str(offset))(), datetime.now(UTC) + timedelta(days=8))


def test_a_new_offset_is_read_as_soon_as_the_file_changes(tmp_path: Path):
    offset = tmp_path / "offset"
    offset.write_text("0")
    clock = RehearsalClock(str(offset))
    assert close(clock(), datetime.now(UTC))
    offset.write_text("3600.5")
    os.utime(offset, ns=(0, offset.stat().st_mtime_ns + 1_000_000))  # a later write, surely
    assert clock.offset() == timedelta(seconds=3600.5)


def test_no_file_an_empty_one_or_one_that_is_not_a_number_shifts_nothing(tmp_path: Path):
    missing = RehearsalClock(str(tmp_path / "missing"))
    assert missing.offset() == timedelta(0)
    (tmp_path / "empty").write_text("")
    assert RehearsalClock(str(tmp_path / "empty")).offset() == timedelta(0)
    (tmp_path / "words").write_text("eight days")
    assert RehearsalClock(str(tmp_path / "words")).offset() == timedelta(0)


def test_a_service_runs_on_the_rehearsal_clock_only_when_the_setting_names_a_file(tmp_path):
    spec = ServiceSpec("selection", "")
    assert Runtime(spec, Settings()).clock is utc_now
    rehearsed = Runtime(spec, Settings(clock_offset_file=str(tmp_path / "offset")))
    assert isinstance(rehearsed.clock, RehearsalClock)
    # a clock given by the code (a test's) wins over the setting
    fixed = datetime(2024, 5, 2, tzinfo=UTC)
    chosen = Runtime(spec, Settings(clock_offset_file="x"), clock=lambda: fixed)
    assert chosen.clock() == fixed
