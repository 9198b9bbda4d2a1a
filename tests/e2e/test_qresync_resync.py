"""QRESYNC resynchronisation against the real server (RFC 7162 3.2.5): a
client remembers UIDVALIDITY and HIGHESTMODSEQ and disconnects; another
session changes flags (several messages in one STORE) and expunges; the
first reconnects with SELECT (QRESYNC ...) and gets exactly the expunged
UIDs in VANISHED (EARLIER) and exactly the changed messages with their new
flags. Also the manual's CONDSTORE statements: one MODSEQ per command,
an expunge moves HIGHESTMODSEQ on, no HIGHESTMODSEQ before CONDSTORE."""

import os
import re
import subprocess
import sys

from sealtest import Server, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
PASSWORD = "resync"
srv = None


def session(enable=None):
    c = srv.connect()
    c.readline()
    expect(c.cmd('a LOGIN bob "%s"' % PASSWORD)[-1].startswith("a OK"), "login")
    if enable:
        expect(c.cmd("e ENABLE %s" % enable)[-1].startswith("e OK"), "enable")
    return c


def ok(c, line):
    out = c.cmd("t " + line)
    expect(out[-1].startswith("t OK"), line, *out)
    return out


def code(lines, name):
    for l in lines:
        m = re.search(r"\[%s (\d+)\]" % name, l)
        if m:
            return int(m.group(1))
    return None


def uid_set(text):
    out = set()
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def fill(n):
    c = session()
    ok(c, "CREATE Resync")
    body = b"Subject: resync test\r\n\r\nhello\r\n"
    chunks = []
    for i in range(n):
        chunks.append(b" {%d+}\r\n" % len(body) + body)
    c.send(b"f APPEND Resync" + b"".join(chunks) + b"\r\n")
    reply = c.readline()
    while not reply.startswith("f "):
        reply = c.readline()
    expect(reply.startswith("f OK"), "fill", reply)
    c.close()


def test_no_highestmodseq_before_condstore():
    c = session()
    lines = ok(c, "SELECT Resync")
    expect(code(lines, "HIGHESTMODSEQ") is None, "no HIGHESTMODSEQ before CONDSTORE", *lines)
    lines = ok(c, "STATUS INBOX (MESSAGES)")
    expect(not any("HIGHESTMODSEQ" in l for l in lines), "none in STATUS either", *lines)
    c.close()


def test_resync_after_absence():
    a = session("QRESYNC")
    lines = ok(a, "SELECT Resync")
    uv, hms = code(lines, "UIDVALIDITY"), code(lines, "HIGHESTMODSEQ")
    expect(uv and hms, "UIDVALIDITY and HIGHESTMODSEQ", *lines)
    a.cmd("z LOGOUT")
    a.close()

    b = session("CONDSTORE")
    ok(b, "SELECT Resync")
    lines = ok(b, "UID STORE 5:9,20 +FLAGS (\\Flagged $Later)")
    modseqs = {int(m) for m in re.findall(r"MODSEQ \((\d+)\)", "\n".join(lines))}
    expect(len(modseqs) == 1 and min(modseqs) > hms, "one STORE, one new MODSEQ", *lines)
    ok(b, "UID STORE 30 -FLAGS (\\Seen)")  # not set: no change, no MODSEQ
    ok(b, "UID STORE 40 +FLAGS (\\Seen)")
    ok(b, "UID STORE 7,11:13,50 +FLAGS.SILENT (\\Deleted)")
    before = code(ok(b, "NOOP"), "HIGHESTMODSEQ")
    lines = ok(b, "EXPUNGE")
    after = code(lines, "HIGHESTMODSEQ")
    expect(after is not None and (before is None or after > before) and after > max(modseqs),
           "EXPUNGE moves HIGHESTMODSEQ on", *lines)
    b.cmd("z LOGOUT")
    b.close()

    a = session("QRESYNC")
    lines = ok(a, "SELECT Resync (QRESYNC (%d %d))" % (uv, hms))
    vanished = [l for l in lines if l.startswith("* VANISHED (EARLIER) ")]
    expect(len(vanished) == 1, "one VANISHED (EARLIER)", *lines)
    expect(uid_set(vanished[0].split()[-1]) == {7, 11, 12, 13, 50}, "exactly the expunged",
           vanished)
    fetched = {}
    for l in lines:
        m = re.match(r"^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)$", l)
        if m:
            fetched[int(m.group(1))] = (set(m.group(2).split()), int(m.group(3)))
    expect(set(fetched) == {5, 6, 8, 9, 20, 40}, "exactly the changed ones", sorted(fetched),
           *lines)
    for uid in (5, 6, 8, 9, 20):
        expect({"\\Flagged", "$Later"} <= fetched[uid][0], "new flags of %d" % uid, fetched)
    expect("\\Seen" in fetched[40][0], "flags of 40", fetched)
    expect(code(lines, "HIGHESTMODSEQ") == after, "HIGHESTMODSEQ is the latest", *lines)
    # Known UIDs narrow both responses.
    lines = ok(a, "SELECT Resync (QRESYNC (%d %d 1:10))" % (uv, hms))
    vanished = [l for l in lines if l.startswith("* VANISHED (EARLIER) ")]
    expect(vanished and uid_set(vanished[0].split()[-1]) == {7}, "known UIDs", *lines)
    uids = {int(u) for u in re.findall(r"FETCH \(UID (\d+)", "\n".join(lines))}
    expect(uids == {5, 6, 8, 9}, "known UIDs limit FETCH", sorted(uids))
    # Up to date: nothing at all.
    lines = ok(a, "SELECT Resync (QRESYNC (%d %d))" % (uv, after))
    expect(not any("VANISHED" in l or "FETCH" in l for l in lines), "nothing new", *lines)
    a.cmd("z LOGOUT")
    a.close()


def main():
    global srv
    srv = Server()
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "bob", PASSWORD], check=True,
                   timeout=120)
    srv.start()
    try:
        fill(60)
        status = run([test_no_highestmodseq_before_condstore, test_resync_after_absence])
    finally:
        srv.stop()
    if status:
        print(srv.log_text()[-3000:])
    return status


if __name__ == "__main__":
    sys.exit(main())
