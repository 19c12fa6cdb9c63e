"""The benchmark's figures as a Markdown table (and as JSON). Formatting only."""

from __future__ import annotations

from measure import Timings

# The targets.
WARM_MEDIAN_LIMIT = 0.010  # seconds per coredump with a warm index
GDB_RATIO_MINIMUM = 30.0  # GDB batch time / dre warm median
BUILD_RATIO_LIMIT = 5.0  # index build / objdump --dwarf=decodedline (issue 8)
INDEX_SIZE_LIMIT = 1.5  # stored index / ELF (issue 8)


def seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.001:
        return f"{value * 1000:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def size(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1e6:.2f} MB"
    if value >= 1000:
        return f"{value / 1e3:.1f} kB"
    return f"{value} B"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _rows(r: dict, runs) -> list[tuple[str, str]]:
    """(measure, value) for one target's results."""
    f = r["facts"]
    build_ratio = r["build"].median / r["objdump"].median
    build_cpu_ratio = r["build"].cpu_median / r["objdump"].cpu_median
    stored_ratio = r["stored_index_bytes"] / f["elf_bytes"]
    gdb_ratio = r["gdb"].median / r["warm"].median
    functions = f"{f['elf_functions']:,} in .symtab"
    if "source_functions" in f:
        functions += f" ({f['source_functions']:,} in the source)"
    rows = [
        (
            "ELF / all DWARF / .debug_info / .debug_line",
            f"{size(f['elf_bytes'])} / {size(f['dwarf_bytes'])} / {size(f['debug_info'])} / "
            f"{size(f['debug_line'])}",
        ),
        (
            ".text / compilation units / functions",
            f"{size(f['text'])} / {f['units']} / {functions}",
        ),
        (
            "coredump / threads / frames",
            f"{size(f['coredump_bytes'])} / {r['threads']} / {r['frames']}",
        ),
        (
            f"`objdump --dwarf=decodedline`, median of {runs.objdump}: wall / CPU",
            f"{seconds(r['objdump'].median)} / {seconds(r['objdump'].cpu_median)}",
        ),
        (
            f"index build, median of {runs.build}: wall / CPU",
            f"{seconds(r['build'].median)} / {seconds(r['build'].cpu_median)}",
        ),
        (
            "**index build / objdump** (target ≤ 5x): wall / CPU",
            f"**{build_ratio:.1f}x / {build_cpu_ratio:.1f}x** "
            f"({verdict(max(build_ratio, build_cpu_ratio) <= BUILD_RATIO_LIMIT)})",
        ),
        (
            f"context: `objdump --dwarf=info,decodedline,frames`, median of {runs.objdump}",
            f"{seconds(r['objdump_all'].median)} (build / it: "
            f"{r['build'].median / r['objdump_all'].median:.1f}x)",
        ),
        ("index size, self-contained (`to_bytes()`)", size(r["index_bytes"])),
        (
            "**index size as dre stores it** (`to_bytes(elf_sections=False)`; target ≤ 1.5x ELF)",
            f"**{size(r['stored_index_bytes'])} = {stored_ratio:.2f}x** "
            f"({verdict(stored_ratio <= INDEX_SIZE_LIMIT)})",
        ),
        (f"index load (`from_bytes`), median of {runs.load}", seconds(r["load"].median)),
        (
            f"stored index load with its ELF (`from_bytes(blob, elf)`), median of {runs.load}",
            seconds(r["load_stored"].median),
        ),
        (
            f"build + every unit read (`read_all_units()`), median of {runs.build}: wall / CPU",
            f"{seconds(r['read_all_units'].median)} / {seconds(r['read_all_units'].cpu_median)}"
            if "read_all_units" in r
            else "-",
        ),
        (
            f"load + first symbolicate (reads the units the crash touches), median of {runs.cold}",
            seconds(r["cold"].median),
        ),
        (
            f"**symbolicate, warm index: median** of {runs.warm} (target ≤ 10 ms)",
            f"**{seconds(r['warm'].median)}** ({verdict(r['warm'].median <= WARM_MEDIAN_LIMIT)})",
        ),
        (
            "symbolicate, warm index: p95 / max",
            f"{seconds(r['warm'].p95)} / {seconds(max(r['warm'].seconds))}",
        ),
    ]
    if "warm_no_variables" in r:
        plain = r["warm_no_variables"]
        rows.append(
            (
                "same with `variables=False`: median / p95",
                f"{seconds(plain.median)} / {seconds(plain.p95)}",
            )
        )
    rows += [
        (
            "peak memory, build: tracemalloc / process RSS",
            f"{size(r['build_tracemalloc'])} / {size(r['build_rss']['peak'])} "
            f"({size(r['build_rss']['after_imports'])} after imports)",
        ),
        (
            "peak memory, load + symbolicate: tracemalloc (warm) / process RSS",
            f"{size(r['symbolicate_tracemalloc'])} / {size(r['symbolicate_rss']['peak'])}",
        ),
        (
            f"`gdb-multiarch --batch` `thread apply all bt`, median of {runs.gdb}",
            seconds(r["gdb"].median),
        ),
        ("of which starting coredump_rsp.py (`--check`)", seconds(r["server_start"].median)),
        (
            "**GDB / dre warm median** (target ≥ 30x)",
            f"**{gdb_ratio:.0f}x** ({verdict(gdb_ratio >= GDB_RATIO_MINIMUM)})",
        ),
        (
            "same without the server's start (GDB's own time / dre)",
            f"{(r['gdb'].median - r['server_start'].median) / r['warm'].median:.0f}x",
        ),
        ("GDB on the coredump vs dre, frame by frame", r["agreement"]["on_coredump"]),
        ("GDB live at the fault vs dre, frame by frame", r["agreement"]["live"]),
    ]
    return rows


def table(targets, results: dict, runs) -> str:
    columns = [_rows(results[t.key], runs) for t in targets]
    lines = [
        "| Measure | " + " | ".join(t.title for t in targets) + " |",
        "|---" * (len(targets) + 1) + "|",
    ]
    for n, (label, _) in enumerate(columns[0]):
        lines.append(f"| {label} | " + " | ".join(column[n][1] for column in columns) + " |")
    return "\n".join(lines)


def environment(env: dict, elapsed: float) -> str:
    return "\n".join(
        [
            f"symbolicator: {env['measured']}",
            f"Python {env['python']}, {env['cpu']}",
            f"{env['gdb']}; {env['objdump']}",
            f"whole run: {seconds(elapsed)}",
        ]
    )


def as_json(results: dict, env: dict, runs) -> dict:
    def plain(value):
        if isinstance(value, Timings):
            return {
                "median": value.median,
                "p95": value.p95,
                "runs": value.runs,
                "seconds": value.seconds,
                "cpu_seconds": value.cpu_seconds,
            }
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {"environment": env, "runs": runs.__dict__, "results": plain(results)}
