"""The IMAP core against the real server: Python's imaplib through a whole
session, IDLE woken by `sealmail deliver` in another process, two sessions
of one user seeing each other's changes, login throttling, and logins
refused without TLS."""

import imaplib
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from sealtest import SEALMAIL, Server, client_context, expect, expect_match, run

srv = None
PASSWORD = "correct horse"


def deliver(user, text, *args):
    r = subprocess.run([SEALMAIL, "deliver", "--root", srv.root, "--user", user] + list(args),
                       input=text.encode(), capture_output=True, timeout=60)
    expect(r.returncode == 0, "deliver", r.stderr)


def login(user="alice"):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    m.login(user, PASSWORD)
    return m


def idle_start(m):
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    line = m.readline().decode()
    expect(line.startswith("+ "), "IDLE continuation", line)
    return tag


def idle_wait(m, pattern, timeout=10):
    """Reads untagged lines until one matches; returns (line, seconds)."""
    start = time.monotonic()
    m.sock.settimeout(timeout)
    while True:
        line = m.readline().decode().rstrip("\r\n")
        if re.search(pattern, line):
            return line, time.monotonic() - start


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
    expect(b"IDLE" in data[0] and b"NAMESPACE" in data[0] and b"AUTH=PLAIN" not in data[0],
           "post-login capabilities", data)
    typ, data = m.list()
    names = [d.decode() for d in data]
    for box in ("INBOX", "Archive", "Drafts", "Sent", "Spam", "Trash"):
        expect(any(n.endswith(" " + box) for n in names), "default mailbox " + box, names)
    expect(any("\\Junk" in n and n.endswith("Spam") for n in names), "special use", names)
    expect(m.create("Projects/2024")[0] == "OK", "create with a parent")
    typ, data = m.create("Projects/2024")
    expect(typ == "NO" and data[0].startswith(b"[ALREADYEXISTS]"), "create twice", data)
    expect(m.rename("Projects/2024", "Projects/2025")[0] == "OK", "rename")
    expect(m.subscribe("Projects/2025")[0] == "OK", "subscribe")
    typ, data = m.lsub('""', "Projects/*")
    expect(typ == "OK" and b"Projects/2025" in b" ".join(data), "lsub", data)
    expect(m.unsubscribe("Projects/2025")[0] == "OK", "unsubscribe")
    typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UNSEEN)")
    expect(typ == "OK" and b"MESSAGES" in data[0], "status", data)
    typ, data = m.select("INBOX")
    expect(typ == "OK", "select", data)
    typ, data = m.noop()
    expect(typ == "OK", "noop")
    tag = idle_start(m)
    t0 = time.monotonic()
    deliver("alice", "Subject: while idling\n\nhello\n")
    delivered = time.monotonic()
    line, _ = idle_wait(m, r"^\* \d+ EXISTS")
    arrived = time.monotonic()
    expect(arrived - delivered < 0.1,
           "IDLE woke within 100 ms of the delivery (%.1f ms; deliver took %.1f ms)"
           % ((arrived - delivered) * 1000, (delivered - t0) * 1000))
    print("  IDLE heard the delivery %.1f ms after `sealmail deliver` exited (it took %.1f ms)"
          % ((arrived - delivered) * 1000, (delivered - t0) * 1000))
    idle_done(m, tag)
    typ, data = m.select("Trash", readonly=True)
    expect(typ == "OK", "examine")
    expect(m.delete("Projects/2025")[0] == "OK", "delete")
    expect(m.delete("Projects")[0] == "OK", "delete the parent")
    typ, data = m.delete("INBOX")
    expect(typ == "NO", "INBOX cannot be deleted", data)
    expect(m.logout()[0] == "BYE", "logout")


def test_two_sessions_see_each_other():
    a, b = login("bob"), login("bob")
    deliver("bob", "Subject: keep\n\nk\n")
    deliver("bob", "Subject: drop\n\nd\n", "--flag", "\\Deleted")
    a.select("INBOX")
    typ, data = b.select("INBOX")
    expect(data == [b"2"], "both see two messages", data)
    # NOOP reports a delivery.
    deliver("bob", "Subject: new\n\nn\n")
    typ, _ = a.noop()
    expect(a.untagged_responses.get("EXISTS", [])[-1:] == [b"3"], "NOOP saw EXISTS",
           a.untagged_responses)
    # IDLE in b reports a's EXPUNGE within 100 ms.
    tag = idle_start(b)
    b.sock.settimeout(10)
    time.sleep(0.05)
    t0 = time.monotonic()
    typ, data = a.expunge()
    done = time.monotonic()
    expect(typ == "OK" and data == [b"2"], "a expunged message 2", data)
    line, _ = idle_wait(b, r"^\* 2 EXPUNGE")
    heard = time.monotonic()
    expect(heard - done < 0.1, "b's IDLE heard the expunge in %.1f ms" % ((heard - t0) * 1000))
    print("  b's IDLE heard a's EXPUNGE %.1f ms after a sent it" % ((heard - t0) * 1000))
    idle_done(b, tag)
    typ, data = b.noop()
    expect(typ == "OK", "b noop")
    a.logout()
    b.logout()


def raw_login(user, password, source="127.0.0.1"):
    """Logs in from a chosen loopback address; returns (reply, seconds)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind((source, 0))
    raw.settimeout(60)
    raw.connect(("127.0.0.1", srv.ports["imaps"]))
    s = client_context().wrap_socket(raw)
    f = s.makefile("rb")
    f.readline()
    start = time.monotonic()
    s.sendall(("t LOGIN %s \"%s\"\r\n" % (user, password)).encode())
    reply = f.readline().decode().rstrip()
    took = time.monotonic() - start
    s.close()
    return reply, took


def test_wrong_passwords_are_throttled():
    # dave logs in once first: his next login is a login cache hit, fast
    # even on a loaded machine, so any wait would be throttling.
    reply, _ = raw_login("dave", PASSWORD, "127.0.0.4")
    expect(reply.startswith("t OK"), "dave logs in", reply)
    for _ in range(4):
        reply, _ = raw_login("carol", "wrong", "127.0.0.2")
        expect_match(r"^t NO \[AUTHENTICATIONFAILED\]", reply)
    # The address has used its free failures: the next attempt waits.
    reply, took = raw_login("carol", PASSWORD, "127.0.0.2")
    expect(reply.startswith("t OK") and took >= 0.9, "address throttled", reply, took)
    # So does the user name, from another address...
    reply, took = raw_login("carol", "wrong", "127.0.0.3")
    expect(reply.startswith("t NO") and took >= 0.9, "user throttled", reply, took)
    # ...but another user from a fresh address does not wait.
    reply, took = raw_login("dave", PASSWORD, "127.0.0.4")
    expect(reply.startswith("t OK") and took < 0.9, "others unaffected", reply, took)
    expect("wrong" not in srv.log_text(), "passwords are not logged")


def test_plaintext_listener_refuses_login():
    c = srv.connect("imap")
    greeting = c.readline()
    expect_match(r"LOGINDISABLED", greeting)
    expect_match(r"^a NO \[PRIVACYREQUIRED\]", c.cmd("a LOGIN alice \"%s\"" % PASSWORD)[-1])
    expect_match(r"^b NO \[PRIVACYREQUIRED\]",
                 c.cmd("b AUTHENTICATE PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2U=")[-1])
    expect(c.cmd("c SELECT INBOX")[-1].startswith("c BAD"), "still not authenticated")
    c.close()


def test_selected_mailbox_deleted_by_another_session_ends_it():
    a, b = login("erin"), login("erin")
    a.create("Doomed")
    b.select("Doomed")
    expect(a.delete("Doomed")[0] == "OK", "delete from a")
    try:
        b.noop()
        raise AssertionError("b survived")
    except imaplib.IMAP4.abort as e:
        expect("deleted or renamed" in str(e), "BYE says why", e)
    a.logout()


def test_shutdown_says_bye_to_idlers():
    """Last: stops the server while a session idles."""
    m = login("alice")
    m.select("INBOX")
    idle_start(m)
    time.sleep(0.05)
    srv.signal(15)
    line, _ = idle_wait(m, r"^\* BYE")
    expect_match(r"^\* BYE \[UNAVAILABLE\] Server shutting down", line)
    expect(srv.proc.wait(30) == 0, "clean exit after the idler left")


def main():
    global srv
    with Server(listen=("imaps", "imap")) as s:
        srv = s.start()
        # In parallel: each costs an RSA-4096 key generation.
        users = ("alice", "bob", "carol", "dave", "erin")
        with ThreadPoolExecutor(len(users)) as pool:
            list(pool.map(lambda u: s.admin("user", "add", u, "--password-stdin",
                                            input=PASSWORD + "\n"), users))
        status = run([test_imaplib_scenario, test_two_sessions_see_each_other,
                      test_wrong_passwords_are_throttled, test_plaintext_listener_refuses_login,
                      test_selected_mailbox_deleted_by_another_session_ends_it,
                      test_shutdown_says_bye_to_idlers])
        code = s.stop()
        expect(code == 0, "clean exit", code)
    sys.exit(status)


main()
