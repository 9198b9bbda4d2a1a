# The greeting, EHLO's extensions (RFC 5321 4.1.1.1, no enhanced codes on
# the EHLO lines: RFC 2034), HELO, NOOP with an argument, HELP, VRFY and
# EXPN with their constant answers, AUTH always refused on port 25, unknown
# and malformed commands answered alone, an over-long command line refused
# while the session goes on, RSET, QUIT.
% config [smtp]
% config host_name = "mx.example.net"

S: 220 mx.example.net ESMTP sealmail ready
C: EHLO
S: 501 5.5.4 Syntax: EHLO hostname
C: EHLO client.example.org
S: 250-mx.example.net Hello client.example.org [127.0.0.1]
S: 250-PIPELINING
S: 250-SIZE 67076096
S: 250-8BITMIME
S: 250-BINARYMIME
S: 250-CHUNKING
S: 250-ENHANCEDSTATUSCODES
S: 250-STARTTLS
S: 250-SMTPUTF8
S: 250 HELP
C: HELO old.example.org
S: 250 mx.example.net Hello old.example.org [127.0.0.1]
C: noop anything at all
S: 250 2.0.0 OK
C: HELP
S: 214-2.0.0 This is sealmail's SMTP service.
S: 214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY EXPN HELP STARTTLS
S: 214 2.0.0 End of HELP
C: VRFY alice
S: 252 2.5.0 Cannot VRFY users; send the mail and see
C: VRFY nobody@example.com
S: 252 2.5.0 Cannot VRFY users; send the mail and see
C: EXPN staff
S: 502 5.5.1 There are no mailing lists here
C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
S: 503 5.5.1 Authentication is not available on this service
C: LHLO client.example.org
S: 500 5.5.1 Unknown command
C: FROBNICATE
S: 500 5.5.1 Unknown command
C: RSET now
S: 501 5.5.4 RSET takes no arguments
C: RSET
S: 250 2.0.0 OK
# 65534 bytes is the longest line; one more is refused and the session
# goes on with the next command.
R: b"NOOP " + b"x" * 65529 + b"\r\n"
S: 250 2.0.0 OK
R: b"NOOP " + b"x" * 65530 + b"\r\n"
S: 500 5.5.2 Line too long (at most 65534 bytes)
R: b"NOOP " + b"x" * 200000 + b"\r\nNOOP\r\n"
S: 500 5.5.2 Line too long (at most 65534 bytes)
S: 250 2.0.0 OK
# Bare LF ends a command too.
R: b"NOOP\n"
S: 250 2.0.0 OK
C: QUIT
S: 221 2.0.0 mx.example.net Bye
S: <closed>
