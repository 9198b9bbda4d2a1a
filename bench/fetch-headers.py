#!/usr/bin/python3
"""One client alone: the time of header-only FETCHes of a whole mailbox,
the first time (sealmail reads every message file) and again (sealmail's
header cache in meta.sqlite answers).

    python3 bench/fetch-headers.py [--messages 200] [--runs 20]

Starts its own server from build-release (SEAL_BUILD overrides) on a
temporary root, appends M messages of 2 to 6 KiB to INBOX (the shapes of
`sealmail-bench imap-fill`: a dozen header fields, text bodies, some
multipart), then for each command below prints the time from sending it to
its tagged OK: the first run, and the median and minimum of R more runs.
The client is Python over TLS on the same machine: for 200 messages its
own reading costs about 1 ms of each figure. See bench/README.md."""

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
COMMANDS = [
    "FETCH 1:* (UID FLAGS)",
    "FETCH 1:* (UID FLAGS ENVELOPE)",
    "FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)])",
    "FETCH 1:* (UID BODY.PEEK[HEADER])",
    "FETCH 1:* (UID BODYSTRUCTURE)",
]
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua").split()


def message(rng, i):
    size = rng.randint(2048, 6144)
    hdr = ("Return-Path: <sender%d@example.org>\r\n"
           "Received: from mx%d.example.org (mx%d.example.org [192.0.2.%d])\r\n"
           "\tby mail.example.net with ESMTPS id %08x\r\n"
           "\tfor <bench@example.net>; Tue, 24 Nov 2026 10:%02d:00 +0000\r\n"
           "From: Sender %d <sender%d@example.org>\r\n"
           "To: Bench <bench@example.net>\r\n"
           "Cc: list-%d@lists.example.org\r\n"
           "Subject: =?UTF-8?Q?Message_=C3=A9_number_%d?= about %s\r\n"
           "Date: Tue, 24 Nov 2026 10:%02d:00 +0000\r\n"
           "Message-ID: <%08x.%d@example.org>\r\n"
           "In-Reply-To: <%08x.%d@example.org>\r\n"
           "MIME-Version: 1.0\r\n"
           % (i, i % 7, i % 7, i % 250, rng.getrandbits(32), i % 60, i, i, i % 5, i,
              rng.choice(WORDS), i % 60, rng.getrandbits(32), i, rng.getrandbits(32), i))
    text = []
    n = 0
    while n < size - len(hdr):
        line = " ".join(rng.choice(WORDS) for _ in range(12)) + "\r\n"
        text.append(line)
        n += len(line)
    body = "".join(text)
    if i % 4 == 3:
        hdr += "Content-Type: multipart/alternative; boundary=\"b%d\"\r\n\r\n" % i
        body = ("--b%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"
                "--b%d\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>%s</p>\r\n"
                "--b%d--\r\n" % (i, body, i, body[:200], i))
    else:
        hdr += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    return (hdr + body).encode()


class Client:
    def __init__(self, srv):
        self.n = 0
        self.c = srv.connect(timeout=120)
        self.c.readline()
        self.cmd('LOGIN bench "%s"' % PASSWORD)

    def cmd(self, text):
        self.n += 1
        tag = "b%d" % self.n
        self.c.send("%s %s\r\n" % (tag, text))
        while True:
            line = self.c.readline()
            if line.startswith(tag + " "):
                if not line.startswith(tag + " OK"):
                    raise SystemExit("%s failed: %s" % (text, line))
                return

    def append(self, data):
        self.n += 1
        tag = "a%d" % self.n
        self.c.send(b"%s APPEND INBOX {%d+}\r\n" % (tag.encode(), len(data)) + data + b"\r\n")
        while True:
            line = self.c.readline()
            if line.startswith(tag + " "):
                if not line.startswith(tag + " OK"):
                    raise SystemExit("append: " + line)
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    mkuser = os.path.join(BUILD, "tests", "seal-mkuser")
    srv = Server()
    subprocess.run([mkuser, os.path.join(srv.root, "users"), "bench", PASSWORD], check=True)
    with open(srv.config) as f:
        text = f.read()
    srv.write_config(text.replace('level = "debug"', 'level = "info"'))
    try:
        srv.start()
        c = Client(srv)
        rng = random.Random(7)
        for i in range(a.messages):
            c.append(message(rng, i))
        c.cmd("SELECT INBOX")
        print("%d messages; ms per command: first run, then median and minimum of %d runs\n"
              % (a.messages, a.runs))
        print("%-62s %8s %8s %8s" % ("", "first", "median", "min"))
        for text in COMMANDS:
            times = []
            for _ in range(a.runs + 1):
                t0 = time.perf_counter()
                c.cmd(text)
                times.append((time.perf_counter() - t0) * 1000)
            rest = times[1:]
            print("%-62s %8.2f %8.2f %8.2f" % (text, times[0], statistics.median(rest), min(rest)))
        c.cmd("LOGOUT")
    finally:
        srv.stop()
        shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
