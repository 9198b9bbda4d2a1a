# PIPELINING (RFC 2920): a whole transaction in one write gets every
# answer in order, a refused recipient among them; replies to one batch
# come together; BDAT and a second transaction in the same batch too.
% user alice
% user bob

S: 220 ...
R: b"EHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
S~: 250 HELP
S: 250 2.1.0 Sender <a@example.org> OK
S: 250 2.1.5 Recipient <alice@example.com> OK
S: 550 5.1.1 <nobody@example.com>: No such user here
S: 250 2.1.5 Recipient <bob@example.com> OK
S: 354 End data with <CR><LF>.<CR><LF>
R: b"Subject: pipelined\r\n\r\nhello\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.com>\r\nBDAT 10 LAST\r\nSubject: 2RSET\r\nNOOP\r\nQUIT\r\n"
S: 250 2.0.0 Message accepted ...
S: 250 2.1.0 Sender <> OK
S: 250 2.1.5 Recipient <bob@example.com> OK
S: 250 2.0.0 Message accepted ...
S: 250 2.0.0 OK
S: 250 2.0.0 OK
S: 221 2.0.0 ...
S: <closed>
! count alice 1
! count bob 2
! body bob 2 b"Subject: 2"
