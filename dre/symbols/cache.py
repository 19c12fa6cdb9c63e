"""Symbol indexes cached in worker memory, keyed by symbol file.

Loading an index is cheap but not free; a worker symbolicating a burst of
crashes from one release loads it once.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from django.conf import settings

from dre import blobs
from dre.symbols.models import SymbolFile
from symbolicator import SymbolIndex

_cache: OrderedDict[tuple[int, str, str], SymbolIndex] = OrderedDict()
_lock = Lock()


def symbol_index_load(symbol_file: SymbolFile) -> SymbolIndex:
    # The ELF's digest too: a database that reuses ids (SQLite after a rollback) must
    # not hand one ELF's index to another.
    key = (symbol_file.pk, symbol_file.index_blob, symbol_file.md5)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = _read(symbol_file)
    key = (symbol_file.pk, symbol_file.index_blob, symbol_file.md5)
    with _lock:
        _cache[key] = index
        while len(_cache) > settings.SYMBOL_INDEX_CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def _read(symbol_file: SymbolFile) -> SymbolIndex:
    blob = blobs.blob_read(symbol_file.index_blob)
    if not SymbolIndex.is_readable(blob):
        from dre.symbols.services import symbol_index_rebuild  # services import this module

        return symbol_index_rebuild(symbol_file)
    elf = blobs.blob_read(symbol_file.blob) if SymbolIndex.needs_elf(blob) else None
    return SymbolIndex.from_bytes(blob, elf)


def symbol_index_cache_clear() -> None:
    with _lock:
        _cache.clear()
