# Expunges announced while no EXPUNGE or MOVE of this session runs were
# done by someone else (another session, a filter, the server's expiry):
# they renumber the mailbox, and with no other session of the proxy (no
# registry in the env: the session is alone) each run of them is one
# MessageExpunge with vnd.msgeventd.cause=external, without clientIP,
# clientPort and service (no client of the proxy did it).  Messages that
# arrive unexplained are MessageNew once their UIDs are known.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS IDLE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 6 EXISTS
S: * OK [UIDVALIDITY 9] Ok
S: b1 OK [READ-WRITE] Ok
C: b2 UID FETCH 1:* (FLAGS)
S: * 1 FETCH (UID 1 FLAGS ())
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS ())
S: * 4 FETCH (UID 4 FLAGS ())
S: * 5 FETCH (UID 5 FLAGS ())
S: * 6 FETCH (UID 6 FLAGS ())
S: b2 OK Fetch completed.
E: -
C: b3 NOOP
S: * 1 EXPUNGE
S: b3 OK NOOP completed.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=1 messages=5 vnd.msgeventd.cause=external
C: b4 IDLE
S: + idling
S: * 1 EXPUNGE
C: DONE
S: b4 OK Idle completed.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=2 messages=4 vnd.msgeventd.cause=external
# during a FETCH (which the server must not do: RFC 9051 7.5.1)
C: b5 FETCH 1 (FLAGS)
S: * 1 FETCH (FLAGS ())
S: * 1 EXPUNGE
S: b5 OK Fetch completed.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=3 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=3 messages=3 vnd.msgeventd.cause=external
# Left: 1 (UID 4), 2 (UID 5), 3 (UID 6).  A NOOP pipelined before an
# EXPUNGE: a server may run the EXPUNGE before it answers the NOOP
# (Dovecot 2.3 does: the removals come before the NOOP's OK and none
# after), so removals while an EXPUNGE is pending are the EXPUNGE's.
C: b6 NOOP
C: b7 EXPUNGE
S: * 1 EXPUNGE
S: b6 OK NOOP completed.
S: * 2 EXPUNGE
S: b7 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=4,6 messages=1
# UID EXPUNGE removes only its set (RFC 4315 2.1): the other UID
# announced with it was someone else's
C: b8 NOOP
S: * 2 EXISTS
S: b8 OK NOOP completed.
C: b9 UID FETCH 7 (UID)
S: * 2 FETCH (UID 7)
S: b9 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=7 messages=2
C: c1 UID EXPUNGE 7:8
S: * 1 EXPUNGE
S: * 1 EXPUNGE
S: c1 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=7 messages=0
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=5 messages=0 vnd.msgeventd.cause=external
# "*" in a UID set is the highest UID in use (RFC 9051 9): in a range,
# "10:*" is every UID from 10 on; 8 and 9 here were someone else's,
# told only now (Dovecot does so).
C: c2 NOOP
S: * 5 EXISTS
S: c2 OK Done
C: c3 UID FETCH 1:* (UID)
S: * 1 FETCH (UID 8)
S: * 2 FETCH (UID 9)
S: * 3 FETCH (UID 10)
S: * 4 FETCH (UID 11)
S: * 5 FETCH (UID 12)
S: c3 OK Done
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=8:12 messages=5
C: c4 UID EXPUNGE 10:*
S: * 5 EXPUNGE
S: * 4 EXPUNGE
S: * 3 EXPUNGE
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: c4 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=10:12 messages=0
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=8:9 messages=0 vnd.msgeventd.cause=external
# A lone "*" is one message, the highest: alone, it is named; among
# others' removals it cannot be, and the event says so.
C: c5 NOOP
S: * 3 EXISTS
S: c5 OK Done
C: c6 UID FETCH 1:* (UID)
S: * 1 FETCH (UID 13)
S: * 2 FETCH (UID 14)
S: * 3 FETCH (UID 15)
S: c6 OK Done
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=13:15 messages=3
C: c7 UID EXPUNGE *
S: * 3 EXPUNGE
S: c7 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9/;UID=15 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=15 messages=2
C: c8 UID EXPUNGE 13,*
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: c8 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=13:14 messages=0
C: c9 NOOP
S: * 3 EXISTS
S: c9 OK Done
C: d1 UID FETCH 1:* (UID)
S: * 1 FETCH (UID 16)
S: * 2 FETCH (UID 17)
S: * 3 FETCH (UID 18)
S: d1 OK Done
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 uidset=16:18 messages=3
C: d2 UID EXPUNGE *
S: * 3 EXPUNGE
S: * 2 EXPUNGE
S: d2 OK Done
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=9 messages=1 (truncated)
