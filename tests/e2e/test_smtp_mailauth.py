"""SPF, DKIM and DMARC on inbound SMTP (issue 6 acceptance): the real
daemon with [dns] servers pointing at a DNS server this test runs
(testdns.py), messages signed here with python3-dkim (RSA and Ed25519)
and sent with smtplib from 127.0.0.1, the results read back over IMAP
from the Authentication-Results header; p=reject refused in the
transaction (550 5.7.1) only with [smtp] reject_dmarc_failures = true."""

import base64
import os
import re
import shutil
import smtplib
import sys

from sealtest import Server, client_context, expect, expect_match, run

try:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from testdns import TestDNS
except ImportError as e:
    print("skipped: %s (install python3-dnslib python3-dkim)" % e)
    sys.exit(77)

PASSWORD = "secret"
_template = []


def keys():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = k.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption())
    rsa_pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    e = ed25519.Ed25519PrivateKey.generate()
    ed_raw = e.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    ed_pub = e.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
    return (rsa_pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_pub).decode(),
            base64.b64encode(ed_raw), "v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_pub).decode())


RSA_PRIV, RSA_TXT, ED_PRIV, ED_TXT = keys()
DNS = TestDNS({
    # The client is 127.0.0.1.
    "good.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all")],
    "_dmarc.good.example": [("TXT", "v=DMARC1; p=reject")],
    "rsa._domainkey.good.example": [("TXT", RSA_TXT)],
    "ed._domainkey.good.example": [("TXT", ED_TXT)],
    "soft.example": [("TXT", "v=spf1 ~all")],
    "other.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all")],
    "rsa._domainkey.other.example": [("TXT", RSA_TXT)],
    "pct0.example": [("TXT", "v=spf1 -all")],
    "_dmarc.pct0.example": [("TXT", "v=DMARC1; p=reject; pct=0")],
}, servfail={"broken.example"})


def template():
    """One user (an RSA-4096 key) made once, copied into every server."""
    if not _template:
        tmpl = Server(listen=())
        tmpl.start()
        tmpl.admin("user", "add", "alice", "--password-stdin", input=PASSWORD + "\n")
        tmpl.stop()
        _template.append(os.path.join(tmpl.root, "users"))
    return _template[0]


def make_server(reject):
    srv = Server(listen=("imaps", "smtp"), extra=(
        '[smtp]\nhost_name = "mx.test"\nreject_dmarc_failures = %s\n'
        '[smtp.domains."example.com"]\n[dns]\nservers = ["%s"]\n'
        % ("true" if reject else "false", DNS.address)))
    shutil.copytree(os.path.join(template(), "alice"), os.path.join(srv.root, "users", "alice"))
    return srv.start()


def message(frm, subject, body=b"Hello there.\r\n"):
    return (b"From: <" + frm.encode() + b">\r\nTo: <alice@example.com>\r\n"
            b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + subject.encode() +
            b"@test>\r\n\r\n" + body)


def sign(msg, domain, selector=b"rsa", alg=b"rsa-sha256"):
    key = ED_PRIV if alg == b"ed25519-sha256" else RSA_PRIV
    return dkim.sign(msg, selector, domain.encode(), key, signature_algorithm=alg,
                     include_headers=[b"from", b"to", b"subject"]) + msg


def send(srv, mail_from, msg):
    """None when accepted, else the (code, text) of the refusal."""
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], local_hostname="client.test") as s:
        try:
            s.sendmail(mail_from, ["alice@example.com"], msg)
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error.decode()
    return None


def results(srv):
    """{subject: unfolded Authentication-Results} of every message in INBOX."""
    import imaplib
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    m.login("alice", PASSWORD)
    m.select("INBOX", readonly=True)
    out = {}
    typ, data = m.search(None, "ALL")
    for n in data[0].split():
        typ, d = m.fetch(n, "(BODY.PEEK[HEADER])")
        head = re.sub(rb"\r\n[ \t]+", b" ", d[0][1]).decode()
        subject = re.search(r"^Subject: (.*)$", head, re.M).group(1).strip()
        ar = re.search(r"^Authentication-Results: (.*)$", head, re.M)
        out[subject] = ar.group(1).strip() if ar else None
    m.logout()
    return out


def test_results_recorded():
    with make_server(reject=False) as srv:
        send(srv, "a@good.example", sign(message("a@good.example", "rsa"), "good.example"))
        send(srv, "a@good.example", sign(message("a@good.example", "ed25519"), "good.example",
                                         selector=b"ed", alg=b"ed25519-sha256"))
        changed = sign(message("a@good.example", "changed"), "good.example")
        send(srv, "a@good.example", changed.replace(b"Hello there.", b"Hello there!"))
        send(srv, "a@soft.example", message("a@soft.example", "softfail"))
        send(srv, "a@broken.example", message("a@broken.example", "temperror"))
        # Unaligned: SPF and DKIM pass for other.example, From good.example.
        r = send(srv, "a@other.example", sign(message("a@good.example", "unaligned"),
                                              "other.example"))
        expect(r is None, "accepted without reject_dmarc_failures", r)
        res = results(srv)
        expect(len(res) == 6, "six messages", res)
        expect_match(r"^mx\.test; spf=pass smtp\.mailfrom=a@good\.example; "
                     r"dkim=pass header\.d=good\.example header\.s=rsa header\.a=rsa-sha256 "
                     r"header\.b=\S+; dmarc=pass \(p=reject dis=none\) header\.from=good\.example$",
                     res["rsa"])
        expect_match(r"dkim=pass header\.d=good\.example header\.s=ed header\.a=ed25519-sha256",
                     res["ed25519"])
        expect_match(r"dkim=fail \(body hash did not verify\)", res["changed"])
        expect_match(r"dmarc=pass", res["changed"])       # SPF alone is aligned
        expect_match(r"spf=softfail smtp\.mailfrom=a@soft\.example; dkim=none; dmarc=none",
                     res["softfail"])
        expect_match(r"spf=temperror", res["temperror"])
        expect_match(r"spf=pass smtp\.mailfrom=a@other\.example; dkim=pass "
                     r"header\.d=other\.example .*dmarc=fail \(p=reject dis=reject\) "
                     r"header\.from=good\.example", res["unaligned"])
        expect_match(r"auth=spf=pass,dkim=pass,dmarc=fail: delivered", srv.log_text())
        st = srv.stats()
        queries = int(st["dns_queries"].split()[0])
        hits = int(re.search(r"cache hits (\d+)", st["dns_queries"]).group(1))
        expect(queries > 0 and 0 < hits < queries, "admin stats count DNS queries and hits", st)
        expect(srv.stop() == 0, "exit status")


def test_reject_dmarc_failures():
    with make_server(reject=True) as srv:
        r = send(srv, "a@other.example", sign(message("a@good.example", "unaligned"),
                                              "other.example"))
        expect(r is not None and r[0] == 550 and r[1].startswith("5.7.1"), "refused", r)
        # pct=0: the policy applied is quarantine, so it is not refused.
        r = send(srv, "a@pct0.example", message("a@pct0.example", "pct0"))
        expect(r is None, "pct=0 refused", r)
        r = send(srv, "a@good.example", sign(message("a@good.example", "aligned"), "good.example"))
        expect(r is None, "aligned refused", r)
        res = results(srv)
        expect(sorted(res) == ["aligned", "pct0"], "delivered", res)
        expect_match(r"dmarc=fail \(p=reject dis=quarantine\) header\.from=pct0\.example",
                     res["pct0"])
        expect(srv.stop() == 0, "exit status")


if __name__ == "__main__":
    status = run([test_results_recorded, test_reject_dmarc_failures])
    DNS.stop()
    sys.exit(status)
