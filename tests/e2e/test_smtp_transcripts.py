"""SMTP and LMTP transcript tests: every tests/smtp/*.t file is a
conversation with the real server on loopback, checked line by line, and
what was delivered is read back over IMAP.

Format of a .t file (one directive per line):

    # comment (ignored; so are blank lines)
    % user NAME [PASSWORD]     a user (PASSWORD defaults to "secret")
    % alias NAME TARGET        users/NAME, a symlink to users/TARGET
    % listen KIND              smtp, lmtp or lmtp-unix; the first one named
                               is connection 1's (default: smtp)
    % config LINE              a line for sealmail.toml (after [listen],
                               [tls] and [log]: start with a [section]);
                               [smtp.domains."example.com"] is always there,
                               and [dns] points at a closed port (SPF then
                               says temperror at once: no network needed)

    C: text                    client line on connection 1 (CRLF added)
    C2: text                   ... on connection 2 (any number)
    R: EXPR                    raw bytes on connection 1: a Python
                               expression, b"BDAT 3 LAST\\r\\nx\\0y" or
                               b"x" * 70000 + b"\\r\\n"
    S: pattern                 the next server line on connection 1 matches
    S~: pattern                skip lines on connection 1 until one matches
    S&: pattern                consecutive S&: lines match the same number
                               of server lines in any order
    S: <closed>                the server closed connection 1
    ! connect N [KIND]         open connection N now (its greeting is read
                               by S lines)
    ! sleep SECONDS
    ! count USER N             USER's INBOX holds N messages
    ! body USER N EXPR         message N of USER's INBOX, without the header
                               lines sealmail prepended (Authentication-
                               Results, Received-SPF, Received), is exactly
                               the bytes of the Python expression
    ! headers USER N           the lines of message N (split at CRLF), less
    | pattern                  the authentication results on top (owned by
                               protocols/mailauth and its tests), match the
                               "| " patterns that follow, in order
    ! signal TERM              SIGTERM to the server

Patterns: text matches itself, except "..." (any text, possibly empty),
"{{regex}}" and "{{name:regex}}" (which also saves ${name} for later C:
and S: lines). Each server line must arrive within 10 seconds; server
lines must end in CRLF.

Users are made once in a template root and copied into each script's own
root, because making one costs an RSA-4096 key generation.
"""

import glob
import imaplib
import os
import re
import shutil
import signal
import socket
import sys

from sealtest import Server, client_context, run

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "..", "smtp", "*.t")))
LINE_RE = re.compile(r"^([CSR])(\d*)([~&]?):(?: (.*))?$")
DOMAIN = '[smtp.domains."example.com"]'
NO_DNS = '[dns]\nservers = ["127.0.0.1:9"]'
TEMPLATE = None


class ScriptError(AssertionError):
    pass


def parse(path):
    header = {"users": {}, "aliases": [], "listen": [], "config": []}
    steps = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        raw, lineno = lines[i], i + 1
        i += 1
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("% "):
            words = raw[2:].split()
            if words[0] == "user":
                header["users"][words[1]] = words[2] if len(words) > 2 else "secret"
            elif words[0] == "alias":
                header["aliases"].append((words[1], words[2]))
            elif words[0] == "config":
                header["config"].append(raw[len("% config "):])
            elif words[0] == "listen":
                header["listen"] += [w for w in words[1:] if w not in header["listen"]]
            else:
                raise ScriptError("%s:%d: unknown header %r" % (path, lineno, raw))
            continue
        if raw.startswith("! "):
            body = []
            while i < len(lines) and lines[i].startswith("|"):
                body.append(lines[i][2:] if lines[i].startswith("| ") else lines[i][1:])
                i += 1
            steps.append((lineno, "!", None, "", raw[2:], body))
            continue
        m = LINE_RE.match(raw)
        if not m:
            raise ScriptError("%s:%d: cannot parse %r" % (path, lineno, raw))
        steps.append((lineno, m.group(1), int(m.group(2) or 1), m.group(3),
                      m.group(4) or "", None))
    if not header["listen"]:
        header["listen"] = ["smtp"]
    return header, steps


def make_template(users):
    global TEMPLATE
    tmpl = Server(listen=())
    tmpl.start()
    try:
        for name, password in sorted(users.items()):
            tmpl.admin("user", "add", name, "--password-stdin", input=password + "\n")
    finally:
        tmpl.stop()
    TEMPLATE = os.path.join(tmpl.root, "users")


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def readline(self, timeout=10):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise ScriptError("timed out waiting for a server line")
            except OSError:
                data = b""
            if not data:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line.decode("utf-8", "replace")
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.endswith(b"\r"):
            raise ScriptError("server line without CR: %r" % line)
        return line[:-1].decode("utf-8", "replace")


def pattern(text):
    out, pos = "", 0
    for m in re.finditer(r"\{\{(?:(\w+):)?(.*?)\}\}|\.\.\.", text):
        out += re.escape(text[pos:m.start()])
        if m.group(0) == "...":
            out += ".*"
        elif m.group(1):
            out += "(?P<%s>%s)" % (m.group(1), m.group(2))
        else:
            out += "(?:%s)" % m.group(2)
        pos = m.end()
    return re.compile(out + re.escape(text[pos:]) + r"\Z", re.S)


PREPENDED = re.compile(rb"^(Authentication-Results|Received-SPF|Received):")
AUTH_RESULTS = re.compile(rb"^(Authentication-Results|Received-SPF):")


def strip_prepended(msg, which=PREPENDED):
    """The message without the header lines sealmail put on top."""
    lines = msg.split(b"\r\n")
    i = 0
    while i < len(lines) and which.match(lines[i]):
        i += 1
        while i < len(lines) and lines[i][:1] in (b"\t", b" "):
            i += 1
    return b"\r\n".join(lines[i:])


class Runner:
    def __init__(self, path, header, srv):
        self.path, self.header, self.srv = path, header, srv
        self.conns, self.vars, self.log = {}, {}, []

    def conn(self, n, kind=None):
        if n not in self.conns:
            kind = kind or self.header["listen"][0]
            if kind == "lmtp-unix":
                raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                raw.connect(self.srv.lmtp_unix)
            else:
                raw = socket.create_connection(("127.0.0.1", self.srv.ports[kind]),
                                               timeout=10)
            self.conns[n] = Conn(raw)
        return self.conns[n]

    def subst(self, text):
        return re.sub(r"\$\{(\w+)\}", lambda m: self.vars[m.group(1)], text)

    def matches(self, pat, line):
        if pat == "<closed>":
            return line is None
        if line is None:
            return False
        m = pattern(pat).match(line)
        if m:
            self.vars.update({k: v for k, v in m.groupdict().items() if v is not None})
        return m is not None

    def fail(self, lineno, what):
        tail = "\n".join(self.log[-25:])
        raise ScriptError("%s:%d: %s\n--- last lines ---\n%s" %
                          (os.path.basename(self.path), lineno, what, tail))

    def expect(self, lineno, n, mod, text):
        c = self.conn(n)
        pat = self.subst(text)
        if mod == "~":
            for _ in range(100000):
                line = c.readline()
                self.log.append("S%d: %s" % (n, line))
                if self.matches(pat, line):
                    return
                if line is None:
                    break
            self.fail(lineno, "no line matched %r" % pat)
        line = c.readline()
        self.log.append("S%d: %s" % (n, line))
        if not self.matches(pat, line):
            self.fail(lineno, "expected %r, got %r" % (pat, line))

    def expect_unordered(self, group):
        lineno, n = group[0][0], group[0][2]
        c = self.conn(n)
        pats = [self.subst(s[4]) for s in group]
        for _ in range(len(pats)):
            line = c.readline()
            self.log.append("S%d: %s" % (n, line))
            hit = next((p for p in pats if self.matches(p, line)), None)
            if hit is None:
                self.fail(lineno, "%r matches none of %r" % (line, pats))
            pats.remove(hit)

    def fetch(self, lineno, user, n):
        """Message n of user's INBOX over IMAP (None when absent), and the
        number of messages there."""
        m = imaplib.IMAP4_SSL("127.0.0.1", self.srv.ports["imaps"],
                              ssl_context=client_context())
        try:
            m.login(user, self.header["users"][user])
            typ, data = m.select("INBOX", readonly=True)
            count = int(data[0])
            if n > count:
                return None, count
            typ, data = m.fetch(str(n), "(BODY.PEEK[])")
            return data[0][1], count
        finally:
            m.logout()

    def directive(self, lineno, text, body):
        words = text.split()
        if words[0] == "sleep":
            import time
            time.sleep(float(words[1]))
        elif words[0] == "connect":
            self.conn(int(words[1]), words[2] if len(words) > 2 else None)
        elif words[0] == "count":
            _, count = self.fetch(lineno, words[1], 1)
            if count != int(words[2]):
                self.fail(lineno, "%s has %d messages, not %s" % (words[1], count, words[2]))
        elif words[0] == "body":
            msg, count = self.fetch(lineno, words[1], int(words[2]))
            want = eval(text.split(None, 3)[3])
            if msg is None:
                self.fail(lineno, "%s has only %d messages" % (words[1], count))
            got = strip_prepended(msg)
            if got != want:
                self.fail(lineno, "message differs:\n got %r\nwant %r" % (got[:2000], want[:2000]))
        elif words[0] == "headers":
            msg, count = self.fetch(lineno, words[1], int(words[2]))
            if msg is None:
                self.fail(lineno, "%s has only %d messages" % (words[1], count))
            lines = strip_prepended(msg, AUTH_RESULTS).decode("utf-8", "replace").split("\r\n")
            for i, pat in enumerate(body):
                if i >= len(lines) or not self.matches(self.subst(pat), lines[i]):
                    self.fail(lineno, "header line %d: %r does not match %r"
                              % (i + 1, lines[i] if i < len(lines) else None, pat))
        elif words[0] == "signal":
            self.srv.signal(getattr(signal, "SIG" + words[1]))
        else:
            self.fail(lineno, "unknown directive %r" % text)

    def run(self, steps):
        i = 0
        while i < len(steps):
            lineno, kind, n, mod, text, body = steps[i]
            if kind == "!":
                self.directive(lineno, text, body)
            elif kind == "C":
                line = self.subst(text)
                self.log.append("C%d: %s" % (n, line))
                self.conn(n).sock.sendall(line.encode("utf-8") + b"\r\n")
            elif kind == "R":
                data = eval(text)
                self.log.append("R%d: %r" % (n, data[:200]))
                self.conn(n).sock.sendall(data)
            elif mod == "&":
                j = i
                while j < len(steps) and steps[j][1] == "S" and steps[j][3] == "&" \
                        and steps[j][2] == n:
                    j += 1
                self.expect_unordered(steps[i:j])
                i = j
                continue
            else:
                self.expect(lineno, n, mod, text)
            i += 1
        for c in self.conns.values():
            c.sock.close()


def run_script(path):
    header, steps = parse(path)
    tcp = ["imaps"] + [k for k in header["listen"] if k != "lmtp-unix"]
    dns = [] if "[dns]" in header["config"] else [NO_DNS]
    srv = Server(listen=tuple(tcp), extra="\n".join([DOMAIN] + dns + header["config"]))
    with srv:
        if "lmtp-unix" in header["listen"]:
            srv.lmtp_unix = os.path.join(srv.dir, "lmtp.sock")
            text = open(srv.config).read().replace(
                "[listen]\n", '[listen]\nlmtp = ["unix:%s"]\n' % srv.lmtp_unix, 1)
            srv.write_config(text)
        for name in header["users"]:
            shutil.copytree(os.path.join(TEMPLATE, name),
                            os.path.join(srv.root, "users", name), symlinks=True)
        for name, target in header["aliases"]:
            os.symlink(target, os.path.join(srv.root, "users", name))
        srv.start()
        try:
            Runner(path, header, srv).run(steps)
        except Exception:
            sys.stderr.write(srv.log_text()[-4000:])
            raise
        code = srv.stop()
        if code != 0:
            raise ScriptError("server exit status %d" % code)


def main():
    users = {}
    for path in SCRIPTS:
        for name, password in parse(path)[0]["users"].items():
            if users.setdefault(name, password) != password:
                raise ScriptError("user %s has two passwords across scripts" % name)
    make_template(users)
    tests = []
    for path in SCRIPTS:
        name = os.path.splitext(os.path.basename(path))[0]
        t = (lambda p: lambda: run_script(p))(path)
        t.__name__ = name
        tests.append(t)
    sys.exit(run(tests))


main()
