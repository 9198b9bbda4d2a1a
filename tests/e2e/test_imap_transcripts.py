"""IMAP transcript tests: every tests/imap/*.t file is a conversation with
the real server on loopback, checked line by line.

Format of a .t file (one directive per line):

    # comment (ignored; so are blank lines)
    % user NAME [PASSWORD]     a user, made with `sealmail admin user add`
                               (PASSWORD defaults to "secret")
    % deliver NAME [ARGS...]   before the conversation: `sealmail deliver
    | message line              --user NAME ARGS`, the message being the
    | ...                       "| " lines that follow (LF line ends; deliver
                               turns them into CRLF)
    % listen imap              also open the cleartext listener
    % config LINE              a line for sealmail.toml (after [listen],
                               [tls] and [log]: start with a [section])

    C: text                    client line on connection 1 (CRLF added)
    C2: text                   ... on connection 2 (any number)
    S: pattern                 the next server line on connection 1 matches
    S2: pattern                ... on connection 2
    S~: pattern                skip lines on connection 1 until one matches
    S&: pattern                consecutive S&: lines of one connection match
                               the same number of server lines in any order
    S: <closed>                the server closed connection 1
    ! deliver NAME [ARGS...]   during the conversation (with "| " lines)
    ! sleep SECONDS
    ! connect N [imap|imaps]   open connection N now (default: at first use,
                               over imaps); its greeting is read by S lines

Patterns: text matches itself, except "..." (any text, possibly empty),
"{{regex}}" (a regular expression), and "{{name:regex}}" which also saves
what matched as ${name}; ${name} is replaced in later C: and S: lines.
Each server line must arrive within 10 seconds.

Users are made once in a template root and copied into each script's own
root, because making one costs an RSA-4096 key generation.
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

from sealtest import SEALMAIL, Server, client_context, run

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "..", "imap", "*.t")))
LINE_RE = re.compile(r"^([CS])(\d*)([~&]?):(?: (.*))?$")
TEMPLATE = None


class ScriptError(AssertionError):
    pass


def parse(path):
    """Returns (header, steps): header has users, deliveries, listeners;
    each step is (lineno, kind, conn, mod, text, body)."""
    header = {"users": {}, "deliver": [], "listen": ["imaps"], "config": []}
    steps = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        raw, lineno = lines[i], i + 1
        i += 1
        if not raw.strip() or raw.startswith("#"):
            continue
        body = None
        if raw.startswith(("% deliver", "! deliver")):
            body = []
            while i < len(lines) and lines[i].startswith("|"):
                body.append(lines[i][2:] if lines[i].startswith("| ") else lines[i][1:])
                i += 1
        if raw.startswith("% "):
            words = raw[2:].split()
            if words[0] == "user":
                header["users"][words[1]] = words[2] if len(words) > 2 else "secret"
            elif words[0] == "deliver":
                header["deliver"].append((words[1:], body))
            elif words[0] == "config":
                header["config"].append(raw[len("% config "):])
            elif words[0] == "listen":
                header["listen"] += [w for w in words[1:] if w not in header["listen"]]
            else:
                raise ScriptError("%s:%d: unknown header %r" % (path, lineno, raw))
            continue
        if raw.startswith("! "):
            steps.append((lineno, "!", None, "", raw[2:], body))
            continue
        m = LINE_RE.match(raw)
        if not m:
            raise ScriptError("%s:%d: cannot parse %r" % (path, lineno, raw))
        steps.append((lineno, m.group(1), int(m.group(2) or 1), m.group(3),
                      m.group(4) or "", None))
    return header, steps


def make_template(users):
    """A root whose users/ holds every user any script needs."""
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
            except (ConnectionResetError, OSError) as e:
                if isinstance(e, socket.timeout):
                    raise ScriptError("timed out waiting for a server line")
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


class Runner:
    def __init__(self, path, header, srv):
        self.path, self.header, self.srv = path, header, srv
        self.conns, self.vars, self.log = {}, {}, []

    def conn(self, n, kind="imaps"):
        if n not in self.conns:
            raw = socket.create_connection(("127.0.0.1", self.srv.ports[kind]), timeout=10)
            if kind == "imaps":
                raw = client_context().wrap_socket(raw)
            self.conns[n] = Conn(raw)
        return self.conns[n]

    def subst(self, text):
        return re.sub(r"\$\{(\w+)\}", lambda m: self.vars[m.group(1)], text)

    def pattern(self, text):
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

    def matches(self, pat, line):
        if pat == "<closed>":
            return line is None
        if line is None:
            return False
        m = self.pattern(pat).match(line)
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
            for _ in range(10000):
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

    def directive(self, lineno, text, body):
        words = text.split()
        if words[0] == "deliver":
            deliver(self.srv.root, words[1:], body)
        elif words[0] == "sleep":
            import time
            time.sleep(float(words[1]))
        elif words[0] == "connect":
            self.conn(int(words[1]), words[2] if len(words) > 2 else "imaps")
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


def deliver(root, args, body):
    user, rest = args[0], args[1:]
    data = ("\n".join(body) + "\n").encode("utf-8")
    r = subprocess.run([SEALMAIL, "deliver", "--root", root, "--user", user] + rest,
                       input=data, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise ScriptError("deliver failed: %s" % r.stderr.decode())


def run_script(path):
    header, steps = parse(path)
    with Server(listen=tuple(header["listen"]), extra="\n".join(header["config"])) as srv:
        for name in header["users"]:
            shutil.copytree(os.path.join(TEMPLATE, name),
                            os.path.join(srv.root, "users", name), symlinks=True)
        srv.start()
        for args, body in header["deliver"]:
            deliver(srv.root, args, body)
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
