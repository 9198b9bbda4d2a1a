# LMTP on a unix socket, as an MTA on the same machine uses it: a bare
# recipient name, no client address in Received, and a message with bare
# LF line endings converted (its first line ending is a bare LF).
% listen lmtp-unix
% user alice

S: 220 {{\S+}} LMTP sealmail ready
C: LHLO localhost
S~: 250 HELP
R: b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice>\r\nDATA\r\n"
S: 250 2.1.0 ...
S: 250 2.1.5 ...
S: 354 ...
R: b"Subject: unix\n\nline\n.\n"
S: 250 2.0.0 <alice> Delivered (id {{id:\w+}})
! headers alice 1
| Received: from localhost
| 	by {{\S+}} (sealmail) with LMTP id ${id}
| 	for <alice>;
| 	...
| Subject: unix
! body alice 1 b"Subject: unix\r\n\r\nline\r\n"
C: QUIT
S: 221 ...
