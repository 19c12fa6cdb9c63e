"""Interrupts at the crash, from the NVIC and SCB registers the coredump captured.

Registers (ARMv7-M ARM, DDI 0403E; the Memfault SDK's arch regions, memfault-formats.md
1.5, capture all of them but CPUID):
- ICSR (B3.2.4, 0xE000ED04): VECTACTIVE[8:0] the exception running when the dump was
  taken (the fault handler), RETTOBASE[11], VECTPENDING[20:12], ISRPENDING[22],
  PENDSTSET[26], PENDSVSET[28], NMIPENDSET[31]; VTOR (B3.2.5, 0xE000ED08) the vector table;
- SHPR1-3 (B3.2.10-12, 0xE000ED18): one priority byte per system exception 4-15;
- SHCSR (B3.2.13, 0xE000ED24): active and pended bits of the system exceptions;
- ICTR (B3.4.3, 0xE000E004): INTLINESNUM[3:0], 32 * (INTLINESNUM + 1) IRQ lines;
- NVIC_ISER, ISPR, IABR (B3.4.4-7, 0xE000E100/200/300): enabled, pending, active IRQs,
  one bit each; NVIC_IPR (0xE000E400): one priority byte per IRQ.
A register the device did not capture is left out, never read as zero. Handler names
come from the vector table (exception n's handler address is the word at VTOR + 4n,
read from the dump or the ELF) and the symbol table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from symbolicator.faults import exceptions as exc

ICSR, VTOR, SHPR, SHCSR, ICTR = 0xE000ED04, 0xE000ED08, 0xE000ED18, 0xE000ED24, 0xE000E004
ISER, ISPR, IABR, IPR = 0xE000E100, 0xE000E200, 0xE000E300, 0xE000E400
MAX_WORDS = 16  # 496 IRQs, the architecture's limit
# SHCSR bits (B3.2.13) by exception number: (active, pended).
SHCSR_BITS = {
    4: (0, 13),
    5: (1, 14),
    6: (3, 12),
    11: (7, 15),
    12: (8, None),
    14: (10, None),
    15: (11, None),
}
NVIC_WORDS = (("enabled", ISER), ("pending", ISPR), ("active", IABR))


@dataclass
class Interrupt:
    number: int  # exception number: IRQ n is 16 + n
    name: str  # "IRQ 9", "SysTick"
    handler: str | None = None  # the vector table's function
    enabled: bool | None = None  # None: not captured
    pending: bool | None = None
    active: bool | None = None
    priority: int | None = None  # the raw priority byte; lower runs first


@dataclass
class InterruptAnalysis:
    active_exception: str | None = None  # ICSR.VECTACTIVE: what ran when the dump was taken
    active_number: int | None = None
    pending_exception: str | None = None  # ICSR.VECTPENDING
    returns_to_base: bool | None = None  # ICSR.RETTOBASE: no other exception active
    vector_table: int | None = None
    irq_lines: int | None = None  # from ICTR
    captured_irqs: int = 0  # IRQs whose enable/pending/active bits the dump holds
    interrupts: list[Interrupt] = field(default_factory=list)  # any bit set, by number
    in_interrupt: bool | None = None  # the fault hit an interrupt handler
    interrupted: str | None = None  # which: "IRQ 9 (Timer1_IRQHandler)"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def analyze_interrupts(memory, index=None, context: dict | None = None) -> InterruptAnalysis | None:
    """`context` is the fault analysis's Context as a dict (mode, exception_number,
    exception, handler). None when the dump holds neither ICSR nor any NVIC word."""
    words = {name: _words(memory, base) for name, base in NVIC_WORDS}
    icsr = _u32(memory, ICSR)
    if icsr is None and not any(words.values()):
        return None
    analysis = InterruptAnalysis()
    vectors = _vectors(memory, analysis)
    if icsr is not None:
        _icsr(analysis, icsr)
    ictr = _u32(memory, ICTR)
    analysis.irq_lines = 32 * ((ictr & 0xF) + 1) if ictr is not None else None
    analysis.captured_irqs = 32 * min((len(w) for w in words.values() if w), default=0)
    analysis.interrupts = _system(memory, icsr) + _irqs(memory, words)
    for interrupt in analysis.interrupts:
        interrupt.handler = _handler(vectors, interrupt.number, memory, index)
    _fault_context(analysis, context or {}, vectors, memory, index)
    return analysis


def _u32(memory, address: int) -> int | None:
    return memory.read_u32(address) if memory.can_read(address, 4) else None


def _words(memory, base: int) -> list[int]:
    out = []
    for n in range(MAX_WORDS):
        value = _u32(memory, base + 4 * n)
        if value is None:
            break
        out.append(value)
    return out


def _icsr(analysis: InterruptAnalysis, icsr: int) -> None:
    active, pending = icsr & 0x1FF, icsr >> 12 & 0x1FF
    analysis.active_number = active
    analysis.active_exception = exc.exception_name(active)
    analysis.pending_exception = exc.exception_name(pending) if pending else None
    analysis.returns_to_base = bool(icsr >> 11 & 1)


def _vectors(memory, analysis: InterruptAnalysis) -> int | None:
    vtor = _u32(memory, VTOR)
    if vtor is None:
        analysis.notes.append("VTOR not captured: the vector table is assumed at 0x00000000")
        vtor = 0
    analysis.vector_table = vtor & ~0x7F
    return analysis.vector_table


def _priority(memory, address: int) -> int | None:
    return memory.read(address, 1)[0] if memory.can_read(address, 1) else None


def _system(memory, icsr: int | None) -> list[Interrupt]:
    """System exceptions 4-15 whose SHCSR or ICSR bits say active or pending."""
    shcsr = _u32(memory, SHCSR)
    out = []
    for number, (active_bit, pended_bit) in SHCSR_BITS.items():
        interrupt = Interrupt(number, exc.exception_name(number))
        if shcsr is not None:
            interrupt.active = bool(shcsr >> active_bit & 1)
            interrupt.pending = bool(shcsr >> pended_bit & 1) if pended_bit is not None else None
        if icsr is not None and number in (14, 15):
            interrupt.pending = bool(icsr >> (28 if number == 14 else 26) & 1)
        interrupt.priority = _priority(memory, SHPR + number - 4)
        if interrupt.active or interrupt.pending:
            out.append(interrupt)
    return out


def _irqs(memory, words: dict[str, list[int]]) -> list[Interrupt]:
    count = 32 * max((len(w) for w in words.values()), default=0)
    out = []
    for irq in range(count):
        bits = {name: _bit(w, irq) for name, w in words.items()}
        if not any(bits.values()):
            continue
        interrupt = Interrupt(exc.FIRST_IRQ + irq, f"IRQ {irq}", **bits)
        interrupt.priority = _priority(memory, IPR + irq)
        out.append(interrupt)
    return out


def _bit(words: list[int], irq: int) -> bool | None:
    word = irq // 32
    return bool(words[word] >> (irq % 32) & 1) if word < len(words) else None


def _handler(vectors: int | None, number: int, memory, index) -> str | None:
    address = _u32(memory, vectors + 4 * number) if vectors is not None else None
    if address is None or index is None:
        return None
    found = index.symbol_at(address & ~1)
    if found is None:
        return None
    name, offset = found
    return name if offset == 0 else f"{name}+{offset}"


def _fault_context(analysis: InterruptAnalysis, context: dict, vectors, memory, index) -> None:
    """Whether the faulting code was an interrupt handler: the stacked IPSR (context)."""
    number = context.get("exception_number")
    if context.get("mode") not in ("handler", "thread") or number is None:
        return
    analysis.in_interrupt = context["mode"] == "handler"
    if analysis.in_interrupt:
        handler = context.get("handler") or _handler(vectors, number, memory, index)
        name = exc.exception_name(number)
        analysis.interrupted = f"{name} ({handler})" if handler else name
