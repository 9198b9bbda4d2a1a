#!/usr/bin/python3
"""Resync cost of a 10,000-message mailbox after 100 flag changes: a
client that uses QRESYNC (SELECT (QRESYNC (uidvalidity modseq))) against
one that re-reads every message's flags (SELECT, then UID FETCH 1:* FLAGS).

    python3 bench/resync.py [--messages N] [--changes K] [--runs R]

Starts its own server from build-release (SEAL_BUILD overrides) on a
temporary root and prints, for each way, the bytes the server sent after
login (IMAP bytes, before TLS) and the time from the SELECT to its tagged
OK, median of R runs. See bench/README.md."""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
BUILD = os.environ.get("SEAL_BUILD", os.path.join(HERE, "..", "build-release"))
os.environ.setdefault("SEALMAIL", os.path.join(BUILD, "src", "sealmail"))

from sealtest import Server  # noqa: E402  (after the path and SEALMAIL are set)

PASSWORD = "bench password"


class Counted:
    """A server connection that counts what it reads."""

    def __init__(self, srv):
        self.received = 0
        self.n = 0
        self.c = srv.connect(timeout=120)
        self.c.readline()
        self.cmd('LOGIN bench "%s"' % PASSWORD)

    def cmd(self, text):
        self.n += 1
        tag = "b%d" % self.n
        self.c.send("%s %s\r\n" % (tag, text))
        lines = []
        while True:
            line = self.c.readline()
            self.received += len(line) + 2
            lines.append(line)
            if line.startswith(tag + " "):
                if not line.startswith(tag + " OK"):
                    raise SystemExit("%s failed: %s" % (text, line))
                return lines

    def close(self):
        self.cmd("LOGOUT")
        self.c.close()


def fill(srv, n):
    c = Counted(srv)
    c.cmd("CREATE Big")
    body = b"From: a@example.org\r\nSubject: resync bench\r\n\r\nhello\r\n"
    done = 0
    while done < n:
        k = min(1000, n - done)
        part = b"".join(b" {%d+}\r\n" % len(body) + body for _ in range(k))
        c.n += 1
        tag = "f%d" % c.n
        c.c.send(b"%s APPEND Big" % tag.encode() + part + b"\r\n")
        while True:
            line = c.c.readline()
            if line.startswith(tag + " "):
                if not line.startswith(tag + " OK"):
                    raise SystemExit("fill: " + line)
                break
        done += k
    c.close()


def state(srv):
    c = Counted(srv)
    c.cmd("ENABLE QRESYNC")
    lines = c.cmd("EXAMINE Big")
    uv = hms = None
    for l in lines:
        if "[UIDVALIDITY " in l:
            uv = int(l.split("[UIDVALIDITY ")[1].split("]")[0])
        if "[HIGHESTMODSEQ " in l:
            hms = int(l.split("[HIGHESTMODSEQ ")[1].split("]")[0])
    c.close()
    return uv, hms


def change_flags(srv, n_messages, k, rng):
    c = Counted(srv)
    c.cmd("SELECT Big")
    for uid in rng.sample(range(1, n_messages + 1), k):
        c.cmd("UID STORE %d +FLAGS.SILENT (\\Flagged)" % uid)
    c.close()


def measure(srv, how, uv, hms):
    c = Counted(srv)
    if how == "qresync":
        c.cmd("ENABLE QRESYNC")
    c.received = 0
    t0 = time.perf_counter()
    if how == "qresync":
        lines = c.cmd("EXAMINE Big (QRESYNC (%d %d))" % (uv, hms))
    else:
        lines = c.cmd("EXAMINE Big")
        lines += c.cmd("UID FETCH 1:* (FLAGS)")
    seconds = time.perf_counter() - t0
    fetches = sum(1 for l in lines if " FETCH " in l)
    received = c.received
    c.close()
    return received, seconds, fetches


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    mkuser = os.path.join(BUILD, "tests", "seal-mkuser")
    srv = Server()
    subprocess.run([mkuser, os.path.join(srv.root, "users"), "bench", PASSWORD], check=True)
    with open(srv.config) as f:
        text = f.read()
    srv.write_config(text.replace('level = "debug"', 'level = "info"'))
    try:
        srv.start()
        t0 = time.perf_counter()
        fill(srv, a.messages)
        print("filled %d messages in %.1f s" % (a.messages, time.perf_counter() - t0))
        uv, hms = state(srv)
        change_flags(srv, a.messages, a.changes, random.Random(7))
        rows = {}
        for how in ("full", "qresync"):
            runs = [measure(srv, how, uv, hms) for _ in range(a.runs)]
            rows[how] = (statistics.median(r[0] for r in runs),
                         statistics.median(r[1] for r in runs), runs[0][2])
        print("\nresync of %d messages after %d flag changes (median of %d runs)\n"
              % (a.messages, a.changes, a.runs))
        print("%-34s %12s %10s %8s" % ("", "bytes", "ms", "FETCHes"))
        names = {"full": "SELECT + UID FETCH 1:* (FLAGS)",
                 "qresync": "SELECT (QRESYNC (uidvalidity modseq))"}
        for how in ("full", "qresync"):
            b, s, n = rows[how]
            print("%-34s %12d %10.1f %8d" % (names[how], b, s * 1000, n))
        print("\nratio full/qresync: %.0fx bytes, %.1fx time"
              % (rows["full"][0] / rows["qresync"][0], rows["full"][1] / rows["qresync"][1]))
    finally:
        srv.stop()
        shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
