# COPYUID where it does not belong is ignored: before the MOVE's line
# is complete, a second one, one for a command that is not a MOVE.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 2 EXISTS
S: * OK [UIDVALIDITY 42] Ok
S: b1 OK [READ-WRITE] Ok
C: m1 UID MOVE 1 {7}
S: * OK [COPYUID 9 1 99] Too early
S: + OK
C: Archive
S: * OK [COPYUID 5 1 2] Moved
S: * OK [COPYUID 6 1 3] Again
S: * VANISHED 1
S: m1 OK Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=5/;UID=2 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=5 uidset=2
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=1 messages=1
C: n1 NOOP
S: * OK [COPYUID 5 2 3] Not a MOVE
S: n1 OK [COPYUID 5 2 3] Not a COPY
E: -
# A malformed COPYUID (no UIDVALIDITY) is all there is: the next one is
# not read, and the UIDs of the source come from the VANISHED
C: m2 UID MOVE 2 Archive
S: * OK [COPYUID x 2 3] Bad
S: * OK [COPYUID 5 2 3] Too late
S: * VANISHED 2
S: m2 OK Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive mailboxID=imap://alice@mail.example.net/Archive
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=2 messages=0
# a destination set that does not parse: the copies' UIDs are unknown
C: b2 NOOP
S: * 1 EXISTS
S: b2 OK Done
C: c1 COPY 1 Archive
S: c1 OK [COPYUID 5 3 4:] Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=5 (truncated)
