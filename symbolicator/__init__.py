"""symbolicator: coredump bytes and an ELF in, plain data out.

Pure Python; it never imports Django or dre. The public API:

    parse_coredump(data) -> Coredump          recognize the format and parse it
    build_index(elf_data) -> SymbolIndex      once per ELF; .to_bytes() to store
    SymbolIndex.from_bytes(blob, elf=None)    load a stored index (with its ELF if stored
                                              with .to_bytes(elf_sections=False))
    symbolicate(coredump, index) -> Trace     threads of frames; .to_dict() for JSON
      (variables=False: arguments and locals deferred; the trace says VARIABLES_DEFERRED)
    variables_read(coredump, index, data)     a deferred trace's dict with them read
    read_metric_layout(elf_data)              heartbeat metric names, types, scale
    read_log_formats(elf_data)                the log_fmt section of compact logs
    render_compact_log(formats, value)        [format_id, args...] as text, with a status

Re-encodings for other tools live in symbolicator.export (elf_core: a core file for GDB).
"""

from symbolicator.coredump import Coredump, detect_format, parse_coredump
from symbolicator.elf import ElfImage
from symbolicator.errors import (
    CoredumpFormatError,
    ElfError,
    SymbolicatorError,
    UnreadableMemory,
)
from symbolicator.faults import FaultAnalysis, analyze_fault, describe_fault
from symbolicator.index import SymbolIndex, build_index
from symbolicator.logs import (
    LogFormats,
    LogStatus,
    RenderedLog,
    read_log_formats,
    render_compact_log,
)
from symbolicator.metric_layout import MetricKey, MetricLayout, read_metric_layout
from symbolicator.symbolicate import symbolicate, variables_read
from symbolicator.trace import (
    VARIABLES_DEFERRED,
    VARIABLES_READ,
    Frame,
    FrameKind,
    FrameStatus,
    Thread,
    Trace,
)

__all__ = [
    "VARIABLES_DEFERRED",
    "VARIABLES_READ",
    "Coredump",
    "CoredumpFormatError",
    "ElfError",
    "ElfImage",
    "FaultAnalysis",
    "Frame",
    "FrameKind",
    "FrameStatus",
    "LogFormats",
    "LogStatus",
    "MetricKey",
    "MetricLayout",
    "RenderedLog",
    "SymbolIndex",
    "SymbolicatorError",
    "Thread",
    "Trace",
    "UnreadableMemory",
    "analyze_fault",
    "build_index",
    "describe_fault",
    "detect_format",
    "parse_coredump",
    "read_log_formats",
    "read_metric_layout",
    "render_compact_log",
    "symbolicate",
    "variables_read",
]
