"""Workers keep loaded symbol indexes in memory, and never hand one ELF's index to another."""

from dre import blobs
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from symbolicator import build_index
from tests.firmware_fixtures import FIXTURES


def symbol_file(build: str, pk: int = 1) -> SymbolFile:
    """An indexed symbol file as the database row describes it (not saved)."""
    elf = (FIXTURES / build / "firmware.elf").read_bytes()
    name = f"indexes/test/{pk}.idx"  # named by id, as the indexing task names them
    blobs.blob_delete(name)
    stored = blobs.blob_save_bytes(name, build_index(elf).to_bytes())
    assert stored.name == name
    return SymbolFile(pk=pk, index_blob=name, md5=build.ljust(32, "-"))


def test_an_index_is_loaded_once_and_then_served_from_memory():
    first = symbol_index_load(symbol_file("an385-O2"))

    assert symbol_index_load(symbol_file("an385-O2")) is first


def test_a_reused_id_with_another_elf_loads_that_elfs_index():
    # SQLite reuses ids after a rollback; the blob name is built from the id.
    symbol_index_load(symbol_file("an385-O2"))

    index = symbol_index_load(symbol_file("an386-O0"))

    assert (
        index.build_id
        == build_index((FIXTURES / "an386-O0" / "firmware.elf").read_bytes()).build_id
    )


def test_the_least_recently_used_index_leaves_first(settings):
    settings.SYMBOL_INDEX_CACHE_SIZE = 1
    first = symbol_index_load(symbol_file("an385-O2", pk=1))
    symbol_index_load(symbol_file("an386-O0", pk=2))

    assert symbol_index_load(symbol_file("an385-O2", pk=1)) is not first
