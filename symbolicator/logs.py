"""Compact logs: format strings from the ELF's `log_fmt` section, arguments from the device.

A compact log line (or a trace event's key 9) is `[format_id, arg0, arg1, ...]`
(memfault-elf-metadata.md, "Compact logs"):

1. the ELF holds a non-loaded section `log_fmt` that starts with `LOGf` and a u32
   version (1);
2. `format_id` is a byte offset into that section, where a NUL-terminated entry
   `<n>;<file>;<line>;<printf format>` starts (`<n>`: the number of arguments);
3. the line is the format rendered with printf semantics. An argument count or type that
   does not fit is shown raw with a status saying why, never guessed.

Pure: ELF bytes and CBOR values in, plain data out.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from symbolicator.errors import ElfError

SECTION = "log_fmt"
MAGIC = b"LOGf"
SUPPORTED_VERSION = 1
HEADER_SIZE = 8


class LogStatus:
    """How a compact log line came out; every line carries one."""

    FORMATTED = "formatted"
    NO_FORMATS = "no_log_fmt"  # the ELF has no log_fmt section
    UNKNOWN_FORMAT = "unknown_format"  # the id points at no entry
    ARGUMENT_MISMATCH = "argument_mismatch"  # count or type does not fit the format
    MALFORMED = "malformed"  # not [format_id, args...]


@dataclass(frozen=True)
class LogFormat:
    format_id: int
    arg_count: int
    file: str
    line: int
    format: str


@dataclass(frozen=True)
class LogFormats:
    """The `log_fmt` section of one ELF; entries are parsed when first asked for."""

    data: bytes = b""
    address: int = 0
    version: int | None = None
    _entries: dict[int, LogFormat | None] = field(default_factory=dict, compare=False)

    @property
    def present(self) -> bool:
        return self.version is not None

    def get(self, format_id: int) -> LogFormat | None:
        if format_id not in self._entries:
            self._entries[format_id] = _entry_at(self.data, self._offset(format_id), format_id)
        return self._entries[format_id]

    def _offset(self, format_id: int) -> int:
        # The SDK sends the offset; an absolute address inside the section means the same.
        if self.address and self.address <= format_id < self.address + len(self.data):
            return format_id - self.address
        return format_id


@dataclass(frozen=True)
class RenderedLog:
    status: str
    text: str
    format_id: int | None = None
    args: list = field(default_factory=list)
    file: str | None = None
    line: int | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "text": self.text,
            "format_id": self.format_id,
            "args": self.args,
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
        }


def read_log_formats(elf_data: bytes) -> LogFormats:
    """The ELF's `log_fmt` section; an ELF without one gives formats that are not `present`."""
    try:
        elf = ELFFile(io.BytesIO(elf_data))
        section = elf.get_section_by_name(SECTION)
        if section is None:
            return LogFormats()
        data = section.data()
        address = section["sh_addr"]
    except ELFError as exc:
        raise ElfError(f"unreadable ELF: {exc}") from exc
    if len(data) < HEADER_SIZE or data[:4] != MAGIC:
        raise ElfError(f"the {SECTION} section does not start with {MAGIC!r}")
    version = int.from_bytes(data[4:8], "little")
    if version != SUPPORTED_VERSION:
        raise ElfError(f"{SECTION} version {version} is not supported")
    return LogFormats(data=bytes(data), address=address, version=version)


def _entry_at(data: bytes, offset: int, format_id: int) -> LogFormat | None:
    if not HEADER_SIZE <= offset < len(data):
        return None
    end = data.find(b"\0", offset)
    raw = data[offset : end if end >= 0 else len(data)].decode("utf-8", "replace")
    parts = raw.split(";", 3)
    if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
        return None
    return LogFormat(format_id, int(parts[0]), parts[1], int(parts[2]), parts[3])


def render_compact_log(formats: LogFormats | None, value: object) -> RenderedLog:
    """One compact log `[format_id, args...]` as text, with a status."""
    if not isinstance(value, list) or not value or type(value[0]) is not int:
        return RenderedLog(LogStatus.MALFORMED, repr(value), reason="not [format_id, args...]")
    format_id, args = value[0], list(value[1:])
    if formats is None or not formats.present:
        return _raw(LogStatus.NO_FORMATS, format_id, args, "the ELF has no log_fmt section")
    entry = formats.get(format_id)
    if entry is None:
        return _raw(LogStatus.UNKNOWN_FORMAT, format_id, args, "no log_fmt entry at this id")
    try:
        text = printf(entry.format, args)
        if entry.arg_count != len(args):
            raise FormatMismatch(f"the entry names {entry.arg_count} arguments, {len(args)} came")
    except FormatMismatch as exc:
        raw = f"{entry.format} {_show(args)}"
        return RenderedLog(
            LogStatus.ARGUMENT_MISMATCH, raw, format_id, args, entry.file, entry.line, str(exc)
        )
    return RenderedLog(LogStatus.FORMATTED, text, format_id, args, entry.file, entry.line)


def _raw(status: str, format_id: int, args: list, reason: str) -> RenderedLog:
    return RenderedLog(
        status, f"<format 0x{format_id:x}> {_show(args)}", format_id, args, None, None, reason
    )


def _show(args: list) -> str:
    return "[" + ", ".join(repr(a) for a in args) + "]"


# -- printf ------------------------------------------------------------------------------

_SPEC = re.compile(
    r"%(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?"
    r"(?P<length>hh|h|ll|l|j|z|t|L|q)?(?P<conversion>[diouxXeEfFgGaAcsp%])"
)
_INTEGER = "diouxXc"
_FLOAT = "eEfFgGaA"


class FormatMismatch(ValueError):
    """An argument does not fit its conversion (or there are too few or too many)."""


def printf(fmt: str, args: list) -> str:
    """C printf over CBOR values: integers for %d %i %u %x %o %c %p and `*`, floats for
    %e %f %g, text for %s. Length modifiers only size unsigned wrap-around."""
    remaining = list(args)
    pieces = []
    position = 0
    for match in _SPEC.finditer(fmt):
        pieces.append(fmt[position : match.start()])
        pieces.append(_convert(match, remaining))
        position = match.end()
    pieces.append(fmt[position:])
    if remaining:
        raise FormatMismatch(f"{len(remaining)} arguments left over")
    return "".join(pieces)


def _take(remaining: list, kinds: tuple, conversion: str):
    if not remaining:
        raise FormatMismatch(f"no argument left for %{conversion}")
    value = remaining.pop(0)
    if type(value) not in kinds:
        raise FormatMismatch(f"%{conversion} got a {type(value).__name__}")
    return value


def _convert(match: re.Match, remaining: list) -> str:
    conversion = match["conversion"]
    if conversion == "%":
        return "%"
    width = match["width"]
    if width == "*":
        width = str(_take(remaining, (int,), "*"))
    precision = match["precision"]
    if precision == "*":
        precision = str(_take(remaining, (int,), "*"))
    spec = f"%{match['flags']}{width or ''}" + (f".{precision}" if precision is not None else "")
    return _FORMATTERS.get(conversion, _integer)(spec, conversion, match["length"], remaining)


def _integer(spec: str, conversion: str, length: str | None, remaining: list) -> str:
    value = _take(remaining, (int,), conversion)
    if conversion in "uxXo" and value < 0:
        value += 1 << (64 if length in ("ll", "j", "q") else 32)
    if conversion == "c":
        return (spec + "c") % chr(value & 0x10FFFF)
    return (spec + ("d" if conversion in "iu" else conversion)) % value


def _float(spec: str, conversion: str, length: str | None, remaining: list) -> str:
    value = _take(remaining, (float,), conversion)
    if conversion in "aA":
        return value.hex()
    return (spec + conversion) % value


def _string(spec: str, conversion: str, length: str | None, remaining: list) -> str:
    value = _take(remaining, (str, bytes), conversion)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return (spec + "s") % value


def _pointer(spec: str, conversion: str, length: str | None, remaining: list) -> str:
    value = _take(remaining, (int,), conversion)
    return (spec + "s") % f"0x{value & 0xFFFFFFFFFFFFFFFF:x}"


_FORMATTERS = {
    **{c: _integer for c in _INTEGER},
    **{c: _float for c in _FLOAT},
    "s": _string,
    "p": _pointer,
}
