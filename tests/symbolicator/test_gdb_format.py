"""Values printed as GDB 13 prints C values (c-valprint.c, valprint.c generic_printstr,
typeprint), on hand-built types and bytes.

Every expected string was checked with the real gdb-multiarch 13.1 (Debian 13.1-3):
the C globals quoted in the comments were compiled into a throwaway ELF
(arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -g -O0 -nostdlib -Wl,-Tdata=0x20000000)
and printed with `gdb-multiarch -batch -ex 'print NAME' -ex 'whatis NAME' prog.elf`,
which reads initialised data straight from the ELF. Defaults throughout: print elements
200, repeats 10, print symbol on, print null-stop off.
"""

import struct

import pytest

from symbolicator.memory import SOURCE_COREDUMP, SOURCE_ELF, Memory, Span
from symbolicator.variables.gdb_format import Printer, format_float, type_name
from symbolicator.variables.types import (
    ATE_BOOLEAN,
    ATE_FLOAT,
    ATE_SIGNED,
    ATE_SIGNED_CHAR,
    ATE_UNSIGNED,
    ATE_UNSIGNED_CHAR,
    Member,
    Type,
)
from symbolicator.variables.values import Value, unavailable

# -- types, as the DWARF of arm-none-eabi-gcc describes them (char is unsigned on ARM) -------

INT = Type("base", "int", 4, encoding=ATE_SIGNED)
UINT = Type("base", "unsigned int", 4, encoding=ATE_UNSIGNED)
SHORT = Type("base", "short int", 2, encoding=ATE_SIGNED)
LONG_LONG = Type("base", "long long int", 8, encoding=ATE_SIGNED)
ULONG_LONG = Type("base", "long long unsigned int", 8, encoding=ATE_UNSIGNED)
CHAR = Type("base", "char", 1, encoding=ATE_UNSIGNED_CHAR)
SCHAR = Type("base", "signed char", 1, encoding=ATE_SIGNED_CHAR)
UCHAR = Type("base", "unsigned char", 1, encoding=ATE_UNSIGNED_CHAR)
BOOL = Type("base", "_Bool", 1, encoding=ATE_BOOLEAN)
FLOAT = Type("base", "float", 4, encoding=ATE_FLOAT)
DOUBLE = Type("base", "double", 8, encoding=ATE_FLOAT)
VOID = Type("void", "void")
UINT8_T = Type("typedef", "uint8_t", target=UCHAR)
UINT32_T = Type("typedef", "uint32_t", target=UINT)


def pointer(target: Type) -> Type:
    return Type("pointer", None, 4, target=target)


def qualified(qualifier: str, target: Type) -> Type:
    return Type("qualifier", qualifier=qualifier, target=target)


def array(element: Type, *dimensions: int) -> Type:
    return Type("array", target=element, dimensions=list(dimensions))


def function(returns: Type, *parameters: Type) -> Type:
    return Type("function", target=returns, parameters=list(parameters), prototyped=True)


def enum(name: str, *enumerators: tuple[str, int]) -> Type:
    return Type("enum", name, 4, target=UINT, enumerators=list(enumerators))


def struct_type(name: str | None, size: int, *members: Member, kind: str = "struct") -> Type:
    return Type(kind, name, size, members=list(members))


# -- values ---------------------------------------------------------------------------------

I_ADDRESS, STRINGS = 0x20000000, 0x8040
SYMBOLS = {I_ADDRESS: "<i>", 0x20000B80: "<pts+8>", 0x8000: "<func>", 0x20000528: "<longs>"}


def known(value_type: Type, data: bytes) -> Value:
    return Value(value_type, data, b"\x01" * len(data))


def number(value_type: Type, value: int) -> Value:
    size = value_type.byte_size
    return known(value_type, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


def printer(*spans: Span) -> Printer:
    return Printer(Memory(list(spans)), SYMBOLS.get)


def show(value: Value, *spans: Span) -> str:
    return printer(*spans).value(value)


def show_print(value: Value, *spans: Span) -> str:
    return printer(*spans).print_command(value)


def strings_at(address: int, data: bytes) -> Span:
    return Span(address, data, SOURCE_ELF)


# -- integers, characters, bool (c-valprint.c, generic_val_print_int) -----------------------


@pytest.mark.parametrize(
    ("value_type", "value", "expected"),
    [
        (INT, -5, "-5"),  # int i = -5;
        (UINT, 4000000000, "4000000000"),  # unsigned int u = 4000000000u;
        (SHORT, -300, "-300"),  # short sh = -300;
        (LONG_LONG, -5000000000, "-5000000000"),
        (ULONG_LONG, 18000000000000000000, "18000000000000000000"),
    ],
)
def test_integers_print_in_decimal_with_their_sign(value_type, value, expected):
    assert show(number(value_type, value)) == expected


@pytest.mark.parametrize(
    ("value_type", "value", "expected"),
    [
        (CHAR, 65, "65 'A'"),  # char c = 'A';
        (SCHAR, -1, "-1 '\\377'"),  # signed char sc = -1;
        (UCHAR, 200, "200 '\\310'"),  # unsigned char uc = 200;
        (CHAR, 0, "0 '\\000'"),
        (CHAR, 10, "10 '\\n'"),
        (CHAR, 7, "7 '\\a'"),
        (CHAR, 27, "27 '\\033'"),
        (CHAR, 127, "127 '\\177'"),
        (CHAR, 39, "39 '\\''"),  # the quote is escaped in a char literal
        (CHAR, 92, "92 '\\\\'"),
        (CHAR, 34, "34 '\"'"),  # a double quote is not
        (UINT8_T, 65, "65 'A'"),  # uint8_t u8 = 65;
        (Type("typedef", "int8_t", target=SCHAR), -128, "-128 '\\200'"),
    ],
)
def test_one_byte_integers_print_with_their_character(value_type, value, expected):
    assert show(number(value_type, value)) == expected


@pytest.mark.parametrize(("value", "expected"), [(1, "true"), (0, "false"), (2, "2")])
def test_bool_prints_true_false_or_the_number(value, expected):
    # union { unsigned char c; bool b; } ub = { .c = 2 }; print ub.b -> 2
    assert show(number(BOOL, value)) == expected


# -- floats (GDB's %g with 9 / 17 significant digits) -----------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (struct.pack("<f", 1.1), "1.10000002"),
        (struct.pack("<d", 1.1), "1.1000000000000001"),
        (struct.pack("<f", 3.0e38), "3.00000001e+38"),
        (struct.pack("<f", 1.0e-10), "1.00000001e-10"),
        (struct.pack("<d", 1.0 / 3.0), "0.33333333333333331"),
        (struct.pack("<f", 1.0), "1"),
        (struct.pack("<d", 100.0), "100"),
        (struct.pack("<f", -0.0), "-0"),
        (struct.pack("<f", float("inf")), "inf"),
        (struct.pack("<f", float("-inf")), "-inf"),
        (bytes.fromhex("0000c07f"), "nan(0x400000)"),  # float NAN
        (bytes.fromhex("000000000000f87f"), "nan(0x8000000000000)"),  # double NAN
        (bytes.fromhex("0100c0ff"), "-nan(0x400001)"),
    ],
)
def test_floats_print_as_gdb_formats_them(data, expected):
    assert format_float(data) == expected
    assert show(known(FLOAT if len(data) == 4 else DOUBLE, data)) == expected


# -- enums (generic_val_print_enum_1) -----------------------------------------------------------

COLOR = enum("color", ("RED", 0), ("GREEN", 1), ("BLUE", 2))
FLAGS = enum("flags", ("FA", 1), ("FB", 2), ("FC", 4))
NEG = enum("neg", ("NM", -1), ("NZ", 0), ("NP", 1))
MULTI = enum("m", ("M1", 1), ("M6", 6))


@pytest.mark.parametrize(
    ("enum_type", "value", "expected"),
    [
        (COLOR, 1, "GREEN"),  # enum color col = GREEN;
        # RED = 0, GREEN = 1, BLUE = 2 are disjoint bits: GDB takes color for a flag enum.
        (COLOR, 7, "(GREEN | BLUE | unknown: 0x4)"),
        (FLAGS, 5, "(FA | FC)"),  # enum flags fl = FA | FC;
        (FLAGS, 9, "(FA | unknown: 0x8)"),
        (FLAGS, 0, "0"),
        (NEG, -1, "NM"),  # a negative enumerator: not a flag enum
        (NEG, 5, "5"),
    ],
)
def test_enums_print_their_name_or_flags_or_number(enum_type, value, expected):
    assert show(number(enum_type, value)) == expected


def test_a_flag_enum_value_with_only_unknown_bits():
    # enum flags flonly = 8;
    assert show(number(FLAGS, 8)) == "(unknown: 0x8)"


@pytest.mark.parametrize(("value", "expected"), [(7, "7"), (3, "3"), (9, "9")])
def test_an_enum_with_a_multi_bit_enumerator_is_not_a_flag_enum(value, expected):
    assert show(number(MULTI, value)) == expected


@pytest.mark.parametrize(("value", "expected"), [(3, "(D1 | D2)"), (7, "(D1 | D2 | unknown: 0x4)")])
def test_enumerators_sharing_a_bit_print_once(value, expected):
    # enum dup { D1 = 1, D1B = 1, D2 = 2 }; checked with gdb-multiarch 13.1.
    duplicate = enum("dup", ("D1", 1), ("D1B", 1), ("D2", 2))

    assert show(number(duplicate, value)) == expected


# -- pointers (c_value_print_ptr, print symbol on) -----------------------------------------------


def address(value_type: Type, value: int) -> Value:
    return number(value_type, value)


def test_a_data_pointer_names_the_symbol_it_points_into():
    # int *p = &i;            print p    -> (int *) 0x20000000 <i>
    # struct point *ppt = &pts[1];       -> (struct point *) 0x20000b80 <pts+8>
    assert show(address(pointer(INT), I_ADDRESS)) == "0x20000000 <i>"
    assert show_print(address(pointer(INT), I_ADDRESS)) == "(int *) 0x20000000 <i>"
    point = pointer(struct_type("point", 8))
    assert show_print(address(point, 0x20000B80)) == "(struct point *) 0x20000b80 <pts+8>"


def test_a_null_pointer_prints_0x0():
    assert show_print(address(pointer(INT), 0)) == "(int *) 0x0"
    assert show(address(pointer(CHAR), 0)) == "0x0"


def test_a_void_pointer_gets_its_type_in_print():
    assert show_print(address(pointer(VOID), I_ADDRESS)) == "(void *) 0x20000000 <i>"


def test_a_char_pointer_shows_the_string_and_no_type_in_print():
    # char *s = "hello";  print s -> 0x8040 "hello"
    memory = strings_at(STRINGS, b"hello\0")

    assert show_print(address(pointer(CHAR), STRINGS), memory) == '0x8040 "hello"'


def test_an_unsigned_char_pointer_shows_the_string_with_its_type():
    # unsigned char *ucp = (unsigned char *)"xy";  -> (unsigned char *) 0x8054 "xy"
    memory = strings_at(0x8054, b"xy\0")

    assert show_print(address(pointer(UCHAR), 0x8054), memory) == '(unsigned char *) 0x8054 "xy"'


@pytest.mark.parametrize(
    "value_type",
    [
        pointer(qualified("const", CHAR)),  # const char *cs = "const\tstr";
        pointer(qualified("volatile", CHAR)),  # volatile char *vcp = "v";
        qualified("const", pointer(CHAR)),  # char * const cp = "x";
    ],
)
def test_a_qualified_char_pointer_shows_no_type_in_print(value_type):
    memory = strings_at(0x8048, b"const\tstr\0")

    assert show_print(address(value_type, 0x8048), memory) == '0x8048 "const\\tstr"'


def test_a_pointer_to_a_typedef_of_char_keeps_its_type_in_print():
    # typedef char mychar; mychar *mcp = "m";  -> (mychar *) 0x8028 "m"
    mychar = Type("typedef", "mychar", target=CHAR)
    memory = strings_at(0x8028, b"m\0")

    assert show_print(address(pointer(mychar), 0x8028), memory) == '(mychar *) 0x8028 "m"'


def test_a_char_pointer_string_stops_at_200_characters():
    # char longs[260] = {[0 ... 249] = 'a', ...}; char *lp = longs;
    # print lp -> 0x20000528 <longs> 'a' <repeats 200 times>...
    memory = Span(0x20000528, b"a" * 250 + b"b" * 9 + b"\0", SOURCE_COREDUMP)

    text = show(address(pointer(CHAR), 0x20000528), memory)

    assert text == "0x20000528 <longs> 'a' <repeats 200 times>..."


def test_a_char_pointer_into_uncaptured_memory_says_so():
    text = show(address(pointer(CHAR), 0x30000000))

    assert text == "0x30000000 <error: Cannot access memory at address 0x30000000>"


def test_function_pointers_name_the_function_without_the_thumb_bit():
    # void (*fp)(void) = func;       print fp  -> (void (*)(void)) 0x8001 <func>
    # int (*fp2)(int, int) = add;    print fp2 -> (int (*)(int, int)) 0x800d <add>
    fp = pointer(function(VOID))

    assert show(address(fp, 0x8001)) == "0x8001 <func>"
    assert show_print(address(fp, 0x8001)) == "(void (*)(void)) 0x8001 <func>"


def test_a_function_prints_its_type_in_braces():
    # print func -> {void (void)} 0x8000 <func>
    value = Value(function(VOID), b"", b"", address=0x8000)

    assert show(value) == "{void (void)} 0x8000 <func>"


# -- structs, unions, bitfields -------------------------------------------------------------------

POINT = struct_type("point", 8, Member("x", INT, 0), Member("y", INT, 4))


def test_structs_print_members_and_nested_structs():
    # struct outer o = {{1, 2}, {-3, 'z'}, &i, "ab", {.asint = 0x3f800000}, {9}};
    # print o -> {pt = {x = 1, y = 2}, in = {a = -3, tag = 122 'z'}, ptr = 0x20000000 <i>,
    #            name = "ab\000", {asint = 1065353216, asfloat = 1}, {anon_x = 9}}
    inner = struct_type("inner", 4, Member("a", SHORT, 0), Member("tag", CHAR, 2))
    anon_union = struct_type(
        None, 4, Member("asint", INT, 0), Member("asfloat", FLOAT, 0), kind="union"
    )
    anon_struct = struct_type(None, 4, Member("anon_x", INT, 0))
    outer = struct_type(
        "outer",
        28,
        Member("pt", POINT, 0),
        Member("in", inner, 8),
        Member("ptr", pointer(INT), 12),
        Member("name", array(CHAR, 4), 16),
        Member(None, anon_union, 20),
        Member(None, anon_struct, 24),
    )
    data = struct.pack("<iihBxI4sII", 1, 2, -3, ord("z"), I_ADDRESS, b"ab", 0x3F800000, 9)

    assert show(known(outer, data)) == (
        "{pt = {x = 1, y = 2}, in = {a = -3, tag = 122 'z'}, ptr = 0x20000000 <i>, "
        'name = "ab\\000", {asint = 1065353216, asfloat = 1}, {anon_x = 9}}'
    )


def test_unions_print_every_member():
    # union number { int i; float f; unsigned char bytes[4]; } num = { .i = 0x3f800000 };
    # print num -> {i = 1065353216, f = 1, bytes = "\000\000\200?"}
    number_union = struct_type(
        "number",
        4,
        Member("i", INT, 0),
        Member("f", FLOAT, 0),
        Member("bytes", array(UCHAR, 4), 0),
        kind="union",
    )

    assert show(known(number_union, struct.pack("<I", 0x3F800000))) == (
        '{i = 1065353216, f = 1, bytes = "\\000\\000\\200?"}'
    )


def test_bitfields_are_extracted_and_sign_extended():
    # struct bits { unsigned lo : 3; int neg : 5; unsigned flag : 1; int big : 20; }
    # bt = {5, -7, 1, -100000};  print bt -> {lo = 5, neg = -7, flag = 1, big = -100000}
    bits = struct_type(
        "bits",
        4,
        Member("lo", UINT, 0, bit_size=3, bit_offset=0),
        Member("neg", INT, 0, bit_size=5, bit_offset=3),
        Member("flag", UINT, 1, bit_size=1, bit_offset=0),
        Member("big", INT, 1, bit_size=20, bit_offset=1),
    )
    raw = 5 | ((-7 & 0x1F) << 3) | (1 << 8) | ((-100000 & 0xFFFFF) << 9)

    assert (
        show(known(bits, struct.pack("<I", raw))) == "{lo = 5, neg = -7, flag = 1, big = -100000}"
    )


def test_an_unknown_member_is_optimized_out_and_the_rest_is_printed():
    value = Value(POINT, struct.pack("<ii", 1, 2), b"\x01" * 4 + b"\x00" * 4)

    assert show(value) == "{x = 1, y = <optimized out>}"


# -- arrays (value_print_array_elements) --------------------------------------------------------


def ints(*values: int, element: Type = INT) -> Value:
    return known(array(element, len(values)), struct.pack(f"<{len(values)}i", *values))


def test_arrays_list_their_elements():
    assert show(ints(1, 2, 3, 4, 5)) == "{1, 2, 3, 4, 5}"  # int arr5[5]


def test_more_than_10_equal_elements_are_a_repeat_block():
    assert show(ints(*[0] * 12)) == "{0 <repeats 12 times>}"  # int zeros[12];
    assert show(ints(*[7] * 11)) == "{7 <repeats 11 times>}"
    assert show(ints(*[7] * 10)) == "{7, 7, 7, 7, 7, 7, 7, 7, 7, 7}"
    assert show(ints(1, *[2] * 12, 3)) == "{1, 2 <repeats 12 times>, 3}"


def test_arrays_stop_after_200_elements():
    # int seq[250] = {0, 1, ..., 210};  print seq -> {0, 1, ..., 199...}
    text = show(ints(*range(250)))

    assert text.startswith("{0, 1, 2, ")
    assert text.endswith(", 198, 199...}")


def test_a_repeat_block_counts_as_10_elements_towards_the_limit():
    # int big[300] = {[0 ... 299] = 1};  -> {1 <repeats 300 times>}
    # 30 blocks of 11 equal ints: GDB stops after 20 blocks -> ..., 19 <repeats 11 times>...}
    assert show(ints(*[1] * 300)) == "{1 <repeats 300 times>}"
    text = show(ints(*[n for n in range(30) for _ in range(11)]))
    assert text.endswith("18 <repeats 11 times>, 19 <repeats 11 times>...}")


def test_arrays_of_structs_and_multi_dimensional_arrays():
    # struct point pts[3] = {{1,2},{1,2},{3,4}};  int grid[2][3] = {{1,2,3},{4,5,6}};
    pts = known(array(POINT, 3), struct.pack("<6i", 1, 2, 1, 2, 3, 4))
    grid = known(array(INT, 2, 3), struct.pack("<6i", 1, 2, 3, 4, 5, 6))

    assert show(pts) == "{{x = 1, y = 2}, {x = 1, y = 2}, {x = 3, y = 4}}"
    assert show(grid) == "{{1, 2, 3}, {4, 5, 6}}"


def test_an_array_of_pointers_shows_no_types():
    # int *ptrarr[2] = {&i, 0};  -> {0x20000000 <i>, 0x0}
    value = known(array(pointer(INT), 2), struct.pack("<II", I_ADDRESS, 0))

    assert show_print(value) == "{0x20000000 <i>, 0x0}"


# -- char arrays (generic_printstr) --------------------------------------------------------------


def chars(data: bytes, element: Type = CHAR) -> Value:
    return known(array(element, len(data)), data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"hi\0\0\0\0\0\0", '"hi\\000\\000\\000\\000\\000"'),  # char str8[8] = "hi";
        (b"abc", '"abc"'),  # char full3[3] = "abc";
        (b"abc\0", '"abc"'),  # char exact4[4] = "abc";
        (b"\0", '""'),  # char empty[1] = "";
        (b"a\"b\\c'\0\0", '"a\\"b\\\\c\'\\000"'),  # char quotes[8] = "a\"b\\c'";
        (b"\n\t\r\0", '"\\n\\t\\r"'),
        (b"hi\0x\0\0", '"hi\\000x\\000"'),
        (b"aaaaaaaaaab\0", '"aaaaaaaaaab"'),  # a run of 10 stays in the string
    ],
)
def test_char_arrays_print_as_strings_dropping_one_trailing_nul(data, expected):
    assert show(chars(data)) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a" * 15 + b"b" + b"\0" * 4, "'a' <repeats 15 times>, \"b\\000\\000\\000\""),
        (b"x" * 30 + b"yz" + b"\0" * 8, "'x' <repeats 30 times>, \"yz" + "\\000" * 7 + '"'),
        (b"ab" + b"c" * 13 + b"de\0\0\0", '"ab", \'c\' <repeats 13 times>, "de\\000\\000"'),
    ],
)
def test_long_runs_inside_char_arrays_are_repeat_blocks(data, expected):
    assert show(chars(data)) == expected


def test_an_unsigned_char_array_prints_as_a_string_too():
    # unsigned char bytes12[12] = {1, ..., 1};  -> '\001' <repeats 12 times>
    assert show(chars(b"\x01" * 12, UCHAR)) == "'\\001' <repeats 12 times>"


def test_a_two_dimensional_char_array_is_an_array_of_strings():
    # char matrix[2][3] = {"ab", "cd"};  -> {"ab", "cd"}
    assert show(known(array(CHAR, 2, 3), b"ab\0cd\0")) == '{"ab", "cd"}'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # char long300[300] = {[0 ... 298] = 'x'};
        (b"x" * 299 + b"\0", "'x' <repeats 299 times>"),
        # char longs[260] = {[0 ... 249] = 'a', [250 ... 258] = 'b'};
        (b"a" * 250 + b"b" * 9 + b"\0", "'a' <repeats 250 times>..."),
        # char alt[210] = "abab...ab" (208 characters)
        (b"ab" * 104 + b"\0\0", '"' + "ab" * 100 + '"...'),
    ],
)
def test_char_arrays_longer_than_200_stop_where_gdb_stops(data, expected):
    assert show(chars(data)) == expected


# -- UTF-8 (GDB's default target charset on a UTF-8 host) ---------------------------------------
# Each expected text is what gdb-multiarch 13.1 prints for `print "..."` with LANG=C.UTF-8.


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("ab\u65e5".encode(), '"ab\u65e5"'),  # a valid sequence prints as its character
        ("\u00e9t\u00e9".encode(), '"\u00e9t\u00e9"'),
        (b"\302\200x", r'"\302\200x"'),  # U+0080 is not printable: its bytes
        (b"\346\227x", r'"\346\227x"'),  # cut off by "x": invalid bytes
        ("\u65e5".encode() * 11, "'\u65e5' <repeats 11 times>"),
    ],
)
def test_utf8_characters_print_as_gdb_prints_them(data, expected):
    assert show(chars(data + b"\0")) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # GDB loses the character converted in the same iconv call as the incomplete end.
        (b"ab\346x\363", r'"ab\346", <incomplete sequence \363>'),
        (b"ab\346\227", r'"a", <incomplete sequence \346\227>'),
        (b"a" * 13 + b"\346", r"'a' <repeats 12 times>, <incomplete sequence \346>"),
        (b"ab\377\363", r'"ab\377", <incomplete sequence \363>'),  # an invalid byte stays
        (b"\346\227", r"<incomplete sequence \346\227>"),
        (b"x\340\240", r"<incomplete sequence \340\240>"),
    ],
)
def test_a_string_that_ends_inside_a_utf8_sequence_says_so_like_gdb(data, expected):
    assert show(chars(data + b"\0")) == expected


def test_a_repeat_block_escapes_the_double_quote_not_the_apostrophe():
    # print "''''''''''''" -> ''' <repeats 12 times>; twelve double quotes -> '\"' <repeats...>
    assert show(chars(b"'" * 12 + b"\0")) == "''' <repeats 12 times>"
    assert show(chars(b'"' * 12 + b"\0")) == r"""'\"' <repeats 12 times>"""


# -- values that are not there ---------------------------------------------------------------------

# Checked with gdb-multiarch 13.1 on a program built with GCC -O2 -g (the value printer is the
# same for every target): struct rec { char tag[8]; int n; } r, of which only n is live;
# struct chars { char tag[16]; int n; } c, of which tag[0] = '/' and n are live.
REC = struct_type("rec", 12, Member("tag", array(CHAR, 8), 0), Member("n", INT, 8))
CHARS = struct_type("chars", 20, Member("tag", array(CHAR, 16), 0), Member("n", INT, 16))


def test_an_optimized_out_array_inside_a_struct_prints_element_by_element():
    value = Value(REC, bytes(8) + struct.pack("<i", 3), b"\0" * 8 + b"\x01" * 4)

    assert show(value) == "{tag = {" + ", ".join(["<optimized out>"] * 8) + "}, n = 3}"


def test_a_partly_optimized_out_char_array_prints_its_elements_with_repeats():
    data = b"/" + bytes(15) + struct.pack("<i", 10)
    value = Value(CHARS, data, b"\x01" + b"\0" * 15 + b"\x01" * 4)

    assert show(value) == "{tag = {47 '/', <optimized out> <repeats 15 times>}, n = 10}"


def test_a_wholly_optimized_out_value_is_one_marker():
    assert show(Value(REC, bytes(12), bytes(12))) == "<optimized out>"
    assert show(Value(array(CHAR, 8), bytes(8), bytes(8))) == "<optimized out>"


def test_unavailable_values_say_why():
    assert show(unavailable(INT)) == "<optimized out>"
    assert show(unavailable(INT, "not captured")) == "<not captured>"
    assert show(unavailable(INT, "Cannot access memory at address 0x30000000")) == (
        "<not captured>"
    )


def test_a_synthetic_pointer():
    value = unavailable(pointer(INT), "synthetic pointer")
    value.synthetic_pointer = True

    assert show(value) == "<synthetic pointer>"
    assert show_print(value) == "<synthetic pointer>"


# -- type names (c_print_type) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_type", "expected"),
    [
        (pointer(INT), "int *"),
        (pointer(qualified("const", CHAR)), "const char *"),  # whatis cs
        (pointer(qualified("volatile", UINT32_T)), "volatile uint32_t *"),
        (
            qualified("volatile", pointer(qualified("volatile", UINT32_T))),
            "volatile uint32_t * volatile",
        ),
        (qualified("const", pointer(qualified("const", INT))), "const int * const"),
        (qualified("const", qualified("volatile", INT)), "const volatile int"),
        (pointer(function(VOID)), "void (*)(void)"),
        (pointer(function(INT, INT, INT)), "int (*)(int, int)"),
        (pointer(function(VOID, INT)), "void (*)(int)"),
        (function(VOID), "void (void)"),
        (pointer(array(INT, 5)), "int (*)[5]"),
        (pointer(array(CHAR, 2, 3)), "char (*)[2][3]"),
        (array(INT, 2, 3), "int [2][3]"),
        (pointer(struct_type("point", 8)), "struct point *"),
        (pointer(Type("typedef", "point_t", target=POINT)), "point_t *"),
    ],
)
def test_type_names_read_like_gdbs_whatis(value_type, expected):
    assert type_name(value_type) == expected


@pytest.mark.parametrize(
    ("value_type", "expected"),
    [
        (pointer(pointer(CHAR)), "char **"),  # char **pps = &s;
        (array(pointer(INT), 2), "int *[2]"),  # int *ptrarr[2];
    ],
)
def test_pointer_declarators_are_not_spaced_apart(value_type, expected):
    assert type_name(value_type) == expected


@pytest.mark.parametrize(
    ("value_type", "expected"),
    [
        # typedef void (*command_handler)(void); volatile command_handler table[1];
        # GCC: volatile -> array -> volatile -> typedef. gdb-multiarch 13.1 whatis:
        (
            qualified("volatile", array(qualified("volatile", Type("typedef", "handler")), 1)),
            "volatile handler [1]",
        ),
        (qualified("const", array(INT, 2)), "const int [2]"),
    ],
)
def test_an_arrays_qualifier_belongs_to_its_elements(value_type, expected):
    assert type_name(value_type) == expected
