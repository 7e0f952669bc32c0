#!/usr/bin/env python3
"""Prints a checksum of the newest frame of a segment: its frame number,
simulated time and the SHA-256 of every cell's readings, status words and
the rack table, bit for bit (wall-clock times are left out).

    frame_checksum.py SHM_NAME

Used by scripts/compare-arch-frames.sh to compare the frames an aarch64 build
and an x86-64 build publish for the same seed (docs/simulator.md)."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import read_segment  # noqa: E402  (the reference reader, beside this file)


def main():
    if len(sys.argv) != 2:
        print("usage: frame_checksum.py SHM_NAME", file=sys.stderr)
        return 2
    segment = read_segment.Segment(sys.argv[1])
    frame = segment.read_latest(0, segment.header["cell_count"])
    if frame is None:
        print("frame_checksum.py: no frame published", file=sys.stderr)
        return 1
    digest = hashlib.sha256()
    digest.update(bytes(frame["rack_table"]))
    for column in frame["columns"]:
        digest.update(bytes(column))
    print(f"frame {frame['frame_number']} sim_time_ns {frame['sim_time_ns']} "
          f"ambient {frame['ambient_temperature_c']!r} sha256 {digest.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
