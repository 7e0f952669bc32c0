#!/usr/bin/env python3
"""Turns what brt-viewer wrote to a terminal into a picture of the screen.

Replays the captured bytes (as the viewer's pseudo-terminal tests record
them) on a grid of ROWS x COLUMNS, the way a terminal would, and writes the
final screen as an HTML page (text in <span>s coloured as the terminal
would colour them); with --png it also renders that page to a PNG with
headless Chromium.

Only the sequences brt-viewer writes are understood: cursor position
(CSI row;col H), clear screen (CSI 2 J), clear to the end of the line
(CSI K) and SGR colours and attributes (CSI ... m: 16 colours, the 256-colour
palette, truecolour, bold, reverse); private modes (CSI ? ... h/l) are
skipped. Each character (ASCII, or a UTF-8 sequence such as the degree
sign) takes one column.

Exit codes: 0 done, 2 bad usage, 77 --png asked for but no Chromium (the
HTML is written anyway), 3 Chromium failed (the HTML is written), 1 any
other failure.

    tests/viewer/ansi_screenshot.py capture.ansi --rows 30 --columns 120 \\
        --html screen.html --png screen.png
"""

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The 16 colours of GNOME Terminal's Tango palette (a common default):
# black, red, green, yellow (the viewer's amber), blue, magenta, cyan, white,
# then the bright ones.
PALETTE16 = [
    "#2e3436", "#cc0000", "#4e9a06", "#c4a000", "#3465a4", "#75507b", "#06989a", "#d3d7cf",
    "#555753", "#ef2929", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec",
]
DEFAULT_FG = "#d3d7cf"
DEFAULT_BG = "#101010"
FONT_PX = 14
LINE_PX = 17
# DejaVu Sans Mono's advance width is 1233/2048 em.
CHAR_PX = FONT_PX * 1233 / 2048
PAD_PX = 8


def color256(n):
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    grey = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (grey, grey, grey)


class Style:
    __slots__ = ("fg", "bg", "bold", "reverse")

    def __init__(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.reverse = False

    def key(self):
        return (self.fg, self.bg, self.bold, self.reverse)

    def sgr(self, params):
        values = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(values):
            v = values[i]
            if v == 0:
                self.__init__()
            elif v == 1:
                self.bold = True
            elif v == 22:
                self.bold = False
            elif v == 7:
                self.reverse = True
            elif v == 27:
                self.reverse = False
            elif 30 <= v <= 37:
                self.fg = PALETTE16[v - 30]
            elif 90 <= v <= 97:
                self.fg = PALETTE16[v - 90 + 8]
            elif v == 39:
                self.fg = None
            elif 40 <= v <= 47:
                self.bg = PALETTE16[v - 40]
            elif 100 <= v <= 107:
                self.bg = PALETTE16[v - 100 + 8]
            elif v == 49:
                self.bg = None
            elif v in (38, 48) and i + 1 < len(values):
                if values[i + 1] == 5 and i + 2 < len(values):
                    color = color256(values[i + 2])
                    i += 2
                elif values[i + 1] == 2 and i + 4 < len(values):
                    color = "#%02x%02x%02x" % tuple(min(255, c) for c in values[i + 2:i + 5])
                    i += 4
                else:
                    color = None
                if v == 38:
                    self.fg = color
                else:
                    self.bg = color
                i += 1
            i += 1


CSI = re.compile(rb"\x1b\[([0-9;?]*)([\x40-\x7e])")


def replay(data, rows, columns):
    """The screen after `data`: rows of (character, style key) cells."""
    blank = (" ", Style().key())
    grid = [[blank] * columns for _ in range(rows)]
    style = Style()
    row = column = 0
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x1B:
            match = CSI.match(data, i)
            if match is None:
                i += 2  # an escape outside CSI (none expected): skipped
                continue
            params = match.group(1).decode()
            final = match.group(2).decode()
            i = match.end()
            if params.startswith("?"):
                continue
            if final == "H":
                parts = params.split(";") if params else []
                row = (int(parts[0]) if len(parts) > 0 and parts[0] else 1) - 1
                column = (int(parts[1]) if len(parts) > 1 and parts[1] else 1) - 1
            elif final == "J" and params == "2":
                grid = [[blank] * columns for _ in range(rows)]
            elif final == "K":
                if 0 <= row < rows:
                    cleared = (" ", (None, style.bg, False, False))  # erased in the background colour
                    for c in range(max(column, 0), columns):
                        grid[row][c] = cleared
            elif final == "m":
                style.sgr(params)
            continue
        if byte == 0x0D:
            column = 0
        elif byte == 0x0A:
            row += 1
        elif byte >= 0x20:
            # One character per column; a UTF-8 sequence (the alarm view's
            # degree sign) is one character.
            length = 1
            if byte >= 0xC0:
                length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            char = data[i:i + length].decode("utf-8", errors="replace")
            if 0 <= row < rows and 0 <= column < columns:
                grid[row][column] = (char, style.key())
            column += 1
            i += length
            continue
        i += 1
    return grid


def span(text, key):
    fg, bg, bold, reverse = key
    fg = fg or DEFAULT_FG
    bg = bg or DEFAULT_BG
    if reverse:
        fg, bg = bg, fg
    css = []
    if fg != DEFAULT_FG:
        css.append("color:" + fg)
    if bg != DEFAULT_BG:
        css.append("background:" + bg)
    if bold:
        css.append("font-weight:bold")
    escaped = html.escape(text)
    return '<span style="%s">%s</span>' % (";".join(css), escaped) if css else escaped


def to_html(grid, title):
    lines = []
    for cells in grid:
        runs = []
        for char, key in cells:
            if runs and runs[-1][1] == key:
                runs[-1][0].append(char)
            else:
                runs.append([[char], key])
        lines.append("".join(span("".join(chars), key) for chars, key in runs))
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title><style>\n"
        "html,body{margin:0;background:%s}\n"
        "pre{margin:0;padding:%dpx;color:%s;font:%dpx/%dpx 'DejaVu Sans Mono',monospace}\n"
        "</style></head><body><pre>%s</pre></body></html>\n"
        % (html.escape(title), DEFAULT_BG, PAD_PX, DEFAULT_FG, FONT_PX, LINE_PX, "\n".join(lines))
    )


def find_chromium():
    explicit = os.environ.get("BRT_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render_png(page, png, rows, columns):
    chromium = find_chromium()
    if chromium is None:
        print("ansi_screenshot: no chromium (apt-get install chromium, or set BRT_CHROMIUM): "
              "wrote the HTML only", file=sys.stderr)
        return 77
    width = int(columns * CHAR_PX + 2 * PAD_PX + 0.999)
    height = rows * LINE_PX + 2 * PAD_PX
    if os.path.exists(png):
        os.remove(png)  # so that an old picture never passes for a new one
    with tempfile.TemporaryDirectory(prefix="brt-shot-") as profile:
        try:
            result = subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--user-data-dir=" + profile, "--force-device-scale-factor=1",
                 "--window-size=%d,%d" % (width, height), "--screenshot=" + os.path.abspath(png),
                 "file://" + os.path.abspath(page)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            print("ansi_screenshot: chromium failed: %s" % error, file=sys.stderr)
            return 3
    if result.returncode != 0 or not os.path.exists(png):
        print("ansi_screenshot: chromium failed:\n" + result.stdout.decode(errors="replace"),
              file=sys.stderr)
        return 3
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", help="the bytes the viewer wrote to its terminal")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--columns", type=int, required=True)
    parser.add_argument("--html", help="the page to write (default: CAPTURE with .html)")
    parser.add_argument("--png", help="also render the page to this PNG with headless Chromium")
    parser.add_argument("--title", default="brt-viewer")
    args = parser.parse_args()
    if args.rows <= 0 or args.columns <= 0:
        parser.error("--rows and --columns must be positive")
    with open(args.capture, "rb") as capture:
        grid = replay(capture.read(), args.rows, args.columns)
    page = args.html or os.path.splitext(args.capture)[0] + ".html"
    with open(page, "w", encoding="utf-8") as out:
        out.write(to_html(grid, args.title))
    if args.png:
        return render_png(page, args.png, args.rows, args.columns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
