"""Fault decoding: what the CPU and the firmware said went wrong, as plain data.

    analyze_fault(coredump, trace=None, index=None, *, memory=None, arguments=None)
        -> FaultAnalysis                      .to_dict() for JSON
    describe_fault(analysis) -> str           one sentence, Memfault style
    describe_registers(analysis) -> list[str] the decoded register table
    read_fault_registers(memory) -> FaultRegisters
    decode_register(name, value) / decode_fault_registers(registers) -> [DecodedBit]
    trace_reason_info(code) / zephyr_reason_info(code, version=None)

`arguments` is the hook for frame variables: a callable giving a frame's argument
values by parameter name; by default `frame_arguments` reads what symbolicate()
decoded into Frame.arguments. Without them, assert details come from globals the
firmware fills (the test firmware's g_dre_assert), read through the symbol table;
see asserts.py.

Modules: registers (what was captured), bits (the bit tables), exceptions
(exception numbers, the active one), reasons (Memfault and Zephyr codes),
access (read or write, from the faulting instruction), asserts, overflow,
model (the dataclasses), analysis (the algorithm), describe (the text).
"""

from symbolicator.faults.analysis import analyze_fault
from symbolicator.faults.asserts import ASSERT_HANDLERS, ArgumentReader, frame_arguments
from symbolicator.faults.bits import BitKind, DecodedBit, decode_fault_registers, decode_register
from symbolicator.faults.describe import describe_fault, describe_registers, describe_title
from symbolicator.faults.model import (
    Access,
    AnalysisStatus,
    Assertion,
    Context,
    FaultAddress,
    FaultAnalysis,
    FaultFlag,
    FaultKind,
    Place,
    StackOverflow,
)
from symbolicator.faults.reasons import (
    TraceReason,
    ZephyrReason,
    trace_reason_info,
    zephyr_reason_info,
)
from symbolicator.faults.registers import FaultRegisters, read_fault_registers

__all__ = [
    "ASSERT_HANDLERS",
    "Access",
    "AnalysisStatus",
    "ArgumentReader",
    "Assertion",
    "BitKind",
    "Context",
    "DecodedBit",
    "FaultAddress",
    "FaultAnalysis",
    "FaultFlag",
    "FaultKind",
    "FaultRegisters",
    "Place",
    "StackOverflow",
    "TraceReason",
    "ZephyrReason",
    "analyze_fault",
    "decode_fault_registers",
    "decode_register",
    "describe_fault",
    "describe_registers",
    "describe_title",
    "frame_arguments",
    "read_fault_registers",
    "trace_reason_info",
    "zephyr_reason_info",
]
