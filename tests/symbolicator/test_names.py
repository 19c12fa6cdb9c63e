"""Function names as GDB and binutils print them (symbolicator/index/names.py), on the C++
test firmware (tests/firmware/cxx/), a symbol-table-only ELF (tests/fixtures/minsyms/) and
mangled names of both kinds of Rust."""

import json
from functools import cache

import pytest

import symbolicator
from symbolicator.__main__ import main
from symbolicator.addr2line import addr2line
from symbolicator.index.names import demangled, gdb_symbol_name
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import index_for

MINSYMS = FIXTURES / "minsyms"


def function_named(index, binutils_name: str):
    """The function whose ELF symbol is `binutils_name` (found through the symbol table)."""
    symbol = index.symbol_named(binutils_name)
    return index.function_at(symbol.address)


@pytest.fixture(scope="module")
def cxx():
    return index_for("cxx-an385-O0")


def test_it_names_an_out_of_class_member_by_its_class_and_namespaces(cxx):
    function = function_named(cxx, "_ZN3dre7sensors11Thermometer6sampleEm")

    assert function.name == "dre::sensors::Thermometer::sample"
    assert function.binutils_name == "_ZN3dre7sensors11Thermometer6sampleEm"


def test_it_names_constructors_and_destructors_after_their_class(cxx):
    assert function_named(cxx, "_ZN3dre7sensors11ThermometerC2EmPVl").name == (
        "dre::sensors::Thermometer::Thermometer"
    )
    assert function_named(cxx, "_ZN3dre7JournalD2Ev").name == "dre::Journal::~Journal"


def test_it_names_operators_and_inline_members_like_gdb(cxx):
    assert function_named(cxx, "_ZN3dre7sensors7ReadingpLEl").name == (
        "dre::sensors::Reading::operator+="
    )
    assert function_named(cxx, "_ZNK3dre7sensors6Sensor2idEv").name == "dre::sensors::Sensor::id"


def test_it_says_anonymous_namespace_as_gdb_does(cxx):
    symbol = "_ZN12_GLOBAL__N_121scenario_virtual_callEv"

    assert function_named(cxx, symbol).name == "(anonymous namespace)::scenario_virtual_call"


def test_it_keeps_the_parameters_of_a_name_gdb_cannot_parse(cxx):
    symbol = "_ZN12_GLOBAL__N_116for_each_channelIZNS_4pollIN3dre7sensors6SensorEEENS3_7ReadingERT_mEUlmE_EElmS6_"  # noqa: E501

    assert function_named(cxx, symbol).name == (
        "(anonymous namespace)::for_each_channel<(anonymous namespace)::poll<dre::sensors::Sensor>"
        "(dre::sensors::Sensor&, uint32_t)::<lambda(uint32_t)> >(uint32_t, struct {...})"
    )


def test_it_names_a_lambda_operator_without_its_unnamed_closure(cxx):
    symbol = "_ZZN12_GLOBAL__N_14pollIN3dre7sensors6SensorEEENS2_7ReadingERT_mENKUlmE_clEm"

    assert function_named(cxx, symbol).name == "operator()"


def test_addr2line_mode_prints_linkage_names_and_demangles_them_with_c(cxx):
    address = cxx.symbol_named("_ZN3dre7sensors11Thermometer6sampleEm").address

    assert addr2line(cxx, address)[0][0] == "_ZN3dre7sensors11Thermometer6sampleEm"
    assert addr2line(cxx, address, demangle=True)[0][0] == (
        "dre::sensors::Thermometer::sample(unsigned long)"
    )


def test_the_cli_demangles_with_c(capsys):
    elf = FIXTURES / "cxx-an385-O0" / "firmware.elf"
    address = index_for("cxx-an385-O0").symbol_named("_ZN3dre7JournalD2Ev").address

    main(["addr2line", "-C", str(elf), hex(address)])

    assert capsys.readouterr().out.splitlines()[0] == "dre::Journal::~Journal()"


@pytest.mark.parametrize(
    ("mangled", "expected"),
    [
        ("_ZN3dre7sensors6Sensor6sampleEm", "dre::sensors::Sensor::sample(unsigned long)"),
        ("_ZTVN3dre7sensors11ThermometerE", "vtable for dre::sensors::Thermometer"),
        # Rust legacy: the hash is not part of the name addr2line -C prints.
        ("_ZN4core9panicking9panic_fmt17h0f3cde8a0a6ad2c5E", "core::panicking::panic_fmt"),
        # Rust v0
        ("_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example"),
        ("_RNvMsr_NtCs3ssYzQotkvD_3std4pathNtB5_7PathBuf3new", "<std::path::PathBuf>::new"),
        ("main", "main"),
        ("__aeabi_fmul", "__aeabi_fmul"),
    ],
)  # fmt: skip
def test_it_demangles_as_binutils_does(mangled, expected):
    assert demangled(mangled) == expected


def test_gdb_shows_c_names_as_they_are_and_cxx_ones_demangled():
    assert gdb_symbol_name("uart_puts") == "uart_puts"
    assert gdb_symbol_name("_ZN3dre7JournalD2Ev") == "dre::Journal::~Journal()"


# -- minimal symbols -----------------------------------------------------------------------


@cache
def labels():
    return symbolicator.build_index((MINSYMS / "labels.elf").read_bytes())


def gdb_answers():
    return json.loads((MINSYMS / "gdb.json").read_text())["answers"].items()


@pytest.mark.parametrize(("address", "expected"), gdb_answers())
def test_a_pc_without_dwarf_is_named_like_gdbs_minimal_symbols(address, expected):
    function = labels().function_at(int(address, 16))

    if expected is None:
        assert function is None
    else:
        assert (function.name, int(address, 16) - function.start) == (
            expected["symbol"],
            expected["offset"],
        )


def binutils_answers():
    return json.loads((MINSYMS / "addr2line-answers.json").read_text())["answers"].items()


@pytest.mark.parametrize(("address", "expected"), binutils_answers())
def test_addr2line_mode_names_a_pc_without_dwarf_like_binutils(address, expected):
    [(function, file, line)] = addr2line(labels(), int(address, 16))

    assert (function, f"{file}:{line or '?'}") == (expected["function"], expected["location"])
