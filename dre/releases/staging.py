"""Which devices of a cohort a staged rollout reaches.

Each device gets a bucket in 0..9999 from a hash of the deployment's salt and
its serial; the rollout reaches the buckets below percent * 100. The hash is
stable, so the choice is reproducible, and raising the percentage only adds
buckets: every device staged at 5 % is still staged at 20 %. A new deployment
(new salt) picks an independent subset, so one cohort's early adopters are
not always the same devices.
"""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def rollout_bucket(salt: str, serial: str) -> int:
    digest = hashlib.sha256(f"{salt}:{serial}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def is_staged(salt: str, serial: str, percent: int) -> bool:
    if percent >= 100:
        return True
    return rollout_bucket(salt, serial) < percent * BUCKETS // 100
