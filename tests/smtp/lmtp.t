# LMTP (RFC 2033; manual, "SMTP/LMTP Characteristics", LMTP): LHLO, not
# EHLO or HELO; any domain, since the domain is not part of the user name;
# one reply per accepted recipient after DATA and after BDAT LAST, in the
# order of the RCPTs, an alias and its user sharing one copy; no limit on
# the header block; a refused message refused for each recipient; AUTH
# refused.
% listen lmtp
% user alice
% user bob
% alias al alice

S: 220 {{\S+}} LMTP sealmail ready
C: EHLO mta.example.org
S: 500 5.5.1 This is LMTP: say LHLO
C: HELO mta.example.org
S: 500 5.5.1 This is LMTP: say LHLO
C: MAIL FROM:<a@example.org>
S: 503 5.5.1 Say LHLO first
C: LHLO mta.example.org
S: 250-{{\S+}} Hello mta.example.org [127.0.0.1]
S: 250-PIPELINING
S: 250-SIZE 67076096
S: 250-8BITMIME
S: 250-BINARYMIME
S: 250-CHUNKING
S: 250-ENHANCEDSTATUSCODES
S: 250-STARTTLS
S: 250-SMTPUTF8
S: 250 HELP
C: AUTH LOGIN
S: 503 5.5.1 Authentication is not available on this service
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@anywhere.example>
S: 250 2.1.5 ...
C: RCPT TO:<nobody@anywhere.example>
S: 550 5.1.1 <nobody@anywhere.example>: No such user here
C: RCPT TO:<Bob+list@other.example>
S: 250 2.1.5 ...
C: RCPT TO:<al@anywhere.example>
S: 250 2.1.5 ...
C: RCPT TO:<bob>
S: 250 2.1.5 ...
C: DATA
S: 354 ...
C: Subject: lmtp
C:
C: hello
C: .
S: 250 2.0.0 <alice@anywhere.example> Delivered (id {{id:\w+}})
S: 250 2.0.0 <Bob+list@other.example> Delivered (id ${id})
S: 250 2.0.0 <al@anywhere.example> Delivered (id ${id})
S: 250 2.0.0 <bob> Delivered (id ${id})
! count alice 1
! count bob 1
! headers bob 1
| Received: from mta.example.org ([127.0.0.1])
| 	by {{\S+}} (sealmail) with LMTP id ${id}
| 	for <Bob+list@other.example>;
| 	...
| Subject: lmtp
# BDAT: 250 per chunk, then one reply per recipient; no header limit.
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@x.example>
S: 250 2.1.5 ...
C: RCPT TO:<bob@x.example>
S: 250 2.1.5 ...
R: b"BDAT 300000\r\n" + b"X-Long: " + b"h" * 299990 + b"\r\n"
S: 250 2.0.0 300000 octets received
R: b"BDAT 6 LAST\r\n\r\nbody"
S: 250 2.0.0 <alice@x.example> Delivered ...
S: 250 2.0.0 <bob@x.example> Delivered ...
! body alice 2 b"X-Long: " + b"h" * 299990 + b"\r\n\r\nbody"
# A message too big is refused for each recipient.
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@x.example>
S: 250 2.1.5 ...
C: RCPT TO:<bob@x.example>
S: 250 2.1.5 ...
R: b"BDAT 67076097 LAST\r\n" + b"\x00" * 67076097
S: 552 5.3.4 Message refused: message too big (at most 67076096 bytes)
S: 552 5.3.4 Message refused: message too big (at most 67076096 bytes)
C: QUIT
S: 221 ...
! count alice 2
! count bob 2
