"""Arguments, locals and globals with their values, as GDB would show them."""

from symbolicator.variables.context import FrameContext
from symbolicator.variables.reader import Variable, VariableReader

__all__ = ["FrameContext", "Variable", "VariableReader"]
