"""Register names and DWARF numbers for ARM (AADWARF32, as GDB's arm_dwarf_reg_to_regnum).

DWARF 0-15 are r0-r15, 64-95 the single-precision VFP registers s0-s31 and
256-287 the double-precision d0-d31. Names are lower case as GDB prints them.
"""

from __future__ import annotations

CORE = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc"]
SP, LR, PC = 13, 14, 15
DWARF_S0 = 64
DWARF_D0 = 256

# The order of GDB's `info registers` on Cortex-M with m-system registers.
GDB_ORDER = [*CORE, "xpsr", "msp", "psp"]


def dwarf_name(number: int) -> str | None:
    if 0 <= number < len(CORE):
        return CORE[number]
    if DWARF_S0 <= number < DWARF_S0 + 32:
        return f"s{number - DWARF_S0}"
    if DWARF_D0 <= number < DWARF_D0 + 32:
        return f"d{number - DWARF_D0}"
    return None


def dwarf_number(name: str) -> int | None:
    if name in CORE:
        return CORE.index(name)
    if name[0] in "sd" and name[1:].isdigit():
        return (DWARF_S0 if name[0] == "s" else DWARF_D0) + int(name[1:])
    return None


class RegisterValues(dict):
    """Register name -> value for one frame, readable by DWARF number too.

    DWARF expressions and CFI rules address registers by number; the frame
    keeps names. d registers are assembled from their two s halves.
    """

    def get_dwarf(self, number: int) -> int | None:
        name = dwarf_name(number)
        if name is None:
            return None
        if name[0] == "d" and name not in self:
            low, high = int(name[1:]) * 2, int(name[1:]) * 2 + 1
            if f"s{low}" in self and f"s{high}" in self:
                return self[f"s{low}"] | (self[f"s{high}"] << 32)
            return None
        return self.get(name)


class DwarfView:
    """A read-only mapping by DWARF number over RegisterValues, for dwarf_expr."""

    def __init__(self, values: RegisterValues):
        self._values = values

    def get(self, number: int, default=None):
        value = self._values.get_dwarf(number)
        return default if value is None else value

    def __getitem__(self, number: int) -> int:
        value = self._values.get_dwarf(number)
        if value is None:
            raise KeyError(number)
        return value
