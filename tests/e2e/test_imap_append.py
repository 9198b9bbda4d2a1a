"""APPEND against the real server: Python's imaplib through the whole
client scenario (login, list, create, append, fetch body structure and
partial bodies, search, store, copy, move, expunge, idle); a 20 MiB
message streamed through without the server's memory growing by its size;
binary and 8-bit content stored byte for byte; a client that disconnects
in the middle of a literal leaves nothing behind; and no appended byte is
readable in the data directory."""

import base64
import imaplib
import os
import re
import subprocess
import sys
import time

from sealtest import Server, client_context, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
PASSWORD = "append password"
MARKER = b"Zebra-Quokka-7731 appended secret"

srv = None


def login():
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    m.login("alice", PASSWORD)
    return m


def raw_login():
    c = srv.connect(timeout=60)
    c.readline()
    expect(c.cmd('a LOGIN alice "%s"' % PASSWORD)[-1].startswith("a OK"), "raw login")
    return c


def rss_kib():
    with open("/proc/%d/status" % srv.proc.pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def message(subject, body):
    return (b"From: Alice <alice@example.org>\r\nTo: bob@example.org\r\n"
            b"Subject: " + subject + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
            b"--b1\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n"
            b"--b1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\n")


def idle_start(m):
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    line = m.readline().decode()
    expect(line.startswith("+ "), "IDLE continuation", line)
    return tag


def idle_until(m, pattern):
    m.sock.settimeout(10)
    while True:
        line = m.readline().decode().rstrip("\r\n")
        if re.search(pattern, line):
            return line


def idle_done(m, tag):
    m.send(b"DONE\r\n")
    while True:
        line = m.readline().decode()
        if line.startswith(tag + " "):
            expect(line.startswith(tag + " OK"), "IDLE ends OK", line)
            return


def test_imaplib_scenario():
    m = login()
    typ, data = m.capability()
    expect(b"MULTIAPPEND" in data[0] and b"APPENDLIMIT=67108864" in data[0],
           "APPEND capabilities", data)
    typ, data = m.list()
    expect(typ == "OK" and any(d.endswith(b"Sent") for d in data), "list", data)
    expect(m.create("Work")[0] == "OK", "create")
    date = '"09-Mar-2024 14:05:00 +0100"'
    msg = message(b"quarterly numbers " + MARKER, b"The numbers are in. " + MARKER)
    typ, data = m.append("Work", r"(\Flagged $Todo)", date, msg)
    expect(typ == "OK" and re.match(rb"\[APPENDUID \d+ 1\]", data[0]), "append", data)
    typ, data = m.append("Work", None, None, message(b"second", b"plain words"))
    expect(typ == "OK" and re.match(rb"\[APPENDUID \d+ 2\]", data[0]), "append 2", data)
    typ, data = m.select("Work")
    expect(data == [b"2"], "two messages", data)
    typ, data = m.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] BODYSTRUCTURE)")
    expect(data[0][1] == msg, "the appended bytes come back", data)
    head = data[0][0]
    expect(b"\\Flagged" in head and b"$Todo" in head and b"\\Seen" not in head, "flags", head)
    expect(b'INTERNALDATE " 9-Mar-2024 14:05:00 +0100"' in head, "internal date", head)
    expect(b"RFC822.SIZE %d" % len(msg) in head, "size", head)
    expect(b'"MIXED"' in head and b'"OCTET-STREAM"' in head, "bodystructure", head)
    typ, data = m.fetch("1", "(BODY.PEEK[1]<4.7>)")
    expect(data[0][1] == b"numbers", "partial body", data)
    typ, data = m.search(None, "BODY", "Quokka")
    expect(data == [b"1"], "search body", data)
    typ, data = m.search(None, "SUBJECT", "second")
    expect(data == [b"2"], "search subject", data)
    expect(m.store("2", "+FLAGS", r"(\Seen)")[0] == "OK", "store")
    typ, data = m.copy("1:2", "Archive")
    expect(typ == "OK" and b"COPYUID" in data[0], "copy", data)
    typ, data = m.uid("MOVE", "2", "Trash")
    expect(typ == "OK", "move", data)

    other = login()
    other.select("Work")
    tag = idle_start(other)
    time.sleep(0.05)
    t0 = time.monotonic()
    expect(m.append("Work", None, None, message(b"third", b"x"))[0] == "OK", "append 3")
    appended = time.monotonic()
    idle_until(other, r"^\* 2 EXISTS")
    heard = time.monotonic()
    expect(heard - appended < 0.1, "IDLE heard the APPEND in %.1f ms" % ((heard - t0) * 1000))
    expect(m.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK", "store deleted")
    idle_until(other, r"^\* 1 FETCH .*\\Deleted")
    expect(m.expunge()[0] == "OK", "expunge")
    idle_until(other, r"^\* 1 EXPUNGE")
    idle_done(other, tag)
    other.logout()
    m.logout()


def test_big_message_streams():
    line = b"".join(b"%07d the quick brown fox jumps over the lazy dog\r\n" % i
                    for i in range(1000))
    big = b"Subject: big\r\n\r\n" + line * (20 * 1024 * 1024 // len(line))
    c = raw_login()
    before = rss_kib()
    c.send(b"b APPEND INBOX {%d}\r\n" % len(big))
    expect(c.readline().startswith("+ "), "continuation for the big literal")
    peak = before
    for off in range(0, len(big), 1 << 20):
        c.send(big[off:off + (1 << 20)])
        peak = max(peak, rss_kib())
    c.send(b"\r\n")
    reply = c.readline()
    expect(reply.startswith("b OK [APPENDUID"), "big append", reply)
    peak = max(peak, rss_kib())
    print("  20 MiB APPEND: server RSS %d KiB before, %d KiB at most during"
          % (before, peak))
    expect(peak - before < 8 * 1024, "server memory did not hold the message",
           before, peak)
    uid = re.search(r"APPENDUID \d+ (\d+)", reply).group(1)
    m = login()
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", uid, "(BODY.PEEK[])")
    expect(data[0][1] == big, "20 MiB come back byte for byte")
    m.logout()
    c.cmd("z LOGOUT")


def test_binary_and_8bit_kept():
    data = (b"Subject: caf\xc3\xa9 \xff\r\n\r\nnul\x00here\nbare lf\rcr\r\n"
            + bytes(range(256)))
    c = raw_login()
    c.send(b"c APPEND INBOX ~{%d+}\r\n" % len(data) + data + b"\r\n")
    reply = c.readline()
    expect(reply.startswith("c OK [APPENDUID"), "binary literal append", reply)
    uid1 = re.search(r"APPENDUID \d+ (\d+)", reply).group(1)
    c.send(b"d APPEND INBOX {%d+}\r\n" % len(data) + data + b"\r\n")
    reply = c.readline()
    expect(reply.startswith("d OK [APPENDUID"), "NULs in a plain literal are kept", reply)
    uid2 = re.search(r"APPENDUID \d+ (\d+)", reply).group(1)
    c.cmd("z LOGOUT")
    m = login()
    m.select("INBOX", readonly=True)
    for uid in (uid1, uid2):
        typ, got = m.uid("FETCH", uid, "(BODY.PEEK[])")
        expect(got[0][1] == data, "bytes kept exactly", got)
    m.logout()


def count(box):
    m = login()
    typ, data = m.status(box, "(MESSAGES)")
    m.logout()
    return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))


def tmp_files():
    out = []
    for top, _, files in os.walk(os.path.join(srv.root, "users")):
        if os.path.basename(top) == "tmp":
            out += [f for f in files if f.startswith("msg.")]
    return out


def test_disconnect_mid_literal_leaves_nothing():
    before = count("Drafts")
    c = raw_login()
    c.send(b"e APPEND Drafts {100000}\r\n")
    expect(c.readline().startswith("+ "), "continuation")
    c.send(b"Subject: cut short\r\n\r\n" + b"x" * 5000)
    time.sleep(0.2)
    c.close()
    # MULTIAPPEND cut after its first message: none of it lands.
    c = raw_login()
    c.send(b"f APPEND Drafts {5+}\r\nfirst {100+}\r\nsecond")
    time.sleep(0.2)
    c.close()
    deadline = time.time() + 10
    while tmp_files() and time.time() < deadline:
        time.sleep(0.05)
    expect(not tmp_files(), "no temporary file left", tmp_files())
    expect(count("Drafts") == before, "nothing appended to Drafts")


def test_multiappend_is_all_or_nothing():
    c = raw_login()
    before = count("Drafts")
    reply = c.cmd("g APPEND Drafts {3+}\r\none (\\Seen) {3+}\r\ntwo {3+}\r\nsix")[-1]
    expect(re.match(r"g OK \[APPENDUID \d+ \d+:\d+\]", reply), "three at once", reply)
    reply = c.cmd("h APPEND Drafts {3+}\r\none (\\Nonsense) {3+}\r\ntwo")[-1]
    expect(reply.startswith("h BAD"), "a bad second message", reply)
    expect(count("Drafts") == before + 3, "the bad MULTIAPPEND stored nothing")
    c.cmd("z LOGOUT")


def test_no_plaintext_on_disk():
    needles = [MARKER, base64.b64encode(MARKER)[:24], b"Quokka-7731"]
    for top, _, files in os.walk(srv.root):
        for name in files:
            path = os.path.join(top, name)
            if not os.path.isfile(path) or name.endswith(".pem") or name == "sealmail.toml":
                continue
            with open(path, "rb") as f:
                content = f.read()
            for n in needles:
                expect(n not in content, "plaintext %r found in %s" % (n, path))


def main():
    global srv
    srv = Server()
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "alice", PASSWORD], check=True,
                   timeout=120)
    srv.start()
    try:
        status = run([test_imaplib_scenario, test_big_message_streams,
                      test_binary_and_8bit_kept, test_disconnect_mid_literal_leaves_nothing,
                      test_multiappend_is_all_or_nothing, test_no_plaintext_on_disk])
    finally:
        srv.stop()
    if status:
        print(srv.log_text()[-4000:])
    return status


if __name__ == "__main__":
    sys.exit(main())
