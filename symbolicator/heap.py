"""The heap at the crash, from what the coredump captured of it.

Two sources, each optional:

1. The Memfault SDK's heap statistics (memfault-elf-metadata.md, "Heap statistics"):
   `g_memfault_heap_stats` (in_use_block_count, max_in_use_block_count,
   stats_pool_head: the newest entry) and the pool `g_memfault_heap_stats_pool` of
   recent allocations (lr: the caller, ptr, info.size, info.in_use, then the index of
   the next older entry). Offsets and bitfields come from DWARF: SDK versions differ.
2. A FreeRTOS heap_4 / heap_5 free list (FreeRTOS-Kernel portable/MemMang/heap_4.c):
   `xStart` (a BlockLink_t whose pxNextFreeBlock is the first free block), the free
   blocks in address order, each a BlockLink_t {pxNextFreeBlock, xBlockSize} ending at
   `pxEnd`; the top bit of xBlockSize marks an allocated block. heap_4 also has `ucHeap`,
   the one region every block is carved from, so its allocated blocks can be walked too.

Where memory the walk needs was not captured the result says "not_captured" and keeps
what it read so far; a list that loops or leaves the heap is "corrupt". Never zeros.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from symbolicator.errors import UnreadableMemory
from symbolicator.rtos.kernel_objects import LayoutError, element, offset_of, word
from symbolicator.variables import VariableReader
from symbolicator.variables.types import member

WORD = 4
BLOCK_HEADER = 8  # BlockLink_t on a 32-bit target, rounded to portBYTE_ALIGNMENT (8)
ALLOCATED_BIT = 1 << 31  # heapBLOCK_ALLOCATED_BITMASK: the top bit of a 32-bit size_t
MAX_BLOCKS = 4096


@dataclass
class Allocation:
    address: int  # what malloc returned
    size: int
    in_use: bool
    caller: int | None = None  # the return address into the allocating function
    function: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass
class SdkHeapStats:
    status: str  # "captured", "not_captured"
    in_use_blocks: int | None = None
    max_in_use_blocks: int | None = None
    allocations: list[Allocation] = field(default_factory=list)  # newest first
    problems: list[str] = field(default_factory=list)


@dataclass
class Block:
    address: int  # the block header
    size: int  # header included


@dataclass
class FreeList:
    status: str  # "walked", "not_captured", "corrupt", "uninitialized"
    scheme: str  # "heap_4" (one ucHeap array) or "heap_5" (regions the port defines)
    free_blocks: list[Block] = field(default_factory=list)
    allocated_blocks: list[Block] = field(default_factory=list)  # heap_4 only
    free_bytes: int = 0
    largest_free: int = 0
    fragmentation_percent: int | None = None  # 100 * (1 - largest / free)
    heap_start: int | None = None
    heap_size: int | None = None
    free_bytes_remaining: int | None = None  # the kernel's own counters, when captured
    minimum_ever_free: int | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class HeapAnalysis:
    sdk: SdkHeapStats | None = None
    freertos: FreeList | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def analyze_heap(memory, index) -> HeapAnalysis | None:
    """None when the firmware has neither kind of heap (no such symbols)."""
    if not index.dwarf:
        return None
    reader = VariableReader(index, memory)
    analysis = HeapAnalysis(sdk=_sdk(reader, memory, index), freertos=_freertos(reader, memory))
    return analysis if analysis.sdk or analysis.freertos else None


# The SDK's heap statistics -----------------------------------------------------------------


def _sdk(reader, memory, index) -> SdkHeapStats | None:
    stats = _global(reader, "g_memfault_heap_stats")
    pool = _global(reader, "g_memfault_heap_stats_pool")
    if stats is None or pool is None:
        return None
    result = SdkHeapStats("captured")
    try:
        data = memory.read(stats.address, stats.size)
        record = stats.value.type.strip()
        result.in_use_blocks = word(data, offset_of(record, "in_use_block_count"))
        result.max_in_use_blocks = word(data, offset_of(record, "max_in_use_block_count"))
        head = _field(data, record, "stats_pool_head")
        result.allocations = _pool(memory, pool, head, index)
    except UnreadableMemory as error:
        result.status = "not_captured"
        result.problems.append(f"the heap statistics were not captured ({error})")
    except LayoutError as error:
        result.problems.append(f"the heap statistics are not as expected: {error}")
    return result


def _global(reader, name: str):
    """The variable's address and type (its bytes are read by the walks themselves)."""
    index = reader.index
    if index.symbols["names"] and index.symbol_named(name) is None:
        # Not in the ELF's symbol table (which lists statics too): the firmware has no
        # such variable in memory. The table answers at once, where the first search by
        # name of an index's DWARF reads the top level of every unit.
        return None
    found = reader.global_named(name)
    return found if found is not None and found.address is not None else None


def _field(data: bytes, record, name: str) -> int:
    """An unsigned member of any width, little-endian."""
    found = member(record, name)
    if found is None:
        raise LayoutError(f"no member {name}")
    size = found.type.byte_size
    return int.from_bytes(data[found.offset : found.offset + size], "little")


def _pool(memory, pool, head: int, index) -> list[Allocation]:
    """Entries newest first, following the next-entry indices from the head."""
    entry_type, count = element(pool.value.type)
    entry = entry_type.strip()
    size = entry.byte_size
    data = memory.read(pool.address, size * count)
    next_name = next((m.name for m in entry.members if m.name and m.name.startswith("next")), None)
    order, seen, at = [], set(), head
    while 0 <= at < count and at not in seen:
        seen.add(at)
        order.append(at)
        at = _field(data[at * size :], entry, next_name) if next_name else count
    return [a for n in order if (a := _allocation(data[n * size :], entry, index)) is not None]


def _allocation(data: bytes, entry, index) -> Allocation | None:
    ptr = _field(data, entry, "ptr")
    if ptr == 0:
        return None
    info = member(entry, "info")
    if info is None:
        raise LayoutError("no member info")
    size_bits = _bits(data, info, "size")
    in_use = _bits(data, info, "in_use")
    caller = _field(data, entry, "lr")
    found = Allocation(ptr, size_bits, bool(in_use), caller)
    _name_caller(found, index)
    return found


def _bits(data: bytes, info, name: str) -> int:
    """A bitfield of the `info` struct (little-endian bit numbering, DWARF 4+)."""
    found = member(info.type.strip(), name)
    if found is None:
        raise LayoutError(f"no member info.{name}")
    start = info.offset + found.offset
    raw = int.from_bytes(data[start : start + found.type.byte_size], "little")
    width = found.bit_size or found.type.byte_size * 8
    return raw >> found.bit_offset & ((1 << width) - 1)


def _name_caller(allocation: Allocation, index) -> None:
    """The return address lies after the call: the caller is the code just before it."""
    pc = (allocation.caller & ~1) - 1
    function = index.function_at(pc)
    if function is not None:
        allocation.function = function.name
    line = index.line_at(pc)
    if line is not None:
        allocation.file, allocation.line = line


# FreeRTOS heap_4 / heap_5 ------------------------------------------------------------------


def _freertos(reader, memory) -> FreeList | None:
    start = _global(reader, "xStart")
    end = _global(reader, "pxEnd")
    if start is None or end is None:
        return None
    heap = _global(reader, "ucHeap")
    result = FreeList("walked", "heap_4" if heap is not None else "heap_5")
    if heap is not None:
        result.heap_start, result.heap_size = heap.address, heap.size
    result.free_bytes_remaining = _counter(reader, memory, "xFreeBytesRemaining")
    result.minimum_ever_free = _counter(reader, memory, "xMinimumEverFreeBytesRemaining")
    try:
        end_block = memory.read_u32(end.address)
        if end_block == 0:  # heap_4 sets pxEnd on the first pvPortMalloc
            result.status = "uninitialized"
            result.problems.append("the heap was never used: pxEnd is NULL")
            return result
        _walk_free(result, memory, memory.read_u32(start.address), end_block)
        if heap is not None and result.status == "walked":
            _walk_all(result, memory, heap.address, end_block)
    except UnreadableMemory as error:
        result.status = "not_captured"
        result.problems.append(f"the heap was not captured ({error})")
    _summarize(result)
    return result


def _counter(reader, memory, name: str) -> int | None:
    found = _global(reader, name)
    if found is None or not memory.can_read(found.address, WORD):
        return None
    return memory.read_u32(found.address)


def _walk_free(result: FreeList, memory, block: int, end: int) -> None:
    """Steps: from xStart.pxNextFreeBlock follow pxNextFreeBlock to pxEnd; addresses
    must rise (the list is kept in address order), else the list is corrupt."""
    previous = 0
    while block != end:
        if block <= previous or len(result.free_blocks) >= MAX_BLOCKS:
            result.status = "corrupt"
            result.problems.append(f"the free list goes back to 0x{block:08x}")
            return
        next_block, size = memory.read_u32(block), memory.read_u32(block + WORD)
        result.free_blocks.append(Block(block, size & ~ALLOCATED_BIT))
        previous, block = block, next_block


def _walk_all(result: FreeList, memory, heap: int, end: int) -> None:
    """heap_4: blocks tile ucHeap from its first aligned address up to pxEnd."""
    block = (heap + 7) & ~7
    while block < end and len(result.allocated_blocks) < MAX_BLOCKS:
        size = memory.read_u32(block + WORD)
        if size & ~ALLOCATED_BIT == 0:
            result.status = "corrupt"
            result.problems.append(f"a block of size 0 at 0x{block:08x}")
            return
        if size & ALLOCATED_BIT:
            result.allocated_blocks.append(Block(block, size & ~ALLOCATED_BIT))
        block += size & ~ALLOCATED_BIT


def _summarize(result: FreeList) -> None:
    sizes = [b.size for b in result.free_blocks]
    result.free_bytes = sum(sizes)
    result.largest_free = max(sizes, default=0)
    if result.free_bytes and result.status == "walked":
        result.fragmentation_percent = 100 - (100 * result.largest_free) // result.free_bytes
