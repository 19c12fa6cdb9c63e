"""Errors the symbolicator raises. Each names what was wrong with the input."""


class SymbolicatorError(Exception):
    """Base class: something about the input bytes or ELF made the request impossible."""


class CoredumpFormatError(SymbolicatorError):
    """The coredump bytes are not a format we know, or are corrupt beyond use."""


class ElfError(SymbolicatorError):
    """The symbol file is not a usable ELF."""


class UnreadableMemory(SymbolicatorError):
    """A read touched memory that neither the coredump nor the ELF holds."""

    def __init__(self, address: int, size: int):
        super().__init__(f"memory at 0x{address:08x} ({size} bytes) was not captured")
        self.address = address
        self.size = size
