"""Read a QR code back from the SVG a page shows, independently of the library that drew it.

The SVG path (``M``/``m`` moves and ``h`` runs of dark modules, one module wide) is turned into
the module matrix, and the matrix is decoded by the rules of ISO/IEC 18004 for versions 1 and 2
(one error-correction block, so the data codewords come first): format information (BCH(15,5),
XOR mask 0x5412), the data mask, the zigzag placement of codewords around the function
patterns, then the numeric, alphanumeric and byte segments. Error correction is not applied: a
symbol drawn by software has no damaged module, so its data must read back exactly. The
placement and mask rules follow Nayuki's reference description of QR Code generation.
"""

from __future__ import annotations

import re

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
DATA_CODEWORDS = {  # (version, level) → data codewords (ISO/IEC 18004 table 7)
    (1, "L"): 19, (1, "M"): 16, (1, "Q"): 13, (1, "H"): 9,
    (2, "L"): 34, (2, "M"): 28, (2, "Q"): 22, (2, "H"): 16,
}  # fmt: skip
LEVEL_BITS = {1: "L", 0: "M", 3: "Q", 2: "H"}
MASKS = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


def matrix_from_svg(svg: str) -> list[list[bool]]:
    """The dark modules of the symbol (quiet zone removed), rows of columns."""
    path = re.search(r'\sd="([^"]+)"', svg)
    assert path is not None, "no path in the SVG"
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-0-9. ]+)", path.group(1).replace(",", " ")):
        values = [float(number) for number in numbers.split()]
        if command in "Mm":
            dx, dy = values
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
            continue
        length = values[0] if command == "h" else values[0] - x
        row = int(y - 0.5)
        for column in range(int(x), int(x + length)):
            dark.add((row, column))
        x += length
    top = min(row for row, _ in dark)
    left = min(column for _, column in dark)
    size = max(column for _, column in dark) - left + 1
    return [[(top + r, left + c) in dark for c in range(size)] for r in range(size)]


def _format_bits(level_bits: int, mask: int) -> int:
    data = level_bits << 3 | mask
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    return (data << 10 | remainder) ^ 0x5412


def _read_format(modules: list[list[bool]]) -> tuple[str, int]:
    bits = 0
    positions = [(8, i) for i in range(6)] + [(8, 7), (8, 8), (7, 8)]
    positions += [(14 - i, 8) for i in range(9, 15)]
    for i, (x, y) in enumerate(positions):
        bits |= modules[y][x] << i
    for level, name in LEVEL_BITS.items():
        for mask in range(8):
            if _format_bits(level, mask) == bits:
                return name, mask
    raise AssertionError(f"format information {bits:015b} is not a valid QR format")


def _function_modules(size: int, version: int) -> set[tuple[int, int]]:
    """(x, y) of finder patterns with separators and format areas, timing, alignment."""
    taken: set[tuple[int, int]] = set()
    for x0, y0 in ((0, 0), (size - 8, 0), (0, size - 8)):
        taken |= {(x, y) for x in range(x0, x0 + 8) for y in range(y0, y0 + 8)}
    taken |= {(8, y) for y in range(9)} | {(x, 8) for x in range(9)}
    taken |= {(size - 1 - i, 8) for i in range(8)} | {(8, size - 1 - i) for i in range(8)}
    taken |= {(6, i) for i in range(size)} | {(i, 6) for i in range(size)}
    if version == 2:
        taken |= {(x, y) for x in range(16, 21) for y in range(16, 21)}
    return taken


def _codewords(modules: list[list[bool]], version: int, mask: int, count: int) -> bytes:
    size = len(modules)
    taken = _function_modules(size, version)
    bits: list[int] = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        for vertical in range(size):
            for j in range(2):
                x = right - j
                upward = ((right + 1) & 2) == 0
                y = size - 1 - vertical if upward else vertical
                if (x, y) not in taken:
                    bits.append(int(modules[y][x] ^ MASKS[mask](x, y)))
        right -= 2
    return bytes(int("".join(map(str, bits[i * 8 : i * 8 + 8])), 2) for i in range(count))


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.text = "".join(f"{byte:08b}" for byte in data)
        self.at = 0

    def take(self, n: int) -> int:
        value = int(self.text[self.at : self.at + n] or "0", 2)
        self.at += n
        return value

    def left(self) -> int:
        return len(self.text) - self.at


def decode_matrix(modules: list[list[bool]]) -> str:
    """The text a version 1 or 2 QR symbol holds."""
    size = len(modules)
    version = (size - 17) // 4
    assert version in (1, 2) and size == 17 + 4 * version, f"unsupported size {size}"
    level, mask = _read_format(modules)
    bits = _Bits(_codewords(modules, version, mask, DATA_CODEWORDS[(version, level)]))
    text = ""
    while bits.left() >= 4:
        mode = bits.take(4)
        if mode == 0:
            break
        if mode == 0b0010:
            count = bits.take(9)
            for _ in range(count // 2):
                pair = bits.take(11)
                text += ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45]
            if count % 2:
                text += ALPHANUMERIC[bits.take(6)]
        elif mode == 0b0100:
            count = bits.take(8)
            text += bytes(bits.take(8) for _ in range(count)).decode("utf-8")
        elif mode == 0b0001:
            count = bits.take(10)
            for start in range(0, count, 3):
                digits = min(3, count - start)
                text += f"{bits.take(3 * digits + 1):0{digits}d}"
        else:
            raise AssertionError(f"unsupported QR mode {mode:04b}")
    return text


def decode_svg(svg: str) -> str:
    return decode_matrix(matrix_from_svg(svg))
