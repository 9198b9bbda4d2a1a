# CHUNKING and BINARYMIME (RFC 3030): BDAT carries bytes as they are, never
# converted or unstuffed (manual), in any number of chunks, pipelined;
# BDAT 0 LAST ends a message; a chunk over the size limit fails the
# message but is read whole, later chunks of that message get the same
# answer, and the session goes on.
% user alice

S: 220 ...
C: EHLO client.example.org
S~: 250 HELP
C: MAIL FROM:<a@example.org> BODY=BINARYMIME
S: 250 2.1.0 ...
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 ...
R: b"BDAT 283 LAST\r\nSubject: binary\r\n\r\n" + bytes(range(256)) + b"\r\n.\r\n\n.\n"
S: 250 2.0.0 Message accepted (id {{\w+}})
! body alice 1 b"Subject: binary\r\n\r\n" + bytes(range(256)) + b"\r\n.\r\n\n.\n"
# Several chunks pipelined in one write, a chunk boundary inside CRLF, and
# an empty last chunk.
R: b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.com>\r\nBDAT 11\r\nSubject: x\rBDAT 3\r\n\n\r\nBDAT 4\r\n\x00\xff\r.BDAT 0 LAST\r\n"
S: 250 2.1.0 ...
S: 250 2.1.5 ...
S: 250 2.0.0 11 octets received
S: 250 2.0.0 3 octets received
S: 250 2.0.0 4 octets received
S: 250 2.0.0 Message accepted ...
! body alice 2 b"Subject: x\r\n\r\n\x00\xff\r."
# A message in one chunk of 1 MiB and a bit (past the memory spool).
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 ...
R: b"BDAT %d LAST\r\n" % (16 + 3 * 400000) + b"Subject: big\r\n\r\n" + bytes(range(200, 203)) * 400000
S: 250 2.0.0 Message accepted ...
! body alice 3 b"Subject: big\r\n\r\n" + bytes(range(200, 203)) * 400000
# Over the limit: this chunk and the next are refused but read; then
# the session is in step for a normal message.
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 ...
R: b"BDAT 67076097\r\nS: x\r\n\r\n" + b"\x00" * (67076097 - 8)
S: 552 5.3.4 Message refused: message too big (at most 67076096 bytes)
R: b"BDAT 5 LAST\r\nQUIT\n"
S: 552 5.3.4 Message refused: message too big (at most 67076096 bytes)
R: b"BDAT 5 LAST\r\nQUIT\n"
S: 503 5.5.1 Need MAIL before BDAT
# Syntax errors: the size cannot be known, so nothing is skipped.
C: BDAT
S: 501 5.5.4 Syntax: BDAT size [LAST]
C: BDAT 12 FIRST
S: 501 5.5.4 Syntax: BDAT size [LAST]
C: BDAT 99999999999999999999
S: 501 5.5.4 Syntax: BDAT size [LAST]
! count alice 3
C: QUIT
S: 221 ...
