"""`drvmc report`: Markdown with diagrams beside it, and an HTML page checked in headless Chromium.

Regenerate the golden Markdown after an intended change with
`UPDATE_GOLDEN=1 python3 -m pytest tests/test_report.py` and review the diff.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.counterexamples.report import header_comment

ROOT = Path(__file__).parent.parent
FIX = Path("tests/fixtures/compare")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _mask(text: str) -> str:
    # times, and the versions in the header (z3's follows whatever pip installed in range)
    text = re.sub(r"^drvmc [^,]+, z3 [^;]+;", "drvmc VERSION, z3 VERSION;", text, flags=re.M)
    return re.sub(r"\d+\.\d+ s\b", "T s", text)


def test_header_comment() -> None:
    src = "\n# first line\n#   second\n// third\nspec x \"d\"\n# not part of it\n"
    assert header_comment(src) == "first line\nsecond\nthird"
    assert header_comment('spec x "d"\n# after the spec line\n\nenum E { a }\n') == (
        "after the spec line")
    assert header_comment("enum E { a }\n# later\n") == ""


def test_markdown_report_golden(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    r = CliRunner().invoke(app, ["report", str(FIX / "uaf.drv"), "-o", str(out)])
    assert r.exit_code == 0, r.stdout + r.stderr
    text = out.read_text(encoding="utf-8")
    svg = tmp_path / "r_files" / "uaf-original-use_after_release.svg"
    if shutil.which("dot"):
        assert "](r_files/uaf-original-use_after_release.svg)" in text
        assert "<svg" in svg.read_text(encoding="utf-8")
    else:
        text = text + "\n"  # no diagrams without Graphviz: the golden file has them
    golden = ROOT / FIX / "uaf.report.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(_mask(text), encoding="utf-8")
    assert _mask(text) == golden.read_text(encoding="utf-8")


def test_report_refuses_other_suffixes(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["report", str(FIX / "uaf.drv"), "-o", str(tmp_path / "r.txt")])
    assert r.exit_code == 3 and "must end in .md or .html" in r.stderr
    assert not (tmp_path / "r.txt").exists()


# ---------------------------------------------------------------------- HTML in Chromium


def _png_rgb(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = bpp = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            match f:
                case 1:
                    line[i] = (line[i] + a) & 255
                case 2:
                    line[i] = (line[i] + b) & 255
                case 3:
                    line[i] = (line[i] + (a + b) // 2) & 255
                case 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                    line[i] = (line[i] + pred) & 255
                case _:  # 0: the row as it is
                    pass
        prev = line
        rgb = bytes(line) if bpp == 3 else bytes(v for k, v in enumerate(line) if k % 4 != 3)
        rows.append(rgb)
    return width, height, rows


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


needs_browser = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh)"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz is not installed")]


@pytest.fixture(scope="module")
def fixture_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of tests/fixtures/compare (three specs, six counterexamples)."""
    page = tmp_path_factory.mktemp("report") / "report.html"
    r = CliRunner().invoke(app, ["report", str(ROOT / FIX), "-o", str(page)])
    assert r.exit_code == 0, r.stdout + r.stderr
    return page


@needs_browser[0]
@needs_browser[1]
def test_html_report_renders_in_chromium(fixture_page: Path, tmp_path: Path) -> None:
    page = fixture_page
    url = page.resolve().as_uri()

    dom = _chromium(["--dump-dom", url], tmp_path).stdout
    # the matrix of each spec: a header row and one row per property, as the browser parsed it
    matrices = re.findall(r'<table class="matrix">(.*?)</table>', dom, flags=re.DOTALL)
    assert [m.count("<tr>") for m in matrices] == [3, 4, 5]  # baseline, s0_resume, uaf
    assert '<td class="VIOLATED" title="expected VIOLATED 3; VIOLATED at length 3">VIOLATED 3' \
           "</td>" in matrices[1]
    assert "takes away: target port_configured (reached by v6, UNREACHABLE here)" in dom
    # every counterexample's diagram is an inline <svg> with drawn content and its labels:
    # its causal slice, and the whole diagram behind a click (a deadlock's slice is what each
    # waiting actor waits for)
    svgs = re.findall(r"<svg\b.*?</svg>", dom, flags=re.DOTALL)
    assert dom.count('<figure class="diagram">') == len(svgs) == 12
    assert dom.count("<h4 ") == 6  # baseline 1, s0_resume 2, uaf 3
    assert dom.count("<summary>full diagram: every lifeline and call</summary>") == 6
    for s in svgs:
        assert s.count("<text") >= 3 and ("<polygon" in s or "<path" in s)
    labels = re.findall(r"<text\b[^>]*>([^<]*)</text>", svgs[2])  # s0_resume's null_deref
    assert {"larb_probe", "aggregate", "NULL Mmu handle dereferenced"} <= set(labels)

    shot = tmp_path / "shot.png"
    _chromium([f"--screenshot={shot}", "--window-size=1000,1600", url], tmp_path)
    width, height, rows = _png_rgb(shot.read_bytes())
    assert (width, height) == (1000, 1600)

    def count(y0: int, y1: int, want: tuple[int, int, int], tol: int = 12) -> int:
        n = 0
        for row in rows[y0:y1]:
            for x in range(0, width * 3, 3):
                if all(abs(row[x + i] - want[i]) <= tol for i in range(3)):
                    n += 1
        return n

    def ink(y0: int, y1: int) -> int:
        return sum(1 for row in rows[y0:y1] for x in range(0, width * 3, 3)
                   if row[x] + row[x + 1] + row[x + 2] < 3 * 160)

    # the page is not blank, the matrices' coloured cells are painted (VIOLATED red, PROVEN
    # green), and below them the diagrams draw dark strokes and text
    assert ink(0, 200) > 2000
    assert count(0, height, (0xF8, 0xD0, 0xD0)) > 2000  # VIOLATED cells
    assert count(0, height, (0xCF, 0xEC, 0xCF)) > 2000  # PROVEN cells
    assert ink(height // 2, height) > 3000


# A script run by Chromium after the page is laid out: it opens every <details> (the whole
# diagrams behind a click), then writes into the page, as JSON, every diagram text's rendered
# font size (its computed size times the scale from SVG units to CSS pixels) and box height,
# each diagram's drawn width over its natural width, and every id the DOM holds twice.
_MEASURE = """<script>
(() => {
  for (const d of document.querySelectorAll("details")) d.open = true;
  const out = {texts: [], scales: [], dups: []};
  for (const svg of document.querySelectorAll("figure.diagram svg")) {
    const natural = parseFloat(svg.getAttribute("width")) * 4 / 3;  // pt to CSS px
    out.scales.push(svg.getBoundingClientRect().width / natural);
    for (const t of svg.querySelectorAll("text")) {
      if (!t.textContent.trim()) continue;
      const m = t.getScreenCTM();
      const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.c, m.d);
      out.texts.push([px, t.getBoundingClientRect().height, t.textContent]);
    }
  }
  const seen = new Map();
  for (const e of document.querySelectorAll("[id]")) seen.set(e.id, (seen.get(e.id) || 0) + 1);
  out.dups = [...seen].filter(([, n]) => n > 1);
  const pre = document.createElement("pre");
  pre.id = "drvmc-measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def _measure(page: Path, tmp: Path) -> dict[str, list[Any]]:
    measured = tmp / "measured.html"
    text = page.read_text(encoding="utf-8")
    assert text.count("</body>") == 1
    measured.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    dom = _chromium(["--dump-dom", measured.resolve().as_uri()], tmp).stdout
    m = re.search(r'<pre id="drvmc-measure">(.*?)</pre>', dom, flags=re.DOTALL)
    assert m is not None, dom[-2000:]
    data: dict[str, list[Any]] = json.loads(html.unescape(m.group(1)))
    # the ids as the browser parsed them, counted again outside the page's script
    ids = re.findall(r"<[^>]*?\sid=\"([^\"]*)\"", dom)
    assert len(ids) == len(set(ids)), sorted({x for x in ids if ids.count(x) > 1})
    return data


def _assert_legible(data: dict[str, list[Any]], diagrams: int) -> None:
    assert len(data["scales"]) == diagrams
    # natural size: the figure scrolls, the drawing is not shrunk into the column
    assert all(abs(s - 1) < 0.01 for s in data["scales"]), data["scales"]
    assert len(data["texts"]) > 20 * diagrams
    small = [(round(px, 2), round(h, 2), t) for px, h, t in data["texts"] if px < 9 or h < 9]
    assert small == []
    assert data["dups"] == []


@needs_browser[0]
@needs_browser[1]
def test_html_diagrams_are_legible_with_unique_ids(fixture_page: Path, tmp_path: Path) -> None:
    # the report, before: text scaled to 4-5 px, `graph0`, `node1`, … on every diagram
    raw = fixture_page.read_text(encoding="utf-8")
    assert raw.count("<svg") == 12 and 'id="graph0"' not in raw
    _assert_legible(_measure(fixture_page, tmp_path), 12)


@pytest.mark.slow
@needs_browser[0]
@needs_browser[1]
def test_specs_report_is_legible_in_chromium(tmp_path: Path) -> None:
    """The report of specs/ (minutes): every diagram's text at 9 px or more, no id twice."""
    page = tmp_path / "specs.html"
    r = CliRunner().invoke(app, ["report", str(ROOT / "specs"), "-o", str(page)])
    assert r.exit_code == 0, r.stdout + r.stderr
    n = page.read_text(encoding="utf-8").count("<svg")
    assert n >= 2 * len(list((ROOT / "specs").glob("*.drv")))
    _assert_legible(_measure(page, tmp_path), n)
