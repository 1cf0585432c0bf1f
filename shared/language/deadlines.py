"""Deadlines as the calendar reads them: months added in Paris, days left, which reminder is due.
Pure: every service that owns a deadline decides its reminders with these."""

import calendar
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.language.campaigns import PARIS

DAY = timedelta(days=1)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and hour `months` later on the Paris calendar; the last day of the month
    when it is shorter (31 January + 1 month = 28 or 29 February)."""
    local = moment.astimezone(PARIS)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def days_left(due_at: datetime, now: datetime) -> int:
    """Whole days before the deadline, a started day counting as one (0 once it passed)."""
    return max(math.ceil((due_at - now) / DAY), 0)


def reminders(due_at: datetime, reminder_days: Iterable[int]) -> list[tuple[int, datetime]]:
    """(days before, instant) of each reminder of a deadline, the earliest first."""
    return [
        (d, due_at - d * DAY) for d in sorted({d for d in reminder_days if d > 0}, reverse=True)
    ]


def reminder_is_due(
    *,
    due_at: datetime,
    window_days: int,
    reminder_days: Iterable[int],
    now: datetime,
    reminded_at: Iterable[datetime],
) -> bool:
    """Whether the reminder `window_days` before the deadline is to be sent at `now`.

    Not before its instant, nor once the deadline passed (the overdue says it then); not when a
    closer reminder is due already (a job run late, after an outage, yields to the next one);
    and once per window: not when a reminder of this deadline was sent since the window opened.
    """
    opens = due_at - window_days * DAY
    if not opens <= now < due_at:
        return False
    if any(0 < d < window_days and now >= due_at - d * DAY for d in reminder_days):
        return False
    return not any(at >= opens for at in reminded_at)
