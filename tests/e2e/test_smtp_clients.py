"""SMTP-in and LMTP with Python's smtplib and raw sockets against the real
server: STARTTLS, SMTPUTF8, a message big enough to be spooled to disk,
IMAP IDLE woken by a delivery, a temporary storage failure answered 4xx
(per recipient in LMTP) without losing anything, SIGTERM saying 421 while
a message in flight still gets in, the idle timeout, the per-IP
connection limit, the RCPT tarpit, the per-IP message rate, and the
one-line transaction log."""

import email.message
import os
import re
import shutil
import smtplib
import socket
import time

from sealtest import Server, client_context, expect, expect_match, run

PASSWORD = "secret"
USERS = ("alice", "bob")
TEMPLATE = None
CONFIG = '[smtp.domains."example.com"]\n[dns]\nservers = ["127.0.0.1:9"]\n'


def template():
    """Users made once (an RSA-4096 key each), copied into every server."""
    global TEMPLATE
    if TEMPLATE is None:
        tmpl = Server(listen=())
        tmpl.start()
        for name in USERS:
            tmpl.admin("user", "add", name, "--password-stdin", input=PASSWORD + "\n")
        tmpl.stop()
        TEMPLATE = os.path.join(tmpl.root, "users")
    return TEMPLATE


def make_server(listen_extra="", extra=""):
    srv = Server(listen=("imaps", "smtp"), extra=CONFIG + extra)
    srv.lmtp_unix = os.path.join(srv.dir, "lmtp.sock")
    text = open(srv.config).read().replace(
        "[listen]\n", '[listen]\nlmtp = ["unix:%s"]\n%s\n' % (srv.lmtp_unix, listen_extra), 1)
    srv.write_config(text)
    for name in USERS:
        shutil.copytree(os.path.join(template(), name), os.path.join(srv.root, "users", name))
    return srv.start()


def imap(srv, user=USERS[0]):
    import imaplib
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    m.login(user, PASSWORD)
    m.select("INBOX", readonly=True)
    return m


def messages(srv, user=USERS[0]):
    m = imap(srv, user)
    try:
        typ, data = m.search(None, "ALL")
        out = []
        for n in data[0].split():
            typ, d = m.fetch(n, "(BODY.PEEK[])")
            out.append(d[0][1])
        return out
    finally:
        m.logout()


def split_top(msg):
    """(the header lines sealmail prepended, the rest)."""
    lines = msg.split(b"\r\n")
    i = 0
    while i < len(lines) and re.match(rb"^(Authentication-Results|Received-SPF|Received):",
                                      lines[i]):
        i += 1
        while i < len(lines) and lines[i][:1] in (b"\t", b" "):
            i += 1
    return lines[:i], b"\r\n".join(lines[i:])


def simple_message(subject, body="hello\r\n", sender="sender@example.org"):
    m = email.message.EmailMessage()
    m["From"] = sender
    m["To"] = "alice@example.com"
    m["Subject"] = subject
    m.set_content(body)
    return m


def test_smtplib_starttls():
    with make_server() as srv:
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], local_hostname="client.example.org") as s:
            s.ehlo()
            expect(s.has_extn("starttls") and s.has_extn("chunking") and s.has_extn("pipelining"),
                   "extensions", s.esmtp_features)
            s.starttls(context=client_context())
            s.ehlo()
            expect(not s.has_extn("starttls"), "STARTTLS offered again", s.esmtp_features)
            refused = s.send_message(simple_message("over TLS"), "sender@example.org",
                                     ["alice@example.com"])
            expect(refused == {}, "refused", refused)
        msgs = messages(srv)
        expect(len(msgs) == 1, "one message", len(msgs))
        top, rest = split_top(msgs[0])
        # Authentication results sit above Received: newest on top.
        expect(top[0].startswith(b"Authentication-Results: "), "A-R first", top)
        text = b"\r\n".join(top).decode()
        expect_match(r"Received: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n"
                     r"\tby \S+ \(sealmail\) with ESMTPS \(TLSv1\.2 [^)]+\) id [0-9a-f]{16}\r\n"
                     r"\tfor <alice@example\.com>;\r\n\t\w{3}, \d\d \w{3} \d{4} ", text)
        expect(b"Subject: over TLS" in rest and rest.endswith(b"\r\n\r\nhello\r\n"),
               "body", rest)
        expect_match(r"smtp: id=[0-9a-f]{16} from=<sender@example\.org> "
                     r"to=<alice@example\.com> size=\d+ tls auth=spf=\w+,dkim=\w+,dmarc=\w+: "
                     r"delivered", srv.log_text())
        expect(srv.stop() == 0, "exit status")


def test_smtputf8_and_lmtp_over_unix_socket():
    with make_server() as srv:
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"]) as s:
            s.ehlo("client.example.org")
            expect(s.has_extn("smtputf8"), "SMTPUTF8", s.esmtp_features)
            data = "From: jörg@example.org\r\nSubject: grüße\r\n\r\nünïcödé\r\n".encode()
            s.sendmail("jörg@example.org", ["Alice@example.com"], data,
                       mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        with smtplib.LMTP(srv.lmtp_unix) as s:
            code, _ = s.ehlo("mta.example.org")	# smtplib.LMTP sends LHLO
            expect(code == 250 and s.has_extn("chunking"), "LHLO", code, s.esmtp_features)
            s.sendmail("x@example.org", ["bob@anywhere.example"], b"Subject: lmtp\r\n\r\nhi\r\n")
        top, rest = split_top(messages(srv)[0])
        expect_match(r"with UTF8SMTP id", b"\r\n".join(top).decode())
        expect(rest == data, "UTF-8 message kept", rest)
        top, rest = split_top(messages(srv, "bob")[0])
        expect(top[0].startswith(b"Received: from mta.example.org\r\n") or
               top[0] == b"Received: from mta.example.org", "LMTP Received", top)
        expect_match(r"with LMTP id", b"\r\n".join(top).decode())
        expect(rest == b"Subject: lmtp\r\n\r\nhi\r\n", "LMTP body", rest)
        expect(srv.stop() == 0, "exit status")


def test_big_messages_spooled_byte_identical():
    """5 MiB through DATA and 20 MiB of binary through BDAT: both pass the
    1 MiB memory spool and come back identical."""
    with make_server() as srv:
        lines = b"".join(b"line %07d \xc3\xa9\xe2\x82\xac %s\r\n" % (i, b"x" * 60)
                         for i in range(70000))
        text = b"Subject: big text\r\n\r\n" + lines
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"]) as s:
            s.ehlo("client.example.org")
            s.sendmail("a@example.org", ["alice@example.com"], text)
        binary = b"Subject: big binary\r\n\r\n" + bytes(range(256)) * (20 * 4096)
        c = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=30)
        c.sendall(b"EHLO c.example.org\r\nMAIL FROM:<a@example.org> BODY=BINARYMIME\r\n"
                  b"RCPT TO:<alice@example.com>\r\n")
        half = len(binary) // 2
        c.sendall(b"BDAT %d\r\n" % half + binary[:half])
        c.sendall(b"BDAT %d LAST\r\n" % (len(binary) - half) + binary[half:] + b"QUIT\r\n")
        got = b""
        while not got.endswith(b"Bye\r\n"):
            d = c.recv(65536)
            if not d:
                break
            got += d
        c.close()
        expect(b"250 2.0.0 Message accepted" in got, "BDAT accepted", got)
        msgs = messages(srv)
        expect(split_top(msgs[0])[1] == text, "text message differs")
        expect(split_top(msgs[1])[1] == binary, "binary message differs")
        expect(srv.stop() == 0, "exit status")


def tls_lines(sock):
    buf = b""
    while True:
        while b"\r\n" not in buf:
            d = sock.recv(4096)
            if not d:
                return
            buf += d
        line, buf = buf.split(b"\r\n", 1)
        yield line.decode()


def test_idle_wakes_on_smtp_delivery():
    with make_server() as srv:
        raw = socket.create_connection(("127.0.0.1", srv.ports["imaps"]), timeout=10)
        t = client_context().wrap_socket(raw)
        lines = tls_lines(t)
        next(lines)
        t.sendall(b"a LOGIN alice secret\r\na2 SELECT INBOX\r\na3 IDLE\r\n")
        for line in lines:
            if line.startswith("+ "):
                break
        start = time.time()
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"]) as s:
            s.ehlo("client.example.org")
            s.sendmail("a@example.org", ["alice@example.com"], b"Subject: wake\r\n\r\nup\r\n")
        for line in lines:
            if line == "* 1 EXISTS":
                break
        expect(time.time() - start < 5, "IDLE woke late")
        t.sendall(b"DONE\r\na4 LOGOUT\r\n")
        t.close()
        expect(srv.stop() == 0, "exit status")


def test_temporary_storage_failure_is_4xx_and_nothing_lost():
    with make_server() as srv:
        keys = os.path.join(srv.root, "users", "alice", "keys")
        hidden = keys + ".hidden"
        os.rename(keys, hidden)
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"]) as s:
            s.ehlo("client.example.org")
            s.mail("a@example.org")
            expect(s.rcpt("alice@example.com")[0] == 250, "RCPT")
            code, msg = s.data(b"Subject: one\r\n\r\nx\r\n")
            expect(code == 451 and msg.startswith(b"4.3.0 "), "DATA", code, msg)
            # Two recipients, one failing: the sender is told to retry.
            s.mail("a@example.org")
            s.rcpt("bob@example.com")
            s.rcpt("alice@example.com")
            code, msg = s.data(b"Subject: two\r\n\r\nx\r\n")
            expect(code == 451, "DATA with a failing recipient", code, msg)
        c = socket.socket(socket.AF_UNIX)
        c.connect(srv.lmtp_unix)
        c.settimeout(30)
        c.sendall(b"LHLO mta\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice>\r\n"
                  b"RCPT TO:<bob>\r\nDATA\r\n")
        got = b""
        while b"354 " not in got:
            got += c.recv(4096)
        c.sendall(b"Subject: three\r\n\r\nx\r\n.\r\nQUIT\r\n")
        while not got.endswith(b"Bye\r\n"):
            got += c.recv(4096)
        c.close()
        expect(re.search(rb"451 4\.3\.0 alice: local error[^\r]*\r\n250 2\.0\.0 <bob> Delivered",
                         got), "LMTP per-recipient replies", got)
        os.rename(hidden, keys)
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"]) as s:
            s.ehlo("client.example.org")
            s.sendmail("a@example.org", ["alice@example.com"], b"Subject: retry\r\n\r\nx\r\n")
        subjects = [split_top(m)[1].split(b"\r\n")[0] for m in messages(srv)]
        expect(subjects == [b"Subject: retry"], "alice", subjects)
        subjects = [split_top(m)[1].split(b"\r\n")[0] for m in messages(srv, "bob")]
        # "two" went to bob before alice failed: a duplicate on retry is the
        # price of never losing mail.
        expect(subjects == [b"Subject: two", b"Subject: three"], "bob", subjects)
        expect(srv.stop() == 0, "exit status")


def read_reply(sock):
    buf = b""
    while not re.search(rb"(^|\n)\d{3} [^\n]*\n$", buf):
        d = sock.recv(65536)
        if not d:
            break
        buf += d
    return buf.decode()


def test_sigterm_says_421_and_lets_the_message_in_flight_finish():
    with make_server() as srv:
        idle = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=10)
        read_reply(idle)
        idle.sendall(b"EHLO idle.example.org\r\n")
        read_reply(idle)
        busy = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=10)
        read_reply(busy)
        busy.sendall(b"EHLO busy.example.org\r\nMAIL FROM:<a@example.org>\r\n"
                     b"RCPT TO:<alice@example.com>\r\nDATA\r\n")
        got = ""
        while "354 " not in got:
            got += read_reply(busy)
        busy.sendall(b"Subject: in flight\r\n\r\nfirst half\r\n")
        time.sleep(0.2)
        srv.signal(15)
        expect_match(r"^421 4\.3\.2 \S+ Server shutting down", read_reply(idle))
        expect(idle.recv(100) == b"", "idle connection closed")
        busy.sendall(b"second half\r\n.\r\n")
        reply = b""
        while True:
            d = busy.recv(4096)
            if not d:
                break
            reply += d
        expect_match(r"^250 2\.0\.0 Message accepted [^\r]*\r\n"
                     r"421 4\.3\.2 \S+ Server shutting down[^\r]*\r\n$", reply.decode())
        srv.proc.wait(30)
        expect(srv.proc.returncode == 0, "exit status", srv.proc.returncode)
        srv.check_sanitizers()
        os.rename(srv.log_path, srv.log_path + ".1")	# wait for the new "ready"
        srv.start()
        top, rest = split_top(messages(srv)[0])
        expect(rest == b"Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n", "body", rest)
        expect(srv.stop() == 0, "exit status")


def test_idle_timeout_and_per_ip_limit():
    with make_server("smtp_idle_timeout = 1\nmax_connections_per_ip = 2") as srv:
        a = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=10)
        b = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=10)
        expect_match(r"^220 ", read_reply(a))
        expect_match(r"^220 ", read_reply(b))
        c = socket.create_connection(("127.0.0.1", srv.ports["smtp"]), timeout=10)
        expect_match(r"^421 4\.7\.0 \S+ Too many connections from your address", read_reply(c))
        expect(c.recv(100) == b"", "refused connection closed")
        start = time.time()
        expect_match(r"^421 4\.4\.2 \S+ Timeout", read_reply(a))
        expect(0.5 < time.time() - start < 5, "timeout after about a second")
        expect(a.recv(100) == b"", "timed out connection closed")
        expect(srv.stop() == 0, "exit status")


def test_rcpt_tarpit_slows_an_address_guesser():
    """Past a few unknown recipients from one address (not loopback's
    127.0.0.1: here 127.0.0.2), every RCPT answer waits, doubling from 1 s
    (src/iplimit.h: the count that slows password guessing)."""
    with make_server() as srv:
        c = socket.socket()
        c.bind(("127.0.0.2", 0))
        c.settimeout(30)
        c.connect(("127.0.0.1", srv.ports["smtp"]))
        read_reply(c)
        c.sendall(b"EHLO guesser.example.org\r\n")
        read_reply(c)
        c.sendall(b"MAIL FROM:<a@example.org>\r\n")
        expect_match(r"^250 2\.1\.0 ", read_reply(c))
        times = []
        for i in range(6):
            start = time.time()
            c.sendall(b"RCPT TO:<guess%d@example.com>\r\n" % i)
            expect_match(r"^550 5\.1\.1 ", read_reply(c))
            times.append(time.time() - start)
        expect(max(times[:4]) < 0.5, "first answers free", times)
        expect(0.8 < times[4] < 3 and 1.6 < times[5] < 5, "then 1 s, 2 s", times)
        c.close()
        expect(srv.stop() == 0, "exit status")


def send_from(srv, source, subject):
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], local_hostname="client.example.org",
                      source_address=(source, 0)) as s:
        refused = s.send_message(simple_message(subject), "sender@example.org",
                                 ["alice@example.com"])
        expect(refused == {}, "refused", refused)


def test_message_rate_per_ip():
    """[smtp] max_messages_per_ip_per_hour counts MAIL commands from one
    address (here 127.0.0.2): past it MAIL gets 450 4.7.1 and the session
    goes on. Other addresses have their own count; 127.0.0.1 has none."""
    with make_server(extra="[smtp]\nmax_messages_per_ip_per_hour = 2\n") as srv:
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], local_hostname="client.example.org",
                          source_address=("127.0.0.2", 0)) as s:
            for i in range(2):
                refused = s.send_message(simple_message("rate %d" % i), "sender@example.org",
                                         ["alice@example.com"])
                expect(refused == {}, "within the rate", i, refused)
            code, text = s.mail("sender@example.org")
            expect(code == 450 and text.startswith(
                b"4.7.1 Too many messages from your address, try again later"),
                "third MAIL over the rate", code, text)
            code, text = s.rcpt("alice@example.com")
            expect(code == 503, "no transaction was opened", code, text)
            expect(s.rset()[0] == 250, "RSET still answered")
            expect(s.noop()[0] == 250, "NOOP still answered")
            code, text = s.mail("sender@example.org")
            expect(code == 450, "still over the rate", code, text)
            expect(s.quit()[0] == 221, "QUIT answered")
        send_from(srv, "127.0.0.3", "another address")
        for i in range(3):
            send_from(srv, "127.0.0.1", "loopback %d" % i)
        subjects = sorted(re.search(rb"Subject: ([^\r]*)", m).group(1) for m in messages(srv))
        expect(subjects == [b"another address", b"loopback 0", b"loopback 1", b"loopback 2",
                            b"rate 0", b"rate 1"], "delivered", subjects)
        expect_match(r"smtp: from=<sender@example\.org> refused: 450 4\.7\.1 too many messages "
                     r"from 127\.0\.0\.2 \(max_messages_per_ip_per_hour\)", srv.log_text())
        expect(srv.stop() == 0, "exit status")


if __name__ == "__main__":
    import sys
    sys.exit(run([test_smtplib_starttls, test_smtputf8_and_lmtp_over_unix_socket,
                  test_big_messages_spooled_byte_identical, test_idle_wakes_on_smtp_delivery,
                  test_temporary_storage_failure_is_4xx_and_nothing_lost,
                  test_sigterm_says_421_and_lets_the_message_in_flight_finish,
                  test_idle_timeout_and_per_ip_limit, test_rcpt_tarpit_slows_an_address_guesser,
                  test_message_rate_per_ip]))
