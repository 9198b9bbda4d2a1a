# verbatim_user_names keeps the local part as given (case-sensitive);
# keep_recipient_domain keeps "@domain" (here an alias named after the
# address).
% user alice
% alias alice@example.com alice
% alias Bob.Smith+x alice
% config [smtp]
% config keep_recipient_domain = true

S: 220 ...
C: EHLO client.example.org
S~: 250 HELP
C: MAIL FROM:<>
S: 250 2.1.0 Sender <> OK
C: RCPT TO:<ALICE@Example.com>
S: 250 2.1.5 ...
C: RCPT TO:<alice@example.net>
S: 550 5.7.1 ...
C: QUIT
S: 221 ...
