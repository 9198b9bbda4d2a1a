"""A tiny authoritative DNS server for tests (Debian's python3-dnslib, so
run by /usr/bin/python3), on a free 127.0.0.1 port, UDP and TCP.

    dns = TestDNS({
        "example.com": [("TXT", "v=spf1 ip4:192.0.2.1 -all"),
                        ("MX", (10, "mx.example.com"))],
        "mx.example.com": [("A", "192.0.2.1")],
    }, servfail={"broken.example"}, drop={"slow.example"})
    dns.address        # "127.0.0.1:PORT", for [dns] servers
    dns.queries        # [(name, type)] in arrival order
    dns.stop()

A name in the zone without records of the asked type answers NODATA, a
name not in it (nor any name below it) NXDOMAIN, both with an SOA. Names in
`servfail` answer SERVFAIL; names in `drop` are never answered. UDP answers
over 512 bytes are truncated (TC), so big TXT records go over TCP as with
a real server. Long TXT strings are split into 255-byte character-strings.
"""

import socket
import threading

from dnslib import A, AAAA, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, DNSRecord
from dnslib.server import DNSHandler, DNSLogger, DNSServer, TCPServer, UDPServer

_TYPES = {"A": A, "AAAA": AAAA, "MX": MX, "PTR": PTR, "TXT": TXT}


def _txt(value):
    data = value.encode() if isinstance(value, str) else value
    return TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])


def _rdata(rtype, value):
    if rtype == "TXT":
        return _txt(value)
    if rtype == "MX":
        pref, host = value
        return MX(host, pref)
    return _TYPES[rtype](value)


class _Resolver:
    def __init__(self, owner):
        self.owner = owner

    def resolve(self, request, handler):
        owner = self.owner
        q = request.q
        name = str(q.qname).rstrip(".").lower()
        qtype = QTYPE[q.qtype]
        with owner.lock:
            owner.queries.append((name, qtype))
        reply = request.reply()
        if name in owner.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        records = owner.zone.get(name)
        for rtype, value in records or []:
            if rtype == qtype:
                reply.add_answer(RR(q.qname, QTYPE.reverse[rtype], ttl=owner.ttl,
                                    rdata=_rdata(rtype, value)))
        if not reply.rr:
            exists = records is not None or any(
                z.endswith("." + name) for z in owner.zone)
            if not exists:
                reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(RR("test.", QTYPE.SOA, ttl=60, rdata=SOA(
                "ns.test.", "hostmaster.test.", (1, 3600, 600, 86400, 60))))
        return reply


class _Handler(DNSHandler):
    def get_reply(self, data):
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        rdata = reply.pack()
        if self.protocol == "udp" and len(rdata) > 512:
            # Truncated, with the question kept as real servers do (a
            # client checks it before it retries over TCP).
            tc = request.reply()
            tc.header.tc = 1
            rdata = tc.pack()
        return rdata

    def handle(self):
        # Never answer names in `drop`: the client must time out.
        try:
            if self.server.socket_type == socket.SOCK_STREAM:
                peek = self.request.recv(8192, socket.MSG_PEEK)[2:]
            else:
                peek = self.request[0]
            name = str(DNSRecord.parse(peek).q.qname).rstrip(".").lower()
        except Exception:
            name = ""
        if name in self.server.resolver.owner.drop:
            with self.server.resolver.owner.lock:
                self.server.resolver.owner.queries.append((name, "dropped"))
            return
        super().handle()


class _Quiet(DNSLogger):
    def __init__(self):
        super().__init__(log="-request,-reply,-truncated,-send,-recv,-data", prefix=False)


class TestDNS:
    def __init__(self, zone, servfail=(), drop=(), ttl=300):
        self.zone = {k.rstrip(".").lower(): list(v) for k, v in zone.items()}
        self.servfail = {n.lower() for n in servfail}
        self.drop = {n.lower() for n in drop}
        self.ttl = ttl
        self.queries = []
        self.lock = threading.Lock()
        resolver = _Resolver(self)
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            try:
                self.udp = DNSServer(resolver, "127.0.0.1", port, handler=_Handler,
                                     logger=_Quiet(), server=UDPServer)
            except OSError:
                continue
            try:
                self.tcp = DNSServer(resolver, "127.0.0.1", port, tcp=True,
                                     handler=_Handler, logger=_Quiet(), server=TCPServer)
            except OSError:
                self.udp.server.server_close()
                continue
            break
        else:
            raise RuntimeError("no free port for the test DNS server")
        self.port = port
        self.address = "127.0.0.1:%d" % port
        self.udp.start_thread()
        self.tcp.start_thread()

    def set(self, name, records):
        with self.lock:
            self.zone[name.rstrip(".").lower()] = list(records)

    def stop(self):
        for srv in (self.udp, self.tcp):
            srv.stop()
            srv.server.server_close()
