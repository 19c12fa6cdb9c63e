"""Server time of the triage pages with 100,000 traces in PostgreSQL.

    .venv/bin/python bench/pages/run.py [--traces 100000] [--requests 30] [--explain] [--keep]

Creates its own database (dre_bench on the server of DATABASE_URL, or of
postgres://postgres@127.0.0.1:5432/ when that is unset), builds the data set of
dataset.py, then requests each page through Django's test client (the whole request:
middleware, session, view, queries, template; no network) and prints the median and
p95 over N requests after warm-up, with the number of queries per request. The
database is dropped at the end unless --keep. Figures, not tests: nothing asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.django_bench import page_figures, scratch_database  # noqa: E402

TARGET_MS = 300


def main() -> None:
    args = _arguments()
    with scratch_database(args.database, keep=args.keep):
        started = time.perf_counter()
        data = _build(args)
        print(f"built in {time.perf_counter() - started:.0f} s: {data.traces} traces, "
              f"{data.issues} issues, {data.devices} devices")  # fmt: skip
        print_table(measure(data, args.requests))
        if args.explain:
            explain(data)


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--issues", type=int, default=300)
    parser.add_argument("--devices", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--database", default="dre_bench")
    parser.add_argument("--explain", action="store_true", help="print the issue list's plans")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def _build(args):
    import logging

    logging.disable(logging.INFO)
    import dataset

    return dataset.build(args.traces, args.issues, args.devices)


# -- measuring ---------------------------------------------------------------------------


def pages(data) -> list[tuple[str, str]]:
    base = "/acme/sensors"
    from dre.crashes import selectors

    first = selectors.issue_list(data.project, selectors.IssueFilters(state="all"))
    trace = f"{base}/traces/{data.a_trace}"
    return [
        ("issue list (open, last seen)", f"{base}/issues/"),
        ("issue list, all states, page 2", f"{base}/issues/?state=all&after={first.next}"),
        ("issue list, by software version", f"{base}/issues/?state=all&version={data.a_version}"),
        ("issue list, by cohort", f"{base}/issues/?state=all&cohort={data.a_cohort}"),
        ("issue list, by device", f"{base}/issues/?state=all&device={data.a_device.serial}"),
        ("issue list, text search", f"{base}/issues/?state=all&q=divide"),
        ("issue list, sorted by traces", f"{base}/issues/?state=all&sort=traces"),
        ("issue page (largest issue)", f"{base}/issues/{data.biggest_issue}/"),
        ("trace page", f"{trace}/"),
        ("traces of a device", f"{base}/traces/?device={data.a_device.pk}"),
        ("traces of the project", f"{base}/traces/"),
        ("traces of the largest issue", f"{base}/traces/?issue={data.biggest_issue}"),
        ("json: frame variables", f"{trace}/threads/0/frames/0/variables.json"),
        ("json: registers", f"{trace}/threads/0/frames/1/registers.json"),
        ("json: disassembly", f"{trace}/threads/0/frames/0/disassembly.json"),
        ("json: memory", f"{trace}/memory.json?at=0x20000000"),
    ]


def measure(data, requests: int) -> list[tuple]:
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    client.force_login(data.user)
    return page_figures(client, pages(data), requests)


def print_table(rows: list[tuple]) -> None:
    print(f"\n{'page':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, median, p95, queries in rows:
        flag = "" if p95 < TARGET_MS else f"  over {TARGET_MS} ms"
        print(f"{name:40} {median:10.1f} {p95:8.1f} {queries:8d}{flag}")


def explain(data) -> None:
    """EXPLAIN ANALYZE of the issue list's main query, default and filtered."""
    from django.db import connection

    from dre.crashes import selectors
    from dre.crashes.selectors import IssueFilters

    cases = {
        "default": IssueFilters(),
        "version": IssueFilters(state="all", software_version=data.a_version),
        "cohort": IssueFilters(state="all", cohort=data.a_cohort),
        "sorted by traces": IssueFilters(state="all", sort="traces"),
    }
    for name, filters in cases.items():
        field = filters.sort_field
        query = selectors.issues_filtered(data.project, filters).order_by(f"-{field}", "-pk")[:51]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n  ".join(row[0] for row in cursor.fetchall())
        print(f"\n-- {name}\n  {plan}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
