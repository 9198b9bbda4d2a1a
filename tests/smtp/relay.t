# Never an open relay (manual: delivery is rejected for any domain not
# defined in the configuration): unlisted domains, source routes, the '%'
# hack, bang paths, quoted local parts holding an '@', address literals
# and domainless addresses are all refused, each alone, the session going
# on. Only Postmaster may come without a domain (RFC 5321 4.5.1). Nothing
# reaches alice.
% user alice

S: 220 ...
C: EHLO relay-tester.example.org
S~: 250 HELP
C: MAIL FROM:<spammer@example.org>
S: 250 2.1.0 ...
C: RCPT TO:<victim@example.org>
S: 550 5.7.1 <victim@example.org>: Relay access denied: not a domain of this server
C: RCPT TO:<alice@example.com.evil.org>
S: 550 5.7.1 ...Relay access denied...
C: RCPT TO:<@example.com:victim@example.org>
S: 550 5.7.1 <victim@example.org>: Source routes are not accepted; no relaying
C: RCPT TO:<@example.com,@example.com:alice@example.com>
S: 550 5.7.1 ...Source routes are not accepted...
C: RCPT TO:<victim%example.org@example.com>
S: 550 5.7.1 <victim%example.org@example.com>: No relaying through this server
C: RCPT TO:<example.org!victim@example.com>
S: 550 5.7.1 ...No relaying through this server
C: RCPT TO:<"victim@example.org"@example.com>
S: 550 5.7.1 ...No relaying through this server
C: RCPT TO:<"victim%example.org"@example.com>
S: 550 5.7.1 ...No relaying through this server
C: RCPT TO:<alice@[127.0.0.1]>
S: 550 5.7.1 ...Relay access denied...
C: RCPT TO:<alice>
S: 501 5.1.3 <alice>: The address needs a domain
C: RCPT TO:<Postmaster>
S: 550 5.1.1 <Postmaster>: No such user here
C: RCPT TO:victim@example.org
S: 550 5.7.1 ...Relay access denied...
C: RCPT TO:<alice@example.com
S: 501 5.1.3 Missing > after the address
C: RCPT TO:<>
S: 501 5.1.3 ...
C: DATA
S: 554 5.5.1 No valid recipients
C: QUIT
S: 221 ...
! count alice 0
