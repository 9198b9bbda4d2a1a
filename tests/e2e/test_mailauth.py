"""SPF, DKIM and DMARC as sealmail evaluates them (protocols/mailauth/),
through tests/tools/mailauth-check, which runs the real code with the real
resolver against a DNS server this test starts (testdns.py). Messages are
signed here with Debian's python3-dkim, with RSA and Ed25519 keys made
here. Each check reads the Authentication-Results and Received-SPF header
block and the summary line the tool prints."""

import base64
import os
import re
import subprocess
import sys
import time

from sealtest import expect, expect_match, run

try:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from testdns import TestDNS
except ImportError as e:  # the Debian packages are missing
    print("skipped: %s (install python3-dnslib python3-dkim)" % e)
    sys.exit(77)

CHECK = os.environ.get("SEAL_MAILAUTH_CHECK", "mailauth-check")
GOOD_IP = "192.0.2.1"
BAD_IP = "198.51.100.9"


def rsa_key(bits=2048):
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = k.private_bytes(serialization.Encoding.PEM,
                          serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()


def ed_key():
    k = ed25519.Ed25519PrivateKey.generate()
    raw = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                          serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    return base64.b64encode(raw), "v=DKIM1; k=ed25519; p=" + base64.b64encode(pub).decode()


RSA_PRIV, RSA_TXT = rsa_key()
BIG_PRIV, BIG_TXT = rsa_key(4096)	# over 512 bytes: the answer comes by TCP
ED_PRIV, ED_TXT = ed_key()

ZONE = {
    # SPF
    "example.com": [("TXT", "v=spf1 ip4:192.0.2.1 -all"), ("TXT", "unrelated text")],
    "soft.example": [("TXT", "v=spf1 ip4:192.0.2.1 ~all")],
    "neutral.example": [("TXT", "v=spf1 ?all")],
    "bare.example": [("TXT", "v=spf1")],
    "nospf.example": [("A", "192.0.2.50")],
    "perm.example": [("TXT", "v=spf1 ip4:192.0.2.1 frobnicate:x -all")],
    "twice.example": [("TXT", "v=spf1 -all"), ("TXT", "v=spf1 +all")],
    "inc.example": [("TXT", "v=spf1 include:example.com -all")],
    "incmissing.example": [("TXT", "v=spf1 include:nospf.example -all")],
    "void2.example": [("TXT", "v=spf1 a:n1.void.example a:n2.void.example -all")],
    "void3.example": [("TXT", "v=spf1 a:n1.void.example a:n2.void.example "
                              "mx:n3.void.example ip4:192.0.2.1 -all")],
    "mx.example": [("TXT", "v=spf1 mx a:host.mx.example -all"),
                   ("MX", (10, "mail.mx.example")), ("MX", (20, "mail2.mx.example"))],
    "mail.mx.example": [("A", "203.0.113.5")],
    "mail2.mx.example": [("AAAA", "2001:db8::25")],
    "host.mx.example": [("A", "203.0.113.6")],
    "helo.example": [("TXT", "v=spf1 a -all"), ("A", "192.0.2.1")],
    "tempinc.example": [("TXT", "v=spf1 include:servfail.example -all")],
    "slowspf.example": [("TXT", "v=spf1 include:slow.example -all")],
    # DKIM keys
    "rsa._domainkey.example.com": [("TXT", RSA_TXT)],
    "big._domainkey.example.com": [("TXT", BIG_TXT)],
    "ed._domainkey.example.com": [("TXT", ED_TXT)],
    "rsa._domainkey.other.example": [("TXT", RSA_TXT)],
    "rsa._domainkey.co.uk": [("TXT", RSA_TXT)],
    "rsa._domainkey.shop.co.uk": [("TXT", RSA_TXT)],
    "rsa._domainkey.strict.example": [("TXT", RSA_TXT)],
    "revoked._domainkey.example.com": [("TXT", "v=DKIM1; k=rsa; p=")],
    # DMARC
    "_dmarc.example.com": [("TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")],
    "other.example": [("TXT", "v=spf1 ip4:198.51.100.9 -all")],
    "_dmarc.pct0.example": [("TXT", "v=DMARC1; p=reject; pct=0")],
    "pct0.example": [("TXT", "v=spf1 -all")],
    "_dmarc.example.org": [("TXT", "v=DMARC1; p=none; sp=reject")],
    "example.org": [("TXT", "v=spf1 -all")],
    "sub.example.org": [("TXT", "v=spf1 -all")],
    "_dmarc.strict.example": [("TXT", "v=DMARC1; p=reject; adkim=s; aspf=s")],
    "strict.example": [("TXT", "v=spf1 ip4:192.0.2.1 -all")],
    "news.strict.example": [("TXT", "v=spf1 ip4:192.0.2.1 -all")],
    "_dmarc.shop.co.uk": [("TXT", "v=DMARC1; p=reject")],
    "shop.co.uk": [("TXT", "v=spf1 -all")],
    "_dmarc.twodmarc.example": [("TXT", "v=DMARC1; p=reject"), ("TXT", "v=DMARC1; p=none")],
    "twodmarc.example": [("TXT", "v=spf1 -all")],
    "quar.example": [("TXT", "v=spf1 -all")],
    "_dmarc.quar.example": [("TXT", "v=DMARC1; p=quarantine")],
}

DNS = TestDNS(ZONE, servfail={"servfail.example", "_dmarc.dmarcfail.example"},
              drop={"slow.example", "_dmarc.dmarcslow.example",
                    "slowkey._domainkey.example.com"})


def message(frm="Alice <alice@example.com>", body=b"Hello.\r\nSecond line.\r\n",
            extra=b""):
    return (b"From: " + frm.encode() + b"\r\nTo: bob@mx.test\r\n"
            b"Subject: test\r\nMessage-ID: <1@example.com>\r\n" + extra + b"\r\n" + body)


def sign(msg, selector=b"rsa", domain=b"example.com", key=None, alg=b"rsa-sha256",
         canon=(b"relaxed", b"simple")):
    key = key or (ED_PRIV if alg == b"ed25519-sha256" else RSA_PRIV)
    sig = dkim.sign(msg, selector, domain, key, signature_algorithm=alg,
                    canonicalize=canon, include_headers=[b"from", b"to", b"subject"])
    return sig + msg


class Result:
    def __init__(self, out):
        self.out = out
        lines = out.split("\r\n")
        self.summary = dict(kv.split("=", 1) for kv in lines[-1].strip().split())
        self.headers = "\r\n".join(lines[:-1]) + "\r\n"
        # Unfolded (RFC 5322 2.2.3), so patterns need not know the folds.
        ar = re.search(r"Authentication-Results:.*?\r\n(?![ \t])", self.headers, re.S)
        rspf = re.search(r"Received-SPF:.*?\r\n(?![ \t])", self.headers, re.S)
        self.ar = re.sub(r"\r\n[ \t]+", " ", ar.group(0))
        self.rspf = re.sub(r"\r\n[ \t]+", " ", rspf.group(0))

    def __getitem__(self, k):
        return self.summary[k]


def check(msg, ip=GOOD_IP, helo="client.example", mail_from="alice@example.com",
          budget=None, chunk=None, dns=None):
    args = [CHECK, "--ip", ip, "--helo", helo, "--from", mail_from,
            "--receiver", "mx.test", "--dns", dns or DNS.address]
    if budget:
        args += ["--budget", str(budget)]
    if chunk:
        args += ["--chunk", str(chunk)]
    p = subprocess.run(args, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    err = p.stderr.decode(errors="replace")
    expect(p.returncode == 0, "mailauth-check exit %d" % p.returncode, err)
    expect("ERROR: AddressSanitizer" not in err and "runtime error" not in err,
           "sanitizer report", err)
    out = p.stdout.decode()
    # Every header line ends in CRLF and holds nothing but printable ASCII.
    head = out[:out.rindex("\r\n") + 2]
    for line in head.split("\r\n")[:-1]:
        expect(re.fullmatch(r"[\x20-\x7e\t]*", line) and len(line) <= 998, "bad line", repr(line))
    return Result(out)


# --- SPF ---------------------------------------------------------------

def test_spf_pass():
    r = check(message())
    expect(r["spf"] == "pass", r.out)
    expect_match(r"spf=pass smtp\.mailfrom=alice@example\.com", r.ar)
    expect_match(r"^Received-SPF: pass \(mx\.test: domain example\.com designates "
                 r"192\.0\.2\.1 as permitted sender\)", r.rspf)
    expect_match(r"client-ip=192\.0\.2\.1;", r.rspf)
    expect_match(r'envelope-from="alice@example\.com";', r.rspf)
    expect_match(r"identity=mailfrom", r.rspf)


def test_spf_fail():
    r = check(message(), ip=BAD_IP)
    expect(r["spf"] == "fail", r.out)
    expect_match(r"Received-SPF: fail", r.rspf)


def test_spf_softfail_neutral_none():
    expect(check(message(), ip=BAD_IP, mail_from="x@soft.example")["spf"] == "softfail", "soft")
    expect(check(message(), mail_from="x@neutral.example")["spf"] == "neutral", "neutral")
    expect(check(message(), mail_from="x@bare.example")["spf"] == "neutral", "bare v=spf1")
    expect(check(message(), mail_from="x@nospf.example")["spf"] == "none", "no record")
    expect(check(message(), mail_from="x@nowhere.example")["spf"] == "none", "nxdomain")
    expect(check(message(), mail_from="x@localhost")["spf"] == "none", "single label")


def test_spf_permerror():
    r = check(message(), mail_from="x@perm.example")
    expect(r["spf"] == "permerror", r.out)
    expect(check(message(), mail_from="x@twice.example")["spf"] == "permerror", "two records")
    expect(check(message(), mail_from="x@incmissing.example")["spf"] == "permerror",
           "include of a domain without SPF")
    # RFC 7208 4.6.4: two lookups finding nothing are fine, three are not.
    expect(check(message(), mail_from="x@void2.example")["spf"] == "fail", "two voids")
    r = check(message(), mail_from="x@void3.example")
    expect(r["spf"] == "permerror", "three voids", r.out)
    expect_match(r"too many void lookups", r.rspf)


def test_spf_mechanisms():
    expect(check(message(), mail_from="x@inc.example")["spf"] == "pass", "include")
    expect(check(message(), ip=BAD_IP, mail_from="x@inc.example")["spf"] == "fail", "include")
    expect(check(message(), ip="203.0.113.5", mail_from="x@mx.example")["spf"] == "pass", "mx A")
    expect(check(message(), ip="2001:db8::25", mail_from="x@mx.example")["spf"] == "pass",
           "mx AAAA")
    expect(check(message(), ip="203.0.113.6", mail_from="x@mx.example")["spf"] == "pass", "a:")
    expect(check(message(), ip="203.0.113.7", mail_from="x@mx.example")["spf"] == "fail", "mx")


def test_spf_ipv4_mapped_client():
    r = check(message(), ip="::ffff:192.0.2.1")
    expect(r["spf"] == "pass", r.out)
    expect_match(r"client-ip=192\.0\.2\.1;", r.rspf)


def test_spf_loopback_is_not_special():
    # libspf2 would pass any loopback client; RFC 7208 does not.
    expect(check(message(), ip="127.0.0.1")["spf"] == "fail", "127.0.0.1")
    expect(check(message(), ip="::1")["spf"] == "fail", "::1")


def test_spf_helo_identity_for_null_path():
    r = check(message(), helo="helo.example", mail_from="")
    expect(r["spf"] == "pass", r.out)
    expect_match(r"spf=pass smtp\.helo=helo\.example", r.ar)
    expect_match(r'envelope-from="";', r.rspf)
    expect_match(r"identity=helo", r.rspf)
    r = check(message(), ip=BAD_IP, helo="helo.example", mail_from="")
    expect(r["spf"] == "fail", r.out)
    r = check(message(), helo="[192.0.2.1]", mail_from="")
    expect(r["spf"] == "none", r.out)


def test_spf_temperror():
    r = check(message(), mail_from="x@servfail.example")
    expect(r["spf"] == "temperror", r.out)
    expect(check(message(), mail_from="x@tempinc.example")["spf"] == "temperror", "include")
    start = time.time()
    r = check(message(), mail_from="x@slowspf.example", budget=1500)
    took = time.time() - start
    expect(r["spf"] == "temperror", r.out)
    expect(took < 8, "unanswered DNS took %.1fs" % took)


def test_dns_server_down():
    # Nothing listens there: every lookup fails, nothing hangs or crashes.
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    dead = "127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    r = check(sign(message()), dns=dead, budget=2000)
    expect(r["spf"] == "temperror" and r["dkim"] == "temperror" and
           r["dmarc"] == "temperror" and r["reject"] == "no", r.out)


# --- DKIM --------------------------------------------------------------

def test_dkim_rsa_pass():
    r = check(sign(message()))
    expect(r["dkim"] == "pass", r.out)
    expect_match(r"dkim=pass header\.d=example\.com header\.s=rsa header\.a=rsa-sha256"
                 r' header\.b=("[^"]{8}"|[^"\s;]{8});', r.ar)


def test_dkim_ed25519_pass():
    r = check(sign(message(), selector=b"ed", alg=b"ed25519-sha256"))
    expect(r["dkim"] == "pass", r.out)
    expect_match(r"dkim=pass header\.d=example\.com header\.s=ed header\.a=ed25519-sha256", r.ar)


def test_dkim_big_key_over_tcp():
    before = len(DNS.queries)
    r = check(sign(message(), selector=b"big", key=BIG_PRIV))
    expect(r["dkim"] == "pass", r.out)
    expect(("big._domainkey.example.com", "TXT") in DNS.queries[before:], DNS.queries[before:])


def test_dkim_fail_body_changed():
    signed = sign(message())
    r = check(signed.replace(b"Second line.", b"Second line!"))
    expect(r["dkim"] == "fail", r.out)
    expect_match(r"dkim=fail \(body hash did not verify\)", r.ar)
    r = check(sign(message()).replace(b"Subject: test", b"Subject: tost"))
    expect(r["dkim"] == "fail", r.out)
    expect_match(r"dkim=fail \(signature did not verify\)", r.ar)


def test_dkim_none_and_key_problems():
    r = check(message())
    expect(r["dkim"] == "none", r.out)
    expect_match(r"dkim=none", r.ar)
    r = check(sign(message(), selector=b"missing"))
    expect(r["dkim"] == "permerror", r.out)
    r = check(sign(message(), selector=b"revoked"))
    expect(r["dkim"] == "permerror", r.out)
    r = check(sign(message(), selector=b"slowkey"), budget=1500)
    expect(r["dkim"] == "temperror", r.out)


def test_dkim_several_signatures():
    msg = sign(sign(message(), selector=b"ed", alg=b"ed25519-sha256"),
               selector=b"rsa", domain=b"other.example")
    r = check(msg)
    expect(r["dkim"] == "pass", r.out)
    expect(len(re.findall(r"dkim=pass", r.ar)) == 2, r.ar)
    expect_match(r"header\.d=other\.example", r.ar)
    # Past MAILAUTH_MAX_SIGNATURES (8) signatures are reported, not verified.
    msg = message()
    for _ in range(10):
        msg = sign(msg)
    r = check(msg)
    expect(r["dkim"] == "pass", r.out)
    expect(len(re.findall(r"dkim=pass", r.ar)) == 8, r.ar)
    expect(len(re.findall(r"dkim=policy \(not verified: too many signatures\)", r.ar)) == 2,
           r.ar)
    # Past MAILAUTH_MAX_REPORTED (10) they are not even listed, and hostile
    # selectors cannot make the block pass 16 KiB.
    msg = message()
    for i in range(30):
        msg = sign(msg, selector=b"s" * 60 + b".%d" % i + b".x" * 90)
    r = check(msg)
    expect(len(re.findall(r"dkim=", r.ar)) <= 10, r.ar)
    expect(len(r.headers) < 16 * 1024, "header block of %d bytes" % len(r.headers))


def test_dkim_streaming_and_line_endings():
    body = b"".join(b"line %d of a longer body, to cross the hashing window\r\n" % i
                    for i in range(5000))
    signed = sign(message(body=body), canon=(b"relaxed", b"relaxed"))
    for chunk in (1, 7, 65536, 1 << 20):
        r = check(signed if chunk != 1 else sign(message()), chunk=chunk)
        expect(r["dkim"] == "pass", "chunk %d" % chunk, r.out)
    # Signed with CRLF, stored with bare LF (BDAT may do that): same hash.
    r = check(sign(message()).replace(b"\r\n", b"\n"))
    expect(r["dkim"] == "pass", r.out)


# --- DMARC -------------------------------------------------------------

def test_dmarc_pass_by_spf_or_dkim_alone():
    r = check(message())                      # SPF aligned, no DKIM
    expect(r["dmarc"] == "pass" and r["reject"] == "no", r.out)
    expect_match(r"dmarc=pass \(p=reject dis=none\) header\.from=example\.com", r.ar)
    r = check(sign(message()), ip=BAD_IP)     # SPF fails, DKIM aligned
    expect(r["spf"] == "fail" and r["dmarc"] == "pass", r.out)


def test_dmarc_unaligned_reject():
    # SPF and DKIM pass, but for other.example: From example.com fails.
    msg = sign(message(), domain=b"other.example")
    r = check(msg, ip=BAD_IP, mail_from="x@other.example")
    expect(r["spf"] == "pass" and r["dkim"] == "pass", r.out)
    expect(r["dmarc"] == "fail" and r["policy"] == "reject" and r["reject"] == "yes", r.out)
    expect_match(r"dmarc=fail \(p=reject dis=reject\) header\.from=example\.com", r.ar)


def test_dmarc_relaxed_and_strict():
    # Relaxed: a subdomain's From with the parent's signature and envelope.
    frm = "a@news.example.com"
    r = check(sign(message(frm=frm)), ip=BAD_IP, mail_from="x@other.example")
    expect(r["dmarc"] == "pass", r.out)   # record found at example.com
    r = check(message(frm=frm))
    expect(r["dmarc"] == "pass", "aspf relaxed", r.out)
    # Strict: only the exact domain aligns.
    frm = "a@news.strict.example"
    r = check(sign(message(frm=frm), domain=b"strict.example"), ip=BAD_IP,
              mail_from="x@other.example")
    expect(r["dkim"] == "pass" and r["dmarc"] == "fail" and r["reject"] == "yes", r.out)
    r = check(message(frm=frm), mail_from="x@strict.example")
    expect(r["spf"] == "pass" and r["dmarc"] == "fail", "aspf=s", r.out)
    r = check(message(frm=frm), mail_from="x@news.strict.example")
    expect(r["spf"] == "pass" and r["dmarc"] == "pass", "aspf=s exact", r.out)


def test_dmarc_public_suffix():
    # co.uk is a public suffix: a signature by d=co.uk is not aligned with
    # shop.co.uk (libopendmarc 1.4.2 gets this wrong, DESIGN.md 7).
    frm = "a@shop.co.uk"
    r = check(sign(message(frm=frm), domain=b"co.uk"), ip=BAD_IP, mail_from="x@other.example")
    expect(r["dkim"] == "pass" and r["dmarc"] == "fail" and r["reject"] == "yes", r.out)
    r = check(sign(message(frm="a@mail.shop.co.uk"), domain=b"shop.co.uk"), ip=BAD_IP,
              mail_from="x@other.example")
    expect(r["dmarc"] == "pass", r.out)


def test_dmarc_pct_and_policies():
    r = check(message(frm="a@pct0.example"), mail_from="x@pct0.example")
    expect(r["dmarc"] == "fail" and r["policy"] == "reject" and r["reject"] == "no", r.out)
    expect_match(r"\(p=reject dis=quarantine\)", r.ar)
    r = check(message(frm="a@quar.example"), mail_from="x@quar.example")
    expect(r["dmarc"] == "fail" and r["policy"] == "quarantine" and r["reject"] == "no", r.out)


def test_dmarc_sp_for_subdomains():
    r = check(message(frm="a@sub.example.org"), mail_from="x@sub.example.org")
    expect(r["dmarc"] == "fail" and r["policy"] == "reject" and r["reject"] == "yes", r.out)
    r = check(message(frm="a@example.org"), mail_from="x@example.org")
    expect(r["dmarc"] == "fail" and r["policy"] == "none" and r["reject"] == "no", r.out)


def test_dmarc_none_and_errors():
    r = check(message(frm="a@nospf.example"), mail_from="x@nospf.example")
    expect(r["dmarc"] == "none" and r["reject"] == "no", r.out)
    expect_match(r"dmarc=none header\.from=nospf\.example", r.ar)
    r = check(message(frm="a@twodmarc.example"), mail_from="x@twodmarc.example")
    expect(r["dmarc"] == "none", "two records", r.out)
    r = check(message(frm="a@dmarcfail.example"))
    expect(r["dmarc"] == "temperror" and r["reject"] == "no", r.out)
    r = check(message(frm="a@dmarcslow.example"), budget=1500)
    expect(r["dmarc"] == "temperror", r.out)
    r = check(message(extra=b"From: Eve <eve@other.example>\r\n"))
    expect(r["dmarc"] == "permerror", "two From fields", r.out)
    r = check(message(frm="a@example.com, b@other.example"))
    expect(r["dmarc"] == "permerror", "two From domains", r.out)
    r = check(b"Subject: no from\r\n\r\nbody\r\n")
    expect(r["dmarc"] == "permerror", "no From", r.out)


# --- The header block --------------------------------------------------

def test_client_values_cannot_inject():
    r = check(message(), helo="evil\r\nX-Injected: 1", mail_from='a"b\\c@example.com\r\nX-I: 2')
    expect("X-Injected" not in r.headers.replace("?X-Injected", "") or
           "\r\nX-Injected" not in r.headers, r.headers)
    expect("\r\nX-I" not in r.headers, r.headers)
    expect_match(r'helo="evil\?\?X-Injected: 1";', r.rspf)
    expect_match(r'smtp\.mailfrom="a\\"b\\\\c@example\.com\?\?X-I: 2"', r.ar)
    long_helo = "h" * 5000
    r = check(message(), helo=long_helo, mail_from="")
    expect(all(len(l) <= 998 for l in r.headers.split("\r\n")), "long line")


def test_message_without_body_or_header():
    for msg in (b"", b"From: a@example.com\r\n", b"\r\nbody only\r\n",
                b"From: a@example.com\r\nSubject: x"):
        r = check(msg)
        expect(r["spf"] == "pass", repr(msg), r.out)


if __name__ == "__main__":
    status = run([
        test_spf_pass, test_spf_fail, test_spf_softfail_neutral_none, test_spf_permerror,
        test_spf_mechanisms, test_spf_ipv4_mapped_client, test_spf_loopback_is_not_special,
        test_spf_helo_identity_for_null_path, test_spf_temperror, test_dns_server_down,
        test_dkim_rsa_pass, test_dkim_ed25519_pass, test_dkim_big_key_over_tcp,
        test_dkim_fail_body_changed, test_dkim_none_and_key_problems,
        test_dkim_several_signatures, test_dkim_streaming_and_line_endings,
        test_dmarc_pass_by_spf_or_dkim_alone, test_dmarc_unaligned_reject,
        test_dmarc_relaxed_and_strict, test_dmarc_public_suffix, test_dmarc_pct_and_policies,
        test_dmarc_sp_for_subdomains, test_dmarc_none_and_errors,
        test_client_values_cannot_inject, test_message_without_body_or_header,
    ])
    DNS.stop()
    sys.exit(status)
