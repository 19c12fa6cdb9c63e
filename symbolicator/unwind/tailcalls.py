"""Frames for functions that tail-called their way to the callee, as GDB shows them.

A tail call leaves no frame behind, so the return address on the stack names
the original caller while the callee is two or more calls deeper. Like GDB
(dwarf2/loc.c call_site_find_chain), search the call sites: from the caller's
call site at that return address, follow tail calls (DW_AT_call_tail_call)
until one reaches the callee's entry. Where several chains exist, only the
parts they share from either end are shown, and none when nothing is shared.
"""

from __future__ import annotations

MAX_DEPTH = 64


def tail_call_chain(index, caller_pc: int, callee_entry: int) -> list[int]:
    """Return addresses of the tail-call frames between callee and caller, innermost first."""
    caller = index.function_at(max(caller_pc - 1, 0))
    site = index.call_site(caller, caller_pc) if caller is not None else None
    if site is None or site.target is None or site.target == callee_entry:
        return []
    chains = list(_chains(index, site.target, callee_entry, [], {caller_pc}))
    if not chains:
        return []
    return _unambiguous(chains)


def _chains(index, function_entry: int, callee_entry: int, path: list[int], seen: set[int]):
    """Depth-first search of tail calls from `function_entry`; yields lists of site pcs."""
    if len(path) >= MAX_DEPTH:
        return
    function = index.function_at(function_entry)
    if function is None or function.start != function_entry:
        return
    for site in index.tail_calls(function):
        if site.pc in seen or site.target is None:
            continue
        chain = [*path, site.pc]
        if site.target == callee_entry:
            yield chain
        else:
            yield from _chains(index, site.target, callee_entry, chain, seen | {site.pc})


def _unambiguous(chains: list[list[int]]) -> list[int]:
    """GDB's chain_candidate: keep the common prefix (callers) and suffix (callees)."""
    first = chains[0]
    callers = callees = len(first)
    for chain in chains[1:]:
        callers = _common_prefix(first, chain, callers)
        callees = _common_prefix(first[::-1], chain[::-1], callees)
    if callers == 0 and callees == 0:
        return []
    innermost = [first[len(first) - 1 - k] for k in range(callees)]
    if callees != len(first):
        innermost += [first[callers - 1 - k] for k in range(callers)]
    return innermost


def _common_prefix(a: list[int], b: list[int], limit: int) -> int:
    limit = min(limit, len(b))
    for k in range(limit):
        if a[k] != b[k]:
            return k
    return limit


def reaches_by_tail_calls(index, start_entry: int, target_entry: int) -> bool:
    """Whether the function at `start_entry` can reach `target_entry` through tail calls
    alone (GDB's func_verify_no_selftailcall asks this of a function and itself)."""
    return any(True for _ in _chains(index, start_entry, target_entry, [], set()))
