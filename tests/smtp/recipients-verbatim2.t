# verbatim_user_names: no lower-casing, no dot or '+' removal.
% user alice
% alias Bob.Smith+x alice
% config [smtp]
% config verbatim_user_names = true

S: 220 ...
C: EHLO client.example.org
S~: 250 HELP
C: MAIL FROM:<>
S: 250 2.1.0 Sender <> OK
C: RCPT TO:<Bob.Smith+x@example.com>
S: 250 2.1.5 ...
C: RCPT TO:<bob.smith+x@example.com>
S: 550 5.1.1 ...
C: RCPT TO:<ALICE@example.com>
S: 550 5.1.1 ...
C: RCPT TO:<alice@example.com>
S: 250 2.1.5 ...
C: QUIT
S: 221 ...
