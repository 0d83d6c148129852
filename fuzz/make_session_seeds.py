#!/usr/bin/env python3
"""Writes the seed corpus of the `session` fuzz target (fuzz/corpus/session/).

Each seed is a client byte stream in the target's input format: repeated
[read-length byte L][L+1 bytes], the bytes being protocol frames as docs/PROTOCOL.md
defines them. Run from the repository root: python3 fuzz/make_session_seeds.py
"""
import os
import struct

def frame(t, body=b""):
    return struct.pack(">IB", 1 + len(body), t) + body

def s(text):
    b = text.encode()
    return struct.pack(">H", len(b)) + b

def hello(lo=1, hi=1):
    return frame(0x01, struct.pack(">HH", lo, hi) + s("seed"))

def login(user, pw):
    return frame(0x12, s(user) + s(pw))

def register(user, pw):
    return frame(0x10, s(user) + s(pw))

TEMPID = frame(0x20)
LOGOUT = frame(0x40)
PING = frame(0x50, struct.pack(">Q", 7))

def upload(text, chunk=40):
    data = text.encode()
    out = frame(0x30, struct.pack(">Q", len(data)))
    for i in range(0, len(data), chunk):
        part = data[i:i + chunk]
        out += frame(0x31, struct.pack(">I", len(part)) + part)
    return out + frame(0x32)

LOG = ("12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n"
       "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05")

def stream(payload, read=16):
    out = b""
    for i in range(0, len(payload), read):
        part = payload[i:i + read]
        out += bytes([len(part) - 1]) + part
    return out

seeds = {
    "full-session": hello() + login("+61410888888", "comp3331") + TEMPID + upload(LOG) + LOGOUT,
    "wrong-password-block": hello() + login("+61410888888", "a") + login("+61410888888", "b")
                            + login("+61410888888", "c"),
    "unknown-user": hello() + login("+61400000000", "guess") + PING,
    "register-then-login": hello() + register("+61-400-111-222", "longpassword")
                           + login("+61400111222", "longpassword") + TEMPID + LOGOUT,
    "before-hello": login("+61410888888", "comp3331"),
    "before-login": hello() + TEMPID + upload("x") + PING,
    "bad-version": hello(2, 3),
    "malformed-upload": hello() + login("+61410666666", "kara1234") + upload("bad line\n"),
    "oversized-frame": hello() + struct.pack(">IB", 1 << 20, 0x12),
    "unknown-type": hello() + frame(0x99, b"zz"),
}

outdir = os.path.join(os.path.dirname(__file__), "corpus", "session")
os.makedirs(outdir, exist_ok=True)
for name, payload in seeds.items():
    with open(os.path.join(outdir, name + ".bin"), "wb") as f:
        f.write(stream(payload))
