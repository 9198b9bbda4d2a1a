"""The IMAP message commands against the real server: FETCH (body
structure, sections, partial bodies, BINARY with literal8 and UNKNOWN-CTE,
a large body), STORE, COPY and MOVE with COPYUID, SEARCH with ESEARCH and
SEARCHRES, and the rule that FETCH, STORE and SEARCH never carry EXPUNGE.

Python's imaplib drives the common paths; a raw client that reads literals
checks exact bytes and what imaplib cannot parse (literal8)."""

import imaplib
import os
import re
import shutil
import subprocess
import sys
import time

from sealtest import SEALMAIL, Server, client_context, expect, expect_match, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
PASSWORD = "secret password"

PLAIN = (b"From: Alice <alice@example.org>\r\n"
         b"To: bob@example.org\r\n"
         b"Subject: Hello quarterly report\r\n"
         b"Date: Tue, 1 Feb 1994 23:30:00 -0800\r\n"
         b"Message-ID: <plain@example.org>\r\n"
         b"\r\n"
         b"Hello Bob, the numbers are in.\r\n")

ATTACHMENT = bytes(range(256)) * 4
MULTI = (b"From: Carol <carol@example.org>\r\n"
         b"To: bob@example.org\r\n"
         b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"xyz\"\r\n"
         b"\r\n"
         b"--xyz\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n"
         b"\r\n"
         b"Sch=C3=B6ne Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n"
         b"--xyz\r\n"
         b"Content-Type: application/octet-stream; name=\"blob.bin\"\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n"
         + b"\r\n".join(__import__("base64").encodebytes(ATTACHMENT).split(b"\n")[:-1])
         + b"\r\n--xyz--\r\n")

UUENCODED = (b"From: Dave <dave@example.org>\r\n"
             b"Subject: old style\r\n"
             b"Content-Type: text/plain\r\n"
             b"Content-Transfer-Encoding: x-uuencode\r\n"
             b"\r\n"
             b"begin 644 x\r\n`\r\nend\r\n")


def big_message():
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"
    body = line * (3 * 1024 * 1024 // len(line))
    return b"From: eve@example.org\r\nSubject: big one\r\n\r\n" + body


BIG = big_message()
MESSAGES = [PLAIN, MULTI, UUENCODED, BIG]

srv = None


class Raw:
    """A raw IMAP client over TLS that reads literals and literal8."""

    def __init__(self, conn):
        self.c = conn
        self.n = 0

    def read_response(self, tag):
        out = []
        while True:
            line = self._line()
            out.append(line)
            if line.startswith(tag.encode() + b" "):
                return out

    def _line(self):
        data = b""
        while True:
            line = self._raw_line()
            data += line
            m = re.search(rb"~?\{(\d+)\}\r\n$", line)
            if not m:
                return data
            data += self._exact(int(m.group(1)))

    def _raw_line(self):
        while b"\n" not in self.c.buf:
            chunk = self.c.sock.recv(65536)
            if not chunk:
                raise EOFError(self.c.buf)
            self.c.buf += chunk
        line, self.c.buf = self.c.buf.split(b"\n", 1)
        return line + b"\n"

    def _exact(self, n):
        while len(self.c.buf) < n:
            chunk = self.c.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("short literal")
            self.c.buf += chunk
        data, self.c.buf = self.c.buf[:n], self.c.buf[n:]
        return data

    def cmd(self, text):
        self.n += 1
        tag = "r%d" % self.n
        self.c.send(("%s %s\r\n" % (tag, text)).encode())
        return self.read_response(tag)

    def ok(self, text):
        lines = self.cmd(text)
        expect(b" OK" in lines[-1], "OK expected for " + text, *lines[-3:])
        return lines


def raw_login(select="INBOX", examine=False, rev2=False):
    r = Raw(srv.connect())
    r._line()
    r.ok('LOGIN alice "%s"' % PASSWORD)
    if rev2:
        r.ok("ENABLE IMAP4rev2")
    if select:
        r.ok("%s %s" % ("EXAMINE" if examine else "SELECT", select))
    return r


def imap_login(select="INBOX"):
    c = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    c.login("alice", PASSWORD)
    if select:
        typ, _ = c.select(select)
        expect(typ == "OK", "SELECT OK")
    return c


def deliver(data, mailbox=None):
    argv = [SEALMAIL, "deliver", "--root", srv.root, "--user", "alice"]
    if mailbox:
        argv += ["--mailbox", mailbox]
    r = subprocess.run(argv, input=data, capture_output=True, timeout=120)
    expect(r.returncode == 0, "deliver", r.stderr)


def fresh_mailbox(name, messages):
    """Creates mailbox name holding messages (in order): by APPEND, or by
    `sealmail deliver` where APPEND is not there."""
    r = raw_login(select=None)
    r.ok("CREATE %s" % name)
    for m in messages:
        r.c.send(("a APPEND %s {%d+}\r\n" % (name, len(m))).encode() + m + b"\r\n")
        lines = r.read_response("a")
        if b"a BAD" in lines[-1]:
            deliver(m, mailbox=name)
            continue
        expect(b"a OK" in lines[-1], "APPEND", lines[-1])
    deadline = time.time() + 20
    while time.time() < deadline:
        lines = r.ok("STATUS %s (MESSAGES)" % name)
        if b"(MESSAGES %d)" % len(messages) in lines[0]:
            break
        time.sleep(0.05)
    r.ok("LOGOUT")


# ---- FETCH ------------------------------------------------------------------


def test_fetch_fast_items():
    c = imap_login()
    typ, data = c.fetch("1:4", "(FLAGS INTERNALDATE RFC822.SIZE)")
    expect(typ == "OK" and len(data) == 4, "four responses", data)
    pat = (rb'^\d+ \(FLAGS \([^)]*\) INTERNALDATE "[ 0-9]\d-[A-Z][a-z]{2}-\d{4} '
           rb'\d\d:\d\d:\d\d [+-]\d{4}" RFC822.SIZE (\d+)\)$')
    for i, d in enumerate(data):
        m = re.match(pat, d)
        expect(m is not None, "FETCH response form", d)
        expect(int(m.group(1)) == len(MESSAGES[i]), "RFC822.SIZE", d, len(MESSAGES[i]))
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    expect(all(re.match(rb"^\d+ \(UID \d+ FLAGS \(", d) for d in data), "UID first", data)
    c.logout()


def test_fetch_bodystructure_and_sections():
    r = raw_login()
    lines = r.ok("FETCH 2 BODYSTRUCTURE")
    expect_match(r'^\* 2 FETCH \(BODYSTRUCTURE \(\("TEXT" "PLAIN" \("CHARSET" "utf-8"\) NIL NIL '
                 r'"QUOTED-PRINTABLE" \d+ 1 NIL NIL NIL NIL\)\("APPLICATION" "OCTET-STREAM" '
                 r'\("NAME" "blob.bin"\) NIL NIL "BASE64" \d+ NIL NIL NIL NIL\) "MIXED" '
                 r'\("BOUNDARY" "xyz"\) NIL NIL NIL\)\)', lines[0].decode())
    lines = r.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT]<6.3>)")
    expect(lines[0] == b"* 1 FETCH (BODY[HEADER.FIELDS (Subject)] {35}\r\n"
           b"Subject: Hello quarterly report\r\n\r\n BODY[TEXT]<6> {3}\r\nBob)\r\n",
           "header subset and partial", lines[0])
    lines = r.ok("FETCH 1 BODY.PEEK[]<0.4>")
    expect(lines[0] == b"* 1 FETCH (BODY[]<0> {4}\r\nFrom)\r\n", "partial", lines[0])
    lines = r.ok("FETCH 1 BODY.PEEK[]<100000.4>")
    expect(lines[0] == b"* 1 FETCH (BODY[]<100000> {0}\r\n)\r\n", "past the end", lines[0])
    lines = r.ok("FETCH 2 (BODY.PEEK[1.MIME] BODY.PEEK[9])")
    expect(b"BODY[9] NIL" in lines[0] and b"Content-Transfer-Encoding: quoted-printable"
           in lines[0], "MIME header, missing part NIL", lines[0])
    r.ok("LOGOUT")


def test_body_fetch_sets_seen_peek_does_not():
    fresh_mailbox("SeenBox", [PLAIN, PLAIN])
    r = raw_login("SeenBox")
    lines = r.ok("FETCH 1 BODY.PEEK[TEXT]")
    expect(b"FLAGS" not in lines[0], "PEEK: no FLAGS", lines[0])
    lines = r.ok("FETCH 1 FLAGS")
    expect(b"\\Seen" not in lines[0], "PEEK left \\Seen alone", lines[0])
    lines = r.ok("FETCH 1 BODY[TEXT]")
    expect(lines[0].startswith(b"* 1 FETCH (FLAGS (\\Seen") and b"BODY[TEXT] {32}" in lines[0],
           "FLAGS with the body", lines[0])
    lines = r.ok("FETCH 1 BODY[TEXT]")
    expect(b"FLAGS" not in lines[0], "already \\Seen: no FLAGS", lines[0])
    r.ok("LOGOUT")
    # EXAMINE never sets \Seen.
    r = raw_login("SeenBox", examine=True)
    r.ok("FETCH 2 RFC822")
    lines = r.ok("FETCH 2 FLAGS")
    expect(b"\\Seen" not in lines[0], "EXAMINE: no \\Seen", lines[0])
    r.ok("LOGOUT")


def test_binary():
    r = raw_login()
    lines = r.ok("FETCH 2 BINARY.PEEK[2]")
    want = b"* 2 FETCH (BINARY[2] ~{%d}\r\n" % len(ATTACHMENT) + ATTACHMENT + b")\r\n"
    expect(lines[0] == want, "literal8 with the decoded bytes", lines[0][:80])
    lines = r.ok("FETCH 2 (BINARY.SIZE[2] BINARY.PEEK[2]<1.10>)")
    expect(lines[0] == b"* 2 FETCH (BINARY.SIZE[2] 1024 BINARY[2]<1> {10}\r\n"
           + ATTACHMENT[1:11] + b")\r\n", "size and a window without NUL", lines[0])
    lines = r.ok("FETCH 2 BINARY.PEEK[2]<250.10>")
    expect(lines[0] == b"* 2 FETCH (BINARY[2]<250> ~{10}\r\n" + ATTACHMENT[250:260]
           + b")\r\n", "a window with a NUL", lines[0])
    lines = r.ok("FETCH 2 BINARY.PEEK[1]")
    expect("Schöne Grüße".encode() in lines[0], "QP decoded", lines[0])
    lines = r.cmd("FETCH 3 BINARY.PEEK[1]")
    expect_match(r"^r\d+ NO \[UNKNOWN-CTE\]", lines[-1].decode())
    lines = r.ok("FETCH 3 BODY.PEEK[1]")
    expect(b"begin 644 x" in lines[0], "BODY[] of the same part is fine", lines[0])
    r.ok("LOGOUT")


def test_large_body_and_bad_requests():
    r = raw_login()
    lines = r.ok("FETCH 4 (RFC822.SIZE BODY.PEEK[])")
    want = b"* 4 FETCH (RFC822.SIZE %d BODY[] {%d}\r\n" % (len(BIG), len(BIG)) + BIG + b")\r\n"
    expect(lines[0] == want, "3 MiB body byte-exact", len(lines[0]), len(want))
    for bad in ["FETCH 9 FLAGS", "FETCH 0 FLAGS", "FETCH 1 (FLAGS", "FETCH 1 FROB",
                "FETCH 1 BODY[1.0]", "FETCH 1 BINARY[TEXT]", "FETCH 1 BODY[]<1.0>"]:
        lines = r.cmd(bad)
        expect(re.match(rb"^r\d+ BAD", lines[-1]), "BAD for " + bad, lines[-1])
    lines = r.ok("UID FETCH 9999 FLAGS")
    expect(len(lines) == 1, "UIDs not present are no error", lines)
    r.ok("LOGOUT")


# ---- STORE --------------------------------------------------------------------


def test_store():
    fresh_mailbox("StoreBox", [PLAIN, PLAIN, PLAIN])
    r = raw_login("StoreBox", rev2=True)
    lines = r.ok("STORE 1 +FLAGS (\\Flagged $Work)")
    expect(any(l == b"* 1 FETCH (FLAGS (\\Flagged $Work))\r\n" for l in lines), "new flags",
           lines)
    lines = r.ok("STORE 1:2 FLAGS.SILENT (\\Seen)")
    expect(len(lines) == 1, "SILENT: no FETCH", lines)
    lines = r.ok("UID STORE 1:* -FLAGS \\Seen")
    expect(any(re.match(rb"^\* 2 FETCH \(UID \d+ FLAGS \(\)\)", l) for l in lines),
           "UID STORE reports UID", lines)
    lines = r.ok("STORE 3 +FLAGS kw1 kw2 KW1")
    expect(any(b"kw1 kw2" in l for l in lines), "keywords without a list", lines)
    for bad in ["STORE 1 +FLAGS (\\Recent)", "STORE 1 +FLAGS (\\Bogus)", "STORE 4 +FLAGS x",
                "STORE 1 FLAGSX x", "STORE 1 +FLAGS (a) b", "STORE 1"]:
        lines = r.cmd(bad)
        expect(re.match(rb"^r\d+ BAD", lines[-1]), "BAD for " + bad, lines[-1])
    lines = r.ok("UID STORE 99999 +FLAGS x")
    expect(len(lines) == 1, "missing UIDs are fine", lines)
    r.ok("LOGOUT")
    r = raw_login("StoreBox", examine=True)
    lines = r.cmd("STORE 1 +FLAGS (\\Deleted)")
    expect(re.match(rb"^r\d+ NO", lines[-1]), "read-only refuses STORE", lines)
    r.ok("LOGOUT")


# ---- COPY and MOVE ----------------------------------------------------------


def test_copy_and_move():
    fresh_mailbox("Src", [PLAIN, MULTI, UUENCODED])
    r = raw_login(select=None)
    r.ok("CREATE Dst")
    r.ok("SELECT Src")
    lines = r.ok("COPY 1:2 Dst")
    expect_match(r"^r\d+ OK \[COPYUID \d+ 1:2 1:2\] COPY completed", lines[-1].decode())
    lines = r.cmd("COPY 1 Nowhere")
    expect_match(r"^r\d+ NO \[TRYCREATE\]", lines[-1].decode())
    lines = r.ok("UID MOVE 2 Dst")
    expect_match(r"^\* OK \[COPYUID \d+ 2 3\]", lines[0].decode())
    expect(lines[1] == b"* 2 EXPUNGE\r\n", "EXPUNGE for the moved message", lines)
    lines = r.ok("MOVE 1:* Dst")
    expect(b"* 2 EXPUNGE\r\n" in lines and b"* 1 EXPUNGE\r\n" in lines, "both moved", lines)
    lines = r.ok("SELECT Dst")
    expect(any(l.startswith(b"* 5 EXISTS") for l in lines), "five in Dst", lines)
    lines = r.ok("FETCH 1:5 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    expect(b"Hello quarterly" in lines[0] and b"old style" in lines[4], "contents", lines)
    r.ok("LOGOUT")
    r = raw_login("Dst", examine=True)
    lines = r.cmd("MOVE 1 Src")
    expect(re.match(rb"^r\d+ NO", lines[-1]), "no MOVE out of EXAMINE", lines)
    r.ok("COPY 1 Src")
    r.ok("LOGOUT")


# ---- SEARCH -----------------------------------------------------------------


def test_search_rev1_and_esearch():
    r = raw_login()
    lines = r.ok("SEARCH SUBJECT hello")
    expect(lines[0] == b"* SEARCH 1\r\n", "SEARCH response", lines)
    lines = r.ok("UID SEARCH ALL")
    expect(re.match(rb"^\* SEARCH \d+ \d+ \d+ \d+\r\n$", lines[0]), "all four", lines)
    word = "grüße".encode()
    lines = r.ok("SEARCH CHARSET UTF-8 SUBJECT {%d+}\r\n%s" % (len(word), "grüße"))
    expect(lines[0] == b"* SEARCH 2\r\n", "encoded word, folded", lines)
    lines = r.ok("SEARCH BODY köln")
    expect(lines[0] == b"* SEARCH 2\r\n", "QP body, folded", lines)
    lines = r.ok("SEARCH OR SENTON 1-Feb-1994 LARGER 1000000")
    expect(lines[0] == b"* SEARCH 1 4\r\n", "sent date or size", lines)
    lines = r.ok("SEARCH RETURN (MIN MAX COUNT ALL) NOT SUBJECT hello")
    expect(re.match(rb'^\* ESEARCH \(TAG "r\d+"\) MIN 2 MAX 4 COUNT 3 ALL 2:4\r\n$',
                    lines[0]), "ESEARCH", lines)
    lines = r.ok("SEARCH RETURN (COUNT) SUBJECT nothing-like-this")
    expect(re.match(rb'^\* ESEARCH \(TAG "r\d+"\) COUNT 0\r\n$', lines[0]), "empty", lines)
    lines = r.cmd("SEARCH CHARSET ISO-8859-1 ALL")
    expect_match(r"^r\d+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\]", lines[-1].decode())
    lines = r.cmd("SEARCH FROB")
    expect(re.match(rb"^r\d+ BAD", lines[-1]), "BAD key", lines)
    r.ok("LOGOUT")


def test_searchres():
    r = raw_login()
    lines = r.ok("SEARCH RETURN (SAVE) OR SUBJECT hello SUBJECT old")
    expect(len(lines) == 1, "SAVE alone: no ESEARCH", lines)
    lines = r.ok("FETCH $ (UID)")
    expect([l[:11] for l in lines[:-1]] == [b"* 1 FETCH (", b"* 3 FETCH ("], "FETCH $", lines)
    lines = r.ok("SEARCH RETURN (SAVE MAX) ALL")
    lines = r.ok("SEARCH $")
    expect(lines[0] == b"* SEARCH 4\r\n", "SAVE with MAX saves the maximum", lines)
    r.ok("LOGOUT")


def test_rev2_gets_esearch():
    r = raw_login(select=None)
    r.ok("ENABLE IMAP4rev2")
    r.ok("SELECT INBOX")
    lines = r.ok("SEARCH SUBJECT hello")
    expect(re.match(rb'^\* ESEARCH \(TAG "r\d+"\) ALL 1\r\n$', lines[0]), "rev2", lines)
    lines = r.ok("UID SEARCH NOT ALL")
    expect(re.match(rb'^\* ESEARCH \(TAG "r\d+"\) UID\r\n$', lines[0]), "empty UID", lines)
    r.ok("LOGOUT")


def test_imaplib_scenario():
    c = imap_login()
    typ, data = c.search(None, "FROM", "alice")
    expect(typ == "OK" and data == [b"1"], "imaplib SEARCH", data)
    typ, data = c.fetch("2", "(BODY.PEEK[1]<0.6>)")
    expect(data[0][1] == b"Sch=C3", "partial body through imaplib", data)
    typ, data = c.fetch("2", "(BODYSTRUCTURE)")
    expect(b'"MIXED"' in data[0], "bodystructure through imaplib", data)
    c.logout()


# ---- EXPUNGE rules ------------------------------------------------------------


def test_no_expunge_during_fetch_store_search():
    fresh_mailbox("Race", [PLAIN, MULTI, PLAIN])
    a = raw_login("Race")
    b = raw_login("Race")
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    for cmd in ["FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "STORE 2 +FLAGS (x)",
                "SEARCH ALL"]:
        lines = a.ok(cmd)
        expect(not any(b"EXPUNGE" in l for l in lines), "no EXPUNGE during " + cmd, lines)
    lines = a.ok("FETCH 1 BODY.PEEK[TEXT]")
    expect(b"Hello Bob" in lines[0], "expunged message still readable", lines)
    lines = a.ok("NOOP")
    expect(b"* 1 EXPUNGE\r\n" in lines, "NOOP reports it", lines)
    a.ok("LOGOUT")
    b.ok("LOGOUT")


def main():
    global srv
    srv = Server()
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "alice", PASSWORD], check=True,
                   timeout=120)
    for m in MESSAGES:
        deliver(m)
    srv.start()
    r = raw_login()
    if b"Unknown command" in r.cmd("FETCH 1 UID")[-1]:
        print("skipped: the message commands are not in the command table yet")
        srv.stop()
        return 77
    r.ok("LOGOUT")
    try:
        status = run([test_fetch_fast_items, test_fetch_bodystructure_and_sections,
                      test_body_fetch_sets_seen_peek_does_not, test_binary,
                      test_large_body_and_bad_requests, test_store, test_copy_and_move,
                      test_search_rev1_and_esearch, test_searchres, test_rev2_gets_esearch,
                      test_imaplib_scenario, test_no_expunge_during_fetch_store_search])
    finally:
        srv.stop()
    if status:
        print(srv.log_text()[-4000:])
    else:
        shutil.rmtree(srv.dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
