# A FLAGS replace that gives \Seen back to messages a STORE took
# it from is a MessageRead for them (RFC 5423 4.2: \Seen set),
# beside the replace's other changes, in a mailbox whose flags
# alternate every few messages (scripts/bench.py's pattern: every
# third message \Seen, every seventh \Flagged \Seen).  The bench
# found that MessageRead missing: at 20,000 messages the flag
# cache had forgotten the messages of one UID whose flags differed
# from their neighbours' first (test_imap_infer.c
# test_replace_seen_big runs it at that size).
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 42 EXISTS
S: * OK [UIDVALIDITY 5] UIDs valid
S: * OK [UIDNEXT 100] Predicted next UID
S: b1 OK [READ-WRITE] Select completed.
C: b2 FETCH 1:42 (UID FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Seen))
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS ())
S: * 4 FETCH (UID 4 FLAGS (\Seen))
S: * 5 FETCH (UID 5 FLAGS ())
S: * 6 FETCH (UID 6 FLAGS ())
S: * 7 FETCH (UID 7 FLAGS (\Seen))
S: * 8 FETCH (UID 8 FLAGS (\Flagged \Seen))
S: * 9 FETCH (UID 9 FLAGS ())
S: * 10 FETCH (UID 10 FLAGS (\Seen))
S: * 11 FETCH (UID 11 FLAGS ())
S: * 12 FETCH (UID 12 FLAGS ())
S: * 13 FETCH (UID 13 FLAGS (\Seen))
S: * 14 FETCH (UID 14 FLAGS ())
S: * 15 FETCH (UID 15 FLAGS (\Flagged \Seen))
S: * 16 FETCH (UID 16 FLAGS (\Seen))
#
S: * 17 FETCH (UID 17 FLAGS ())
S: * 18 FETCH (UID 18 FLAGS ())
S: * 19 FETCH (UID 19 FLAGS (\Seen))
S: * 20 FETCH (UID 20 FLAGS ())
S: * 21 FETCH (UID 21 FLAGS ())
S: * 22 FETCH (UID 22 FLAGS (\Seen))
S: * 23 FETCH (UID 23 FLAGS ())
S: * 24 FETCH (UID 24 FLAGS ())
S: * 25 FETCH (UID 25 FLAGS (\Seen))
S: * 26 FETCH (UID 26 FLAGS ())
S: * 27 FETCH (UID 27 FLAGS ())
S: * 28 FETCH (UID 28 FLAGS (\Seen))
S: * 29 FETCH (UID 29 FLAGS (\Flagged \Seen))
S: * 30 FETCH (UID 30 FLAGS ())
S: * 31 FETCH (UID 31 FLAGS (\Seen))
S: * 32 FETCH (UID 32 FLAGS ())
#
S: * 33 FETCH (UID 33 FLAGS ())
S: * 34 FETCH (UID 34 FLAGS (\Seen))
S: * 35 FETCH (UID 35 FLAGS ())
S: * 36 FETCH (UID 36 FLAGS (\Flagged \Seen))
S: * 37 FETCH (UID 37 FLAGS (\Seen))
S: * 38 FETCH (UID 38 FLAGS ())
S: * 39 FETCH (UID 39 FLAGS ())
S: * 40 FETCH (UID 40 FLAGS (\Seen))
S: * 41 FETCH (UID 41 FLAGS ())
S: * 42 FETCH (UID 42 FLAGS ())
S: b2 OK Fetch completed.
E: -
C: b3 STORE 1:42 +FLAGS (\Seen)
S: * 2 FETCH (FLAGS (\Seen))
S: * 3 FETCH (FLAGS (\Seen))
S: * 5 FETCH (FLAGS (\Seen))
S: * 6 FETCH (FLAGS (\Seen))
S: * 9 FETCH (FLAGS (\Seen))
S: * 11 FETCH (FLAGS (\Seen))
S: * 12 FETCH (FLAGS (\Seen))
S: * 14 FETCH (FLAGS (\Seen))
S: * 17 FETCH (FLAGS (\Seen))
S: * 18 FETCH (FLAGS (\Seen))
S: * 20 FETCH (FLAGS (\Seen))
S: * 21 FETCH (FLAGS (\Seen))
S: * 23 FETCH (FLAGS (\Seen))
S: * 24 FETCH (FLAGS (\Seen))
S: * 26 FETCH (FLAGS (\Seen))
S: * 27 FETCH (FLAGS (\Seen))
#
S: * 30 FETCH (FLAGS (\Seen))
S: * 32 FETCH (FLAGS (\Seen))
S: * 33 FETCH (FLAGS (\Seen))
S: * 35 FETCH (FLAGS (\Seen))
S: * 38 FETCH (FLAGS (\Seen))
S: * 39 FETCH (FLAGS (\Seen))
S: * 41 FETCH (FLAGS (\Seen))
S: * 42 FETCH (FLAGS (\Seen))
S: b3 OK Store completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=2:3,5:6,9,11:12,14,17:18,20:21,23:24,26:27,30,32:33,35,38:39,41:42
C: c0 STORE 7 -FLAGS (\Seen)
S: * 7 FETCH (FLAGS ())
S: c0 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=7 flagNames=\Seen
C: c1 STORE 22 -FLAGS (\Seen)
S: * 22 FETCH (FLAGS ())
S: c1 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=22 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=22 flagNames=\Seen
C: c2 STORE 36 -FLAGS (\Seen)
S: * 36 FETCH (FLAGS (\Flagged))
S: c2 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5/;UID=36 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=36 flagNames=\Seen
# the replace: \Seen back on 7, 22, 36; \Answered on all; \Flagged off
C: d1 STORE 1:42 FLAGS (\Seen \Answered)
S: * 1 FETCH (FLAGS (\Answered \Seen))
S: * 2 FETCH (FLAGS (\Answered \Seen))
S: * 3 FETCH (FLAGS (\Answered \Seen))
S: * 4 FETCH (FLAGS (\Answered \Seen))
S: * 5 FETCH (FLAGS (\Answered \Seen))
S: * 6 FETCH (FLAGS (\Answered \Seen))
S: * 7 FETCH (FLAGS (\Answered \Seen))
S: * 8 FETCH (FLAGS (\Answered \Seen))
S: * 9 FETCH (FLAGS (\Answered \Seen))
S: * 10 FETCH (FLAGS (\Answered \Seen))
S: * 11 FETCH (FLAGS (\Answered \Seen))
S: * 12 FETCH (FLAGS (\Answered \Seen))
S: * 13 FETCH (FLAGS (\Answered \Seen))
S: * 14 FETCH (FLAGS (\Answered \Seen))
S: * 15 FETCH (FLAGS (\Answered \Seen))
S: * 16 FETCH (FLAGS (\Answered \Seen))
#
S: * 17 FETCH (FLAGS (\Answered \Seen))
S: * 18 FETCH (FLAGS (\Answered \Seen))
S: * 19 FETCH (FLAGS (\Answered \Seen))
S: * 20 FETCH (FLAGS (\Answered \Seen))
S: * 21 FETCH (FLAGS (\Answered \Seen))
S: * 22 FETCH (FLAGS (\Answered \Seen))
S: * 23 FETCH (FLAGS (\Answered \Seen))
S: * 24 FETCH (FLAGS (\Answered \Seen))
S: * 25 FETCH (FLAGS (\Answered \Seen))
S: * 26 FETCH (FLAGS (\Answered \Seen))
S: * 27 FETCH (FLAGS (\Answered \Seen))
S: * 28 FETCH (FLAGS (\Answered \Seen))
S: * 29 FETCH (FLAGS (\Answered \Seen))
S: * 30 FETCH (FLAGS (\Answered \Seen))
S: * 31 FETCH (FLAGS (\Answered \Seen))
S: * 32 FETCH (FLAGS (\Answered \Seen))
#
S: * 33 FETCH (FLAGS (\Answered \Seen))
S: * 34 FETCH (FLAGS (\Answered \Seen))
S: * 35 FETCH (FLAGS (\Answered \Seen))
S: * 36 FETCH (FLAGS (\Answered \Seen))
S: * 37 FETCH (FLAGS (\Answered \Seen))
S: * 38 FETCH (FLAGS (\Answered \Seen))
S: * 39 FETCH (FLAGS (\Answered \Seen))
S: * 40 FETCH (FLAGS (\Answered \Seen))
S: * 41 FETCH (FLAGS (\Answered \Seen))
S: * 42 FETCH (FLAGS (\Answered \Seen))
S: d1 OK Store completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=7,22,36
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=1:42 flagNames=\Answered
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=5 uidset=8,15,29,36 flagNames=\Flagged
