# QRESYNC (RFC 7162): VANISHED names the UIDs removed, whether the map
# knew them or not; VANISHED (EARLIER) is history the client asked for
# and changes nothing; HIGHESTMODSEQ from the EXPUNGE's OK is modseq;
# [CLOSED] separates the old mailbox's responses from the new one's.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS CONDSTORE QRESYNC] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: a2 ENABLE QRESYNC
S: * ENABLED QRESYNC
S: a2 OK Enabled.
C: b1 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:30))
S: * 6 EXISTS
S: * OK [UIDVALIDITY 67890007] UIDs valid
S: * OK [UIDNEXT 31] Predicted next UID
S: * OK [HIGHESTMODSEQ 90060115205545359] Highest
S: * VANISHED (EARLIER) 1:2,4,7:19
S: * 2 FETCH (UID 5 FLAGS (\Seen) MODSEQ (90060115205545359))
S: b1 OK [READ-WRITE] mailbox selected
E: -
# Known: 2 is UID 5.  The others (the client does not know): 3, 6, 20,
# 25, 29.
C: b2 UID EXPUNGE 3:6
S: * VANISHED 3,6
S: b2 OK [HIGHESTMODSEQ 90060115205545400] Expunged.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007 uidset=3,6 uidnext=31 modseq=90060115205545400 messages=4
# history during a FETCH: nothing changes (still 4 messages)
C: b3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 90060115194045000 VANISHED)
S: * VANISHED (EARLIER) 3,6,8
S: * 1 FETCH (UID 5 FLAGS (\Seen) MODSEQ (90060115205545359))
S: b3 OK Fetch completed.
E: -
# someone else's, during NOOP: external
C: b4 NOOP
S: * VANISHED 25
S: b4 OK NOOP completed.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007/;UID=25 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007 uidset=25 uidnext=31 messages=3 vnd.msgeventd.cause=external
# UID EXPUNGE of its set only: 29 was someone else's
C: b5 UID EXPUNGE 5,20:21
S: * VANISHED 5,20,29
S: b5 OK Expunged.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007 uidset=5,20 uidnext=31 messages=0
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007/;UID=29 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=67890007 uidset=29 uidnext=31 messages=0 vnd.msgeventd.cause=external
# A new SELECT: the old mailbox's last responses come before [CLOSED]
# (were the FETCH taken for the new one, message 1 would be UID 40)
C: c1 SELECT Archive (QRESYNC (5 1))
S: * VANISHED 40
S: * 3 EXISTS
S: * 1 FETCH (UID 40 FLAGS ())
S: * OK [CLOSED] Previous mailbox closed.
S: * 3 EXISTS
S: * OK [UIDVALIDITY 5] Ok
S: * OK [NOMODSEQ] No modseqs
S: c1 OK [READ-WRITE] Archive selected
E: -
C: c2 EXPUNGE
S: * 1 EXPUNGE
S: c2 OK Expunged.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=5 messages=2 (truncated)
C: c3 EXPUNGE
S: * VANISHED 1
S: c3 OK Expunged.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=5/;UID=1 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=5 uidset=1 messages=1
