"""What the trace page shows beyond the backtrace: memory, disassembly, variable trees.

Pure functions over a parsed coredump, its memory and the symbol index; the web
layer calls them for one request at a time.
"""

from symbolicator.inspect.disassembly import Instruction, disassemble
from symbolicator.inspect.memory import MemoryRow, Region, memory_rows, regions, resolve_address
from symbolicator.inspect.variables import VariableNode, expand, frame_variables

__all__ = [
    "Instruction",
    "MemoryRow",
    "Region",
    "VariableNode",
    "disassemble",
    "expand",
    "frame_variables",
    "memory_rows",
    "regions",
    "resolve_address",
]
