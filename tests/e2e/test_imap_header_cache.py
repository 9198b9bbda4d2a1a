"""The header cache in meta.sqlite through the real server: header FETCHes
answered from it are byte-identical to the same FETCHes answered from the
message files (the MIME corpus and random messages, APPENDed and
delivered, with and without UTF8=ACCEPT); it is filled by any FETCH that
reads a file, shared by COPY, used without opening the files (shown by
removing them: headers still come, bodies are stubs), and nothing of it is
readable on disk."""

import glob
import os
import random
import re
import subprocess
import sys
import time

from sealtest import SEALMAIL, Server, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
PASSWORD = "secret password"
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "data", "mime")
MARKER = b"Wombat-4412-hdrcache"

ITEMS = [
    "(UID FLAGS ENVELOPE)",
    "(ENVELOPE RFC822.SIZE INTERNALDATE)",
    "BODY.PEEK[HEADER]",
    "RFC822.HEADER",
    "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE CONTENT-TYPE)]",
    "BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED SUBJECT)]<3.50>",
    "(UID BODYSTRUCTURE)",
    "(BODY ENVELOPE)",
]

srv = None


class Raw:
    """A raw IMAP client over TLS that reads literals."""

    def __init__(self, conn):
        self.c = conn
        self.n = 0
        self.line()

    def raw_line(self):
        while b"\n" not in self.c.buf:
            chunk = self.c.sock.recv(65536)
            if not chunk:
                raise EOFError(self.c.buf)
            self.c.buf += chunk
        line, self.c.buf = self.c.buf.split(b"\n", 1)
        return line + b"\n"

    def exact(self, n):
        while len(self.c.buf) < n:
            chunk = self.c.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("short literal")
            self.c.buf += chunk
        data, self.c.buf = self.c.buf[:n], self.c.buf[n:]
        return data

    def line(self):
        data = b""
        while True:
            line = self.raw_line()
            data += line
            m = re.search(rb"~?\{(\d+)\}\r\n$", line)
            if not m:
                return data
            data += self.exact(int(m.group(1)))

    def cmd(self, text):
        self.n += 1
        tag = b"r%d" % self.n
        self.c.send(tag + b" " + (text if isinstance(text, bytes) else text.encode()) + b"\r\n")
        out = []
        while True:
            line = self.line()
            out.append(line)
            if line.startswith(tag + b" "):
                expect(line.startswith(tag + b" OK"), "OK for %r" % text[:80], *out[-3:])
                return out

    def append(self, mailbox, messages):
        """MULTIAPPEND of all of messages."""
        self.n += 1
        tag = b"a%d" % self.n
        data = tag + b" APPEND " + mailbox.encode()
        for m in messages:
            data += b" {%d+}\r\n" % len(m) + m
        self.c.send(data + b"\r\n")
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                expect(line.startswith(tag + b" OK"), "APPEND", line)
                return


def login(utf8=False):
    r = Raw(srv.connect())
    r.cmd('LOGIN alice "%s"' % PASSWORD)
    if utf8:
        r.cmd("ENABLE UTF8=ACCEPT")
    return r


def corpus():
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.eml"))):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


def random_messages(n, seed):
    rng = random.Random(seed)
    names = [b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"Reply-To",
             b"Content-Type", b"Content-Transfer-Encoding", b"Received", b"X-Spam",
             b"Content-Disposition", b"In-Reply-To", b"subject", b"Sender"]
    values = [b"Alice <alice@example.org>", b"\"B, C\" <b@c.d>", b"grp: a@b.c;",
              b"=?UTF-8?B?w6lsw6h2ZQ==?= " + MARKER, b"\xc3\xa9t\xc3\xa9 8bit",
              b"text/plain; charset=utf-8", b"multipart/mixed; boundary=zz",
              b"message/rfc822", b"base64", b"Mon, 23 Nov 2026 10:00:00 +0100",
              b"<id@x>", b"", b"(comment) value", b"a\tb"]
    eols = [b"\r\n", b"\r\n", b"\n"]
    msgs = []
    for _ in range(n):
        eol = rng.choice(eols)
        hdr = b""
        for _ in range(rng.randint(0, 12)):
            v = b" ".join(rng.choice(values) for _ in range(rng.randint(1, 3)))
            if rng.random() < 0.15:
                v += eol + b"\t" + rng.choice(values)
            hdr += rng.choice(names) + b": " + v + eol
        body = b"".join(rng.choice([b"text line", b"--zz", b"--zz--", b"", b"Subject: in"]) + eol
                        for _ in range(rng.randint(0, 15)))
        msgs.append(hdr + eol + body if rng.random() < 0.95 else hdr)
    return [m for m in msgs if m]


def big_header_message():
    """A header over the cache's 64 KiB: never cached, always right."""
    return (b"Subject: big header\r\n"
            + b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"p" * 60) for i in range(1200))
            + b"\r\nbody\r\n")


def big_body_message():
    return (b"From: big@example.org\r\nSubject: big body " + MARKER + b"\r\n\r\n"
            + b"0123456789abcdef" * 20000)


MESSAGES = None


def fetch_all(r, items):
    return b"".join(r.cmd("FETCH 1:* " + items)[:-1])


def test_cache_answers_as_the_files_do():
    """For each item list, in a mailbox of fresh messages (their headers not
    cached yet): the first FETCH reads the files, the second the cache."""
    for utf8 in (False, True):
        r = login(utf8)
        for i, items in enumerate(ITEMS):
            name = "T%d%s" % (i, "u" if utf8 else "")
            r.cmd("CREATE " + name)
            r.append(name, MESSAGES)
            r.cmd("SELECT " + name)
            first = fetch_all(r, items)
            second = fetch_all(r, items)
            expect(first.count(b" FETCH (") == len(MESSAGES), "a response per message", items)
            if first != second:
                a, b = first.split(b"\r\n"), second.split(b"\r\n")
                diff = [(x, y) for x, y in zip(a, b) if x != y][:3]
                expect(False, "file and cache answers differ for " + items, diff)
            if "FLAGS" not in items:	# \Recent belongs to the first session
                other = login(utf8)
                other.cmd("EXAMINE " + name)
                expect(fetch_all(other, items) == first, "another session reads the same")
                other.cmd("LOGOUT")
        r.cmd("LOGOUT")


def test_delivered_and_copied():
    """A delivered message (taken in with its RSA unwrap) fills the cache
    like an appended one; a COPY reads the same entry."""
    msg = (b"From: Deliverer <d@example.org>\r\nTo: alice@example.org\r\n"
           b"Subject: delivered " + MARKER + b"\r\nMIME-Version: 1.0\r\n\r\nhi\r\n")
    r = login()
    r.cmd("CREATE Delivered")
    p = subprocess.run([SEALMAIL, "deliver", "--root", srv.root, "--user", "alice",
                        "--mailbox", "Delivered"], input=msg, capture_output=True, timeout=120)
    expect(p.returncode == 0, "deliver", p.stderr)
    deadline = time.time() + 20
    while b"(MESSAGES 1)" not in r.cmd("STATUS Delivered (MESSAGES)")[0]:
        expect(time.time() < deadline, "the delivery is taken in")
        time.sleep(0.05)
    r.cmd("SELECT Delivered")
    first = fetch_all(r, "(ENVELOPE BODYSTRUCTURE)")
    expect(b"delivered " + MARKER in first, "envelope of the delivered message", first)
    r.cmd("COPY 1 Archive")
    r.cmd("EXAMINE Archive")
    copied = r.cmd("UID SEARCH SUBJECT " + MARKER.decode())[0]
    uid = copied.split()[-1].decode()
    again = b"".join(r.cmd("UID FETCH %s (ENVELOPE BODYSTRUCTURE)" % uid)[:-1])
    expect(first.split(b"ENVELOPE", 1)[1] == again.split(b"ENVELOPE", 1)[1],
           "the copy answers the same", first, again)
    r.cmd("LOGOUT")


def test_no_plaintext_on_disk():
    for top, _, files in os.walk(srv.root):
        for name in files:
            path = os.path.join(top, name)
            if not os.path.isfile(path) or name.endswith(".pem") or name == "sealmail.toml":
                continue
            with open(path, "rb") as f:
                content = f.read()
            expect(MARKER not in content, "plaintext found in %s" % path)


def test_headers_come_from_the_cache():
    """Last: with every message file removed, cached headers still answer
    (a body read finds the file missing and shows the stub); a message
    whose header was never fetched, or is over 64 KiB, is a stub
    throughout. A BODY[] fetch fills the cache too."""
    r = login()
    r.cmd("CREATE Fresh")
    r.append("Fresh", [b"Subject: never fetched\r\n\r\nbody\r\n",
                       b"Subject: body fetched\r\n\r\nbody\r\n"])
    r.cmd("SELECT Fresh")
    r.cmd("FETCH 2 BODY.PEEK[]")
    r.cmd("CREATE Cached")
    r.append("Cached", corpus() + random_messages(30, 12))
    r.cmd("SELECT Cached")
    before = fetch_all(r, "(UID ENVELOPE BODY.PEEK[HEADER])")
    body_before = fetch_all(r, "BODY.PEEK[TEXT]<0.20>")
    for path in glob.glob(os.path.join(srv.root, "users", "alice", "messages", "*", "*")):
        os.unlink(path)
    after = fetch_all(r, "(UID ENVELOPE BODY.PEEK[HEADER])")
    expect(after == before, "headers from the cache without the files", after[:300])
    body_after = fetch_all(r, "BODY.PEEK[TEXT]<0.20>")
    expect(body_after != body_before and b"The file that holds" in body_after,
           "bodies need the files", body_after[:300])
    r.cmd("SELECT Fresh")
    env = fetch_all(r, "ENVELOPE")
    expect(b"This message is missing from the server" in env.split(b"\r\n* 2 ")[0],
           "no cache: a stub", env)
    expect(b"body fetched" in env, "BODY[] filled the cache", env)
    r.cmd("EXAMINE Archive")
    env = fetch_all(r, "ENVELOPE")
    expect(b"delivered " + MARKER in env, "the copy of the delivered message", env)
    r.cmd("EXAMINE T0")
    big = len(MESSAGES) - 1	# the big header message's sequence number
    env = fetch_all(r, "ENVELOPE")
    expect(re.search(rb"\* %d FETCH \(ENVELOPE \([^)]*This message is missing" % big, env),
           "a header over 64 KiB is not cached", env[-600:])
    r.cmd("LOGOUT")


def main():
    global srv, MESSAGES
    MESSAGES = corpus() + random_messages(60, 11) + [big_header_message(), big_body_message()]
    srv = Server()
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "alice", PASSWORD], check=True,
                   timeout=120)
    srv.start()
    try:
        status = run([test_cache_answers_as_the_files_do, test_delivered_and_copied,
                      test_no_plaintext_on_disk, test_headers_come_from_the_cache])
    finally:
        srv.stop()
    if status:
        print(srv.log_text()[-4000:])
    return status


if __name__ == "__main__":
    sys.exit(main())
