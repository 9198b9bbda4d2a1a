"""IMAPS greeting, TLS parameters and the pre-authentication commands,
against the real server with Python's ssl module and imaplib."""

import imaplib
import socket
import ssl
import sys

from sealtest import Server, client_context, expect, expect_match, run

srv = None


def test_tls_handshake_and_greeting():
    c = srv.connect()
    greeting = c.readline()
    expect_match(r"^\* OK \[CAPABILITY [^\]]*IMAP4rev2[^\]]*IMAP4rev1", greeting)
    expect_match(r"AUTH=PLAIN", greeting)
    expect("STARTTLS" not in greeting, "no STARTTLS on implicit TLS", greeting)
    expect(c.sock.version() == "TLSv1.2", "TLS 1.2 expected", c.sock.version())
    cipher = c.sock.cipher()[0]
    expect(cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher),
           "ECDHE AEAD suite expected", cipher)
    c.close()


def test_old_tls_refused():
    ctx = client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    raw = socket.create_connection(("127.0.0.1", srv.ports["imaps"]), timeout=10)
    try:
        ctx.wrap_socket(raw)
        raise AssertionError("TLS 1.1 handshake succeeded")
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass
    raw.close()


def test_capability_noop_logout():
    c = srv.connect()
    c.readline()
    lines = c.cmd("a1 CAPABILITY")
    expect_match(r"^\* CAPABILITY IMAP4rev2 IMAP4rev1 .*AUTH=PLAIN", lines[0])
    expect(lines[-1] == "a1 OK CAPABILITY completed", "tagged OK", lines)
    expect(c.cmd("a2 NOOP")[-1].startswith("a2 OK"), "NOOP OK")
    expect(c.cmd("a3 noop")[-1].startswith("a3 OK"), "commands are case-insensitive")
    lines = c.cmd("a4 LOGOUT")
    expect(lines[0].startswith("* BYE"), "BYE before tagged OK", lines)
    expect(lines[-1].startswith("a4 OK"), "LOGOUT OK", lines)
    expect(c.closed(), "server closes after LOGOUT")


def test_bad_commands():
    c = srv.connect()
    c.readline()
    expect(c.cmd("b1 FROBNICATE")[-1].startswith("b1 BAD"), "unknown command is BAD")
    expect(c.cmd("b2 CAPABILITY extra")[-1].startswith("b2 BAD"), "extra args BAD")
    expect(c.cmd("b3 SELECT INBOX")[-1].startswith("b3 BAD"), "SELECT before login")
    c.send("b4 LOGIN \"unterminated\r\n")
    expect(c.readline().startswith("b4 BAD"), "unterminated quoted string")
    c.send("\r\n")
    expect(c.readline().startswith("* BAD"), "empty line is BAD with * tag")
    c.send("b5 LOGIN (a b\r\n")
    expect(c.readline().startswith("b5 BAD"), "unbalanced list")
    # A non-synchronizing literal after an error is swallowed, not executed.
    c.send("b6 LOGIN ) {12+}\r\nb7 LOGOUT\r\n\r\n")
    expect(c.readline().startswith("b6 BAD"), "bad command with literal")
    expect(c.cmd("b8 NOOP")[-1].startswith("b8 OK"), "session continues in step")
    c.send("b9 NOOP " + "x" * 70000 + "\r\n")
    expect_match(r"^\* BAD \[TOOBIG\]", c.readline())
    expect(c.cmd("b10 NOOP")[-1].startswith("b10 OK"), "session survives a long line")
    c.close()


def test_login_failures_are_authenticationfailed():
    c = srv.connect()
    c.readline()
    r = c.cmd('l1 LOGIN demo "secret pass"')[-1]
    expect_match(r"^l1 NO \[AUTHENTICATIONFAILED\]", r)
    # Synchronizing literal: the server asks for the data with "+".
    c.send("l2 LOGIN {4}\r\n")
    expect(c.readline().startswith("+ "), "continuation request for literal")
    c.send("demo {6+}\r\nsecret\r\n")
    expect_match(r"^l2 NO \[AUTHENTICATIONFAILED\]", c.readline())
    # AUTHENTICATE PLAIN with SASL-IR and with a continuation.
    r = c.cmd("l3 AUTHENTICATE PLAIN AGRlbW8Ac2VjcmV0")[-1]
    expect_match(r"^l3 NO \[AUTHENTICATIONFAILED\]", r)
    c.send("l4 AUTHENTICATE PLAIN\r\n")
    expect(c.readline() == "+ ", "empty continuation for PLAIN")
    c.send("AGRlbW8Ac2VjcmV0\r\n")
    expect_match(r"^l4 NO \[AUTHENTICATIONFAILED\]", c.readline())
    c.send("l5 AUTHENTICATE PLAIN\r\n")
    c.readline()
    c.send("*\r\n")
    expect(c.readline().startswith("l5 BAD"), "cancelled AUTHENTICATE is BAD")
    expect(c.cmd("l6 AUTHENTICATE PLAIN !!!notbase64")[-1].startswith("l6 BAD"),
           "malformed base64")
    expect(c.cmd("l7 AUTHENTICATE CRAM-MD5")[-1].startswith("l7 NO"),
           "unknown mechanism is NO")
    c.close()
    expect("secret" not in srv.log_text(), "passwords never reach the log")


def test_imaplib_client():
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    expect("IMAP4REV2" in m.capabilities or "IMAP4REV1" in m.capabilities,
           "imaplib parsed capabilities", m.capabilities)
    try:
        m.login("demo", "password")
        raise AssertionError("login unexpectedly succeeded")
    except imaplib.IMAP4.error as e:
        expect("AUTHENTICATIONFAILED" in str(e), "clear reason", e)
    typ, _ = m.noop()
    expect(typ == "OK", "NOOP via imaplib")
    m.logout()


def main():
    global srv
    with Server() as s:
        srv = s.start()
        status = run([test_tls_handshake_and_greeting, test_old_tls_refused,
                      test_capability_noop_logout, test_bad_commands,
                      test_login_failures_are_authenticationfailed, test_imaplib_client])
        code = s.stop()
        expect(code == 0, "clean exit", code)
    sys.exit(status)


main()
