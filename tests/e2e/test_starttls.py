"""STARTTLS on the cleartext IMAP listener: login is refused in clear, the
upgrade works on a live connection, and pipelined data is refused."""

import sys

from sealtest import Server, client_context, expect, expect_match, run

srv = None


def test_cleartext_greeting_offers_starttls_only():
    c = srv.connect("imap")
    g = c.readline()
    expect_match(r"STARTTLS", g)
    expect_match(r"LOGINDISABLED", g)
    expect("AUTH=PLAIN" not in g, "no AUTH=PLAIN before TLS", g)
    expect_match(r"^l1 NO \[PRIVACYREQUIRED\]", c.cmd("l1 LOGIN a b")[-1])
    expect_match(r"^l2 NO \[PRIVACYREQUIRED\]", c.cmd("l2 AUTHENTICATE PLAIN AGEAYg==")[-1])
    c.close()


def test_upgrade_live_stream():
    c = srv.connect("imap")
    c.readline()
    expect(c.cmd("s0 NOOP")[-1].startswith("s0 OK"), "cleartext NOOP")
    expect(c.cmd("s1 STARTTLS")[-1].startswith("s1 OK"), "STARTTLS OK")
    c.sock = client_context().wrap_socket(c.sock)
    expect(c.sock.version() == "TLSv1.2", "TLS after upgrade", c.sock.version())
    lines = c.cmd("s2 CAPABILITY")
    expect("AUTH=PLAIN" in lines[0] and "STARTTLS" not in lines[0],
           "capabilities change after TLS", lines)
    expect(c.cmd("s3 STARTTLS")[-1].startswith("s3 BAD"), "no second STARTTLS")
    expect_match(r"^s4 NO \[AUTHENTICATIONFAILED\]", c.cmd("s4 LOGIN a b")[-1])
    c.close()


def test_pipelined_data_after_starttls_refused():
    c = srv.connect("imap")
    c.readline()
    c.send("p1 STARTTLS\r\np2 LOGIN injected command\r\n")
    expect(c.readline().startswith("p1 BAD"), "STARTTLS with pipelined data refused")
    expect(c.closed(), "connection closed after injection attempt")


def main():
    global srv
    with Server(listen=("imaps", "imap")) as s:
        srv = s.start()
        status = run([test_cleartext_greeting_offers_starttls_only, test_upgrade_live_stream,
                      test_pipelined_data_after_starttls_refused])
        expect(s.stop() == 0, "clean exit")
    sys.exit(status)


main()
