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

import transcript
from sealtest import Server, client_context
from transcript import ScriptError

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "..", "smtp", "*.t")))
LINE_RE = re.compile(r"^([CSR])(\d*)([~&]?):(?: (.*))?$")
DOMAIN = '[smtp.domains."example.com"]'
NO_DNS = '[dns]\nservers = ["127.0.0.1:9"]'


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


class SmtpRunner(transcript.Runner):
    def open(self, kind):
        kind = kind or self.header["listen"][0]
        if kind == "lmtp-unix":
            raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            raw.connect(self.srv.lmtp_unix)
            return raw
        return socket.create_connection(("127.0.0.1", self.srv.ports[kind]), timeout=10)

    def step(self, lineno, kind, n, text):
        if kind != "R":
            return super().step(lineno, kind, n, text)
        data = eval(text)
        self.log.append("R%d: %r" % (n, data[:200]))
        self.conn(n).sock.sendall(data)

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


def run_script(path, template):
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
            shutil.copytree(os.path.join(template, name),
                            os.path.join(srv.root, "users", name), symlinks=True)
        for name, target in header["aliases"]:
            os.symlink(target, os.path.join(srv.root, "users", name))
        srv.start()
        try:
            SmtpRunner(path, header, srv).run(steps)
        except Exception:
            sys.stderr.write(srv.log_text()[-4000:])
            raise
        code = srv.stop()
        if code != 0:
            raise ScriptError("server exit status %d" % code)


sys.exit(transcript.run_scripts(SCRIPTS, parse, run_script))
