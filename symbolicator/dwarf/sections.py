"""The DWARF sections as plain bytes. The DWARF layer never looks at the ELF:
whoever has the ELF hands the section contents over in this object."""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.dwarf.forms import DwarfError


@dataclass(frozen=True)
class DwarfSections:
    info: bytes = b""
    abbrev: bytes = b""
    line: bytes = b""
    str: bytes = b""
    line_str: bytes = b""
    str_offsets: bytes = b""
    addr: bytes = b""
    ranges: bytes = b""
    rnglists: bytes = b""
    loc: bytes = b""
    loclists: bytes = b""
    frame: bytes = b""

    def string_at(self, offset: int, *, line_str: bool = False) -> str:
        data = self.line_str if line_str else self.str
        end = data.find(b"\x00", offset)
        if end < 0:
            name = ".debug_line_str" if line_str else ".debug_str"
            raise DwarfError(
                f"malformed DWARF: no string at offset {offset} of {name} ({len(data)} bytes)"
            )
        return data[offset:end].decode("utf-8", errors="replace")


SECTION_NAMES = {
    ".debug_info": "info",
    ".debug_abbrev": "abbrev",
    ".debug_line": "line",
    ".debug_str": "str",
    ".debug_line_str": "line_str",
    ".debug_str_offsets": "str_offsets",
    ".debug_addr": "addr",
    ".debug_ranges": "ranges",
    ".debug_rnglists": "rnglists",
    ".debug_loc": "loc",
    ".debug_loclists": "loclists",
    ".debug_frame": "frame",
}
