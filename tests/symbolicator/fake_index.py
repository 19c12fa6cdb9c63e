"""A stand-in for SymbolIndex in unwinder tests: the questions the unwinder asks an
index, answered from small lists of functions and FDEs."""

from __future__ import annotations

from dataclasses import dataclass, field

from symbolicator.cfi import Fde
from symbolicator.index.functions import Function


@dataclass
class FakeIndex:
    functions: list[Function] = field(default_factory=list)
    fdes: list[Fde] = field(default_factory=list)
    entry: int = 0

    def fde_for(self, address):
        return next((f for f in self.fdes if f.start <= address < f.end), None)

    def function_at(self, address):
        return next((f for f in self.functions if f.start <= address < f.end), None)

    def call_site(self, function, return_pc):
        return None

    def tail_calls(self, function):
        return []
