#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""repl-standin.py CERT KEY PORT_FILE NAME CTIME: a stand-in for zuma-recvd,
speaking just enough of docs/replication-protocol.md for zuma-sendd to end a
run: TLS with CERT and KEY on 127.0.0.1 (an ephemeral port, written to
PORT_FILE), HELLO answered with a WELCOME listing one snapshot, NAME created
at CTIME (seconds since the epoch).  A sender whose snapshot that is finds
the target "already holds" it and finishes; a SEND (of any other snapshot)
is answered with ERROR "the stand-in receives nothing", so the run fails.
Not a receiver: it never reads a stream.  One session at a time, until
SIGTERM.  Each session is logged on stderr."""
import os
import signal
import socket
import ssl
import struct
import sys

HELLO, WELCOME, SEND, ERROR = 1, 2, 3, 9
HEADER = struct.Struct("<B3xI")
CONTROL_MAX = 65536


# --- GVariant serialization (normal form), only the types used here ---

def align(data, n):
    return data + b"\0" * (-len(data) % n)


def offset_size(body_len, n_offsets):
    """The framing offsets' width of a container whose body (everything
    but its offsets) is body_len bytes."""
    if body_len + n_offsets == 0:
        return 0
    for width, limit in ((1, 0xFF), (2, 0xFFFF), (4, 0xFFFFFFFF)):
        if body_len + n_offsets * width <= limit:
            return width
    return 8


def pack_offsets(offsets, width):
    fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[width]
    return b"".join(struct.pack(fmt, o) for o in offsets)


def string(s):
    return s.encode() + b"\0"


def struct_s_x(name, ctime):
    """(sx): the string, padding to 8, the int64, the string's end."""
    body = align(string(name), 8) + struct.pack("<q", ctime)
    end = len(string(name))
    width = offset_size(len(body), 1)
    return body + pack_offsets([end], width)


def array_of_variable(elements, alignment):
    body = b""
    ends = []
    for element in elements:
        body = align(body, alignment) + element
        ends.append(len(body))
    width = offset_size(len(body), len(ends))
    return body + pack_offsets(ends, width)


def variant(data, type_string):
    return data + b"\0" + type_string.encode()


def dict_entry_s_v(key, value):
    body = align(string(key), 8) + value
    end = len(string(key))
    width = offset_size(len(body), 1)
    return body + pack_offsets([end], width)


def welcome(name, ctime):
    snapshots = array_of_variable([struct_s_x(name, ctime)], 8)
    entry = dict_entry_s_v("snapshots", variant(snapshots, "a(sx)"))
    return array_of_variable([entry], 8)


def error(message):
    entry = dict_entry_s_v("message", variant(string(message), "s"))
    return array_of_variable([entry], 8)


# --- frames ---

def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(conn):
    header = read_exact(conn, HEADER.size)
    if header is None:
        return None, None
    kind, length = HEADER.unpack(header)
    if kind != 4 and length > CONTROL_MAX:
        raise ValueError(f"control frame of {length} bytes")
    payload = read_exact(conn, length)
    if payload is None:
        return None, None
    return kind, payload


def write_frame(conn, kind, payload):
    conn.sendall(HEADER.pack(kind, len(payload)) + payload)


def session(conn, name, ctime):
    kind, _ = read_frame(conn)
    if kind != HELLO:
        print(f"stand-in: expected HELLO, got {kind}", file=sys.stderr)
        return
    write_frame(conn, WELCOME, welcome(name, ctime))
    print(f"stand-in: WELCOME with {name} ({ctime})", file=sys.stderr)
    while True:
        kind, _ = read_frame(conn)
        if kind is None:
            print("stand-in: the sender closed", file=sys.stderr)
            return
        if kind == SEND:
            write_frame(conn, ERROR, error("the stand-in receives nothing"))
            print("stand-in: SEND refused", file=sys.stderr)
            return


def main():
    cert, key, port_file, name, ctime = sys.argv[1:6]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)
    while True:
        raw, _ = listener.accept()
        raw.settimeout(30)
        try:
            with context.wrap_socket(raw, server_side=True) as conn:
                session(conn, name, int(ctime))
        except (OSError, ValueError) as e:
            print(f"stand-in: session ended: {e}", file=sys.stderr)
        finally:
            raw.close()


if __name__ == "__main__":
    main()
