"""What the IMAP and SMTP transcript tests share: reading server lines,
the pattern language of expected lines ("...", "{{regex}}",
"{{name:regex}}", "${name}"), the runner that plays C:/S:/S~:/S&: steps
over numbered connections, and the template root holding the scripts'
users (made once: each costs an RSA-4096 key)."""

import os
import re
import socket

from sealtest import Server, run


class ScriptError(AssertionError):
    pass


def make_template(users):
    """A users/ directory holding every user any script needs ({name:
    password}); returns its path."""
    tmpl = Server(listen=())
    tmpl.start()
    try:
        for name, password in sorted(users.items()):
            tmpl.admin("user", "add", name, "--password-stdin", input=password + "\n")
    finally:
        tmpl.stop()
    return os.path.join(tmpl.root, "users")


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def readline(self, timeout=10):
        """The next CRLF-terminated line without it; None when the server
        closed; a last unterminated line as it is."""
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


class Runner:
    """Plays a script's steps (lineno, kind, conn, mod, text, body). A
    protocol's runner provides open(kind) for new connections,
    directive() for "!" lines, and may handle more kinds in step()."""

    def __init__(self, path, header, srv):
        self.path, self.header, self.srv = path, header, srv
        self.conns, self.vars, self.log = {}, {}, []

    def open(self, kind):
        raise NotImplementedError

    def conn(self, n, kind=None):
        if n not in self.conns:
            self.conns[n] = Conn(self.open(kind))
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

    def directive(self, lineno, text, body):
        self.fail(lineno, "unknown directive %r" % text)

    def step(self, lineno, kind, n, text):
        self.fail(lineno, "unknown step kind %r" % kind)

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
            elif kind != "S":
                self.step(lineno, kind, n, text)
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


def run_scripts(scripts, parse, run_script):
    """Makes the template with every user the scripts name (one password
    per user across scripts), then runs each script as a test:
    run_script(path, template). Returns the exit status."""
    users = {}
    for path in scripts:
        for name, password in parse(path)[0]["users"].items():
            if users.setdefault(name, password) != password:
                raise ScriptError("user %s has two passwords across scripts" % name)
    template = make_template(users)
    tests = []
    for path in scripts:
        t = (lambda p: lambda: run_script(p, template))(path)
        t.__name__ = os.path.splitext(os.path.basename(path))[0]
        tests.append(t)
    return run(tests)
