# Recipients (manual, [smtp]): the local part is lower-cased, loses its
# dots and everything from the first '+', and the domain is dropped; an
# alias (a symlink in users/) reaches its user; two addresses of one user
# get one copy; an unknown user is refused at RCPT with 550 5.1.1; the
# limit of 100 recipients answers 452 (RFC 5321 4.5.3.1.8).
% user alice
% user bob
% alias al alice

S: 220 ...
C: EHLO client.example.org
S~: 250 HELP
C: MAIL FROM:<sender@example.org> SIZE=100 BODY=8BITMIME
S: 250 2.1.0 Sender <sender@example.org> OK
C: RCPT TO:<Al.Ice+news@Example.COM>
S: 250 2.1.5 Recipient <Al.Ice+news@Example.COM> OK
C: RCPT TO:<al@example.com> NOTIFY=NEVER ORCPT=rfc822;al@example.com
S: 250 2.1.5 Recipient <al@example.com> OK
C: RCPT TO:<BOB@example.com>
S: 250 2.1.5 ...
C: RCPT TO:<carol@example.com>
S: 550 5.1.1 <carol@example.com>: No such user here
C: RCPT TO:<%alice@example.com>
S: 550 5.7.1 ...
C: RCPT TO:<.hidden@example.com>
S: 550 5.1.1 ...
C: DATA
S: 354 End data with <CR><LF>.<CR><LF>
C: Subject: to three addresses, two users
C:
C: hi
C: .
S: 250 2.0.0 Message accepted (id {{id:[0-9a-f]+}})
! count alice 1
! count bob 1
! headers alice 1
| Received: from client.example.org ([127.0.0.1])
| 	by {{\S+}} (sealmail) with ESMTP id ${id}
| 	for <Al.Ice+news@Example.COM>;
| 	{{\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000}}
| Subject: to three addresses, two users
! headers bob 1
| Received: from client.example.org ([127.0.0.1])
| ...
| 	for <BOB@example.com>;
# Recipient 101 is refused.
C: MAIL FROM:<sender@example.org>
S: 250 2.1.0 ...
R: b"".join(b"RCPT TO:<alice+%d@example.com>\r\n" % i for i in range(101))
S~: 250 2.1.5 Recipient <alice+99@example.com> OK
S: 452 4.5.3 Too many recipients
C: RSET
S: 250 2.0.0 OK
C: QUIT
S: 221 ...
