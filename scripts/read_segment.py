#!/usr/bin/env python3
"""Reference reader for the battery-rack telemetry segment, in plain Python.

Written against docs/segment-format.md alone (standard library only): it
opens /dev/shm/<name>, validates the header, prints the geometry and the
writer's state, then copies the newest frame with the seqlock protocol and
prints the min/mean/max of every column for the whole frame, one rack or one
module.

    read_segment.py [--shm-name NAME] [--rack R] [--module M] [--json]

Exit codes: 0 success (also "no frame published yet"), 1 runtime failure
(no segment, bad or foreign segment, permission), 2 bad usage.
"""

import argparse
import json
import math
import mmap
import os
import re
import struct
import sys
import time
from fractions import Fraction

# --- The contract (docs/segment-format.md) -----------------------------------

ABI_VERSION = 1
MAGIC = 0x314D48532D545242  # the ASCII bytes "BRT-SHM1", little-endian
PAGE_SIZE = 4096  # header size, region alignment
COLUMN_ALIGNMENT = 64
RING_CAPACITY = 64
COMMAND_ENTRY_SIZE = 128
COMMAND_RESULT_SIZE = 16
SLOT_HEADER_SIZE = 128
RACK_RECORD_SIZE = 16
FIELD_COUNT = 7

MAX_RACKS = 65536
MAX_MODULES_PER_RACK = 4096
MAX_CELLS_PER_MODULE = 4096
MAX_CELLS = 200_000_000
MIN_SLOTS, MAX_SLOTS = 3, 16

FIELD_NAMES = ("voltage_v", "current_a", "temperature_c", "soc",
               "resistance_ohm", "soh", "status")
FIELD_FLOAT32, FIELD_UINT32 = 1, 2

# Static header, bytes 0..167.
HEADER_STATIC = struct.Struct("<QIIQQQIIIIQQQQQQQIIQQQQIIQ")
HEADER_STATIC_NAMES = (
    "magic", "abi_version", "header_size", "segment_size", "generation",
    "created_realtime_ns", "racks", "modules_per_rack", "cells_per_module",
    "slot_count", "cell_count", "metadata_offset", "metadata_size",
    "rack_chemistry_offset", "cell_chemistry_offset", "cell_capacity_offset",
    "ring_offset", "ring_capacity", "ring_entry_size", "ring_results_offset",
    "slots_offset", "slot_stride", "rack_table_offset_in_slot",
    "rack_record_size", "field_count", "column_stride")
assert HEADER_STATIC.size == 168
FIELD_DESCRIPTOR = struct.Struct("<16sIIQ")  # 32 bytes each, from offset 192
FIELDS_OFFSET = 192
RACK_RECORD = struct.Struct("<ffII")

# Live header words (8-byte aligned, read as single aligned loads).
OFF_MAGIC = 0
OFF_WRITER_STATE = 512  # uint32
OFF_WRITER_PID = 516  # int32
OFF_WRITER_START_REALTIME_NS = 520
OFF_HEARTBEAT_NS = 528
OFF_PUBLISH_PERIOD_NS = 536
OFF_WRITER_GENERATION = 544
OFF_LATEST_FRAME = 576
MAX_FRAME_NUMBER = 2**63 - 1

# Slot header.
OFF_SEQUENCE = 0
OFF_FRAME_NUMBER = 8
OFF_SIM_TIME_NS = 16
OFF_WALL_TIME_NS = 24
OFF_PUBLISH_MONOTONIC_NS = 32
OFF_AMBIENT_TEMPERATURE_C = 40  # float32 bits in a uint32

WRITER_STATES = {0: "never started", 1: "running", 2: "paused",
                 3: "stopped", 4: "failed"}
CHEMISTRIES = {1: "nmc", 2: "lfp"}

STALE_FLOOR_NS = 250_000_000
# A heartbeat younger than one heartbeat interval, at least this, proves life.
FRESH_FLOOR_NS = 20_000_000
# The writer heartbeats at least this often, whatever its publish period.
MAX_HEARTBEAT_INTERVAL_NS = 100_000_000
INITIALISING_GRACE_S = 0.5
MAX_READ_ATTEMPTS = 64

NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")


class SegmentError(Exception):
    """A runtime failure about the segment: exit code 1."""


def round_up(value, alignment):
    return (value + alignment - 1) // alignment * alignment


def compute_layout(racks, modules_per_rack, cells_per_module, slot_count):
    """Every offset of a segment, from its geometry alone (compute_layout in C++)."""
    cells = racks * modules_per_rack * cells_per_module
    layout = {"cell_count": cells}
    layout["metadata_offset"] = PAGE_SIZE
    layout["rack_chemistry_offset"] = PAGE_SIZE
    layout["cell_chemistry_offset"] = (
        layout["rack_chemistry_offset"] + round_up(racks * 4, COLUMN_ALIGNMENT))
    layout["cell_capacity_offset"] = (
        layout["cell_chemistry_offset"] + round_up(cells, COLUMN_ALIGNMENT))
    metadata_end = layout["cell_capacity_offset"] + round_up(cells * 4, COLUMN_ALIGNMENT)
    layout["metadata_size"] = round_up(metadata_end, PAGE_SIZE) - PAGE_SIZE
    layout["ring_offset"] = PAGE_SIZE + layout["metadata_size"]
    layout["ring_capacity"] = RING_CAPACITY
    layout["ring_entry_size"] = COMMAND_ENTRY_SIZE
    layout["ring_results_offset"] = layout["ring_offset"] + RING_CAPACITY * COMMAND_ENTRY_SIZE
    ring_end = layout["ring_results_offset"] + RING_CAPACITY * COMMAND_RESULT_SIZE
    layout["slots_offset"] = round_up(ring_end, PAGE_SIZE)
    layout["rack_table_offset_in_slot"] = SLOT_HEADER_SIZE
    layout["rack_record_size"] = RACK_RECORD_SIZE
    layout["column_stride"] = round_up(cells * 4, COLUMN_ALIGNMENT)
    column_start = round_up(SLOT_HEADER_SIZE + racks * RACK_RECORD_SIZE, COLUMN_ALIGNMENT)
    columns = []
    for _ in range(FIELD_COUNT):
        columns.append(column_start)
        column_start += layout["column_stride"]
    layout["column_offset_in_slot"] = columns
    layout["field_count"] = FIELD_COUNT
    layout["slot_stride"] = round_up(column_start, PAGE_SIZE)
    layout["segment_size"] = layout["slots_offset"] + slot_count * layout["slot_stride"]
    return layout


def normalize_name(name):
    """The segment name without a leading '/', or None when it is invalid."""
    if name.startswith("/"):
        name = name[1:]
    if not name or len(name) > 200 or name in (".", "..") or not NAME_PATTERN.fullmatch(name):
        return None
    return name


def hint_recreate(name):
    return f"re-create it with 'brt-shm-init --shm-name {name} --force'"


class Segment:
    """One read-only mapping of a validated segment."""

    def __init__(self, name):
        self.name = name
        self.path = "/dev/shm/" + name
        deadline = time.monotonic() + INITIALISING_GRACE_S
        while True:
            try:
                self._open_and_validate()
                return
            except _Initialising as error:
                # Magic zero (or an empty file): the creator is still writing.
                if time.monotonic() >= deadline:
                    raise SegmentError(str(error)) from None
                time.sleep(0.01)

    def _open_and_validate(self):
        name, path = self.name, self.path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise SegmentError(
                f"no segment named '{name}' ({path} does not exist); create it with "
                f"'brt-shm-init --shm-name {name}'") from None
        except PermissionError:
            raise SegmentError(
                f"no permission to open {path}: run as the segment's owner or a member "
                f"of its group (see 'ls -l {path}')") from None
        except OSError as error:
            raise SegmentError(f"cannot open {path}: {error.strerror}") from None
        try:
            status = os.fstat(fd)
            file_size = status.st_size
            if file_size == 0:
                raise _Initialising(
                    f"segment '{name}' is empty (being created, or its creator died); "
                    f"wait, or {hint_recreate(name)}")
            if file_size < PAGE_SIZE:
                raise SegmentError(
                    f"segment '{name}' is truncated: {file_size} bytes, smaller than its "
                    f"{PAGE_SIZE}-byte header; {hint_recreate(name)}")
            # Map the header alone first: the file size is trusted only once the
            # header that describes it has been validated.
            with mmap.mmap(fd, PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ) as header_map:
                with memoryview(header_map) as view, view.cast("Q") as words:
                    magic = words[OFF_MAGIC // 8]  # read first: it is stored last
                    latest_frame = words[OFF_LATEST_FRAME // 8]
                header = dict(zip(HEADER_STATIC_NAMES, HEADER_STATIC.unpack_from(header_map, 0)))
                fields = [FIELD_DESCRIPTOR.unpack_from(header_map, FIELDS_OFFSET + 32 * i)
                          for i in range(FIELD_COUNT)]
            header["latest_frame"] = latest_frame
            layout = self._validate(header, magic, fields, file_size)
            self.map = mmap.mmap(fd, layout["segment_size"], mmap.MAP_SHARED, mmap.PROT_READ)
            try:
                self._validate_metadata(header)
            except SegmentError:
                self.map.close()
                raise
        finally:
            os.close(fd)  # the mapping stays valid without the descriptor
        self.device, self.inode = status.st_dev, status.st_ino
        self.header = header
        self.layout = layout
        self.field_names = [descriptor[0].rstrip(b"\0").decode("ascii", "replace")
                            for descriptor in fields]
        self.field_types = [descriptor[1] for descriptor in fields]
        view = memoryview(self.map)
        # Native order is little-endian (checked in main); one aligned load per word.
        self.u64 = view.cast("Q")
        self.u32 = view.cast("I")
        self.i32 = view.cast("i")

    def _validate(self, header, magic, fields, file_size):
        name = self.name
        if magic == 0:
            raise _Initialising(
                f"segment '{name}' is not initialised (its creator is still writing it, or "
                f"died while doing so); wait, or {hint_recreate(name)}")
        if magic != MAGIC:
            raise SegmentError(
                f"{self.path} is not a battery-rack telemetry segment (magic 0x{magic:016x}, "
                f"expected 0x{MAGIC:016x}); check --shm-name, or {hint_recreate(name)}")
        if header["abi_version"] != ABI_VERSION:
            raise SegmentError(
                f"segment '{name}' has ABI version {header['abi_version']}, but this reader "
                f"speaks ABI version {ABI_VERSION}; use a reader from the same release as the "
                f"segment's creator, or {hint_recreate(name)}")
        if header["header_size"] != PAGE_SIZE:
            raise SegmentError(
                f"segment '{name}' is malformed: header size {header['header_size']} "
                f"(expected {PAGE_SIZE}); {hint_recreate(name)}")
        if header["generation"] == 0:
            # A creator always writes a random non-zero generation.
            raise SegmentError(
                f"segment '{name}' is malformed: its generation is 0; {hint_recreate(name)}")
        latest = header["latest_frame"]
        if latest > MAX_FRAME_NUMBER:
            # Frame numbers never wrap (validation step 9).
            raise SegmentError(
                f"segment '{name}' is malformed: latest_frame is {latest}, beyond the largest "
                f"frame number {MAX_FRAME_NUMBER}; {hint_recreate(name)}")
        racks = header["racks"]
        modules = header["modules_per_rack"]
        cells = header["cells_per_module"]
        slots = header["slot_count"]
        if not (1 <= racks <= MAX_RACKS and 1 <= modules <= MAX_MODULES_PER_RACK
                and 1 <= cells <= MAX_CELLS_PER_MODULE
                and racks * modules * cells <= MAX_CELLS and MIN_SLOTS <= slots <= MAX_SLOTS):
            raise SegmentError(
                f"segment '{name}' is malformed: bad geometry in header ({racks} x {modules} x "
                f"{cells}, {slots} slots); {hint_recreate(name)}")
        layout = compute_layout(racks, modules, cells, slots)
        checks = [(key, header[key], expected) for key, expected in layout.items()
                  if key != "column_offset_in_slot"]
        checks += [(f"fields[{index}].offset_in_slot", descriptor[3], expected)
                   for index, (descriptor, expected)
                   in enumerate(zip(fields, layout["column_offset_in_slot"]))]
        for key, stored, expected in checks:
            if stored != expected:
                raise SegmentError(
                    f"segment '{name}' is malformed: header field {key} is {stored}, expected "
                    f"{expected} for its geometry; {hint_recreate(name)}")
        if file_size < layout["segment_size"]:
            raise SegmentError(
                f"segment '{name}' is truncated: {file_size} bytes, but its header describes "
                f"{layout['segment_size']} bytes; {hint_recreate(name)}")
        return layout

    # -- metadata (immutable once the magic is set: plain reads) ---------------

    def _validate_metadata(self, header):
        """Every rack's chemistry code must be a known one (after mapping it all)."""
        offset = header["rack_chemistry_offset"]
        codes = struct.unpack_from(f"<{header['racks']}I", self.map, offset)
        for rack, code in enumerate(codes):
            if code not in CHEMISTRIES:
                raise SegmentError(
                    f"segment '{self.name}' is malformed: rack {rack} has chemistry code "
                    f"{code}, which is not known (1 = NMC, 2 = LFP); {hint_recreate(self.name)}")

    def rack_chemistries(self):
        offset = self.header["rack_chemistry_offset"]
        codes = struct.unpack_from(f"<{self.header['racks']}I", self.map, offset)
        return [CHEMISTRIES.get(code, "unknown") for code in codes]

    # -- writer state -------------------------------------------------------

    def writer_status(self):
        state_code = self.u32[OFF_WRITER_STATE // 4]
        status = {
            "state": WRITER_STATES.get(state_code, f"unknown ({state_code})"),
            "pid": self.i32[OFF_WRITER_PID // 4],
            "publish_period_ns": self.u64[OFF_PUBLISH_PERIOD_NS // 8],
            "writer_generation": self.u64[OFF_WRITER_GENERATION // 8],
            "latest_frame": self.u64[OFF_LATEST_FRAME // 8],
            "heartbeat_age_ns": None,
        }
        if state_code == 0:
            status["liveness"] = "no writer"
            return status
        heartbeat = self.u64[OFF_HEARTBEAT_NS // 8]
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        status["heartbeat_age_ns"] = max(0, now - heartbeat)
        if state_code in (3, 4):
            status["liveness"] = "stopped"
        elif state_code in (1, 2):
            interval = min(status["publish_period_ns"], MAX_HEARTBEAT_INTERVAL_NS)
            stale_after = max(STALE_FLOOR_NS, 4 * interval)
            fresh = max(FRESH_FLOOR_NS, interval)
            if status["heartbeat_age_ns"] <= fresh:
                status["liveness"] = "live"  # a fresh heartbeat needs no lock check
            elif self.lock_holder_pid() is None:
                status["liveness"] = "stale"  # the writer died without saying so
            elif status["heartbeat_age_ns"] > stale_after:
                status["liveness"] = "stale"  # alive but hung or suspended
            else:
                status["liveness"] = "live"
        else:
            status["liveness"] = "unknown"
        return status

    def lock_holder_pid(self):
        """The pid holding a flock on the segment, from /proc/locks, or None.

        Never probe with flock() itself: taking the lock, even for an
        instant, would make a starting writer fail.
        """
        try:
            with open("/proc/locks", encoding="ascii", errors="replace") as locks:
                for line in locks:
                    parts = line.split()
                    # "1: FLOCK  ADVISORY  WRITE 4242 00:1a:12345 0 EOF"; waiters
                    # have "->" as their second word and are skipped.
                    if len(parts) < 6 or parts[1] != "FLOCK":
                        continue
                    try:
                        major, minor, inode = parts[5].split(":")
                        if (int(major, 16) == os.major(self.device)
                                and int(minor, 16) == os.minor(self.device)
                                and int(inode) == self.inode):
                            return int(parts[4])
                    except ValueError:
                        continue
        except OSError:
            pass
        return None

    # -- frames -------------------------------------------------------------

    def read_latest(self, first_cell, cell_count):
        """Copies cells [first_cell, first_cell + cell_count) of the newest frame.

        Returns None when no frame was ever published. The seqlock: load the
        slot's sequence, retry while it is odd, copy, load it again, retry if it
        moved. Python cannot issue the acquire fence the C++ reader uses; on
        x86-64 loads are not reordered with other loads, so the re-check alone
        is enough there (see docs/segment-format.md).
        """
        layout = self.layout
        u64 = self.u64
        data = self.map
        start = first_cell * 4
        length = cell_count * 4
        racks = self.header["racks"]
        for _ in range(MAX_READ_ATTEMPTS):
            latest = u64[OFF_LATEST_FRAME // 8]
            if latest == 0:
                return None
            slot_index = latest % self.header["slot_count"]  # frame N lives in slot N % count
            slot = layout["slots_offset"] + slot_index * layout["slot_stride"]
            sequence_before = u64[(slot + OFF_SEQUENCE) // 8]
            if sequence_before & 1:
                time.sleep(0)  # the writer is inside this slot; let it finish
                continue
            frame = {
                "frame_number": u64[(slot + OFF_FRAME_NUMBER) // 8],
                "slot": slot_index,
                "sim_time_ns": u64[(slot + OFF_SIM_TIME_NS) // 8],
                "wall_time_ns": u64[(slot + OFF_WALL_TIME_NS) // 8],
                "publish_monotonic_ns": u64[(slot + OFF_PUBLISH_MONOTONIC_NS) // 8],
                "ambient_bits": self.u32[(slot + OFF_AMBIENT_TEMPERATURE_C) // 4],
            }
            table = slot + layout["rack_table_offset_in_slot"]
            rack_table = data[table:table + racks * RACK_RECORD_SIZE]
            columns = []
            for offset in layout["column_offset_in_slot"]:
                begin = slot + offset + start
                columns.append(data[begin:begin + length])
            sequence_after = u64[(slot + OFF_SEQUENCE) // 8]
            if sequence_after != sequence_before:
                continue  # the writer came back to this slot while we copied
            frame["ambient_temperature_c"] = struct.unpack(
                "<f", struct.pack("<I", frame.pop("ambient_bits")))[0]
            frame["rack_table"] = rack_table
            frame["columns"] = columns
            return frame
        raise SegmentError(
            f"could not copy a consistent frame from '{self.name}' in {MAX_READ_ATTEMPTS} "
            f"attempts: the writer kept overwriting the slot being read; try again")


class _Initialising(Exception):
    """Magic still zero: retried for a short grace period."""


# --- Output ------------------------------------------------------------------

def column_stats(raw, element_type):
    values = memoryview(raw).cast("f" if element_type == FIELD_FLOAT32 else "I")
    finite = [v for v in values if math.isfinite(v)]
    values.release()
    if not finite:
        return {"min": None, "mean": None, "max": None}
    mean = math.fsum(finite) / len(finite)
    if element_type == FIELD_FLOAT32:
        # The mean of float32 readings prints as a float32, as the tools do.
        return {"min": Float32(min(finite)), "mean": Float32(mean), "max": Float32(max(finite))}
    return {"min": min(finite), "mean": mean, "max": max(finite)}


def selection_text(rack, module, first_cell, cell_count):
    where = "whole frame"
    if rack is not None:
        where = f"rack {rack}" + (f" module {module}" if module is not None else "")
    return f"{where}: cells {first_cell}..{first_cell + cell_count - 1} ({cell_count} cells)"


# --- Numbers: the format every brt tool prints (docs/segment-format.md,
# "Numbers in the tools' outputs"), so this reader shows the same digits.

FLOAT32_MAX_BITS = 0x7F7FFFFF


def _float32_from_bits(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _layout(scientific):
    """Lays out '%e' text ('-3.806e+00') as plain decimal, or exponent form for
    decimal exponents below -4 or from 16 on; no trailing '.0', never '-0'."""
    mantissa, exponent_text = scientific.split("e")
    negative = mantissa.startswith("-")
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exponent = int(exponent_text)
    if digits == "0":
        return "0"
    sign = "-" if negative else ""
    if exponent < -4 or exponent >= 16:
        fraction = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent >= 0:
        whole = exponent + 1
        if len(digits) <= whole:
            return sign + digits + "0" * (whole - len(digits))
        return f"{sign}{digits[:whole]}.{digits[whole:]}"
    return f"{sign}0.{'0' * (-exponent - 1)}{digits}"


def format_float32(value):
    """A float32 value (or a double that holds one, e.g. a mean) as the fewest
    significant digits p (1..9) for which the value rounded to p digits reads
    back as the same float32: 3.806, not 3.806000232696533."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    value = struct.unpack("<f", struct.pack("<f", value))[0]  # to float32
    if value == 0:
        return "0"
    magnitude = abs(value)
    bits = struct.unpack("<I", struct.pack("<f", magnitude))[0]
    # "Reads back as the same float32" decided exactly: the decimal lies
    # between the midpoints to the neighbouring floats (on a midpoint, the
    # float with the even bit pattern wins). Parsing with float() first would
    # round twice.
    exact = Fraction(magnitude)
    below = Fraction(_float32_from_bits(bits - 1))
    above = (Fraction(_float32_from_bits(bits + 1)) if bits < FLOAT32_MAX_BITS
             else exact + (exact - below))
    low, high = (below + exact) / 2, (exact + above) / 2
    even = bits % 2 == 0
    for digits in range(1, 10):
        text = "%.*e" % (digits - 1, magnitude)
        decimal = Fraction(text)
        if low < decimal < high or (even and decimal in (low, high)):
            break
    return ("-" if value < 0 else "") + _layout(text)


def format_double(value):
    """Any other double: its shortest round-trip digits, in the same layout."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    for digits in range(1, 18):
        text = "%.*e" % (digits - 1, value)
        if float(text) == value:
            break
    return _layout(text)


def format_seconds_from_ns(ns):
    """Integer nanoseconds as exact seconds: '99.8', '0.000000001'."""
    sign = "-" if ns < 0 else ""
    whole, fraction = divmod(abs(ns), 1_000_000_000)
    decimals = f"{fraction:09d}".rstrip("0")
    return f"{sign}{whole}" + (f".{decimals}" if decimals else "")


class Float32:
    """Marks a float32 value for to_json."""

    def __init__(self, value):
        self.value = value


class Seconds:
    """Marks a time in integer nanoseconds for to_json."""

    def __init__(self, ns):
        self.ns = ns


def to_json(value):
    """json.dumps with the tools' number format (json.dumps would print the
    double a float32 widens to: 3.806000232696533). NaN and infinities: null."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {to_json(item)}"
                               for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(item) for item in value) + "]"
    if isinstance(value, Float32):
        return format_float32(value.value) if math.isfinite(value.value) else "null"
    if isinstance(value, Seconds):
        return format_seconds_from_ns(value.ns)
    if isinstance(value, float):
        return format_double(value) if math.isfinite(value) else "null"
    return json.dumps(value)


def format_value(value):
    if value is None:
        return "-"
    if isinstance(value, Float32):
        return "-" if math.isnan(value.value) else format_float32(value.value)
    if isinstance(value, int):
        return str(value)
    return format_double(value)


def main():
    parser = argparse.ArgumentParser(
        description="Read the newest frame of the battery-rack telemetry segment and print "
                    "the min/mean/max of each column (reference reader for "
                    "docs/segment-format.md).",
        epilog="Exit codes: 0 success, 1 runtime failure (no segment, bad segment), "
               "2 bad usage.")
    default_name = os.environ.get("BATTERY_SHM") or "brt_telemetry"
    parser.add_argument("--shm-name", metavar="NAME", default=default_name,
                        help="segment name in /dev/shm (default $BATTERY_SHM or brt_telemetry; "
                             "now %(default)s)")
    parser.add_argument("--rack", metavar="R", type=int, help="only this rack (0-based)")
    parser.add_argument("--module", metavar="M", type=int,
                        help="only this module of --rack (0-based)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    name = normalize_name(args.shm_name)
    if name is None:
        parser.error(f"invalid segment name '{args.shm_name}': use only letters, digits, "
                     f"'.', '_' and '-' (at most 200)")
    if args.module is not None and args.rack is None:
        parser.error("--module needs --rack")
    if args.rack is not None and args.rack < 0:
        parser.error(f"--rack must be 0 or more, got {args.rack}")
    if args.module is not None and args.module < 0:
        parser.error(f"--module must be 0 or more, got {args.module}")
    if sys.byteorder != "little":
        print("read_segment.py: error: the segment is little-endian; this machine is not",
              file=sys.stderr)
        return 1

    try:
        segment = Segment(name)
    except SegmentError as error:
        print(f"read_segment.py: error: {error}", file=sys.stderr)
        return 1

    header = segment.header
    racks, modules, cells = (header["racks"], header["modules_per_rack"],
                             header["cells_per_module"])
    if args.rack is not None and args.rack >= racks:
        parser.error(f"rack {args.rack} does not exist: this segment has racks 0..{racks - 1}")
    if args.module is not None and args.module >= modules:
        parser.error(f"module {args.module} does not exist: racks have modules "
                     f"0..{modules - 1}")
    # Cells are numbered rack-major, so a rack or a module is one contiguous run.
    if args.rack is None:
        first_cell, cell_count = 0, header["cell_count"]
    elif args.module is None:
        first_cell, cell_count = args.rack * modules * cells, modules * cells
    else:
        first_cell, cell_count = (args.rack * modules + args.module) * cells, cells

    writer = segment.writer_status()
    try:
        frame = segment.read_latest(first_cell, cell_count)
    except SegmentError as error:
        print(f"read_segment.py: error: {error}", file=sys.stderr)
        return 1

    result = {
        "segment": segment.path,
        "abi_version": header["abi_version"],
        "generation": f"{header['generation']:016x}",
        "racks": racks,
        "modules_per_rack": modules,
        "cells_per_module": cells,
        "cell_count": header["cell_count"],
        "slot_count": header["slot_count"],
        "rack_chemistry": segment.rack_chemistries(),
        "writer_state": writer["state"],
        "writer_pid": writer["pid"],
        "liveness": writer["liveness"],
        "heartbeat_age_s": (None if writer["heartbeat_age_ns"] is None
                            else Seconds(writer["heartbeat_age_ns"])),
        "publish_period_s": Seconds(writer["publish_period_ns"]),
        "selection": {"rack": args.rack, "module": args.module,
                      "first_cell": first_cell, "cell_count": cell_count},
        "frame_number": None,
        "columns": {},
    }
    if frame is not None:
        result["frame_number"] = frame["frame_number"]
        result["slot"] = frame["slot"]
        result["sim_time_s"] = Seconds(frame["sim_time_ns"])
        result["wall_time_ns"] = frame["wall_time_ns"]
        ambient = frame["ambient_temperature_c"]
        result["ambient_temperature_c"] = Float32(ambient)
        for field_name, element_type, raw in zip(segment.field_names, segment.field_types,
                                                 frame["columns"]):
            result["columns"][field_name] = column_stats(raw, element_type)
        if args.rack is not None:
            current, air, mode, flags = RACK_RECORD.unpack_from(
                frame["rack_table"], args.rack * RACK_RECORD_SIZE)
            result["rack_record"] = {
                "current_a": Float32(current),
                "air_temperature_c": Float32(air),
                "mode": mode, "flags": flags}
    else:
        result["message"] = "no frame published yet"

    if args.json:
        print(to_json(result))
        return 0

    print(f"segment      {segment.path} (ABI {header['abi_version']}, "
          f"generation {result['generation']})")
    print(f"geometry     {racks} racks x {modules} modules x {cells} cells = "
          f"{header['cell_count']} cells, {header['slot_count']} slots")
    chemistries = result["rack_chemistry"]
    print(f"chemistry    {chemistries[0] if len(set(chemistries)) == 1 else ','.join(chemistries)}")
    writer_line = f"{writer['state']}"
    if writer["state"] != "never started":
        writer_line += f", pid {writer['pid']}"
        if writer["heartbeat_age_ns"] is not None:
            writer_line += f", heartbeat {writer['heartbeat_age_ns'] / 1e6:.0f} ms ago"
        if writer["publish_period_ns"]:
            writer_line += f", nominal {1e9 / writer['publish_period_ns']:.1f} Hz"
    print(f"writer       {writer_line} ({writer['liveness']})")
    if frame is None:
        print("no frame published yet")
        return 0
    print(f"frame        {frame['frame_number']} (slot {frame['slot']}, "
          f"sim time {frame['sim_time_ns'] / 1e9:.3f} s)")
    print(f"selection    {selection_text(args.rack, args.module, first_cell, cell_count)}")
    if "rack_record" in result:
        record = result["rack_record"]
        print(f"rack         current {format_value(record['current_a'])} A, air "
              f"{format_value(record['air_temperature_c'])} degC, mode {record['mode']}")
    print(f"{'column':<16}{'min':>16}{'mean':>16}{'max':>16}")
    for field_name, stats in result["columns"].items():
        print(f"{field_name:<16}{format_value(stats['min']):>16}"
              f"{format_value(stats['mean']):>16}{format_value(stats['max']):>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
