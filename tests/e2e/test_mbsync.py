"""Debian's isync (mbsync 1.4) against the real server: a 500-message
account in three mailboxes (one nested) is pulled into a local Maildir
(and two local drafts pushed); then both sides change (new messages,
flags, deletions, mailboxes made on each side) and a second sync makes
them converge, so both directions run twice; a third sync changes
nothing, by mbsync's own counters and by a snapshot of both sides.

Messages are compared byte for byte. mbsync legitimately does two things
to a message it copies: it converts line ends (CRLF on the IMAP side, LF in
the Maildir) and it writes its transaction id as the last header line,
"X-TUID: " and 12 characters, in either direction. Nothing else is
normalised.

Skips (77) when mbsync is not installed; install-deps.sh --tests installs
isync."""

import base64
import hashlib
import imaplib
import os
import pty
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import time

import sealtest
from sealtest import SEALMAIL, Server, client_context, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
MBSYNC = shutil.which("mbsync")
MBSYNC_VERSION = ""
PASSWORD = "secret password"
SYSTEM_FLAGS = {"\\Seen": "S", "\\Flagged": "F", "\\Answered": "R", "\\Draft": "D",
                "\\Deleted": "T"}
LETTERS = {v: k for k, v in SYSTEM_FLAGS.items()}
FIRST_BOXES = {"INBOX": 300, "Archive": 150, "Lists/dev": 50}
# What a new account has, and the parent CREATE "Lists/dev" makes.
DEFAULT_BOXES = {"Archive", "Drafts", "INBOX", "Sent", "Spam", "Trash", "Lists"}
TUID = re.compile(rb"X-TUID: [^\r\n]{12}\r?\n")

srv = None
mail = None        # the local Maildir root
config = None      # the mbsyncrc
model = {}         # mailbox -> {Message-ID: Msg}: what both sides must hold
steps_done = []


class Msg:
    """A message as the test made it. origin "server": body is what went
    in over IMAP or `sealmail deliver` (CRLF); origin "local": body is the
    Maildir file as the test wrote it (LF)."""

    def __init__(self, body, flags=(), keywords=(), origin="server"):
        self.body = body
        self.flags = set(flags)
        self.keywords = set(keywords)
        self.origin = origin


# ---- messages -----------------------------------------------------------------


def words(rng, n):
    vocab = ["sealed", "mail", "quarterly", "report", "lorem", "ipsum", "delta", "orbit",
             "kernel", "patch", "review", "merge", "coffee", "budget", "flag", "sync"]
    return " ".join(rng.choice(vocab) for _ in range(n))


def text_lines(rng, n, width=70):
    return b"".join(words(rng, rng.randint(3, width // 7)).encode() + b"\r\n"
                    for _ in range(n))


def make_message(i, rng):
    """Message i: mostly small plain text; one in ten multipart/mixed with
    a binary attachment, one in ten multipart/alternative; ten of 300 KiB;
    one in 25 with raw 8-bit headers and body (UTF-8; message 130 has a
    Latin-1 subject); one without a final line end, one with an empty
    body."""
    mid = b"<m%03d.%d@sealmail.test>" % (i, rng.randint(1000, 9999))
    subject = ("message %d: " % i + words(rng, 4)).encode()
    frm = b"Alice Example <alice@example.org>"
    if i % 25 == 5:
        subject = "Grüße aus Köln № %d — ünïcödé".encode() % i
        frm = "Jürgen Müller <jürgen@exämple.org>".encode()
    if i == 130:
        subject = "Café crème %d".encode("latin-1") % i
    head = (b"From: " + frm + b"\r\n"
            b"To: alice@example.org\r\n"
            b"Subject: " + subject + b"\r\n"
            b"Date: Mon, 2 Sep 2024 %02d:%02d:%02d +0200\r\n" % (i % 24, i % 60, (i * 7) % 60)
            + b"Message-ID: " + mid + b"\r\n")
    if i == 42:
        return head + b"\r\nno line end at the end"
    if i == 43:
        return head + b"\r\n"
    if i % 10 == 3:
        blob = rng.randbytes(rng.randint(100, 40000))
        b64 = base64.encodebytes(blob).replace(b"\n", b"\r\n")
        return (head + b"MIME-Version: 1.0\r\n"
                b"Content-Type: multipart/mixed; boundary=\"b%03d\"\r\n\r\n" % i
                + b"This is a multi-part message in MIME format.\r\n"
                b"--b%03d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" % i
                + text_lines(rng, rng.randint(1, 20))
                + b"--b%03d\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" % i + b64
                + b"--b%03d--\r\n" % i)
    if i % 10 == 7:
        text = text_lines(rng, rng.randint(2, 30))
        return (head + b"MIME-Version: 1.0\r\n"
                b"Content-Type: multipart/alternative; boundary=\"alt%03d\"\r\n\r\n" % i
                + b"--alt%03d\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" % i
                + text + b"--alt%03d\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n" % i
                + b"<html><body><p>" + text.replace(b"\r\n", b"<br>\r\n")
                + b"</p></body></html>\r\n"
                + b"--alt%03d--\r\n" % i)
    if i % 50 == 11:
        return head + b"\r\n" + text_lines(rng, 4000, 78)
    if i % 25 == 5:
        return (head + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n\r\n"
                + "Schöne Grüße, ça va? 日本語のテキスト\r\n".encode() * rng.randint(1, 9))
    return head + b"\r\n" + text_lines(rng, rng.randint(1, 60))


def first_flags(i):
    flags = set()
    if i % 3 == 0:
        flags.add("\\Seen")
    if i % 10 == 1:
        flags.add("\\Flagged")
    if i % 13 == 2:
        flags.add("\\Answered")
    if i % 37 == 4:
        flags.add("\\Draft")
    return flags, ({"$Label1"} if i % 17 == 6 else set())


def local_message(n, rng, folder):
    """A message written into the Maildir as a mail client would: LF line
    ends, 8-bit text now and then."""
    text = "".join(words(rng, rng.randint(3, 9)) + "\n" for _ in range(rng.randint(1, 40)))
    if n % 4 == 1:
        text += "Grüße vom lokalen Rechner\n"
    return ("From: Alice <alice@example.org>\n"
            "To: bob@example.org\n"
            "Subject: local %d in %s\n"
            "Date: Tue, 3 Sep 2024 10:%02d:00 +0200\n"
            "Message-ID: <local%02d@sealmail.test>\n"
            "\n" % (n, folder, n, n) + text).encode()


def write_local(box, n, flags, rng):
    """Writes local message n into Maildir folder box (made if need be):
    new/ without flags, cur/ with their letters; adds it to the model."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(mail, box, sub), exist_ok=True)
    body = local_message(n, rng, box)
    name = "1725350400.M%06dP4242.sealtest" % n
    if flags:
        name = os.path.join("cur", name + ":2," + "".join(sorted(SYSTEM_FLAGS[f]
                                                                  for f in flags)))
    else:
        name = os.path.join("new", name)
    with open(os.path.join(mail, box, name), "wb") as f:
        f.write(body)
    model.setdefault(box, {})[message_id(body)] = Msg(body, flags, origin="local")


def message_id(body):
    head = re.split(rb"\r?\n\r?\n", body, 1)[0]
    m = re.search(rb"^Message-ID: (<[^>\r\n]+>)", head, re.M | re.I)
    return m.group(1).decode() if m else None


# ---- the server side ------------------------------------------------------------


def imap():
    c = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context(),
                          timeout=60)
    # imaplib writes an APPEND literal and its CRLF separately: with Nagle
    # each APPEND would wait out the server's delayed ACK (40 ms).
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.login("alice", PASSWORD)
    return c


def ok(result, what):
    typ, data = result
    expect(typ == "OK", what, typ, data)
    return data


def deliver(body, mailbox, flags=()):
    argv = [SEALMAIL, "deliver", "--root", srv.root, "--user", "alice", "--mailbox", mailbox]
    for f in sorted(flags):
        argv += ["--flag", f]
    r = subprocess.run(argv, input=body, capture_output=True, timeout=60)
    expect(r.returncode == 0, "deliver to " + mailbox, r.returncode, r.stderr)


def wait_for_counts(c, counts):
    """Polls STATUS until every mailbox holds its count (deliveries are
    taken in at login and on the daemon's notice)."""
    deadline = time.time() + 60
    while True:
        have = {}
        for box in counts:
            data = ok(c.status(quote(box), "(MESSAGES)"), "STATUS " + box)
            have[box] = int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
        if have == counts:
            return
        expect(time.time() < deadline, "deliveries arrive", have, counts)
        time.sleep(0.1)


def quote(box):
    return '"%s"' % box


def list_boxes(c):
    boxes = set()
    for line in ok(c.list(), "LIST"):
        m = re.match(rb'^\(([^)]*)\) "/" (.+)$', line)
        expect(m is not None, "LIST line", line)
        name = m.group(2).decode()
        if name.startswith('"'):
            name = name[1:-1]
        if "\\noselect" not in m.group(1).decode().lower():
            boxes.add(name)
    return boxes


def fetch_all(c, box, items):
    """UID FETCH 1:* of items in box: a list of (attributes, literal) with
    the attribute text around the literal joined up."""
    data = ok(c.select(quote(box), readonly=True), "EXAMINE " + box)
    if int(data[0]) == 0:
        return []
    data = ok(c.uid("FETCH", "1:*", items), "UID FETCH in " + box)
    out = []
    k = 0
    while k < len(data):
        d = data[k]
        if isinstance(d, tuple):
            attrs, lit = d[0], d[1]
            if k + 1 < len(data) and isinstance(data[k + 1], bytes):
                attrs += data[k + 1]
                k += 1
            out.append((attrs, lit))
        elif d is not None:
            out.append((d, None))
        k += 1
    return out


def parse_flags(attrs):
    m = re.search(rb"FLAGS \(([^)]*)\)", attrs)
    expect(m is not None, "FLAGS in", attrs)
    # \Recent belongs to a session, not to the message (RFC 3501 2.3.2).
    return set(m.group(1).decode().split()) - {"\\Recent"}


def server_state(with_bodies=True):
    """mailbox -> {Message-ID: (uid, flags, body)}, and per mailbox its
    STATUS (UIDVALIDITY UIDNEXT MESSAGES)."""
    c = imap()
    state, status = {}, {}
    for box in sorted(list_boxes(c)):
        data = ok(c.status(quote(box), "(MESSAGES UIDNEXT UIDVALIDITY)"), "STATUS")
        status[box] = data[0].split(b" ", 1)[1]
        msgs = {}
        items = "(UID FLAGS BODY.PEEK[])" if with_bodies else \
                "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
        for attrs, lit in fetch_all(c, box, items):
            uid = int(re.search(rb"UID (\d+)", attrs).group(1))
            mid = message_id(lit)
            expect(mid is not None and mid not in msgs, "one Message-ID each in " + box, mid)
            msgs[mid] = (uid, parse_flags(attrs), lit if with_bodies else None)
        state[box] = msgs
    c.logout()
    return state, status


# ---- the local side ---------------------------------------------------------------


def maildir_folders():
    found = set()
    for top, dirs, _files in os.walk(mail):
        if {"cur", "new", "tmp"} <= set(dirs):
            found.add(os.path.relpath(top, mail))
    return found


def maildir_flags(name):
    """The flags in a Maildir file name: the letters after ":2,"."""
    m = re.search(r":2,([A-Za-z]*)$", name)
    letters = m.group(1) if m else ""
    return {LETTERS[x] for x in letters if x in LETTERS}


def local_state():
    """folder -> {Message-ID: (path, flags, content)}."""
    state = {}
    for folder in maildir_folders():
        msgs = {}
        for sub in ("cur", "new"):
            d = os.path.join(mail, folder, sub)
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), "rb") as f:
                    body = f.read()
                mid = message_id(body)
                expect(mid is not None and mid not in msgs, "one Message-ID each in " + folder,
                       name, mid)
                msgs[mid] = (os.path.join(d, name), maildir_flags(name), body)
        state[folder] = msgs
    return state


def tree_snapshot():
    """Every file under the Maildir root (state files included): path and
    a digest of its content."""
    snap = {}
    for top, dirs, files in os.walk(mail):
        for name in dirs:
            snap[os.path.relpath(os.path.join(top, name), mail) + "/"] = ""
        for name in files:
            path = os.path.join(top, name)
            with open(path, "rb") as f:
                snap[os.path.relpath(path, mail)] = hashlib.sha256(f.read()).hexdigest()
    return snap


# ---- comparing -------------------------------------------------------------------


def without_tuid(body):
    """body with mbsync's X-TUID line taken out: at most one, and only as
    the last line of the header."""
    m = re.search(rb"\r?\n\r?\n", body)
    end = m.start() + (2 if body[m.start()] == 13 else 1) if m else len(body)
    head, rest = body[:end], body[end:]
    lines = head.splitlines(keepends=True)
    if lines and TUID.fullmatch(lines[-1]):
        lines = lines[:-1]
    head = b"".join(lines)
    expect(b"X-TUID" not in head, "X-TUID only as the last header line", body[:end])
    return head + rest


def lf(body):
    return body.replace(b"\r\n", b"\n")


def crlf(body):
    return re.sub(rb"(?<!\r)\n", b"\r\n", body)


def short(body):
    return body[:300] + (b"..." if len(body) > 300 else b"")


def check_converged(stage):
    """Both sides hold exactly the model: the same mailboxes, the same
    messages byte for byte (see the module comment), the same flags."""
    server, _ = server_state()
    local = local_state()
    expect(set(server) == set(model), stage + ": mailboxes on the server",
           sorted(server), sorted(model))
    expect(set(local) == set(model), stage + ": folders in the Maildir",
           sorted(local), sorted(model))
    for box in sorted(model):
        want = model[box]
        expect(set(server[box]) == set(want), "%s: messages on the server in %s" % (stage, box),
               "missing %s" % sorted(set(want) - set(server[box]))[:10],
               "extra %s" % sorted(set(server[box]) - set(want))[:10])
        expect(set(local[box]) == set(want), "%s: messages in the Maildir %s" % (stage, box),
               "missing %s" % sorted(set(want) - set(local[box]))[:10],
               "extra %s" % sorted(set(local[box]) - set(want))[:10])
        for mid, m in sorted(want.items()):
            _uid, sflags, sbody = server[box][mid]
            path, lflags, lbody = local[box][mid]
            if m.origin == "server":
                expect(sbody == m.body, "%s: server copy of %s %s unchanged" % (stage, box, mid),
                       short(sbody), short(m.body))
                expect(without_tuid(lbody) == lf(m.body),
                       "%s: local copy of %s %s is the server's" % (stage, box, mid),
                       short(lbody), short(m.body))
            else:
                expect(lbody == m.body, "%s: local file %s unchanged" % (stage, path),
                       short(lbody), short(m.body))
                expect(without_tuid(sbody) == crlf(m.body),
                       "%s: server copy of local %s %s" % (stage, box, mid),
                       short(sbody), short(m.body))
            system = {f for f in sflags if f.startswith("\\")}
            keywords = sflags - system
            expect(system == m.flags, "%s: server flags of %s %s" % (stage, box, mid),
                   sorted(system), sorted(m.flags))
            expect(keywords == m.keywords, "%s: server keywords of %s %s" % (stage, box, mid),
                   sorted(keywords), sorted(m.keywords))
            expect(lflags == m.flags, "%s: Maildir flags of %s" % (stage, path),
                   sorted(lflags), sorted(m.flags))


# ---- running mbsync -------------------------------------------------------------


def write_config():
    global config
    config = os.path.join(srv.dir, "mbsyncrc")
    with open(config, "w") as f:
        f.write("IMAPStore far\n"
                "Host 127.0.0.1\n"
                "Port %d\n"
                "User alice\n"
                'Pass "%s"\n'
                "SSLType IMAPS\n"
                "CertificateFile %s\n"
                "SystemCertificates no\n"
                "Timeout 60\n"
                "\n"
                "MaildirStore near\n"
                "Path %s/\n"
                "Inbox %s/INBOX\n"
                "SubFolders Verbatim\n"
                "\n"
                "Channel sealmail\n"
                "Far :far:\n"
                "Near :near:\n"
                "Patterns *\n"
                "Create Both\n"
                "Expunge Both\n"
                "SyncState *\n"
                % (srv.ports["imaps"], PASSWORD, srv.cert, mail, mail))


# mbsync's progress line (isync 1.4; 1.5 adds "-expunged/planned" per side):
# "C: 1/1  B: 8/8  F: +0/0 *0/0 #0/0  N: +500/500 *0/0 #0/0", channels and
# boxes done, then for the far (F) and near (N) side the new messages, flag
# changes and deletions made there, each as done/planned.
SIDE = r"\+(\d+)/(\d+) \*(\d+)/(\d+) #(\d+)/(\d+)(?: -(\d+)/(\d+))?"
STATS = re.compile(r"C: (\d+)/(\d+)  B: (\d+)/(\d+)  F: " + SIDE + "  N: " + SIDE)


def mbsync(stage):
    """Runs `mbsync -V -a` on a terminal, where mbsync shows its progress
    counters, and returns the last counters: {"far": (new, flags, deleted),
    "near": (...)}, each a count of changes made on that side."""
    master, slave = pty.openpty()
    env = dict(os.environ, HOME=srv.dir, LC_ALL="C")
    start = time.time()
    p = subprocess.Popen([MBSYNC, "-V", "-c", config, "-a"], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.time() + 100
    while True:
        left = deadline - time.time()
        if left <= 0:
            p.kill()
            p.wait()
            os.close(master)
            raise AssertionError("%s: mbsync still running after 100 s:\n%s"
                                 % (stage, out.decode("utf-8", "replace")[-4000:]))
        r, _, _ = select.select([master], [], [], min(left, 1))
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
    os.close(master)
    rc = p.wait()
    text = out.decode("utf-8", "replace").replace("\r\n", "\n")
    with open(os.path.join(srv.dir, "mbsync-%s.log" % stage), "w") as f:
        f.write(text)
    # Without the progress updates (each a line ending in CR) for reports.
    counters = [m.group(0) for m in STATS.finditer(text)]
    text = "\n".join(seg for seg in re.split(r"[\r\n]", text)
                     if seg and not STATS.fullmatch(seg)) + "\n" + "".join(counters[-1:])
    print("  mbsync %s: %.1fs" % (stage, time.time() - start), flush=True)
    expect(rc == 0, "%s: mbsync exits 0 (got %d)" % (stage, rc), text[-4000:])
    bad = [l for l in text.split("\n")
           if re.match(r"(Error|Warning|IMAP error|IMAP warning|Maildir error)", l)]
    expect(not bad, stage + ": no errors or warnings from mbsync", *bad)
    expect(counters, stage + ": mbsync's counters", text[-2000:])
    found = STATS.findall(counters[-1])
    n = [int(x) if x else 0 for x in found[-1]]
    expect(n[0] == n[1] == 1 and n[2] == n[3], stage + ": every channel and box done", n)
    for k in range(4, 20, 2):
        expect(n[k] == n[k + 1], stage + ": every change planned was made", found[-1])
    return {"far": (n[4], n[6], n[8] + n[10]), "near": (n[12], n[14], n[16] + n[18]),
            "boxes": n[3]}


# ---- the steps ---------------------------------------------------------------------


def require(*steps):
    for s in steps:
        expect(s in steps_done, "needs the earlier step " + s)


def test_first_sync_pulls_500_pushes_2():
    """The first sync pulls everything: 500 messages in three mailboxes,
    empty mailboxes as empty folders, flags as Maildir letters; the
    server is left as it was. INBOX and Archive are filled by APPEND,
    Lists/dev by `sealmail deliver`. Two drafts written offline in the
    local Drafts go the other way."""
    rng = random.Random(20240902)
    write_local("Drafts", 20, {"\\Draft"}, rng)
    write_local("Drafts", 21, {"\\Draft", "\\Seen"}, rng)
    c = imap()
    ok(c.create("Lists/dev"), "CREATE Lists/dev")
    i = 0
    for box in FIRST_BOXES:
        model[box] = {}
        for _ in range(FIRST_BOXES[box]):
            body = make_message(i, rng)
            flags, keywords = first_flags(i)
            if box == "Lists/dev":
                deliver(body, box, flags | keywords)
            else:
                ok(c.append(box, "(%s)" % " ".join(sorted(flags | keywords)), None, body),
                   "APPEND to " + box)
            model[box][message_id(body)] = Msg(body, flags, keywords)
            i += 1
    for box in DEFAULT_BOXES - set(model):
        model[box] = {}
    wait_for_counts(c, {box: len([x for x in m.values() if x.origin == "server"])
                        for box, m in model.items()})
    c.logout()

    stats = mbsync("first")
    expect(stats["near"] == (500, 0, 0) and stats["far"] == (2, 0, 0),
           "first sync: 500 new messages in the Maildir, 2 on the server, nothing else",
           stats)
    check_converged("first sync")
    steps_done.append("first")


def change_both_sides():
    """The changes before the second sync, on disjoint sets of messages so
    that the outcome does not depend on mbsync's conflict rules."""
    rng = random.Random(7)
    local = local_state()
    server, _ = server_state(with_bodies=False)

    def pick(box, n, pred=lambda m: True):
        taken = pick.used.setdefault(box, set())
        ids = [mid for mid in sorted(model[box]) if mid not in taken
               and model[box][mid].origin == "server" and pred(model[box][mid])]
        chosen = ids[:n]
        expect(len(chosen) == n, "enough messages to change in " + box)
        taken.update(chosen)
        return chosen
    pick.used = {}

    # On the server: flags, an expunge, \Deleted left for mbsync's
    # expunge, deliveries, APPENDs and a new mailbox.
    c = imap()
    def store(box, mids, op, flags):
        uids = ",".join(str(server[box][mid][0]) for mid in mids)
        ok(c.select(quote(box)), "SELECT " + box)
        ok(c.uid("STORE", uids, op, "(%s)" % " ".join(flags)), "UID STORE")
        for mid in mids:
            m = model[box][mid]
            m.flags = m.flags | set(flags) if op == "+FLAGS.SILENT" else m.flags - set(flags)

    store("INBOX", pick("INBOX", 5, lambda m: "\\Flagged" not in m.flags), "+FLAGS.SILENT",
          ["\\Flagged"])
    store("INBOX", pick("INBOX", 5, lambda m: "\\Seen" not in m.flags), "+FLAGS.SILENT",
          ["\\Seen"])
    store("INBOX", pick("INBOX", 3, lambda m: "\\Seen" in m.flags), "-FLAGS.SILENT",
          ["\\Seen"])
    store("Archive", pick("Archive", 2, lambda m: "\\Answered" not in m.flags), "+FLAGS.SILENT",
          ["\\Answered", "\\Draft"])
    gone = pick("INBOX", 4)
    store("INBOX", gone, "+FLAGS.SILENT", ["\\Deleted"])
    ok(c.expunge(), "EXPUNGE")
    c.close()
    for mid in gone:
        del model["INBOX"][mid]
    marked = pick("Archive", 2)
    store("Archive", marked, "+FLAGS.SILENT", ["\\Deleted"])
    ok(c.unselect(), "UNSELECT")  # left for mbsync's expunge
    ok(c.create("Receipts"), "CREATE Receipts")
    model["Receipts"] = {}
    c.logout()

    n = 500
    for box, count, flags in (("INBOX", 3, set()), ("Lists/dev", 2, {"\\Flagged"}),
                              ("Receipts", 2, {"\\Seen"})):
        for _ in range(count):
            body = make_message(n, rng)
            deliver(body, box, flags)
            model[box][message_id(body)] = Msg(body, flags)
            n += 1
    c = imap()
    for flags in ((), ("\\Seen",), ("\\Flagged", "\\Seen")):
        body = make_message(n, rng)
        ok(c.append("Archive", "(%s)" % " ".join(flags), None, body), "APPEND to Archive")
        model["Archive"][message_id(body)] = Msg(body, flags)
        n += 1
    wait_for_counts(c, {box: len(m) for box, m in model.items()})
    c.logout()
    for mid in marked:
        del model["Archive"][mid]

    # Locally: new messages (two in new folders), flags by renaming,
    # deletions by the T flag and by removing the file.
    def rename(box, mid, flags):
        path = local[box][mid][0]
        base = os.path.basename(path).split(":2,")[0]
        letters = "".join(sorted(SYSTEM_FLAGS[f] for f in flags))
        os.rename(path, os.path.join(mail, box, "cur", base + ":2," + letters))
        model[box][mid].flags = set(flags)

    for mid in pick("INBOX", 10, lambda m: "\\Seen" not in m.flags):
        rename("INBOX", mid, model["INBOX"][mid].flags | {"\\Seen"})
    for mid in pick("INBOX", 5, lambda m: "\\Flagged" not in m.flags):
        rename("INBOX", mid, model["INBOX"][mid].flags | {"\\Flagged"})
    for mid in pick("INBOX", 2, lambda m: m.keywords and "\\Flagged" not in m.flags):
        rename("INBOX", mid, model["INBOX"][mid].flags | {"\\Flagged"})
    for mid in pick("Lists/dev", 3, lambda m: "\\Seen" in m.flags):
        rename("Lists/dev", mid, model["Lists/dev"][mid].flags - {"\\Seen"})
    for box, n in (("INBOX", 5), ("Lists/dev", 2)):
        for mid in pick(box, n):
            rename(box, mid, model[box][mid].flags | {"\\Deleted"})
            del model[box][mid]
    for mid in pick("Archive", 3):
        os.unlink(local["Archive"][mid][0])
        del model["Archive"][mid]
    placed = [("INBOX", 10), ("Archive", 3), ("Lists/announce", 4), ("Projects", 3)]
    n = 0
    for box, count in placed:
        for _ in range(count):
            flags = [set(), {"\\Seen"}, {"\\Seen", "\\Flagged"}, {"\\Answered", "\\Seen"}][n % 4]
            write_local(box, n, flags, rng)
            n += 1
    expect(n == 20, "20 local messages")


def test_second_sync_both_ways():
    """Changes on both sides meet: the local messages and folders reach
    the server (byte for byte but for mbsync's X-TUID), the server's
    reach the Maildir, flags agree, deletions are gone on both sides."""
    require("first")
    change_both_sides()
    stats = mbsync("second")
    expect(stats["far"][0] == 20, "second sync: 20 new messages on the server", stats)
    expect(stats["near"][0] == 10, "second sync: 10 new messages in the Maildir", stats)
    if MBSYNC_VERSION.startswith("1.4."):
        # isync 1.4 counts a deletion it passes on as a flag change (\Deleted
        # or T). Far: 10 + 5 + 2 + 3 flags, 7 T flags, 3 removed files = 30.
        # Near: 5 + 5 + 3 + 2 flags, 4 expunged and 2 \Deleted = 21.
        expect(stats["far"][1:] == (30, 0) and stats["near"][1:] == (21, 0),
               "second sync: flag changes and deletions as made", stats)
    check_converged("second sync")
    steps_done.append("second")


def test_third_sync_changes_nothing():
    """After convergence a sync is a no-op: mbsync counts no change, and
    neither the server (UIDs, flags, bodies, UIDNEXT) nor the Maildir
    (names, contents, mbsync's own state files) differs afterwards."""
    require("second")
    before_server = server_state()
    before_local = tree_snapshot()
    stats = mbsync("third")
    expect(stats["far"] == (0, 0, 0) and stats["near"] == (0, 0, 0),
           "third sync: no change counted", stats)
    after_server = server_state()
    after_local = tree_snapshot()
    expect(after_server[1] == before_server[1], "server STATUS unchanged",
           before_server[1], after_server[1])
    for box in before_server[0]:
        expect(after_server[0].get(box) == before_server[0][box],
               "server mailbox unchanged: " + box)
    expect(set(after_server[0]) == set(before_server[0]), "same server mailboxes")
    changed = sorted(k for k in set(before_local) | set(after_local)
                     if before_local.get(k) != after_local.get(k))
    expect(not changed, "the Maildir unchanged", *changed[:20])
    check_converged("third sync")


def main():
    global srv, mail, MBSYNC_VERSION
    if not MBSYNC:
        print("skipped: mbsync (Debian package isync) is not installed")
        return 77
    out = subprocess.run([MBSYNC, "--version"], capture_output=True, text=True).stdout
    MBSYNC_VERSION = out.split()[-1] if out.split() else ""
    print("  " + out.strip())
    srv = Server()
    # mbsync checks the name it connects to against the certificate: the
    # same files, made again for CN=127.0.0.1.
    srv.cert, srv.key = sealtest.make_cert(srv.dir, cn="127.0.0.1")
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "alice", PASSWORD], check=True,
                   timeout=120)
    mail = os.path.join(srv.dir, "mail")
    os.makedirs(mail)
    srv.start()
    write_config()
    try:
        status = run([test_first_sync_pulls_500_pushes_2, test_second_sync_both_ways,
                      test_third_sync_changes_nothing])
        if srv.proc.poll() is not None:
            print("FAIL the server exited with %d" % srv.proc.returncode)
            status = 1
    finally:
        code = srv.stop()
    if code != 0:
        print("FAIL the server's exit status on SIGTERM: %s" % code)
        status = 1
    if status:
        print(srv.log_text()[-4000:])
        print("kept for inspection: " + srv.dir)
    else:
        shutil.rmtree(srv.dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
