#!/usr/bin/env python3
"""Top functions of a Go CPU profile (pprof protobuf, gzipped), e.g. nats-server's own profile.

Debian's nats-server is stripped of DWARF but its profiler still names functions. Run it with `--profile <port>`
(tests/bench/nats_profiled.sh puts that in front of every nats-server a benchmark starts), then:

  curl -s -o ns.pprof "http://127.0.0.1:6061/debug/pprof/profile?seconds=4"
  tests/bench/pprof_top.py ns.pprof                      # flat and cumulative shares
  tests/bench/pprof_top.py ns.pprof '<function name>'    # what runs under it, and its callers

No Go toolchain needed (docs/performance.md §23). Reads only the fields it needs of profile.proto: sample (2),
location (4), function (5), string_table (6).
"""
import collections
import gzip
import sys


def varint(buf, i):
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def fields(buf):
    """(field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            length, i = varint(buf, i)
            value, i = buf[i:i + length], i + length
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire} not supported")
        yield number, wire, value


def integers(wire, value):
    """A repeated integer field, packed or not."""
    if wire == 0:
        return [value]
    out, i = [], 0
    while i < len(value):
        x, i = varint(value, i)
        out.append(x)
    return out


def load(path):
    data = gzip.decompress(open(path, "rb").read())
    strings, samples, locations, functions = [], [], {}, {}
    for number, wire, value in fields(data):
        if number == 6:
            strings.append(value.decode("utf8", "replace"))
        elif number == 2:
            location_ids, values = [], []
            for n, w, v in fields(value):
                if n == 1:
                    location_ids += integers(w, v)
                elif n == 2:
                    values += integers(w, v)
            samples.append((location_ids, values[-1]))  # the last value: CPU nanoseconds
        elif number == 4:
            location_id, function_ids = None, []
            for n, w, v in fields(value):
                if n == 1:
                    location_id = v
                elif n == 4:  # line: function_id is its field 1
                    function_ids += [v2 for n2, _, v2 in fields(v) if n2 == 1]
            locations[location_id] = function_ids
        elif number == 5:
            function_id, name = None, 0
            for n, _, v in fields(value):
                if n == 1:
                    function_id = v
                elif n == 2:
                    name = v
            functions[function_id] = name
    stacks = []  # (leaf-first function names, nanoseconds)
    for location_ids, ns in samples:
        names = [strings[functions[f]] for loc in location_ids for f in locations.get(loc, [])]
        stacks.append((names, ns))
    return stacks


def main():
    stacks = load(sys.argv[1])
    total = sum(ns for _, ns in stacks) or 1
    flat, cumulative = collections.Counter(), collections.Counter()
    for names, ns in stacks:
        if names:
            flat[names[0]] += ns
        for name in set(names):
            cumulative[name] += ns
    print(f"total {total / 1e9:.2f} s of CPU")
    print("--- flat")
    for name, ns in flat.most_common(25):
        print(f"{100 * ns / total:5.1f}% {name}")
    print("--- cumulative")
    for name, ns in cumulative.most_common(45):
        print(f"{100 * ns / total:5.1f}% {name}")
    if len(sys.argv) > 2:
        target = sys.argv[2]
        under, callers, share = collections.Counter(), collections.Counter(), 0
        for names, ns in stacks:
            if target in names:
                i = names.index(target)
                share += ns
                under[" <- ".join(names[:i][-3:])] += ns
                callers[" <- ".join(names[i + 1:i + 3])] += ns
        print(f"=== under {target}: {100 * share / total:.1f}%")
        for name, ns in under.most_common(15):
            print(f"{100 * ns / total:5.1f}% {name}")
        print("=== its callers")
        for name, ns in callers.most_common(8):
            print(f"{100 * ns / total:5.1f}% {name}")


if __name__ == "__main__":
    main()
