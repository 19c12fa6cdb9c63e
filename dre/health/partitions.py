"""Daily range partitions of the heartbeat intervals (PostgreSQL only).

`health_heartbeatinterval` is partitioned by range on `ended` (migration 0003): one
partition per UTC day, named `health_heartbeatinterval_pYYYYMMDD`, plus a default
partition that catches any interval no day partition covers, so a heartbeat that arrives
months late or from a device whose clock is wrong is still stored, never refused. A day's
rollup then reads one partition, and old raw rows go by dropping whole partitions while
the rollups stay.

The beat task `maintain_partitions` keeps partitions ahead of time and adopts the days
that piled up in the default partition. On SQLite (dev mode) the table is a plain table
and everything here does nothing.

Why not a library: django-postgres-extra's partitioning needs its own database backend
and PostgreSQL-only models and migrations, which would end SQLite dev mode; pg_partman is
an extension a plain PostgreSQL (or a managed one) may not have. The DDL is a dozen
statements, all here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction

TABLE = "health_heartbeatinterval"
DEFAULT = f"{TABLE}_default"
DAYS_AHEAD = 7
# Days before today whose rows are moved out of the default partition into their own.
ADOPT_DAYS_BACK = 400


def enabled() -> bool:
    return connection.vendor == "postgresql"


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def partitions_maintain(today: date | None = None) -> dict:
    """1. Create the partitions of yesterday to a week ahead. 2. Move days that landed in
    the default partition (late heartbeats) into partitions of their own. 3. Drop the
    partitions past the retention (HEALTH_INTERVAL_RETENTION_DAYS; 0 keeps all)."""
    if not enabled():
        return {"created": 0, "adopted": 0, "dropped": 0}
    today = today or datetime.now(UTC).date()
    existing = set(partition_days())
    created = 0
    for offset in range(-1, DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        if day not in existing:
            partition_create(day)
            created += 1
    adopted = sum(partition_create(day) >= 0 for day in _default_days(today))
    return {"created": created, "adopted": adopted, "dropped": _drop_expired(today)}


def partition_days() -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname = %s AND child.relname <> %s
            """,
            [TABLE, DEFAULT],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(datetime.strptime(name[-8:], "%Y%m%d").date() for name in names)


def partition_create(day: date) -> int:
    """The day's partition, with the rows the default partition held for it; returns how
    many rows moved. One transaction: a reader sees the rows in one place or the other."""
    low, high = _bounds(day)
    name = partition_name(day)
    with transaction.atomic(), connection.cursor() as cursor:
        # Hold off inserts into the default partition while its rows for the day move.
        cursor.execute(f"LOCK TABLE {DEFAULT} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ended >= %s AND ended < %s "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [low, high],
        )
        moved = cursor.rowcount
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [low, high],
        )
    return moved


def _bounds(day: date) -> tuple[datetime, datetime]:
    low = datetime.combine(day, time(), tzinfo=UTC)
    return low, low + timedelta(days=1)


def _default_days(today: date) -> list[date]:
    """Days with rows in the default partition that deserve a partition: not older than
    ADOPT_DAYS_BACK nor past the days kept ahead (a wrong clock's year 2106 stays put)."""
    back = min(ADOPT_DAYS_BACK, _retention_days() or ADOPT_DAYS_BACK)
    low, _ = _bounds(today - timedelta(days=back))
    _, high = _bounds(today + timedelta(days=DAYS_AHEAD))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT (ended AT TIME ZONE 'UTC')::date FROM {DEFAULT} "
            "WHERE ended >= %s AND ended < %s",
            [low, high],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _retention_days() -> int:
    return getattr(settings, "HEALTH_INTERVAL_RETENTION_DAYS", 0)


def expired(day: date, today: date | None = None) -> bool:
    """Whether the day's raw rows are past the retention (dropped or about to be)."""
    keep = _retention_days()
    today = today or datetime.now(UTC).date()
    return bool(enabled() and keep and day < today - timedelta(days=keep))


def _drop_expired(today: date) -> int:
    keep = _retention_days()
    if not keep:
        return 0
    expired = [day for day in partition_days() if day < today - timedelta(days=keep)]
    with connection.cursor() as cursor:
        for day in expired:
            cursor.execute(f"DROP TABLE {partition_name(day)}")
    return len(expired)
