"""What the big benchmark firmware is made of, decided once from a seed.

The model is plain data: shared HAL-like types (register blocks, enums, init / config /
stats / callback / handle structs per peripheral family), a few hundred modules (one
compilation unit each) with their functions, and the chain of calls the firmware runs
until it faults. `emit.py` turns it into C.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

SEED = 20250611
INSTANCES_PER_FAMILY = 8  # 38 families x 8 = 304 modules
PUBLIC_FUNCTIONS = (11, 17)  # per module, inclusive range
STATIC_HELPERS = (2, 4)
CHAIN_LENGTH = 24  # generated functions between bigfw_run and the fault
FAULT_BASE = 0x100  # inside the no-access MPU region at address 0 (tests/firmware/README.md)

# fmt: off
# Peripheral families, lowest layer first: a handle points only at handles of earlier
# families (UART -> DMA, NET -> ETH ...), so type closures grow with the layer.
FAMILIES = [
    ("drivers", [
        "dma", "gpio", "rcc", "pwr", "crc", "rng", "tim", "adc", "dac", "uart", "spi",
        "i2c", "can", "usb", "eth", "flash", "rtc", "wdg", "qspi", "sdmmc"
    ]),
    ("middleware", [
        "fs", "net", "tcp", "udp", "tls", "mqtt", "http", "json", "cbor", "log",
        "shell", "ota"
    ]),
    ("app", [
        "ble", "lora", "gnss", "imu", "motor", "power"
    ]),
]
# Families whose ctx functions read the system-wide settings struct.
SETTINGS_READERS = {
    "ble", "cbor", "gnss", "imu", "json", "log", "lora", "motor", "ota", "power", "shell"
}

# Vocabularies. The first entry of each enum pool is always used (value 0).
REGISTER_POOL = [
    "CR", "CR2", "CR3", "SR", "DR", "BRR", "GTPR", "RTOR", "RQR", "ISR", "ICR", "RDR", "TDR",
    "PRESC", "CFGR", "CFGR2", "IER", "IMR", "PSC", "ARR", "CNT", "RCR", "CCR1", "CCR2", "CCR3",
    "CCR4", "BDTR", "DCR", "DMAR", "OR", "KEYR", "OPTKEYR", "OPTR", "SMPR1", "SMPR2", "SQR1",
    "SQR2", "JSQR", "OFR1", "JDR1", "CALFACT", "MODER", "OTYPER", "OSPEEDR", "PUPDR", "IDR", "ODR",
    "BSRR", "LCKR", "SECCFGR", "TR", "TR2", "FLTR", "MASK", "DIR", "STAT", "CTRL", "LOAD", "VAL",
    "HWCFGR", "VERR", "IPIDR"
]
INIT_POOL = [
    "BaudRate", "WordLength", "StopBits", "Parity", "Prescaler", "Period", "ClockDivision",
    "Direction", "DataSize", "FirstBit", "Timeout", "Priority", "Channel", "Resolution",
    "SamplingTime", "Threshold", "Polarity", "Phase", "Alignment", "Oversampling", "FifoThreshold",
    "BurstLength", "AddressingMode", "OwnAddress", "Speed", "Pull"
]
STATS_POOL = [
    "rx_bytes", "tx_bytes", "rx_frames", "tx_frames", "errors", "overruns", "timeouts", "retries",
    "drops", "irq_count", "dma_transfers", "wakeups", "resets", "max_latency"
]
CALLBACK_POOL = [
    "on_complete", "on_half_complete", "on_error", "on_abort", "on_wakeup", "on_event",
    "on_timeout", "on_rx", "on_tx", "on_state_change"
]
STATE_POOL = [
    "RESET", "READY", "BUSY", "BUSY_TX", "BUSY_RX", "BUSY_TX_RX", "LISTEN", "CALIBRATING",
    "SUSPENDED", "ABORT", "TIMEOUT", "ERROR"
]
ERROR_POOL = [
    "NONE", "PARITY", "NOISE", "FRAME", "OVERRUN", "DMA", "TIMEOUT", "CRC", "ARBITRATION", "ACK",
    "BUS", "CONFIG", "BUSY", "NO_MEMORY", "UNDERRUN", "PROTOCOL"
]
MODE_POOL = [
    "DISABLED", "NORMAL", "LOW_POWER", "CIRCULAR", "ONE_SHOT", "CONTINUOUS", "SCAN", "LOOPBACK",
    "HALF_DUPLEX", "MASTER", "SLAVE", "BURST", "DOUBLE_BUFFER", "TEST"
]
EVENT_POOL = [
    "START", "STOP", "DATA", "FLUSH", "CONFIGURE", "POLL", "TICK", "LINK_UP", "LINK_DOWN", "RETRY",
    "SLEEP", "WAKE", "OVERFLOW", "FAULT"
]
VERBS = [
    "init", "deinit", "start", "stop", "configure", "poll", "process", "update", "read", "write",
    "flush", "reset", "calibrate", "encode", "decode", "parse", "send", "receive", "handle",
    "dispatch", "schedule", "refresh", "apply", "validate", "compute", "notify"
]
NOUNS = [
    "frame", "buffer", "packet", "request", "response", "config", "status", "event", "channel",
    "queue", "block", "record", "sample", "window", "session", "command", "header", "payload",
    "timer", "filter", "descriptor", "transfer", "segment", "page"
]
CHAIN_VERBS = [
    "dispatch", "route", "forward", "process", "handle", "commit", "apply", "relay"
]
# fmt: on


@dataclass
class Enum:
    name: str  # typedef name, e.g. uart_state_t
    values: list[str]  # full enumerator names


@dataclass
class Struct:
    name: str  # typedef name
    tag: str
    fields: list[tuple[str, str]]  # (C declarator prefix, member name with any [n])


@dataclass
class Family:
    stem: str
    layer: str
    regs: Struct
    enums: dict[str, Enum]  # state, error, mode, event
    init: Struct
    config: Struct
    stats: Struct
    callbacks: Struct
    handle: Struct
    registers: list[str]  # the first three registers, for the inline helpers
    scalars: list[str]  # every register that is not an array
    deps: list[str] = field(default_factory=list)  # lower families whose APIs it calls


@dataclass
class Function:
    name: str
    shape: str  # "regs" (handle, arg), "buffer", "mode", "ctx" (ctx, depth)
    template: str = ""
    calls: list[Function] = field(default_factory=list)
    helpers: list[Function] = field(default_factory=list)  # static helpers it calls
    chain_next: Function | None = None  # set on chain links
    chain_step: int = -1
    module: Module | None = None


@dataclass
class Module:
    name: str
    family: Family
    index: int
    public: list[Function] = field(default_factory=list)
    helpers: list[Function] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"gen/{self.family.layer}/{self.name}.c"


@dataclass
class Model:
    families: list[Family]
    modules: list[Module]
    chain: list[Function]

    def function_count(self) -> int:
        # public + static helpers + service + handle getter per module, plus bigfw_run,
        # bigfw_ctx_get and bigfw_settings_get
        return sum(len(m.public) + len(m.helpers) + 2 for m in self.modules) + 3


def build_model(seed: int = SEED) -> Model:
    rng = random.Random(seed)
    families = []
    for layer, stems in FAMILIES:
        for stem in stems:
            families.append(_family(rng, stem, layer, families))
    modules = [
        Module(f"{family.stem}{n}", family, len(families) * n + f)
        for n in range(INSTANCES_PER_FAMILY)
        for f, family in enumerate(families)
    ]
    modules.sort(key=lambda m: m.index)
    for module in modules:
        _functions(rng, module)
    chain = _chain(rng, modules)
    for module in modules:
        _calls(rng, module, modules)
    return Model(families, modules, chain)


# Types ------------------------------------------------------------------------------------


def _family(rng: random.Random, stem: str, layer: str, earlier: list[Family]) -> Family:
    upper = stem.upper()
    enums = {
        kind: Enum(f"{stem}_{kind}_t", [f"{upper}_{kind.upper()}_{v}" for v in _subset(rng, pool)])
        for kind, pool in (
            ("state", STATE_POOL),
            ("error", ERROR_POOL),
            ("mode", MODE_POOL),
            ("event", EVENT_POOL),
        )
    }
    regs, registers, scalars = _register_block(rng, upper)
    init = Struct(f"{stem}_init_t", f"{stem}_init", _init_fields(rng, stem))
    config = Struct(f"{stem}_config_t", f"{stem}_config", _config_fields(rng, stem, init, earlier))
    stats = Struct(
        f"{stem}_stats_t",
        f"{stem}_stats",
        [("uint32_t", name) for name in _subset(rng, STATS_POOL, 6)],
    )
    callbacks = Struct(
        f"{stem}_callbacks_t",
        f"{stem}_callbacks",
        [(f"{stem}_callback_fn", name) for name in _subset(rng, CALLBACK_POOL, 3)],
    )
    family = Family(
        stem, layer, regs, enums, init, config, stats, callbacks, None, registers, scalars
    )
    links = rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))
    family.handle = Struct(f"{stem}_handle_t", f"{stem}_handle", _handle_fields(family, links))
    users = rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))
    family.deps = sorted({other.stem for other in links + users})
    return family


def _subset(rng: random.Random, pool: list[str], minimum: int = 5) -> list[str]:
    count = rng.randint(minimum, len(pool))
    chosen = set(rng.sample(range(1, len(pool)), count - 1))
    return [pool[0]] + [pool[n] for n in sorted(chosen)]  # first value always present


def _register_block(rng: random.Random, upper: str):
    """CMSIS-style register block; also its first three registers (never arrays, at
    offsets 0, 4 and 8) and every scalar register."""
    names = rng.sample(REGISTER_POOL, rng.randint(10, 34))
    fields, scalars, reserved = [], [], 0
    for n, name in enumerate(names):
        if n >= 3 and rng.random() < 0.12:
            fields.append(("uint32_t", f"RESERVED{reserved}[{rng.randint(1, 6)}]"))
            reserved += 1
        array = f"[{rng.choice([2, 4, 8])}]" if n >= 3 and rng.random() < 0.08 else ""
        fields.append(("volatile uint32_t", name + array))
        if not array:
            scalars.append(name)
    return Struct(f"{upper}_TypeDef", f"{upper.lower()}_regs", fields), names[:3], scalars


def _init_fields(rng: random.Random, stem: str) -> list[tuple[str, str]]:
    fields = [("uint32_t", "Config"), (f"{stem}_mode_t", "Mode")]
    for name in rng.sample(INIT_POOL, rng.randint(4, 12)):
        fields.append((rng.choice(["uint32_t", "uint32_t", "uint16_t", "uint8_t"]), name))
    return fields


def _config_fields(rng, stem: str, init: Struct, earlier: list[Family]):
    fields = [
        (init.name, "init"),
        ("char", "name[16]"),
        ("uint16_t", "thresholds[4]"),
        ("uint32_t", "flags"),
        (f"{stem}_event_t", "wake_event"),
    ]
    for family in rng.sample(earlier, min(len(earlier), rng.randint(0, 2))):
        fields.append((f"const struct {family.stem}_config *", f"{family.stem}_config"))
    return fields


def _handle_fields(family: Family, links: list[Family]):
    stem = family.stem
    fields = [
        (f"{family.regs.name} *", "Instance"),
        (family.init.name, "Init"),
        (f"volatile {stem}_state_t", "State"),
        (f"volatile {stem}_error_t", "ErrorCode"),
        ("uint8_t", "Lock"),
        ("uint8_t *", "pBuffer"),
        ("uint16_t", "XferSize"),
        ("volatile uint16_t", "XferCount"),
        (family.stats.name, "Stats"),
        (f"const {family.callbacks.name} *", "Callbacks"),
        ("void *", "Parent"),
    ]
    return fields + [(f"struct {other.stem}_handle *", f"h{other.stem}") for other in links]


# Functions --------------------------------------------------------------------------------


def _functions(rng: random.Random, module: Module) -> None:
    names = set()
    for _ in range(rng.randint(*PUBLIC_FUNCTIONS)):
        shape = rng.choice(["regs", "regs", "regs", "buffer", "mode", "ctx"])
        template = {"regs": rng.choice(["config", "poll", "state"])}.get(shape, shape)
        if shape == "ctx" and module.family.stem in SETTINGS_READERS:
            template = "settings"
        module.public.append(Function(_unique(rng, module, names), shape, template, module=module))
    for _ in range(rng.randint(*STATIC_HELPERS)):
        helper = Function(_unique(rng, module, names), "helper", "helper", module=module)
        module.helpers.append(helper)
    users = [f for f in module.public if f.shape == "regs"]
    if not users:
        module.public[0].shape, module.public[0].template = "regs", "config"
        users = [module.public[0]]
    for n, helper in enumerate(module.helpers):
        users[n % len(users)].helpers.append(helper)  # every helper has a caller


def _unique(rng: random.Random, module: Module, names: set[str]) -> str:
    while True:
        name = f"{module.name}_{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
        if name not in names:
            names.add(name)
            return name


def _chain(rng: random.Random, modules: list[Module]) -> list[Function]:
    """CHAIN_LENGTH functions in distinct modules, each calling the next; the last one
    faults. Spread over the whole firmware so the unwinder crosses many units."""
    chosen = rng.sample(modules, CHAIN_LENGTH)
    links = []
    for step, module in enumerate(chosen):
        name = f"{module.name}_{CHAIN_VERBS[step % len(CHAIN_VERBS)]}_{rng.choice(NOUNS)}_chain"
        link = Function(name, "ctx", "chain", chain_step=step, module=module)
        module.public.append(link)
        links.append(link)
    for link, following in itertools.pairwise(links):
        link.chain_next = following
    return links


def _calls(rng: random.Random, module: Module, modules: list[Module]) -> None:
    """Calls into other instances of the family and into the families it depends on, as
    a driver calls DMA or a protocol calls its transport (never executed at run time:
    only the chain runs)."""
    stems = {module.family.stem, *module.family.deps}
    candidates = [m for m in modules if m.family.stem in stems and m is not module]
    for function in module.public:
        if function.chain_step >= 0:
            continue
        for _ in range(rng.choice([0, 1, 1, 2])):
            function.calls.append(rng.choice(rng.choice(candidates).public))
