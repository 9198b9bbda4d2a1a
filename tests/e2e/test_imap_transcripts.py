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
import time

import transcript
from sealtest import SEALMAIL, Server, client_context
from transcript import ScriptError

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "..", "imap", "*.t")))
LINE_RE = re.compile(r"^([CS])(\d*)([~&]?):(?: (.*))?$")


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


class ImapRunner(transcript.Runner):
    def open(self, kind):
        kind = kind or "imaps"
        raw = socket.create_connection(("127.0.0.1", self.srv.ports[kind]), timeout=10)
        return client_context().wrap_socket(raw) if kind == "imaps" else raw

    def directive(self, lineno, text, body):
        words = text.split()
        if words[0] == "deliver":
            deliver(self.srv.root, words[1:], body)
        elif words[0] == "sleep":
            time.sleep(float(words[1]))
        elif words[0] == "connect":
            self.conn(int(words[1]), words[2] if len(words) > 2 else "imaps")
        else:
            self.fail(lineno, "unknown directive %r" % text)


def deliver(root, args, body):
    user, rest = args[0], args[1:]
    data = ("\n".join(body) + "\n").encode("utf-8")
    r = subprocess.run([SEALMAIL, "deliver", "--root", root, "--user", user] + rest,
                       input=data, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise ScriptError("deliver failed: %s" % r.stderr.decode())


def run_script(path, template):
    header, steps = parse(path)
    with Server(listen=tuple(header["listen"]), extra="\n".join(header["config"])) as srv:
        for name in header["users"]:
            shutil.copytree(os.path.join(template, name),
                            os.path.join(srv.root, "users", name), symlinks=True)
        srv.start()
        for args, body in header["deliver"]:
            deliver(srv.root, args, body)
        try:
            ImapRunner(path, header, srv).run(steps)
        except Exception:
            sys.stderr.write(srv.log_text()[-4000:])
            raise
        code = srv.stop()
        if code != 0:
            raise ScriptError("server exit status %d" % code)


sys.exit(transcript.run_scripts(SCRIPTS, parse, run_script))
