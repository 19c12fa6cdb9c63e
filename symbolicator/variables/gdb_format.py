"""Values as GDB 13 prints them for C (c-valprint.c, valprint.c, generic_printstr).

Defaults as GDB ships them: print elements 200, repeats threshold 10,
print symbol on, null-stop off, and the host's charset, UTF-8 (so target-charset
auto is UTF-8 too). The same rules serve `info locals`, `info args` and `print`;
`print` alone prefixes pointers with their type.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from dataclasses import dataclass, replace

from symbolicator.errors import UnreadableMemory
from symbolicator.variables.types import ATE_BOOLEAN, ATE_FLOAT, Type
from symbolicator.variables.values import Value, in_memory

PRINT_MAX = 200
REPEAT_THRESHOLD = 10
CHAR_ESCAPES = {
    7: "\\a",
    8: "\\b",
    12: "\\f",
    10: "\\n",
    13: "\\r",
    9: "\\t",
    11: "\\v",
    27: "\\033",
}


@dataclass
class Printer:
    memory: object
    symbolize: object  # address -> "<sym+off>" text or None

    # -- entry points -----------------------------------------------------------

    def value(self, value: Value) -> str:
        """As `info locals` / `info args` print a value. Only a value that is wholly
        missing prints as one marker (value_check_printable); a struct or array that
        is partly or wholly missing inside another prints member by member."""
        if value.synthetic_pointer:
            return "<synthetic pointer>"
        if value.error is not None and not any(value.known):
            return _unavailable(value)
        if not any(value.known) and value.type.byte_size:
            return "<optimized out>"
        if value.type.strip().kind == "reference" and value.fully_known:
            return self._referred(value)
        return self._value(value)

    def print_command(self, value: Value) -> str:
        """As `print` shows it: pointers get a (type) prefix unless they point to char."""
        text = self.value(value)
        stripped = value.type.strip()
        if stripped.kind != "pointer" or value.fully_unknown:
            return text
        if _points_to_plain_char(value.type):
            return text
        return f"({type_name(value.type)}) {text}"

    # -- by kind ---------------------------------------------------------------------

    def _value(self, value: Value) -> str:
        """A value inside another: scalars check their own bytes (valprint_check_validity),
        aggregates go on to their members and elements."""
        kind = value.type.strip().kind
        return getattr(self, f"_{kind}", self._unsupported)(value)

    def _unsupported(self, value: Value) -> str:
        return f"<unsupported type {type_name(value.type)}>"

    def _void(self, value: Value) -> str:
        return "void"

    def _base(self, value: Value) -> str:
        if not value.fully_known:
            return "<optimized out>"
        base = value.type.strip()
        if base.encoding == ATE_FLOAT:
            return format_float(value.data)
        if base.encoding == ATE_BOOLEAN:
            number = value.integer(signed=False)
            return {0: "false", 1: "true"}.get(number, str(number))
        number = value.integer()
        if value.type.is_textual:
            return f"{number} {char_literal(value.data[0])}"
        return str(number)

    def _enum(self, value: Value) -> str:
        if not value.fully_known:
            return "<optimized out>"
        enum = value.type.strip()
        signed = any(v < 0 for _, v in enum.enumerators)
        number = value.integer(signed=signed)
        for name, constant in enum.enumerators:
            if constant == number:
                return name
        return _flag_enum(enum, number) or str(number)

    def _referred(self, value: Value) -> str:
        """A reference variable: its address and what it refers to."""
        address = value.integer(signed=False)
        referred = in_memory(value.type.strip().target, address, self.memory)
        return f"@0x{address:x}: {self.value(referred)}"

    def _reference(self, value: Value) -> str:
        """A reference inside a struct (a lambda's captures): GDB shows only the address
        (generic_val_print_ref without deref_ref)."""
        if not value.fully_known:
            return "<optimized out>"
        return f"@0x{value.integer(signed=False):x}"

    def _pointer(self, value: Value) -> str:
        if not value.fully_known:
            return "<optimized out>"
        address = value.integer(signed=False)
        target = value.type.strip().target
        text = f"0x{address:x}"
        if target is not None and target.strip().kind == "function":
            symbol = self.symbolize(address & ~1)
            return f"{text} {symbol}" if symbol else text
        symbol = self.symbolize(address)
        if symbol:
            text = f"{text} {symbol}"
        if target is not None and target.is_textual and address != 0:
            text = f"{text} {self._c_string(address)}"
        return text

    def _function(self, value: Value) -> str:
        address = value.address or 0
        symbol = self.symbolize(address)
        return f"{{{type_name(value.type)}}} 0x{address:x}" + (f" {symbol}" if symbol else "")

    def _struct(self, value: Value) -> str:
        parts = []
        for member in value.type.strip().members:
            text = self._member(value, member)
            parts.append(text if member.name is None else f"{member.name} = {text}")
        return "{" + (", ".join(parts) or "<No data fields>") + "}"  # as cp_print_value_fields

    _union = _struct

    def _member(self, value: Value, member) -> str:
        if member.bit_size is None:
            return self._value(value.slice(member.offset, member.type))
        return self._bitfield(value, member)

    def _bitfield(self, value: Value, member) -> str:
        span = (member.bit_offset + member.bit_size + 7) // 8
        known = value.known[member.offset : member.offset + span]
        if not known or not all(known):
            return "<optimized out>"
        raw = int.from_bytes(value.data[member.offset : member.offset + span], "little")
        number = (raw >> member.bit_offset) & ((1 << member.bit_size) - 1)
        if member.type.is_signed and number >> (member.bit_size - 1):
            number -= 1 << member.bit_size
        size = member.type.byte_size
        field_value = Value(
            member.type, (number & ((1 << (8 * size)) - 1)).to_bytes(size, "little"), b"\x01" * size
        )
        return self._value(field_value)

    def _array(self, value: Value) -> str:
        array = value.type.strip()
        element_type = _element_type(array)
        count = array.dimensions[0] or 0
        if element_type.is_textual and len(array.dimensions) == 1:
            return self._char_array(value, count)
        size = element_type.byte_size
        elements = [value.slice(i * size, element_type) for i in range(count)]
        return _braced(elements, self._value, _same_value)

    def _char_array(self, value: Value, count: int) -> str:
        if not all(value.known):
            # Only a wholly valid char array prints as a string (c_value_print_array);
            # otherwise element by element, `97 'a'` or `<optimized out>` each.
            element_type = value.type.strip().target
            size = element_type.byte_size or 1
            elements = [value.slice(i * size, element_type) for i in range(count)]
            return _braced(elements, self._value, _same_value)
        data = value.data[:count]
        # GDB drops one trailing NUL of a whole char array (generic_printstr).
        if data and data[-1] == 0:
            data = data[:-1]
        return quote_chars(data)

    def _c_string(self, address: int) -> str:
        data = bytearray()
        try:
            while len(data) < PRINT_MAX:
                byte = self.memory.read(address + len(data), 1)[0]
                if byte == 0:
                    return quote_chars(bytes(data))
                data.append(byte)
        except UnreadableMemory as error:
            if not data:
                return f"<error: Cannot access memory at address 0x{error.address:x}>"
            return quote_chars(bytes(data))
        return quote_chars(bytes(data), truncated=True)


def _element_type(array: Type) -> Type:
    """The element type, or a sub-array type for multi-dimensional arrays."""
    if len(array.dimensions) <= 1:
        return array.target
    return Type("array", target=array.target, dimensions=array.dimensions[1:])


def _same_value(a: Value, b: Value) -> bool:
    """value_contents_eq: equal bytes, and optimized out in the same places."""
    return (a.data, a.known) == (b.data, b.known)


def _braced(elements: list, render, same) -> str:
    """{a, b, c <repeats 12 times>, ...} with GDB's repeat and length limits."""
    parts, printed, i = [], 0, 0
    while i < len(elements) and printed < PRINT_MAX:
        run = 1
        while i + run < len(elements) and same(elements[i], elements[i + run]):
            run += 1
        text = render(elements[i])
        if run > REPEAT_THRESHOLD:
            parts.append(f"{text} <repeats {run} times>")
            i += run
            printed += REPEAT_THRESHOLD
        else:
            parts.append(text)
            i += 1
            printed += 1
    return "{" + ", ".join(parts) + ("..." if i < len(elements) else "") + "}"


def quote_chars(data: bytes, truncated: bool = False) -> str:
    """A char sequence as GDB prints strings (generic_printstr with a UTF-8 target
    charset): quoted runs, long repeats apart, an incomplete UTF-8 sequence at the
    end as `<incomplete sequence \\ooo>`.

    Like generic_printstr, whole runs count towards the 200-character limit, and a
    string cut there ends in "...".
    """
    characters = utf8_characters(data)
    segments, quoted, n, printed = [], "", 0, 0
    while n < len(characters) and printed < PRINT_MAX:
        character = characters[n]
        if character.incomplete:
            segments += [f'"{quoted}"'] if quoted else []
            quoted = ""
            segments.append(f"<incomplete sequence {_octal(character.raw)}>")
            n += 1
            break
        run = 1
        while n + run < len(characters) and characters[n + run] == character:
            run += 1
        if run > REPEAT_THRESHOLD:
            segments += [f'"{quoted}"'] if quoted else []
            quoted = ""
            # GDB escapes the string's quote, not the apostrophe, in a repeat block.
            segments.append(f"'{character.text(quote=chr(34))}' <repeats {run} times>")
        else:
            quoted += character.text(quote=chr(34)) * run
        n += run
        printed += run
    if quoted or not segments:
        segments.append(f'"{quoted}"')
    return ", ".join(segments) + ("..." if truncated or n < len(characters) else "")


@dataclass(frozen=True)
class Character:
    """One step of GDB's wchar_iterator over the bytes: a decoded character, an
    invalid byte, or the incomplete sequence that ends the input."""

    raw: bytes
    char: str | None = None  # None: invalid or incomplete, printed as octal escapes
    incomplete: bool = False

    def text(self, quote: str) -> str:
        if self.char is None or not _printable(self.char):
            if len(self.raw) == 1 and self.raw[0] in CHAR_ESCAPES:
                return CHAR_ESCAPES[self.raw[0]]
            return _octal(self.raw)
        if self.char in (quote, "\\"):
            return "\\" + self.char
        return self.char


def utf8_characters(data: bytes) -> list[Character]:
    """Split bytes as GDB's wchar_iterator does through iconv from UTF-8 (charset.c):

    1. a complete, valid sequence is one character;
    2. any other byte is invalid on its own (EILSEQ skips one byte);
    3. a lead byte and continuation bytes cut off by the end are one incomplete
       sequence (EINVAL), and nothing follows it. iconv reports EINVAL even when it
       converted a character just before in the same call, so GDB loses the
       character right before an incomplete sequence (`"ab\\346\\227"` prints as
       `"a", <incomplete sequence \\346\\227>`).
    """
    characters: list[Character] = []
    at = 0
    while at < len(data):
        length = _sequence_length(data[at])
        if length and _incomplete(data[at:], length):
            return _with_incomplete(characters, data[at:])
        chunk = data[at : at + length]
        try:
            if not length:
                raise UnicodeDecodeError("utf-8", chunk, 0, 1, "starts no sequence")
            characters.append(Character(chunk, chunk.decode("utf-8")))
            at += length
        except UnicodeDecodeError:
            characters.append(Character(data[at : at + 1]))
            at += 1
    return characters


def _with_incomplete(characters: list[Character], tail: bytes) -> list[Character]:
    """The incomplete tail, replacing the character decoded in the same iconv call:
    the one right before it, unless that one was an invalid byte (a call of its own)."""
    if characters and characters[-1].char is not None:
        characters = characters[:-1]
    return [*characters, Character(tail, incomplete=True)]


def _sequence_length(lead: int) -> int:
    """Bytes in the UTF-8 sequence a lead byte starts (glibc's from-UTF-8 loop); 0 for
    a byte that starts none (a continuation byte, 0xC0, 0xC1, 0xF8 and up)."""
    if lead < 0x80:
        return 1
    if 0xC2 <= lead < 0xE0:
        return 2
    if 0xE0 <= lead < 0xF0:
        return 3
    if 0xF0 <= lead < 0xF8:
        return 4
    return 0


def _incomplete(rest: bytes, length: int) -> bool:
    """The input ends inside this sequence, every byte after the lead a continuation."""
    return len(rest) < length and all(byte & 0xC0 == 0x80 for byte in rest[1:])


def _printable(char: str) -> bool:
    """iswprint in a UTF-8 locale: not a control, surrogate, unassigned code point or
    line/paragraph separator."""
    return unicodedata.category(char) not in ("Cc", "Cs", "Cn", "Zl", "Zp")


def _octal(raw: bytes) -> str:
    return "".join(f"\\{byte:03o}" for byte in raw)


def char_literal(byte: int) -> str:
    return f"'{_escape(byte, quote=chr(39))}'"


def _escape(byte: int, quote: str) -> str:
    if byte in CHAR_ESCAPES:
        return CHAR_ESCAPES[byte]
    if chr(byte) in (quote, "\\"):
        return "\\" + chr(byte)
    if 32 <= byte < 127:
        return chr(byte)
    return f"\\{byte:03o}"


def format_float(data: bytes) -> str:
    """%g with 9 significant digits for float, 17 for double (GDB's floatformat printing)."""
    if len(data) == 4:
        number, digits, mantissa_bits = struct.unpack("<f", data)[0], 9, 23
    elif len(data) == 8:
        number, digits, mantissa_bits = struct.unpack("<d", data)[0], 17, 52
    else:
        return f"<{len(data)}-byte float>"
    if math.isnan(number):
        raw = int.from_bytes(data, "little")
        sign = "-" if raw >> (len(data) * 8 - 1) else ""
        return f"{sign}nan(0x{raw & ((1 << mantissa_bits) - 1):x})"
    if math.isinf(number):
        return "-inf" if number < 0 else "inf"
    return f"{number:.{digits}g}"


def _flag_enum(enum: Type, number: int) -> str | None:
    """A value of a flag enum as GDB prints it: (A | B | unknown: 0x..).

    GDB 13 (process_enumeration_scope) treats an enum as flags when no enumerator is
    negative or has more than one bit set; enumerators sharing a bit print once.
    """
    values = [v for _, v in enum.enumerators]
    if not values or any(v < 0 or v & (v - 1) for v in values):
        return None
    if number == 0:
        return None
    names, rest = [], number
    for name, v in enum.enumerators:
        if rest & v:
            names.append(name)
            rest &= ~v
    if rest:
        names.append(f"unknown: 0x{rest:x}")
    return "(" + " | ".join(names) + ")"


def _unavailable(value: Value) -> str:
    """Why there is no value. Memory a live GDB could read but the device did not
    capture is `<not captured>`, not a read error: the firmware was fine."""
    if value.error and value.error.startswith("Cannot access memory"):
        return "<not captured>"
    if value.error == "not captured":
        return "<not captured>"
    return "<optimized out>"


def _points_to_plain_char(value_type: Type) -> bool:
    """`char *`, qualified or not; GDB's c_value_print looks through qualifiers but
    not typedefs, so `mychar *` and `string_t` keep their type prefix."""
    pointer = _unqualified(value_type)
    if pointer.kind != "pointer" or pointer.target is None:
        return False
    return _unqualified(pointer.target).name == "char"


def _unqualified(value_type: Type) -> Type:
    while value_type.kind == "qualifier" and value_type.target is not None:
        value_type = value_type.target
    return value_type


def type_name(value_type: Type, inner: str = "") -> str:
    """A C declaration of `inner` with this type, as GDB's type printer writes it."""
    kind = value_type.kind
    if kind in ("base", "void", "typedef"):
        return _join(value_type.name or "void", inner)
    if kind in ("struct", "union", "enum"):
        return _join(f"{kind} {value_type.name or '{...}'}", inner)
    if kind == "qualifier":
        return _qualified_name(value_type, inner)
    if kind == "pointer":
        target = value_type.target
        if (
            target is not None
            and target.strip().kind in ("function", "array")
            and target.kind != "typedef"
        ):
            return type_name(target, f"(*{inner})")
        # Only a qualifier is spaced off: `char **`, `int *[2]`, `int * volatile`.
        return type_name(target, f"* {inner}" if inner[:1].isalpha() else f"*{inner}")
    if kind == "reference":
        return type_name(value_type.target, f"& {inner}" if inner[:1].isalpha() else f"&{inner}")
    if kind == "array":
        bounds = "".join(f"[{d}]" if d is not None else "[]" for d in value_type.dimensions)
        return type_name(value_type.target, f"{inner}{bounds}")
    if kind == "function":
        params = ", ".join(type_name(p) for p in value_type.parameters) or (
            "void" if value_type.prototyped else ""
        )
        if value_type.varargs:
            params += ", ..." if params else "..."
        return type_name(value_type.target, f"{inner}({params})")
    return value_type.name or "?"


def _qualified_name(value_type: Type, inner: str) -> str:
    target, qualifier = value_type.target, value_type.qualifier
    if target is not None and target.kind == "array":
        # GDB moves an array's qualifiers onto its elements (dwarf2/read.c
        # add_array_cv_type); GCC often qualifies both, which must not print twice.
        return type_name(_qualify_elements(target, qualifier), inner)
    if target is not None and target.kind == "pointer":
        return type_name(target, f"{qualifier} {inner}".strip() if inner else qualifier)
    return f"{qualifier} {type_name(target)}" + (f" {inner}" if inner else "")


def _qualify_elements(array: Type, qualifier: str) -> Type:
    element = array.target
    current = element
    while current is not None and current.kind == "qualifier":
        if current.qualifier == qualifier:
            return array
        current = current.target
    return replace(array, target=Type("qualifier", qualifier=qualifier, target=element))


def _join(base: str, inner: str) -> str:
    if not inner:
        return base
    if inner.startswith("*") or inner.startswith("("):
        return f"{base} {inner}"
    if inner.startswith("["):
        return f"{base} {inner}"
    return f"{base} {inner}"
