"""The MPU as the coredump captured it: a region table, and which region (or the
background map) decided a faulting access, and why it was refused.

Input: MPU_TYPE, MPU_CTRL and one (RBAR, RASR) pair per region, as the Memfault MPU
block holds them (memfault-formats.md 1.6; the parser puts them in
coredump.extra["mpu"]). Two layouts share those addresses:

- ARMv7-M PMSAv7 (ARMv7-M ARM, DDI 0403E, B3.5 "Protected Memory System Architecture,
  PMSAv7": MPU_TYPE, MPU_CTRL, MPU_RBAR, MPU_RASR). RBAR: ADDR[31:5], VALID[4],
  REGION[3:0] (reads back the region number). RASR: XN[28], AP[26:24], TEX[21:19],
  S[18], C[17], B[16], SRD[15:8], SIZE[5:1] (2^(SIZE+1) bytes), ENABLE[0]. Regions of
  256 bytes or more have eight subregions, each disabled by its SRD bit. Where regions
  overlap the highest-numbered one decides.
- ARMv8-M PMSAv8 (Armv8-M ARM, MPU_RBAR / MPU_RLAR, which sit where RBAR / RASR were):
  RBAR: BASE[31:5], SH[4:3], AP[2:1], XN[0]; RLAR: LIMIT[31:5] (the region ends at
  LIMIT | 0x1F), AttrIndx[3:1], EN[0]. No subregions; the memory type is in MAIR0/1,
  which the block does not hold. An address in two enabled regions faults.

MPU_CTRL: ENABLE[0], HFNMIENA[1] (the MPU also applies to HardFault and NMI handlers),
PRIVDEFENA[2] (privileged code gets the default memory map where no region matches;
unprivileged code faults there).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ARMV7M, ARMV8M = "armv7-m", "armv8-m"
ACCESSES = ("read", "write", "execute")
CPUID = 0xE000ED00
# CPUID.PARTNO of the Armv8-M cores (Cortex-M23, M33, M35P, M55, M85, M52).
ARMV8M_PARTS = {0xD20, 0xD21, 0xD31, 0xD22, 0xD23, 0xD24}

# ARMv7-M AP field: (privileged, unprivileged) access. 0b100 is reserved.
V7_ACCESS = {
    0: ("none", "none"),
    1: ("RW", "none"),
    2: ("RW", "RO"),
    3: ("RW", "RW"),
    4: ("reserved", "reserved"),
    5: ("RO", "none"),
    6: ("RO", "RO"),
    7: ("RO", "RO"),
}
# ARMv8-M AP[2:1].
V8_ACCESS = {0: ("RW", "none"), 1: ("RW", "RW"), 2: ("RO", "none"), 3: ("RO", "RO")}
# TEX, C, B -> memory type (ARMv7-M ARM B3.5, the MPU_RASR TEX/C/B encoding table).
V7_TYPES = {
    (0, 0, 0): "strongly-ordered",
    (0, 0, 1): "device, shareable",
    (0, 1, 0): "normal, write-through, no write allocate",
    (0, 1, 1): "normal, write-back, no write allocate",
    (1, 0, 0): "normal, non-cacheable",
    (1, 1, 1): "normal, write-back, read and write allocate",
    (2, 0, 0): "device, not shareable",
}
CACHE_POLICIES = ("non-cacheable", "write-back, write allocate", "write-through", "write-back")
SH_NAMES = {0: "non-shareable", 2: "outer shareable", 3: "inner shareable"}


@dataclass
class Region:
    number: int
    enabled: bool
    base: int
    size: int
    rbar: int
    rasr: int  # RLAR on Armv8-M
    privileged: str  # "RW", "RO", "none"
    unprivileged: str
    xn: bool
    ap: int
    subregions_disabled: list[int] = field(default_factory=list)
    tex: int | None = None
    c: bool | None = None
    b: bool | None = None
    s: bool | None = None
    memory_type: str | None = None
    attr_index: int | None = None  # Armv8-M: the MAIR attribute it uses

    @property
    def limit(self) -> int:
        return self.base + self.size - 1

    def subregion_of(self, address: int) -> int | None:
        """The subregion holding `address`, or None where the region has none."""
        if self.size < 256:
            return None
        return (address - self.base) // (self.size // 8)


@dataclass
class Access:
    """Which region decided an access to `address`, and whether it may happen."""

    address: int
    access: str  # "read", "write", "execute"
    region: int | None  # None: the background (default) map, or no MPU check at all
    decided_by: str  # "region 6", "background map", "MPU disabled"
    subregion: int | None = None
    skipped: list[str] = field(default_factory=list)  # regions passed over, and why
    privileged: str = ""  # "allowed" or why it is refused
    unprivileged: str = ""
    explanation: str = ""


@dataclass
class MpuAnalysis:
    arch: str
    arch_source: str  # "CPUID", "RBAR region numbers"
    type: int
    ctrl: int
    enabled: bool
    hfnmiena: bool
    privdefena: bool
    implemented: int  # MPU_TYPE.DREGION
    regions: list[Region]
    fault: Access | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def analyze_mpu(mpu: dict, memory=None) -> MpuAnalysis:
    """`mpu` is coredump.extra["mpu"]: {"type", "ctrl", "regions": [{"rbar", "rasr"}]}."""
    pairs = [(r["rbar"], r["rasr"]) for r in mpu.get("regions", [])]
    arch, source = _arch(pairs, memory)
    decode = _v7_region if arch == ARMV7M else _v8_region
    ctrl = mpu["ctrl"]
    return MpuAnalysis(
        arch=arch,
        arch_source=source,
        type=mpu["type"],
        ctrl=ctrl,
        enabled=bool(ctrl & 1),
        hfnmiena=bool(ctrl >> 1 & 1),
        privdefena=bool(ctrl >> 2 & 1),
        implemented=mpu["type"] >> 8 & 0xFF,
        regions=[decode(n, rbar, rasr) for n, (rbar, rasr) in enumerate(pairs)],
    )


def _arch(pairs: list[tuple[int, int]], memory) -> tuple[str, str]:
    """CPUID when captured; else PMSAv7's RBAR, whose REGION field reads back each number."""
    cpuid = _read_u32(memory, CPUID)
    if cpuid is not None and cpuid:
        part = cpuid >> 4 & 0xFFF
        return (ARMV8M if part in ARMV8M_PARTS else ARMV7M), "CPUID"
    if all(rbar & 0xF == n for n, (rbar, _) in enumerate(pairs)):
        return ARMV7M, "RBAR region numbers"
    return ARMV8M, "RBAR region numbers"


def _read_u32(memory, address: int) -> int | None:
    if memory is None or not memory.can_read(address, 4):
        return None
    return memory.read_u32(address)


def _v7_region(number: int, rbar: int, rasr: int) -> Region:
    size = 1 << ((rasr >> 1 & 0x1F) + 1)
    ap = rasr >> 24 & 7
    tex, c, b, s = rasr >> 19 & 7, bool(rasr >> 17 & 1), bool(rasr >> 16 & 1), bool(rasr >> 18 & 1)
    srd = rasr >> 8 & 0xFF if size >= 256 else 0
    privileged, unprivileged = V7_ACCESS[ap]
    return Region(
        number=number,
        enabled=bool(rasr & 1),
        base=rbar & ~0x1F & ~(size - 1) & 0xFFFFFFFF,
        size=size,
        rbar=rbar,
        rasr=rasr,
        privileged=privileged,
        unprivileged=unprivileged,
        xn=bool(rasr >> 28 & 1),
        ap=ap,
        subregions_disabled=[n for n in range(8) if srd >> n & 1],
        tex=tex,
        c=c,
        b=b,
        s=s,
        memory_type=_v7_memory_type(tex, c, b, s),
    )


def _v7_memory_type(tex: int, c: bool, b: bool, s: bool) -> str:
    if tex >= 4:  # TEX = 1BB: BB outer policy, C:B (AA) inner policy
        inner, outer = CACHE_POLICIES[int(c) << 1 | int(b)], CACHE_POLICIES[tex & 3]
        kind = f"normal, inner {inner}, outer {outer}"
    else:
        kind = V7_TYPES.get((tex, int(c), int(b)), "reserved encoding")
    if kind.startswith("normal"):
        kind += ", shareable" if s else ", not shareable"
    return kind


def _v8_region(number: int, rbar: int, rlar: int) -> Region:
    base = rbar & ~0x1F & 0xFFFFFFFF
    limit = rlar | 0x1F
    privileged, unprivileged = V8_ACCESS[rbar >> 1 & 3]
    return Region(
        number=number,
        enabled=bool(rlar & 1),
        base=base,
        size=max(limit - base + 1, 0),
        rbar=rbar,
        rasr=rlar,
        privileged=privileged,
        unprivileged=unprivileged,
        xn=bool(rbar & 1),
        ap=rbar >> 1 & 3,
        memory_type=f"MAIR attribute {rlar >> 1 & 7}, {SH_NAMES.get(rbar >> 3 & 3, 'reserved')}",
        attr_index=rlar >> 1 & 7,
    )


def check_access(mpu: MpuAnalysis, address: int, access: str, *, handler: str | None = None):
    """Which region decides `access` ("read", "write", "execute") to `address`, and why
    privileged and unprivileged code would be refused. `handler` names the exception that
    ran, if any: HardFault and NMI bypass the MPU unless HFNMIENA is set."""
    if not mpu.enabled or (handler in ("HardFault", "NMI") and not mpu.hfnmiena):
        why = "MPU_CTRL.ENABLE = 0" if not mpu.enabled else f"{handler} with HFNMIENA = 0"
        return Access(address, access, None, "MPU disabled", explanation=f"no MPU check: {why}")
    hits, skipped = _matching(mpu, address)
    if mpu.arch == ARMV8M and len(hits) > 1:
        names = ", ".join(f"region {r.number}" for r, _ in hits)
        refused = f"refused: the address is in more than one region ({names})"
        return Access(address, access, None, "overlap", None, skipped, refused, refused, refused)
    if not hits:
        return _background(mpu, address, access, skipped)
    region, subregion = hits[-1]  # the highest number wins (PMSAv7)
    result = Access(address, access, region.number, f"region {region.number}", subregion, skipped)
    result.privileged = _verdict(region.privileged, region.xn, access)
    result.unprivileged = _verdict(region.unprivileged, region.xn, access)
    result.explanation = _explain(result, region)
    return result


def _matching(mpu: MpuAnalysis, address: int):
    hits, skipped = [], []
    for region in mpu.regions:
        if not region.enabled or not region.base <= address <= region.limit:
            continue
        subregion = region.subregion_of(address)
        if subregion is not None and subregion in region.subregions_disabled:
            skipped.append(f"region {region.number}: subregion {subregion} is disabled")
            continue
        hits.append((region, subregion))
    return hits, skipped


def _background(mpu: MpuAnalysis, address: int, access: str, skipped) -> Access:
    result = Access(address, access, None, "background map", None, skipped)
    if mpu.privdefena:
        result.privileged = "allowed (default memory map, PRIVDEFENA = 1)"
    else:
        result.privileged = "refused: no region matches and PRIVDEFENA = 0"
    result.unprivileged = "refused: no region matches (the default map is privileged only)"
    result.explanation = (
        f"0x{address:08X} is in no enabled region; "
        f"privileged code {result.privileged}; unprivileged code {result.unprivileged}"
    )
    return result


def _verdict(permission: str, xn: bool, access: str) -> str:
    if access == "execute":
        if xn:
            return "refused: the region is execute-never (XN = 1)"
        return "allowed" if permission != "none" else "refused: no access (AP)"
    if permission == "none":
        return "refused: no access (AP)"
    if permission == "reserved":
        return "refused: reserved AP encoding"
    if access == "write" and permission == "RO":
        return "refused: read-only (AP)"
    return "allowed"


def _explain(result: Access, region: Region) -> str:
    where = f"region {region.number} (0x{region.base:08X}-0x{region.limit:08X}"
    where += f", subregion {result.subregion})" if result.subregion is not None else ")"
    rights = f"privileged {region.privileged}, unprivileged {region.unprivileged}"
    rights += ", execute-never" if region.xn else ""
    access = result.access.capitalize()
    text = f"0x{result.address:08X} is in {where}: {rights}. {access} access is "
    if result.privileged.startswith("refused"):
        return text + f"refused to all code ({result.privileged.split(': ', 1)[1]})"
    if result.unprivileged.startswith("refused"):
        return text + "allowed to privileged code only: the code ran unprivileged"
    return text + "allowed by the region: the fault has another cause"
