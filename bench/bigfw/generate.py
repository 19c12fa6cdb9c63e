"""Generate the C sources of the big benchmark firmware (deterministic: same seed, same
bytes).

    generate.py --out bench/build/bigfw [--seed N]

Writes, under OUT:
  gen/include/hal_types.h, hal_inline.h, bigfw.h, mods/<module>.h   shared headers
  gen/<layer>/<module>.c                                             one unit per module
  gen/bigfw_main.c                                                   module table, bigfw_run
  sources.mk      GEN_SRCS for bench/Makefile
  manifest.json   counts and the chain, for bench/run.py and the README
Files whose content did not change are left alone, so make rebuilds nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import emit
from model import SEED, Model, build_model


def sources(model: Model) -> dict[str, str]:
    files = {
        "gen/include/hal_types.h": emit.hal_types_h(model),
        "gen/include/hal_inline.h": emit.hal_inline_h(model),
        "gen/include/bigfw.h": emit.bigfw_h(model),
        "gen/bigfw_main.c": emit.main_c(model),
    }
    for module in model.modules:
        files[f"gen/include/mods/{module.name}.h"] = emit.module_h(module)
        files[module.path] = emit.module_c(module)
    return files


def manifest(model: Model, seed: int) -> dict:
    return {
        "seed": seed,
        "modules": len(model.modules),
        "families": len(model.families),
        "generated_functions": model.function_count(),
        "chain": [{"function": f.name, "file": f.module.path} for f in model.chain],
    }


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    model = build_model(args.seed)
    files = sources(model)
    units = sorted(name for name in files if name.endswith(".c"))
    files["sources.mk"] = "GEN_SRCS := \\\n" + "".join(f"\t{u} \\\n" for u in units) + "\n"
    files["manifest.json"] = json.dumps(manifest(model, args.seed), indent=1) + "\n"
    changed = sum(write_if_changed(args.out / name, text) for name, text in files.items())
    print(
        f"bigfw: {len(units)} units, {model.function_count()} functions, "
        f"{changed} files written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
