"""A Coredump as an ELF core file that GDB loads next to the firmware ELF.

`gdb-multiarch firmware.elf core.elf` then lists every exported thread (`info threads`,
`thread apply all bt`), the crashed one selected, each with the backtrace dre shows.

Layout, ELF32 little-endian (System V gABI: "ELF Header", "Program Header", "Note
Section"; e_machine EM_ARM and e_flags from the ARM ELF ABI, "ELF Header"):

    ELF header        ET_CORE, no section headers
    program headers   one PT_NOTE, then one PT_LOAD per captured memory region
    note data         the notes below, each namesz, descsz, type, name, desc, 4-aligned
    region bytes      p_vaddr = the region's address on the target

Read-only ELF sections (code, constants) stay out: GDB reads what a core lacks from the
executable, as dre does.

Notes (name, type):

    CORE NT_PRSTATUS (1)   one per thread, Linux/ARM `struct elf_prstatus`, the only size
                           (148 bytes) BFD takes for EM_ARM (bfd/elf32-arm.c,
                           elf32_arm_nabi_grok_prstatus): pr_pid at 24 is the thread id,
                           pr_reg at 72 is r0-r15, cpsr (xPSR here) and orig_r0. The first
                           note is the crashed thread; GDB selects it.
    GDB NT_GDB_TDESC (0xff000000)
                           a target description (GDB manual, "Target Descriptions" and
                           "ARM Features"), which GDB prefers to any other source
                           (gdb/corelow.c, core_target::read_description).

The description names the M-profile register set, so GDB uses its Cortex-M exception
unwinder; adds the VFP registers when the FPU was enabled, so floating-point values read
<unavailable> instead of failing; and says `<osabi>none</osabi>`, so GDB picks its
bare-metal ABI (gdb/arm-none-tdep.c), whose regsets read NT_PRSTATUS, whatever the build's
default ABI is (GNU/Linux for Debian's gdb-multiarch). Both need GDB 11 or later; tested
with 13.1.

Limits, all GDB's (13.1, gdb/corelow.c, arm-tdep.c, arm-none-tdep.c, arm-linux-tdep.c):

1. No MSP and PSP. GDB fills a core's registers only through its ABI's regsets, for ARM
   `.reg` (NT_PRSTATUS) and `.reg-arm-vfp` (NT_ARM_VFP), at fixed register numbers. MSP
   and PSP exist only if the description has `org.gnu.gdb.arm.m-system`, and then no note
   can fill them: they read <unavailable>, GDB loses tail-call frames and @entry values
   and stops with "Register 91 is not available" where its unwinders need them. Without
   that feature GDB takes MSP and PSP to be SP (arm-tdep.h). That is exact as long as GDB
   crosses no exception frame, and each context exported here is already past one: the
   crashed context is the one the fault interrupted, a switched-out thread's is unstacked.
   It is wrong for a fault in a handler that had interrupted code running on PSP (an ISR
   that interrupted a thread, EXC_RETURN 0xFFFFFFFD): GDB reads the interrupted context
   from the handler's stack instead of PSP, so its frames after the first
   `<signal handler called>` differ from dre's.
2. NT_PRSTATUS cannot say "not captured": a register the device did not save (r4-r11 in
   some Zephyr dumps) is written as 0, and GDB unwinds with that value.
3. No floating-point registers: Memfault dumps hold none, and NT_ARM_VFP fills all of
   d0-d31 at once, so a saved context's s16-s31 alone cannot be given.
4. No thread names: the bare-metal ABI has no core thread-name hook, so `info threads`
   says "process N"; `core_threads` gives N's name.
5. No NT_PRPSINFO: BFD takes its command line for the program's name and GDB warns "core
   file may not match specified executable file" unless it equals the ELF's file name,
   which the export cannot know (bfd/corefile.c, generic_core_file_matches_executable_p).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from symbolicator.coredump import Coredump
from symbolicator.coredump.model import MemoryRegion
from symbolicator.index import SymbolIndex
from symbolicator.rtos import ThreadInfo, discover_threads
from symbolicator.symbolicate import coredump_memory

ELF_HEADER = struct.Struct("<16sHHIIIIIHHHHHH")
PROGRAM_HEADER = struct.Struct("<8I")
NOTE_HEADER = struct.Struct("<III")
SECTION_HEADER_SIZE = 40  # sizeof(Elf32_Shdr), though there are none

ET_CORE = 4
EM_ARM = 40
EV_CURRENT = 1
EF_ARM_EABI_VER5 = 0x05000000  # what every current ARM toolchain writes
PT_LOAD = 1
PT_NOTE = 4
PF_W, PF_R = 2, 4

NT_PRSTATUS = 1
NT_GDB_TDESC = 0xFF000000

PRSTATUS_SIZE = 148
PRSTATUS_PID = 24
PRSTATUS_REGS = 72

# pr_reg: r0-r15 then cpsr; the 18th word, orig_r0, means nothing here.
GREGS = [*(f"r{n}" for n in range(13)), "sp", "lr", "pc", "xpsr"]

CPACR = 0xE000ED88  # ARMv7-M B3.2.20: CP10, bits 21:20, enables the FPU
CPACR_CP10 = 0x3 << 20


@dataclass(frozen=True)
class CoreThread:
    """One thread of the core: its NT_PRSTATUS pr_pid is `lwp`."""

    lwp: int
    name: str
    registers: dict[str, int]


def elf_core(
    coredump: Coredump,
    index: SymbolIndex | None = None,
    threads: list[ThreadInfo] | None = None,
) -> bytes:
    """The ELF core file of `coredump`: the crashed thread, then every RTOS thread with a
    saved context (given, or found with `index`), and all captured memory."""
    notes = b"".join(_prstatus(thread) for thread in core_threads(coredump, index, threads))
    notes += _note("GDB", NT_GDB_TDESC, target_description(coredump).encode() + b"\0")
    return _elf(notes, coredump.regions)


def core_threads(
    coredump: Coredump,
    index: SymbolIndex | None = None,
    threads: list[ThreadInfo] | None = None,
) -> list[CoreThread]:
    """The threads `elf_core` exports, in order: the crashed one first, then the others
    as the kernel lists them. A thread without a saved context cannot be shown."""
    if threads is None:
        threads = _discover(coredump, index)
    current = next((t for t in threads if t.is_current), None)
    out = [CoreThread(1, current.name if current else "main", coredump.registers)]
    for thread in threads:
        if thread is not current and thread.registers is not None:
            out.append(CoreThread(len(out) + 1, thread.name, thread.registers))
    return out


def target_description(coredump: Coredump) -> str:
    """GDB's XML target description ("ARM Features"): the M-profile core registers and,
    when the FPU was on, the 16 double registers of FPv4/FPv5-D16."""
    core = "".join(_reg(name) for name in GREGS[:13])
    core += _reg("sp", type="data_ptr") + _reg("lr") + _reg("pc", type="code_ptr")
    core += _reg("xpsr", regnum="25")
    features = [_feature("org.gnu.gdb.arm.m-profile", core)]
    if _fpu_enabled(coredump):
        vfp = "".join(_reg(f"d{n}", bitsize="64", type="ieee_double") for n in range(16))
        vfp += _reg("fpscr", type="int", group="float")
        features.append(_feature("org.gnu.gdb.arm.vfp", vfp))
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n'
        "<target>\n<architecture>arm</architecture>\n<osabi>none</osabi>\n"
        + "".join(features)
        + "</target>\n"
    )


def _discover(coredump: Coredump, index: SymbolIndex | None) -> list[ThreadInfo]:
    if index is None:
        return []
    kernel = discover_threads(coredump_memory(coredump, index), index)
    return kernel.threads if kernel else []


def _fpu_enabled(coredump: Coredump) -> bool:
    region = coredump.region_at(CPACR)
    if region is None or region.end < CPACR + 4:
        return False
    offset = CPACR - region.address
    return bool(int.from_bytes(region.data[offset : offset + 4], "little") & CPACR_CP10)


def _reg(name: str, bitsize: str = "32", **attributes: str) -> str:
    extra = "".join(f' {key}="{value}"' for key, value in attributes.items())
    return f'  <reg name="{name}" bitsize="{bitsize}"{extra}/>\n'


def _feature(name: str, registers: str) -> str:
    return f'<feature name="{name}">\n{registers}</feature>\n'


def _prstatus(thread: CoreThread) -> bytes:
    desc = bytearray(PRSTATUS_SIZE)
    struct.pack_into("<I", desc, PRSTATUS_PID, thread.lwp)
    values = [thread.registers.get(name, 0) & 0xFFFFFFFF for name in GREGS]
    struct.pack_into("<18I", desc, PRSTATUS_REGS, *values, 0)
    return _note("CORE", NT_PRSTATUS, bytes(desc))


def _note(name: str, kind: int, desc: bytes) -> bytes:
    """gABI "Note Section": namesz and descsz exclude the padding to 4 bytes."""
    owner = name.encode() + b"\0"
    return NOTE_HEADER.pack(len(owner), len(desc), kind) + _pad(owner) + _pad(desc)


def _elf(notes: bytes, regions: list[MemoryRegion]) -> bytes:
    """1. ELF header; 2. program headers, PT_NOTE first; 3. notes; 4. each region."""
    count = 1 + len(regions)
    offset = ELF_HEADER.size + count * PROGRAM_HEADER.size
    headers = [PROGRAM_HEADER.pack(PT_NOTE, offset, 0, 0, len(notes), 0, 0, 4)]
    body = [notes]
    offset += len(notes)
    for region in regions:
        size = len(region.data)
        flags = PF_R | PF_W
        headers.append(
            PROGRAM_HEADER.pack(PT_LOAD, offset, region.address, 0, size, size, flags, 4)
        )
        body.append(_pad(region.data))
        offset += len(body[-1])
    ident = b"\x7fELF" + bytes([1, 1, EV_CURRENT])  # ELFCLASS32, ELFDATA2LSB, ELFOSABI_NONE
    header = ELF_HEADER.pack(
        ident, ET_CORE, EM_ARM, EV_CURRENT, 0, ELF_HEADER.size, 0, EF_ARM_EABI_VER5,
        ELF_HEADER.size, PROGRAM_HEADER.size, count, SECTION_HEADER_SIZE, 0, 0,
    )  # fmt: skip
    return header + b"".join(headers) + b"".join(body)


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)
