"""Reading a frame's arguments and locals, and the program's globals, from a coredump.

Locations are evaluated with the frame's registers as unwinding left them
(GDB's same-value rule for registers CFI does not mention), its CFA, and
for DW_OP_entry_value the matching DW_TAG_call_site_parameter in the caller.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from symbolicator import dwarf_expr
from symbolicator.dwarf import constants as c
from symbolicator.dwarf.dies import Die
from symbolicator.index.names import gdb_symbol_name
from symbolicator.leb128 import encode_uleb, read_uleb
from symbolicator.unwind.registers import DwarfView
from symbolicator.unwind.tailcalls import reaches_by_tail_calls
from symbolicator.variables import scopes
from symbolicator.variables.context import FrameContext
from symbolicator.variables.debug_info import debug_info_for
from symbolicator.variables.gdb_format import Printer, type_name
from symbolicator.variables.types import ATE_UNSIGNED, Type
from symbolicator.variables.values import (
    FIRST_FPU_REGISTER,
    NOT_CAPTURED,
    OPTIMIZED_OUT,
    Value,
    read_location,
    unavailable,
)

AT_LOCATION, AT_CONST_VALUE, AT_FRAME_BASE, AT_TYPE, AT_EXTERNAL = 0x02, 0x1C, 0x40, 0x49, 0x3F
AT_CALL_VALUE, AT_GNU_CALL_SITE_VALUE = 0x7E, 0x2111
TAG_CALL_SITE_PARAMETER, TAG_GNU_CALL_SITE_PARAMETER = 0x49, 0x410A
LOCLIST_FORMS = {c.FORM_SEC_OFFSET, c.FORM_LOCLISTX, c.FORM_DATA4}
WORD = Type("base", "unsigned int", 4, encoding=ATE_UNSIGNED)


@dataclass
class Variable:
    name: str
    type: str
    text: str  # as GDB prints it
    address: int | None = None
    size: int = 0
    value: Value | None = field(default=None, repr=False, compare=False)
    scalar: bool = True
    entry: str | None = None  # parameters: the value on entry, from the caller's call site
    entry_matches: bool = False


@dataclass
class GlobalVariable(Variable):
    file: str = ""  # the compilation unit that defines it
    external: bool = False  # False for file statics ('file.c'::name in GDB)


class EntryValueUnavailable(dwarf_expr.ExpressionError):
    """A DW_OP_entry_value that the caller's call site does not resolve."""


class VariableReader:
    def __init__(self, index, memory):
        self.index = index
        self.memory = memory
        self.debug = debug_info_for(index)
        self.dies = self.debug.dies
        self.types = self.debug.types
        self.printer = Printer(memory, self.symbolize)
        # DW_OP_entry_value outcomes of this coredump, see _entry_value.
        self._entry_values: dict[tuple[int, int, bytes], tuple] = {}

    # -- frames ---------------------------------------------------------------------

    def arguments(self, frame: FrameContext) -> list[Variable]:
        scope = self.dies.die(frame.scope)
        if scope is None:
            return []
        found = []
        for die in self.debug.scopes.arguments(scope):
            variable = self._variable(die, frame)
            if scope.offset == frame.function_scope:  # inlined code has no entry values
                self._add_entry_value(variable, die, frame)
            found.append(variable)
        return found

    def _add_entry_value(self, variable: Variable, die: Die, frame: FrameContext) -> None:
        """GDB's `print entry-values default`: the parameter's value on entry, from its
        location at the function's entry pc (loclist_read_variable_at_entry)."""
        expression = die.value(AT_LOCATION)
        if die.form(AT_LOCATION) in LOCLIST_FORMS:
            expression = self.debug.expression_at(die, AT_LOCATION, frame.function_entry)
        register = _register_of(expression) if isinstance(expression, bytes) else None
        size = variable.size
        if register is None or not 0 < size <= 4:
            return
        if variable.value.type.strip().kind == "reference":
            # GDB compares what both references refer to, which needs the caller's
            # DW_AT_call_data_value; without it it shows the value alone.
            return
        try:
            number = self._entry_value(frame, bytes([0x90]) + encode_uleb(register))
        except dwarf_expr.ExpressionError:
            return
        data = (number & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        entry = Value(variable.value.type, data, b"\x01" * size)
        variable.entry = self.printer.value(entry)
        variable.entry_matches = variable.value.fully_known and variable.value.data == data

    def locals(self, frame: FrameContext) -> list[Variable]:
        scope = self.dies.die(frame.scope)
        if scope is None:
            return []
        return [self._variable(die, frame) for die in self.debug.scopes.locals_at(scope, frame.pc)]

    def _variable(self, die: Die, frame: FrameContext | None) -> Variable:
        declared, value_type = self.debug.declaration(die)
        value = self.value_of(die, value_type, frame)
        return Variable(
            name=declared.name or "?",
            type=type_name(value_type),
            text=self.printer.value(value),
            address=value.address,
            size=value_type.byte_size,
            value=value,
            scalar=_is_scalar(value_type),
        )

    def value_of(self, die: Die, value_type, frame: FrameContext | None) -> Value:
        if die.has(AT_CONST_VALUE):
            return _constant(die, value_type)
        form = die.form(AT_LOCATION)
        if form is None:
            return unavailable(value_type)
        if form in LOCLIST_FORMS:
            if frame is None:
                return unavailable(value_type)
            expression = self.debug.expression_at(die, AT_LOCATION, frame.pc)
        else:
            expression = die.value(AT_LOCATION)
        if not expression:
            return unavailable(value_type)
        context = replace(
            self._context(frame),
            address_index=lambda index: die.unit.address(c.FORM_ADDRX, index),
        )
        try:
            location = dwarf_expr.locate(expression, context)
        except dwarf_expr.UnknownRegister as error:
            return unavailable(value_type, _why_unknown(error.register))
        except dwarf_expr.ExpressionError as error:
            cause = error.__cause__ or error.__context__
            if isinstance(cause, dwarf_expr.UnknownRegister):
                return unavailable(value_type, _why_unknown(cause.register))
            return unavailable(value_type)
        registers = DwarfView(frame.registers) if frame else {}
        return read_location(value_type, location, registers, self.memory)

    # -- globals ------------------------------------------------------------------------

    def globals(self) -> list[GlobalVariable]:
        """Every global and file-static variable with storage, unit by unit."""
        return [self._global(die, unit) for unit, die in self.debug.global_definitions()]

    def global_named(self, name: str, unit_name: str | None = None) -> GlobalVariable | None:
        """A global or file-static variable by name (the first unit defining it, or the
        unit named `unit_name`), with its value; for RTOS awareness and asserts."""
        for unit, die in self.debug.globals_named(name):
            if unit_name is None or unit.endswith(unit_name):
                return self._global(die, unit)
        return None

    def _global(self, die: Die, unit_name: str) -> GlobalVariable:
        declared, value_type = self.debug.declaration(die)
        value = self.value_of(die, value_type, None)
        external = die.has(AT_EXTERNAL) or declared.has(AT_EXTERNAL)
        return GlobalVariable(
            name=declared.name or "?",
            type=type_name(value_type),
            text=self.printer.print_command(value),
            address=value.address,
            size=value_type.byte_size,
            value=value,
            file=unit_name,
            external=external,
        )

    # -- evaluation context ------------------------------------------------------------

    def _context(self, frame: FrameContext | None) -> dwarf_expr.Context:
        if frame is None:
            return dwarf_expr.Context(memory=self.memory)
        return dwarf_expr.Context(
            registers=DwarfView(frame.registers),
            memory=self.memory,
            frame_base=lambda: self._frame_base(frame),
            cfa=lambda: _require(frame.cfa, "the frame's CFA is not known"),
            entry_value=lambda block: self._entry_value(frame, block),
        )

    def _frame_base(self, frame: FrameContext) -> int:
        scope = self.dies.die(frame.scope)
        holder = scopes.frame_base_die(scope) if scope else None
        if holder is None:
            raise dwarf_expr.ExpressionError("no DW_AT_frame_base")
        expression = holder.value(AT_FRAME_BASE)
        if holder.form(AT_FRAME_BASE) in LOCLIST_FORMS:
            expression = self.debug.expression_at(holder, AT_FRAME_BASE, frame.pc)
        location = dwarf_expr.locate(expression or b"", self._context(frame))
        if isinstance(location, dwarf_expr.InRegister):
            return _require(
                DwarfView(frame.registers).get(location.register), "frame base register unknown"
            )
        if isinstance(location, dwarf_expr.InMemory):
            return location.address
        raise dwarf_expr.ExpressionError("unsupported frame base")

    def _entry_value(self, frame: FrameContext, block: bytes) -> int:
        """DW_OP_entry_value: the value a register (or memory at it) had on entry,
        from the caller's DW_TAG_call_site_parameter (GDB dwarf2/loc.c
        dwarf_expr_reg_to_entry_parameter).

        Remembered per caller frame, callee and operand: a chain of calls that passes
        a parameter on unchanged asks each frame for its caller's entry value, which
        asks its own caller's, so the work would grow with the square of the depth.
        Failures are remembered too, and raised again as the same exception.
        """
        caller = frame.caller
        if caller is None:
            raise EntryValueUnavailable("no caller frame")
        key = (id(caller), frame.function_entry, block)
        found = self._entry_values.get(key)
        if found is None:
            try:
                found = (caller, self._caller_value(caller, frame, block), None)
            except dwarf_expr.ExpressionError as error:
                found = (caller, None, error)
            # The entry keeps `caller` alive, so its id names no other frame meanwhile.
            self._entry_values[key] = found
        if found[2] is not None:
            raise found[2]
        return found[1]

    def _caller_value(self, caller: FrameContext, frame: FrameContext, block: bytes) -> int:
        register, deref = _entry_register(block)
        parameter = self._call_site_parameter(caller, frame, register)
        value_attribute = AT_CALL_VALUE if parameter.has(AT_CALL_VALUE) else AT_GNU_CALL_SITE_VALUE
        expression = parameter.value(value_attribute)
        if expression is None or deref:
            raise EntryValueUnavailable("no DW_AT_call_value for this parameter")
        # DW_AT_call_value computes the value itself, not where it lives: GDB
        # appends DW_OP_stack_value before evaluating it in the caller's frame.
        return dwarf_expr.evaluate(expression, context=self._context(caller))

    def _call_site_parameter(self, caller: FrameContext, frame: FrameContext, register: int) -> Die:
        site = self.debug.call_site(caller.function_scope, caller.frame_pc)
        if site is None:
            raise EntryValueUnavailable("no call site at the return address")
        target = self.index.call_site(self.index.function_at(caller.pc), caller.frame_pc)
        if target is None or target.target != frame.function_entry:
            raise EntryValueUnavailable("the call site does not call this function")
        if self._tail_calls_itself(frame.function_entry):
            raise EntryValueUnavailable("the function may tail-call itself")
        for child in site.children:
            if child.tag in (TAG_CALL_SITE_PARAMETER, TAG_GNU_CALL_SITE_PARAMETER):
                location = child.value(AT_LOCATION)
                if isinstance(location, bytes) and _register_of(location) == register:
                    return child
        raise EntryValueUnavailable("no matching DW_TAG_call_site_parameter")

    def _tail_calls_itself(self, entry: int) -> bool:
        known = self.debug.tail_calls_itself
        if entry not in known:
            known[entry] = reaches_by_tail_calls(self.index, entry, entry)
        return known[entry]

    # -- addresses ---------------------------------------------------------------------

    def symbolize(self, address: int) -> str | None:
        """<symbol+offset> as GDB's print_address_symbolic writes it for an address."""
        found = gdb_minimal_symbol(self.index, address)
        if found is None:
            return None
        name, offset = found
        return f"<{name}+{offset}>" if offset else f"<{name}>"


def gdb_minimal_symbol(index, address: int) -> tuple[str, int] | None:
    """GDB 13's lookup_minimal_symbol_by_pc_section, as it names an address <sym+off>.

    Among symbols in the address's section at or below it, scanning down from
    the highest: zero-sized ones (labels) are remembered but passed over until
    a sized symbol is found; that one is used if the address lies inside it,
    otherwise the first zero-sized symbol seen, otherwise none. The offset of a
    code address is taken with bit 0 (Thumb) cleared, as build_address_symbolic does.
    """
    section = index._section_of(address)
    if section is None:
        return None
    columns = index.symbols
    starts, sizes = columns["starts"], columns["sizes"]
    i = bisect.bisect_right(starts, address) - 1
    zero_sized = None
    while i >= 0:
        if columns["sections"][i] == section:
            if sizes[i]:
                break
            if zero_sized is None:
                zero_sized = i
        i -= 1
    if i >= 0 and address < starts[i] + sizes[i]:
        chosen = i
    elif zero_sized is not None:
        chosen = zero_sized
    else:
        return None
    # build_address_symbolic then drops a zero-sized symbol that is not code
    # (a linker label such as __bss_start names no data).
    is_code = index.section_is_code(section)
    if not sizes[chosen] and not is_code:
        return None
    if is_code:  # GDB strips the Thumb bit first: a pointer to a function's first
        address &= ~1  # instruction reads <function>, the second <function+2>
    return gdb_symbol_name(index.strings[columns["names"][chosen]]), address - starts[chosen]


def _entry_register(block: bytes) -> tuple[int, bool]:
    """The register DW_OP_entry_value names: a lone DW_OP_reg*, DW_OP_regx or
    DW_OP_regval_type, or (deref form) DW_OP_breg*(0) + DW_OP_deref* — the only
    operands GDB accepts (dwarf_block_to_dwarf_reg, ..._deref)."""
    register = _register_of(block)
    if register is not None:
        return register, False
    if block and 0x70 <= block[0] <= 0x8F:
        return block[0] - 0x70, True
    raise EntryValueUnavailable("unsupported DW_OP_entry_value operand")


def _register_of(expression: bytes) -> int | None:
    if len(expression) == 1 and 0x50 <= expression[0] <= 0x6F:
        return expression[0] - 0x50
    if expression and expression[0] in (0x90, 0xA5, 0xF5):  # regx, regval_type, GNU_regval_type
        register, after = read_uleb(expression, 1)
        if expression[0] != 0x90:
            _, after = read_uleb(expression, after)  # the base type
        return register if after == len(expression) else None
    return None


def _constant(die: Die, value_type) -> Value:
    _, raw = die.attributes[AT_CONST_VALUE]
    size = value_type.byte_size
    if isinstance(raw, bytes):
        data = raw[:size].ljust(size, b"\x00")
    elif isinstance(raw, str):
        data = raw.encode()[:size].ljust(size, b"\x00")
    else:
        data = (raw & ((1 << (8 * size)) - 1) if size else 0).to_bytes(size, "little")
    return Value(value_type, data, b"\x01" * size)


def _why_unknown(register: int) -> str:
    return NOT_CAPTURED if register >= FIRST_FPU_REGISTER else OPTIMIZED_OUT


def _require(value, why: str):
    if value is None:
        raise dwarf_expr.ExpressionError(why)
    return value


def _is_scalar(value_type) -> bool:
    """GDB's val_print_scalar_type_p: `bt` prints "..." for structs, unions and arrays,
    and for references to them."""
    stripped = value_type.strip()
    if stripped.kind == "reference" and stripped.target is not None:
        stripped = stripped.target.strip()
    return stripped.kind not in ("struct", "union", "array")
