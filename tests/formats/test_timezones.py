"""The local time zone keeps its DST rules: TZ names, rule strings, zone files, /etc/localtime copies."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from orchestrator_gui.formats import timezones
from orchestrator_gui.formats.nextrun import next_execution_ms, parse_local, to_ms
from orchestrator_gui.formats.timezones import local_zone, named_zone, parse_instant

pytestmark = pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (POSIX)")

JAN = datetime(2025, 1, 15, 12, tzinfo=UTC)
JUL = datetime(2025, 7, 15, 12, tzinfo=UTC)
H = timedelta(hours=1)


def tzdata_file(name: str) -> Path:
    """A zone file shipped with the ``tzdata`` package (a project dependency), so tests need no system tree."""
    return Path(str(resources.files("tzdata").joinpath("zoneinfo", *name.split("/"))))


@pytest.fixture
def set_tz(monkeypatch):
    """Set (or, with ``None``, unset) ``TZ`` the way a user would, and restore it afterwards."""

    def set_(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("TZ", raising=False)
        else:
            monkeypatch.setenv("TZ", value)
        time.tzset()

    yield set_
    monkeypatch.undo()
    time.tzset()


def offsets(tz) -> tuple[timedelta, timedelta]:
    return JAN.astimezone(tz).utcoffset(), JUL.astimezone(tz).utcoffset()


@pytest.mark.parametrize("value", ["Europe/London", ":Europe/London"])
def test_tz_name_gives_winter_and_summer_time(set_tz, value):
    set_tz(value)
    assert offsets(local_zone()) == (timedelta(0), H)


def test_a_posix_rule_string_keeps_its_dst_rule(set_tz):
    # Such a TZ names no zone file; a fixed-offset snapshot would be an hour off half the year.
    set_tz("CET-1CEST,M3.5.0,M10.5.0/3")
    tz = local_zone()
    assert offsets(tz) == (H, 2 * H)
    assert repr(tz) == repr(local_zone())  # stable: the activation cache compares zones by repr


def test_tz_as_a_file_path(set_tz, tmp_path):
    copy = tmp_path / "ny"
    shutil.copyfile(tzdata_file("America/New_York"), copy)
    set_tz(f":{copy}")
    assert offsets(local_zone()) == (-5 * H, -4 * H)
    set_tz(f":{tzdata_file('America/New_York')}")  # inside a zoneinfo tree: looked up by its name
    assert offsets(local_zone()) == (-5 * H, -4 * H)


def test_etc_localtime_link_and_copy(set_tz, monkeypatch, tmp_path):
    set_tz(None)
    link = tmp_path / "localtime-link"
    link.symlink_to(tzdata_file("Europe/London"))
    monkeypatch.setattr(timezones, "LOCALTIME", str(link))
    assert offsets(local_zone()) == (timedelta(0), H)
    assert str(local_zone()) == "Europe/London"
    # Containers often copy the zone file instead of linking it: there is no name, but the rules are there.
    copy = tmp_path / "localtime-copy"
    shutil.copyfile(tzdata_file("Australia/Sydney"), copy)
    monkeypatch.setattr(timezones, "LOCALTIME", str(copy))
    assert offsets(local_zone()) == (11 * H, 10 * H)


def test_empty_tz_means_utc_like_the_c_library(set_tz, monkeypatch, tmp_path):
    link = tmp_path / "localtime"
    link.symlink_to(tzdata_file("Europe/London"))
    monkeypatch.setattr(timezones, "LOCALTIME", str(link))
    set_tz("")  # set but empty: the C library (and so JavaScript's Date) uses UTC, not /etc/localtime
    assert offsets(local_zone()) == (timedelta(0), timedelta(0))


def test_no_zone_at_all_falls_back_to_the_current_offset(set_tz, monkeypatch, tmp_path):
    set_tz(None)
    monkeypatch.setattr(timezones, "LOCALTIME", str(tmp_path / "missing"))
    assert local_zone().utcoffset(None) == datetime.now().astimezone().utcoffset()


def test_schedule_wall_times_follow_the_dst_change(set_tz):
    # A start date and hour are London wall time: 09:00 is 09:00 UTC in winter, 08:00 UTC in summer.
    set_tz("Europe/London")
    tz = local_zone()
    assert parse_local("2025-01-10", "09", "00", tz) == to_ms(datetime(2025, 1, 10, 9, tzinfo=UTC))
    assert parse_local("2025-07-10", "09", "00", tz) == to_ms(datetime(2025, 7, 10, 8, tzinfo=UTC))
    sched = {"timeInterval": "1", "timeUnit": "day", "startDate": "2025-07-10", "startHour": "09", "startMinute": "00"}
    now = to_ms(datetime(2025, 1, 10, tzinfo=UTC))  # computed in winter, for a summer start
    assert next_execution_ms(sched, now, tz) == to_ms(datetime(2025, 7, 10, 8, tzinfo=UTC))


def test_named_zone():
    assert offsets(named_zone("Europe/London")) == (timedelta(0), H)
    assert offsets(named_zone("EST5EDT,M3.2.0,M11.1.0")) == (-5 * H, -4 * H)
    for bad in ("Mars/Olympus", "", "not a zone!", "../etc/passwd"):
        with pytest.raises(ValueError):
            named_zone(bad)


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-11-01T06:00:00Z", datetime(2025, 11, 1, 6, tzinfo=UTC)),
    (" 2025-11-01T07:00:00+01:00 ", datetime(2025, 11, 1, 6, tzinfo=UTC)),
    ("2025-11-01T06:00:00", datetime(2025, 11, 1, 6, tzinfo=UTC)),
])
def test_parse_instant(text, expected):
    got = parse_instant(text)
    assert got == expected and got.tzinfo is UTC


def test_parse_instant_rejects_garbage():
    with pytest.raises(ValueError):
        parse_instant("yesterday")
