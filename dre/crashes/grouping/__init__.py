"""Grouping: a pure, versioned algorithm from a trace to a fingerprint.

Every decision to keep or drop a frame records a short hint that is stored
with the trace and shown as "why grouped like this". The side-effecting issue
upsert lives in dre.crashes.services, apart from the algorithm.
"""

from dre.crashes.grouping.algorithm import CONFIGS, DEFAULT_CONFIG, SECONDARY_CONFIG, group
from dre.crashes.grouping.model import Component, GroupingResult, Rules
from dre.crashes.grouping.rules import AppRule, RuleError

__all__ = [
    "CONFIGS",
    "DEFAULT_CONFIG",
    "SECONDARY_CONFIG",
    "AppRule",
    "Component",
    "GroupingResult",
    "RuleError",
    "Rules",
    "group",
]
