"""Every symbolicator parser, fed mutated fixtures, raises only SymbolicatorError, in
bounded time and memory (issue 12). Seeds, mutations and bounds: tests/fuzzing.py; a
longer run: bench/fuzz.py or DRE_FUZZ_EXAMPLES=N."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import (
    ELF,
    MEMFAULT,
    ZEPHYR,
    ZEPHYR_LOG,
    Runaway,
    bounded,
    exercise,
    fuzz_settings,
    mutate,
    mutation_lists,
)


@fuzz_settings(300)
@given(seed=st.sampled_from(MEMFAULT.seeds()), mutations=mutation_lists(MEMFAULT))
def test_it_parses_and_symbolicates_a_damaged_memfault_coredump_or_says_why_not(seed, mutations):
    exercise(MEMFAULT, seed, mutate(seed, mutations))


@fuzz_settings(300)
@given(seed=st.sampled_from(ZEPHYR.seeds()), mutations=mutation_lists(ZEPHYR))
def test_it_parses_and_symbolicates_a_damaged_zephyr_coredump_or_says_why_not(seed, mutations):
    exercise(ZEPHYR, seed, mutate(seed, mutations))


@fuzz_settings(150)
@given(seed=st.sampled_from(ZEPHYR_LOG.seeds()), mutations=mutation_lists(ZEPHYR_LOG))
def test_it_reads_a_damaged_zephyr_log_or_says_why_not(seed, mutations):
    exercise(ZEPHYR_LOG, seed, mutate(seed, mutations))


@fuzz_settings(200)
@given(seed=st.sampled_from(ELF.seeds()), mutations=mutation_lists(ELF))
def test_it_indexes_a_damaged_elf_and_symbolicates_with_it_or_says_what_is_malformed(
    seed, mutations
):
    exercise(ELF, seed, mutate(seed, mutations))


def spin():
    while True:
        pass


def test_the_bounds_stop_a_parser_that_loops():
    with pytest.raises(Runaway), bounded(0.2, 64 << 20):
        spin()


def test_the_bounds_stop_a_parser_whose_memory_runs_away():
    with pytest.raises(MemoryError), bounded(5, 64 << 20):
        bytearray(256 << 20)
