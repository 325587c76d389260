# MOVE and UID MOVE (RFC 6851): a MessageAppend in the destination and a
# MessageExpunge in the source (the selected mailbox).  COPYUID comes in
# an untagged OK before the expunges; its source set is exactly the
# messages moved, known to the map or not.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 6 EXISTS
S: * OK [UIDVALIDITY 42] Ok
S: * OK [UIDNEXT 107] Ok
S: b1 OK [READ-WRITE] Ok
E: -
# UIDs 101 to 106, none fetched
C: b2 UID MOVE 101:102 Archive
S: * OK [COPYUID 77 101:102 5:6] Moved UIDs.
S: * 1 EXPUNGE
S: * 1 EXPUNGE
S: b2 OK Move completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=77 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=77 uidset=5:6
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=101:102 uidnext=107 messages=4
# QRESYNC: VANISHED instead of EXPUNGE
C: b3 UID MOVE 105 Trash
S: * OK [COPYUID 77 105 9] Moved UIDs.
S: * VANISHED 105
S: b3 OK Move completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Trash;UIDVALIDITY=77/;UID=9 mailboxID=imap://alice@mail.example.net/Trash;UIDVALIDITY=77 uidset=9
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=105 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=105 uidnext=107 messages=3
# Left: 103, 104, 106.  MOVE without UIDPLUS: no COPYUID, so no
# destination UIDs, and the source UIDs come from the map.
C: b4 FETCH 1:3 (UID)
S: * 1 FETCH (UID 103)
S: * 2 FETCH (UID 104)
S: * 3 FETCH (UID 106)
S: b4 OK Fetch completed.
C: b5 MOVE 2:3 Junk
S: * 2 EXPUNGE
S: * 2 EXPUNGE
S: b5 OK Move completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Junk mailboxID=imap://alice@mail.example.net/Junk
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=104,106 uidnext=107 messages=1
# refused: neither event
C: b6 MOVE 1 Nope
S: b6 NO [TRYCREATE] Mailbox doesn't exist: Nope
E: -
# COPYUID in the tagged OK works as well
C: b7 UID MOVE 103 {7+}
C: Archive
S: * 1 EXPUNGE
S: b7 OK [COPYUID 77 103 10] Move completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=77/;UID=10 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=77 uidset=10
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=103 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=103 uidnext=107 messages=0
