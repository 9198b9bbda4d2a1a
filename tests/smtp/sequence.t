# Commands out of order get 503 5.5.1 and fail alone (RFC 5321 4.1.4);
# a transaction without any accepted recipient ends DATA and BDAT with 554
# (RFC 2920 3.1); BDAT's chunk is read even when refused, so the session
# stays in step; EHLO and RSET end a transaction.
% user alice

S: 220 ...
C: MAIL FROM:<a@example.org>
S: 503 5.5.1 Say EHLO first
C: RCPT TO:<alice@example.com>
S: 503 5.5.1 Say EHLO first
C: DATA
S: 503 5.5.1 Say EHLO first
C: EHLO client.example.org
S~: 250 HELP
C: RCPT TO:<alice@example.com>
S: 503 5.5.1 Need MAIL before RCPT
C: DATA
S: 503 5.5.1 Need MAIL before this
R: b"BDAT 6\r\nRSET\r\n"
S: 503 5.5.1 Need MAIL before BDAT
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 Sender <a@example.org> OK
C: MAIL FROM:<b@example.org>
S: 503 5.5.1 Nested MAIL command
C: DATA
S: 554 5.5.1 No valid recipients
R: b"BDAT 4 LAST\r\nQUIT"
S: 554 5.5.1 No valid recipients
C: RCPT TO:<nobody@example.com>
S: 550 5.1.1 <nobody@example.com>: No such user here
C: DATA
S: 554 5.5.1 No valid recipients
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 Recipient <alice@example.com> OK
C: STARTTLS
S: 503 5.5.1 STARTTLS in the middle of a transaction
C: DATA extra
S: 501 5.5.4 DATA takes no arguments
# EHLO resets: the recipient is gone.
C: EHLO again.example.org
S~: 250 HELP
C: DATA
S: 503 5.5.1 Need MAIL before this
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 ...
C: RSET
S: 250 2.0.0 OK
C: DATA
S: 503 5.5.1 Need MAIL before this
# BDAT then DATA, and RCPT after BDAT started.
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 ...
R: b"BDAT 3\r\nab\n"
S: 250 2.0.0 3 octets received
C: DATA
S: 503 5.5.1 DATA in the middle of BDAT
C: RCPT TO:<alice@example.com>
S: 503 5.5.1 RCPT after BDAT
R: b"BDAT 0 LAST\r\n"
S: 250 2.0.0 Message accepted (id {{\w+}})
! body alice 1 b"ab\n"
C: QUIT
S: 221 2.0.0 ...
