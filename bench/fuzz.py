"""The long fuzz run: random mutations of the fixtures through every parser (issue 12).

    .venv/bin/python bench/fuzz.py                       # every target, 60 s each
    .venv/bin/python bench/fuzz.py elf --seconds 300 --seed 7
    .venv/bin/python bench/fuzz.py --list

Uses the targets and mutations of tests/fuzzing.py (the CI fuzz tests draw the same
mutations through Hypothesis, fewer of them). Prints, per target, how many inputs ran,
how many raised a documented error and how many distinct documented errors there were;
every undocumented failure (exception type and where it was raised, a run past the time
bound, memory growth) is printed once with a reproducer and makes the exit status 1.
Nothing here asserts; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dre.settings")

from tests import fuzzing
from tests.fuzzing import SIZES, Mutation


def random_mutations(target: fuzzing.Target, rng: random.Random) -> list[Mutation]:
    """One to four mutations, mostly small ones, as the Hypothesis strategy draws them."""
    return [
        Mutation(
            kind=rng.choice(target.kinds),
            at=rng.getrandbits(32),
            value=rng.getrandbits(32),
            size=rng.choice(SIZES),
            window=rng.getrandbits(8),
        )
        for _ in range(rng.choice((1, 1, 2, 3, 4)))
    ]


def fuzz(target: fuzzing.Target, seconds: float, rng: random.Random) -> dict:
    seeds = target.seeds()
    ran, documented, failures = 0, Counter(), {}
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        seed, mutations = rng.choice(seeds), random_mutations(target, rng)
        ran += 1
        try:
            error = fuzzing.exercise(target, seed, fuzzing.mutate(seed, mutations))
        except (Exception, fuzzing.Runaway) as failure:
            failures.setdefault(_where(failure), (seed, mutations, failure))
            continue
        if error is not None:
            documented[f"{type(error).__name__}: {_shape(str(error))}"] += 1
    return {"ran": ran, "documented": documented, "failures": failures}


def _where(failure: BaseException) -> str:
    """The exception type and the innermost frame of our code that raised it."""
    frames = traceback.extract_tb(failure.__traceback__)
    ours = [f for f in frames if "/symbolicator/" in f.filename or "/dre/" in f.filename]
    frame = (ours or frames)[-1]
    return f"{_name(failure)} at {Path(frame.filename).name}:{frame.lineno} {frame.name}"


def _name(error: BaseException) -> str:
    kind = type(error)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _shape(message: str) -> str:
    """A message with its numbers blanked, so one kind of error counts once."""
    return re.sub(r"0x[0-9a-f]+|\d+", "N", message)[:100]


def report(name: str, result: dict, seconds: float, verbose: bool) -> None:
    documented, failures = result["documented"], result["failures"]
    print(
        f"{name}: {result['ran']} inputs in {seconds:.0f} s, "
        f"{sum(documented.values())} documented errors ({len(documented)} distinct), "
        f"{len(failures)} distinct undocumented failures"
    )
    if verbose:
        for message, count in documented.most_common():
            print(f"    {count:6d}  {message}")
    for where, (seed, mutations, failure) in failures.items():
        print(f"  FAIL {where}: {str(failure)[:200]}")
        print(f"       seed {seed.name}, mutations {mutations}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    parser.add_argument("--seconds", type=float, default=60, help="per target")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--list", action="store_true", help="list the targets")
    parser.add_argument("-v", "--verbose", action="store_true", help="list documented errors")
    args = parser.parse_args(argv)
    import django

    django.setup()  # the wire targets import dre.ingest
    if args.list:
        print("\n".join(fuzzing.TARGETS))
        return 0
    names = args.targets or list(fuzzing.TARGETS)
    failed = False
    for name in names:
        result = fuzz(fuzzing.TARGETS[name], args.seconds, random.Random(f"{args.seed}/{name}"))
        report(name, result, args.seconds, args.verbose)
        failed = failed or bool(result["failures"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
