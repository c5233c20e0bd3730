"""Dates the lifecycle commands report: the next auto-shutdown and the decommission deadline.

Azure's auto-shutdown schedules take Windows time-zone ids; the standard library speaks
IANA names. The table covers the ids the template offers (see ``known_time_zones`` in
copier.yml), mapped as in the Unicode CLDR ``windowsZones`` table.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

WINDOWS_TO_IANA = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "Romance Standard Time": "Europe/Paris",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Turkey Standard Time": "Europe/Istanbul",
    "Russian Standard Time": "Europe/Moscow",
    "Israel Standard Time": "Asia/Jerusalem",
    "Egypt Standard Time": "Africa/Cairo",
    "South Africa Standard Time": "Africa/Johannesburg",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "Arab Standard Time": "Asia/Riyadh",
    "Arabian Standard Time": "Asia/Dubai",
    "Pakistan Standard Time": "Asia/Karachi",
    "India Standard Time": "Asia/Kolkata",
    "SE Asia Standard Time": "Asia/Bangkok",
    "Singapore Standard Time": "Asia/Singapore",
    "China Standard Time": "Asia/Shanghai",
    "Taipei Standard Time": "Asia/Taipei",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "E. Australia Standard Time": "Australia/Brisbane",
    "W. Australia Standard Time": "Australia/Perth",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina",
    "Eastern Standard Time": "America/New_York",
    "SA Pacific Standard Time": "America/Bogota",
    "Atlantic Standard Time": "America/Halifax",
    "Newfoundland Standard Time": "America/St_Johns",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires",
}


def next_shutdown(
    time_of_day: str, windows_time_zone: str, now: dt.datetime | None = None
) -> dt.datetime | None:
    """The next time a daily schedule at ``time_of_day`` fires, in its own time zone.

    Args:
        time_of_day: ``HH:MM`` or Azure's ``HHMM``.
        windows_time_zone: A Windows time-zone id such as ``W. Europe Standard Time``.
        now: The current time (aware); defaults to now.

    Returns:
        An aware datetime, or None if the time or the zone is not understood.
    """
    digits = time_of_day.replace(":", "")
    zone_name = WINDOWS_TO_IANA.get(windows_time_zone)
    if len(digits) != 4 or not digits.isdigit() or zone_name is None:
        return None
    zone = ZoneInfo(zone_name)
    local_now = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    hour, minute = int(digits[:2]), int(digits[2:])
    candidate = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local_now:
        candidate = (candidate + dt.timedelta(days=1)).replace(hour=hour, minute=minute)
    return candidate


def days_until(deadline: dt.date, today: dt.date | None = None) -> int:
    """Days from today until ``deadline`` (negative once it has passed)."""
    return (deadline - (today or dt.date.today())).days
