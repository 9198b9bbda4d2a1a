# STARTTLS (RFC 3207) outside of TLS itself (test_smtp_clients and
# test_smtp_swaks do the handshake): no arguments, not before EHLO, and
# commands pipelined after it would be injected into the TLS session from
# the clear (RFC 3207 6): the server refuses and hangs up.
S: 220 ...
C: STARTTLS
S: 503 5.5.1 Say EHLO first
C: EHLO client.example.org
S~: 250 HELP
C: STARTTLS now
S: 501 5.5.4 STARTTLS takes no arguments
R: b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n"
S: 554 5.5.1 Data after STARTTLS; closing
S: <closed>
