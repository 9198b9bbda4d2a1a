"""COMPRESS=DEFLATE (RFC 4978) against the real server: an imaplib client
whose socket is wrapped in raw DEFLATE after COMPRESS goes through a whole
scenario (list, select, append, fetch, store, search, copy, expunge), IDLE
hears another session's APPEND promptly through the compressor, a second
COMPRESS is [COMPRESSIONACTIVE], and compression before login works."""

import imaplib
import os
import re
import subprocess
import sys
import time
import zlib

from sealtest import Server, client_context, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
PASSWORD = "squeeze me"
srv = None
imaplib.Commands.setdefault("COMPRESS", ("NONAUTH", "AUTH", "SELECTED"))


class DeflateIMAP(imaplib.IMAP4_SSL):
    """imaplib over TLS, switched to raw DEFLATE by compress()."""

    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        expect(typ == "OK", "COMPRESS DEFLATE", data)
        self.zout = zlib.compressobj(wbits=-15)
        self.zin = zlib.decompressobj(wbits=-15)
        self.zbuf = b""
        self.wire_in = self.wire_out = 0

    def send(self, data):
        if not hasattr(self, "zout"):
            return super().send(data)
        packed = self.zout.compress(data) + self.zout.flush(zlib.Z_SYNC_FLUSH)
        self.wire_out += len(packed)
        self.sock.sendall(packed)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("socket closed")
        self.wire_in += len(chunk)
        self.zbuf += self.zin.decompress(chunk)

    def read(self, size):
        if not hasattr(self, "zin"):
            return super().read(size)
        while len(self.zbuf) < size:
            self._fill()
        data, self.zbuf = self.zbuf[:size], self.zbuf[size:]
        return data

    def readline(self):
        if not hasattr(self, "zin"):
            return super().readline()
        while b"\n" not in self.zbuf:
            self._fill()
        line, self.zbuf = self.zbuf.split(b"\n", 1)
        return line + b"\n"


def connect():
    return DeflateIMAP("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())


def message(n):
    return (b"From: a@example.org\r\nSubject: squeezed %d\r\n\r\n" % n
            + b"compressible line of text\r\n" * 200)


def test_scenario_through_deflate():
    m = connect()
    m.login("alice", PASSWORD)
    typ, data = m.capability()
    expect(b"COMPRESS=DEFLATE" in data[0], "COMPRESS=DEFLATE offered", data)
    m.compress()
    typ, data = m.list()
    expect(typ == "OK" and any(d.endswith(b"INBOX") for d in data), "list", data)
    expect(m.create("Squeeze")[0] == "OK", "create")
    for n in range(1, 6):
        typ, data = m.append("Squeeze", r"(\Seen)", None, message(n))
        expect(typ == "OK", "append %d" % n, data)
    typ, data = m.select("Squeeze")
    expect(data == [b"5"], "five messages", data)
    typ, data = m.fetch("3", "(BODY.PEEK[] FLAGS)")
    expect(data[0][1] == message(3), "body through deflate")
    expect(m.store("2", "+FLAGS", r"(\Deleted)")[0] == "OK", "store")
    typ, data = m.search(None, "SUBJECT", "squeezed")
    expect(data == [b"1 2 3 4 5"], "search", data)
    typ, data = m.copy("1:2", "Archive")
    expect(typ == "OK", "copy", data)
    typ, data = m.expunge()
    expect(data == [b"2"], "expunge", data)
    typ, data = m._simple_command("COMPRESS", "DEFLATE")
    expect(typ == "NO" and data[0].startswith(b"[COMPRESSIONACTIVE]"),
           "second COMPRESS refused", typ, data)
    print("  wire bytes: %d in, %d out" % (m.wire_in, m.wire_out))
    expect(m.wire_in < 5 * len(message(1)), "responses were compressed", m.wire_in)
    m.logout()


def test_idle_is_not_stuck_in_the_compressor():
    m = connect()
    m.login("alice", PASSWORD)
    m.compress()
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    expect(m.readline().startswith(b"+ "), "IDLE continuation")
    other = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    other.login("alice", PASSWORD)
    m.sock.settimeout(10)
    t0 = time.monotonic()
    expect(other.append("INBOX", None, None, message(99))[0] == "OK", "append in other")
    appended = time.monotonic()
    while True:
        line = m.readline().decode()
        if re.match(r"^\* \d+ EXISTS", line):
            break
    heard = time.monotonic()
    print("  IDLE under DEFLATE heard the APPEND %.1f ms after it completed"
          % ((heard - appended) * 1000))
    expect(heard - appended < 0.1, "notification flushed through DEFLATE (%.1f ms)"
           % ((heard - t0) * 1000))
    m.send(b"DONE\r\n")
    while not m.readline().decode().startswith(tag + " OK"):
        pass
    other.logout()
    m.logout()


def test_compress_before_login():
    m = connect()
    m.compress()
    typ, _ = m.login("alice", PASSWORD)
    expect(typ == "OK", "login over DEFLATE")
    typ, data = m.status("INBOX", "(MESSAGES)")
    expect(typ == "OK", "status", data)
    m.logout()


def test_bad_algorithm():
    c = srv.connect()
    c.readline()
    expect(c.cmd("a COMPRESS LZMA")[-1].startswith("a BAD"), "unknown algorithm")
    expect(c.cmd("b COMPRESS")[-1].startswith("b BAD"), "no algorithm")
    expect(c.cmd("c NOOP")[-1].startswith("c OK"), "connection still usable")
    c.close()


def main():
    global srv
    srv = Server()
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "alice", PASSWORD], check=True,
                   timeout=120)
    srv.start()
    try:
        status = run([test_scenario_through_deflate, test_idle_is_not_stuck_in_the_compressor,
                      test_compress_before_login, test_bad_algorithm])
    finally:
        srv.stop()
    if status:
        print(srv.log_text()[-3000:])
    return status


if __name__ == "__main__":
    sys.exit(main())
