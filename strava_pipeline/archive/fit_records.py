"""A fast path for FIT `record` messages: decode them with one struct per definition, hand the rest to fitdecode.

fitdecode builds a Python object per field and runs its processors on each: ~70 us per record, 85% of an import's
parse time. The points are plain numbers, so split_records() walks the file's messages itself, decodes every
`record` data message straight into the dict parse_fit builds from fitdecode (same keys, same values: fitdecode's
base-type parse for invalid values, scale and offset, the speed/altitude components, compressed timestamps) and
returns the file without those messages, for fitdecode to decode what is left (session, sport, hr, file_id...).

Developer fields in records are named from the file's field_description messages as fitdecode names them, and
compressed_speed_distance is unpacked and accumulated as fitdecode's components do. It gives up (returns None, and
parse_fit decodes the whole file with fitdecode as before) on anything it does not mirror exactly: a message of an
undefined local type (damage in the middle), a field whose size is not a multiple of its type (fitdecode then reads
fewer bytes), an unknown base type, a message across the end of its segment, a compressed-timestamp header on
another message than a record. A file cut short is handled: see split_records.
tests/test_fit_fast_path.py checks the two paths give identical tracks on every reference FIT file.
"""

from __future__ import annotations

import struct

from fitdecode import profile

# Developer field names (lower-case, letters only) that stand for a native series.
_DEV_ALIASES = {
    "distance": "distance",
    "speed": "speed",
    "heartrate": "heartrate",
    "hr": "heartrate",
    "power": "watts",
    "watts": "watts",
    "cadence": "cadence",
    "altitude": "altitude",
    "temperature": "temp",
}


def dev_key(name) -> str | None:
    """The native series a developer field stands for (the one rule for developer field names), or None."""
    if not isinstance(name, str):
        return None
    return _DEV_ALIASES.get("".join(c for c in name.lower() if c.isalpha()))


RECORD = 20
# hr messages take their start from the last timestamp of any message, records included: the record that set it
# stays in the file handed to fitdecode (parse_fit ignores records there when the fast path is taken)
HR = 132
BYTE = 0x0D
TIMESTAMP = 253
FIT_EPOCH_UNIX = 631065600
FIT_MIN_ABSOLUTE = 0x10000000

# record field number -> (key in parse_fit's dict, scale, offset, component key or None): the component is what
# fitdecode derives from the field (speed -> enhanced_speed, altitude -> enhanced_altitude) with the same value
_FIELDS = {
    0: ("position_lat", None, None, None),
    1: ("position_long", None, None, None),
    2: ("altitude", 5.0, 500.0, "enhanced_altitude"),
    3: ("heart_rate", None, None, None),
    4: ("cadence", None, None, None),
    5: ("distance", 100.0, None, None),
    6: ("speed", 1000.0, None, "enhanced_speed"),
    7: ("power", None, None, None),
    13: ("temperature", None, None, None),
    73: ("enhanced_speed", 1000.0, None, None),
    78: ("enhanced_altitude", 5.0, 500.0, None),
}
FIELD_DESCRIPTION = 206
DEVELOPER_DATA_ID = 207
# what fitdecode reads of these to name developer fields: developer_data_index, field_definition_number,
# fit_base_type_id, field_name (field_description); developer_data_index (developer_data_id)
_META = {FIELD_DESCRIPTION: (0, 1, 2, 3), DEVELOPER_DATA_ID: (3,)}
# compressed_speed_distance: 3 bytes, speed in the low 12 bits (/100), distance in the high 12 (/16, accumulated
# across records from 0 at each definition that has the field)
COMPRESSED_SPEED_DISTANCE = 8


class _GiveUp(Exception):
    pass


class _Truncated(Exception):
    """The file ends inside this message: fitdecode is given the same tail to fail on the same way."""


class _Def:
    __slots__ = ("global_num", "size", "unpack", "wanted", "ts_index", "is_record", "is_hr", "dev", "meta", "resets")

    def __init__(self, global_num, size, unpack, wanted, ts_index, is_record, dev=(), meta=None):
        self.global_num = global_num
        self.size = size
        self.unpack = unpack
        self.wanted = wanted  # [(tuple index, parse, key, scale, offset, component key)]
        self.ts_index = ts_index  # tuple index of field 253 (parse applied), or None
        self.is_record = is_record
        self.is_hr = global_num == HR
        self.dev = dev  # [(tuple index, parse, "dev_" key)]: developer fields standing for a native series
        self.meta = meta  # field_description / developer_data_id: field number -> (tuple index, parse)
        self.resets = False  # defines compressed_speed_distance: its distance accumulator starts again at 0


def _definition(data: bytes, pos: int, dev: bool, limit: int, dev_types: dict) -> tuple[_Def, int]:
    if pos + 5 > limit:
        raise _Truncated
    endian = ">" if data[pos + 1] == 1 else "<"
    global_num = struct.unpack_from(endian + "H", data, pos + 2)[0]
    n = data[pos + 4]
    pos += 5
    if pos + 3 * n > limit:
        raise _Truncated
    fmt = [endian]
    wanted = []
    devs: list = []
    ts_index = None
    is_record = global_num == RECORD
    meta: dict = {}
    resets = False
    size = 0
    index = 0
    for i in range(n):
        num, fsize, bt = data[pos + 3 * i], data[pos + 3 * i + 1], data[pos + 3 * i + 2]
        base = profile.BASE_TYPES.get(bt)
        if base is None or base.size == 0 or fsize % base.size or fsize == 0:
            raise _GiveUp
        count = fsize // base.size
        size += fsize
        if is_record and num == COMPRESSED_SPEED_DISTANCE:
            if fsize != 3 or base.identifier != BYTE:
                raise _GiveUp
            fmt.append("3s")
            wanted.append((index, base.parse, None, None, None, None))
            resets = True
            index += 1
            continue
        if global_num in _META and num in _META[global_num]:
            if count != 1 and base.fmt != "s":
                raise _GiveUp
            fmt.append(f"{fsize}s" if base.fmt == "s" else base.fmt)
            meta[num] = (index, base.parse)
            index += 1
        elif num == TIMESTAMP or (is_record and num in _FIELDS):
            if count != 1 or base.fmt == "s" or base.identifier == BYTE:
                raise _GiveUp  # an array or a byte type where a number is wanted: not mirrored
            fmt.append(base.fmt)
            if num == TIMESTAMP:
                ts_index = (index, base.parse)
            else:
                key, scale, offset, component = _FIELDS[num]
                wanted.append((index, base.parse, key, scale, offset, component))
            index += 1
        else:
            fmt.append(f"{fsize}x")
    pos += 3 * n
    if dev:
        if pos >= limit:
            raise _Truncated
        ndev = data[pos]
        pos += 1
        if pos + 3 * ndev > limit:
            raise _Truncated
        for i in range(ndev):
            num, fsize, dev_index = data[pos + 3 * i], data[pos + 3 * i + 1], data[pos + 3 * i + 2]
            # fitdecode resolves the field when it reads the definition; an unknown one gets a nameless dummy
            name, base = dev_types.get(dev_index, {}).get(num, (None, profile.BASE_TYPES[BYTE]))
            if base.size == 0 or fsize % base.size:
                raise _GiveUp
            size += fsize
            key = dev_key(name) if is_record else None
            if key and fsize == base.size and base.fmt != "s" and base.identifier != BYTE:
                fmt.append(base.fmt)
                devs.append((index, base.parse, "dev_" + key))
                index += 1
            else:
                fmt.append(f"{fsize}x")
        pos += 3 * ndev
    unpack = struct.Struct("".join(fmt)).unpack_from
    d = _Def(global_num, size, unpack, wanted, ts_index, is_record, devs, meta or None)
    d.resets = resets
    return d, pos


def split_records(data: bytes) -> tuple[list[dict], int, bytes, int] | None:
    """(records as parse_fit's dicts, records without a timestamp, the file without its record messages, the bytes
    removed), or None when the file has anything this fast path does not mirror exactly (see the module docstring).

    A file cut short keeps its tail after the last complete message: fitdecode fails on it as on the original, at
    an offset `removed` bytes smaller."""
    try:
        return _split(data)
    except (_GiveUp, struct.error, IndexError):
        return None


def _split(data: bytes) -> tuple[list[dict], int, bytes, int]:
    records: list[dict] = []
    out = bytearray()
    removed = 0
    pos = 0
    size = len(data)
    while pos < size:
        if pos + 12 > size:
            raise _GiveUp
        header_size = data[pos]
        if header_size not in (12, 14) or data[pos + 8 : pos + 12] != b".FIT" or pos + header_size > size:
            raise _GiveUp
        data_size = struct.unpack_from("<I", data, pos + 4)[0]
        start = pos + header_size
        end = start + data_size
        limit = size  # fitdecode reads a message to its end even past the segment's: the file's end cuts it
        kept = bytearray()
        dropped = 0
        defs: dict[int, _Def] = {}
        dev_types: dict[int, dict] = {}  # developer_data_index -> field number -> (name, base type)
        acc = [0]  # compressed_speed_distance's distance accumulator
        last_ts_raw = 0  # fitdecode's compressed-timestamp accumulator: the last raw field-253 value
        last_ts_record = None  # (start, end) of the dropped record that set the last timestamp
        p = start
        truncated = False
        try:
            while p < end:
                header = data[p]
                if header & 0x80:  # compressed timestamp header: a data message
                    d = defs.get((header >> 5) & 0x3)
                    if d is None or not d.is_record:
                        raise _GiveUp
                    if p + 1 + d.size > limit:
                        raise _Truncated
                    ts_raw = _accumulate(header & 0x1F, last_ts_raw)
                    last_ts_raw = ts_raw
                    if any(d.is_hr for d in defs.values()):
                        raise _GiveUp  # a compressed timestamp is no field 253: fitdecode's hr start ignores it
                    records.append(_record(d, d.unpack(data, p + 1), ts_raw, acc))
                    dropped += 1 + d.size
                    p += 1 + d.size
                    continue
                local = header & 0x0F
                if header & 0x40:
                    d, q = _definition(data, p + 1, bool(header & 0x20), limit, dev_types)
                    defs[local] = d
                    if d.resets:
                        acc[0] = 0
                    kept += data[p:q]
                    p = q
                    continue
                d = defs.get(local)
                if d is None:
                    raise _GiveUp
                body = p + 1
                if body + d.size > limit:
                    raise _Truncated
                values = d.unpack(data, body) if (d.is_record or d.ts_index is not None or d.meta) else ()
                if d.meta:
                    _describe(d, values, dev_types)
                ts_raw = None
                if d.ts_index is not None:
                    ts_raw = d.ts_index[1](values[d.ts_index[0]])
                    if ts_raw is not None:
                        last_ts_raw = ts_raw
                if d.is_record:
                    rec = _record(d, values, None, acc)
                    if ts_raw is not None:
                        rec["_t"] = _epoch(ts_raw)
                        last_ts_record = (p, body + d.size)
                    records.append(rec)
                    dropped += 1 + d.size
                else:
                    if d.is_hr and last_ts_record is not None:
                        # the timestamp hr messages start from: the record that set it goes back in
                        kept += data[last_ts_record[0] : last_ts_record[1]]
                        dropped -= last_ts_record[1] - last_ts_record[0]
                    if ts_raw is not None:
                        last_ts_record = None
                    kept += data[p : body + d.size]
                p = body + d.size
        except _Truncated:
            truncated = True
        if p != end and not truncated:
            raise _GiveUp  # a message across the end of its segment: fitdecode fails an assertion there
        header = bytearray(data[pos : pos + header_size])
        header[4:8] = struct.pack("<I", data_size - dropped)
        if header_size == 14:
            header[12:14] = b"\0\0"
        removed += dropped
        if truncated or end + 2 > size:
            # cut short (inside a message, or before the CRC): the same tail, for fitdecode to fail on
            out += header + kept + data[p:size]
            break
        out += header + kept + b"\0\0"  # CRCs are not checked (parse_fit: CrcCheck.DISABLED)
        pos = end + 2
        if pos < size and not data[pos:].strip(b"\0"):
            break
    no_timestamp = sum(1 for r in records if r.get("_t") is None)
    return [r for r in records if r.get("_t") is not None], no_timestamp, bytes(out), removed


def _describe(d: _Def, values: tuple, dev_types: dict) -> None:
    """Mirror fitdecode's bookkeeping of developer fields (its _add_dev_data_id, _add_dev_field_description)."""
    raw = {num: parse(values[index]) for num, (index, parse) in d.meta.items()}
    if d.global_num == DEVELOPER_DATA_ID:
        if raw.get(3) is None:
            raise _GiveUp
        dev_types[int(raw[3])] = {}
        return
    index, num = raw.get(0), raw.get(1)
    if index is None or num is None or int(index) not in dev_types:
        raise _GiveUp  # fitdecode fails the file here
    bt = raw.get(2)
    base = profile.BASE_TYPES[BYTE] if bt is None else profile.BASE_TYPES.get(bt)
    if base is None:
        raise _GiveUp
    dev_types[int(index)][num] = (raw.get(3), base)


def _accumulate(offset: int, last: int) -> int:
    base = offset + (last & ~0x1F)
    if offset < (last & 0x1F):
        base += 0x20
    return base


def _epoch(raw: int) -> float | None:
    # fitdecode renders a date_time >= 0x10000000 as a datetime, a smaller one stays a device-relative number,
    # which parse_fit's _epoch turns into None (the record is dropped)
    return float(raw + FIT_EPOCH_UNIX) if raw >= FIT_MIN_ABSOLUTE else None


def _record(d: _Def, values: tuple, ts_raw: int | None, acc: list) -> dict:
    rec: dict = {}
    for index, parse, key, scale, offset, component in d.wanted:
        if key is None:  # compressed_speed_distance, as fitdecode's components render it
            raw = parse(tuple(values[index]))
            if raw is None:
                continue
            packed = int.from_bytes(bytes(raw), "little")
            rec["speed"] = float(packed & 0xFFF) / 100
            distance = (packed >> 12) & 0xFFF
            base = distance + (acc[0] & ~0xFFF)
            if distance < (acc[0] & 0xFFF):
                base += 0x1000
            acc[0] = base
            rec["distance"] = float(base) / 16
            continue
        raw = parse(values[index])
        if raw is None:
            continue
        value = float(raw)
        if scale:
            value = value / scale
        if offset:
            value = value - offset
        if component is not None:
            rec[component] = value  # fitdecode lists the component before the field itself
        rec[key] = value
    for index, parse, key in d.dev:
        raw = parse(values[index])
        if raw is not None and key not in rec:
            rec[key] = float(raw)
    if ts_raw is not None:
        rec["_t"] = _epoch(ts_raw)
    return rec


def _crc_table() -> tuple:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()  # FIT's CRC-16 (poly 0x8005 reflected, init 0), a byte at a time


def fit_crc(data: bytes | memoryview) -> int:
    crc = 0
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def crc_warning(data: bytes) -> str | None:
    """A warning when a FIT file's CRC does not match its bytes (0 means the writer left it out); None when it
    matches or cannot be checked (a file cut short says so itself). parse_fit does not check CRCs: they cost a
    third of a parse and a mismatch loses no data; a loose-file import checks them to say so."""
    pos = 0
    view = memoryview(data)
    while pos + 12 <= len(data) and data[pos + 8 : pos + 12] == b".FIT":
        header_size = data[pos]
        end = pos + header_size + struct.unpack_from("<I", data, pos + 4)[0]
        if end + 2 > len(data):
            return None
        stored = struct.unpack_from("<H", data, end)[0]
        if stored and fit_crc(view[pos:end]) != stored:
            return "the FIT file's CRC does not match its content (damaged in transfer?); its readable records kept"
        pos = end + 2
    return None
