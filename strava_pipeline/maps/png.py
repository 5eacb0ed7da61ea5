"""PNG files with numpy and zlib only: 8-bit palette images (the heatmap tiles) and a reader for tests."""

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _deflate(data: bytes) -> bytes:
    # run-length matching only: as small as level 6 on sparse heatmap tiles and 4x faster
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return packer.compress(data) + packer.flush()


def encode_palette(pixels: np.ndarray, palette: np.ndarray) -> bytes:
    """An indexed-colour PNG: pixels (h, w) uint8 indices into palette (n, 4) uint8 RGBA.

    The same pixels always give the same bytes (fixed filter and compression settings), which the incremental
    tile update relies on."""
    height, width = pixels.shape
    alpha = palette[:, 3]
    used = int(pixels.max()) + 1 if pixels.size else 1
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    rows = np.empty((height, width + 1), dtype=np.uint8)
    rows[:, 0] = 0  # filter: none (palette images compress best without one)
    rows[:, 1:] = pixels
    # trailing opaque entries need no tRNS value
    opaque_tail = len(alpha[:used]) - (
        np.flatnonzero(alpha[:used] != 255).max() + 1 if (alpha[:used] != 255).any() else 0
    )
    trns = alpha[: used - opaque_tail].tobytes()
    return b"".join(
        [
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", palette[:used, :3].tobytes()),
            *([_chunk(b"tRNS", trns)] if trns else []),
            _chunk(b"IDAT", _deflate(rows.tobytes())),
            _chunk(b"IEND", b""),
        ]
    )


def decode(data: bytes) -> np.ndarray:
    """RGBA (h, w, 4) uint8 of an 8-bit non-interlaced PNG of colour type 2, 3 or 6 (what the tiles and
    Chromium's screenshots use)."""
    if data[:8] != _SIGNATURE:
        raise ValueError("not a PNG")
    pos, idat, palette, trns = 8, [], None, None
    width = height = ctype = depth = interlace = None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            trns = np.frombuffer(body, dtype=np.uint8)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if depth != 8 or interlace != 0 or ctype not in (2, 3, 6):
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}, interlace {interlace}")
    channels = {2: 3, 3: 1, 6: 4}[ctype]
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, width * channels + 1)
    out = np.zeros((height, width * channels), dtype=np.uint8)
    prev = np.zeros(width * channels, dtype=np.int64)
    for y in range(height):
        kind, line = int(raw[y, 0]), raw[y, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) & 0xFF
        elif kind == 2:  # Up
            cur = (line + prev) & 0xFF
        else:  # Average and Paeth depend on the decoded pixel to the left: one byte at a time
            cur_list, line_list, prev_list = [0] * len(line), line.tolist(), prev.tolist()
            for x in range(len(line_list)):
                a = cur_list[x - channels] if x >= channels else 0
                b = prev_list[x]
                if kind == 3:
                    pred = (a + b) >> 1
                else:
                    c = prev_list[x - channels] if x >= channels else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur_list[x] = (line_list[x] + pred) & 0xFF
            cur = np.array(cur_list, dtype=np.int64)
        out[y] = cur
        prev = cur
    if ctype == 3:
        alpha = np.full(len(palette), 255, dtype=np.uint8)
        if trns is not None:
            alpha[: len(trns)] = trns
        rgba = np.concatenate([palette, alpha[:, None]], axis=1)
        return rgba[out]
    if ctype == 2:
        rgb = out.reshape(height, width, 3)
        return np.concatenate([rgb, np.full((height, width, 1), 255, dtype=np.uint8)], axis=2)
    return out.reshape(height, width, 4)
