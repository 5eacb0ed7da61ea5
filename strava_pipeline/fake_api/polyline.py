"""Google encoded polyline (precision 5) for map.summary_polyline / map.polyline: a vectorised encoder and a decoder."""

from __future__ import annotations

import numpy as np

# 32**k: a zigzagged delta needs one 5-bit chunk more for every power it reaches
_CHUNK_LIMITS = np.array([32**k for k in range(1, 7)], dtype=np.int64)


def encode(coords, precision: int = 5) -> str:
    """[[lat, lng], ...] -> polyline string; "" for no points."""
    a = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if len(a) == 0:
        return ""
    factor = 10**precision
    # round half away from zero, like the reference implementation
    ints = (np.sign(a) * np.floor(np.abs(a) * factor + 0.5)).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).reshape(-1)
    u = np.where(deltas < 0, ~(deltas << 1), deltas << 1)
    n_chunks = 1 + (u[:, None] >= _CHUNK_LIMITS[None, :]).sum(axis=1)
    k = np.arange(7)
    chunks = (u[:, None] >> (5 * k[None, :])) & 31
    more = k[None, :] < (n_chunks[:, None] - 1)
    chars = chunks + 0x20 * more + 63
    keep = k[None, :] < n_chunks[:, None]
    return chars[keep].astype(np.uint8).tobytes().decode("ascii")


def decode(s: str, precision: int = 5) -> list[tuple[float, float]]:
    """Polyline string -> [(lat, lng), ...]."""
    factor = 10**precision
    out: list[tuple[float, float]] = []
    index = lat = lng = 0
    length = len(s)
    while index < length:
        vals = []
        for _ in range(2):
            result = shift = 0
            while True:
                b = ord(s[index]) - 63
                index += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            vals.append(~(result >> 1) if result & 1 else result >> 1)
        lat += vals[0]
        lng += vals[1]
        out.append((lat / factor, lng / factor))
    return out
