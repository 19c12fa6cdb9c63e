"""The wire decoders, fed mutated chunks, messages, RLE and CBOR events from the
fixtures, raise only WireError, in bounded time and memory (issue 12). Seeds, mutations
and bounds: tests/fuzzing.py; a longer run: bench/fuzz.py or DRE_FUZZ_EXAMPLES=N."""

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import (
    CHUNKS,
    EVENTS,
    MESSAGES,
    RLE,
    exercise,
    fuzz_settings,
    mutate,
    mutation_lists,
)


@fuzz_settings(500)
@given(seed=st.sampled_from(CHUNKS.seeds()), mutations=mutation_lists(CHUNKS))
def test_it_reassembles_damaged_chunks_or_says_why_not(seed, mutations):
    exercise(CHUNKS, seed, mutate(seed, mutations))


@fuzz_settings(500)
@given(seed=st.sampled_from(MESSAGES.seeds()), mutations=mutation_lists(MESSAGES))
def test_it_decodes_a_damaged_message_or_says_why_not(seed, mutations):
    exercise(MESSAGES, seed, mutate(seed, mutations))


@fuzz_settings(500)
@given(seed=st.sampled_from(RLE.seeds()), mutations=mutation_lists(RLE))
def test_it_expands_damaged_rle_or_says_why_not(seed, mutations):
    exercise(RLE, seed, mutate(seed, mutations))


@fuzz_settings(500)
@given(seed=st.sampled_from(EVENTS.seeds()), mutations=mutation_lists(EVENTS))
def test_it_decodes_damaged_cbor_events_or_says_why_not(seed, mutations):
    exercise(EVENTS, seed, mutate(seed, mutations))
