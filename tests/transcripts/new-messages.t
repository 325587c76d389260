# MessageNew (RFC 5423 4.1): messages that appear in the selected mailbox
# (EXISTS growth) that no command of a proxied session put there, with
# their UIDs, once the UIDs are known (a FETCH with UID: the client's, or
# one the proxy asks).  One event per batch; no clientIP, clientPort or
# service (no client of the proxy did it).  This session is alone (no
# registry in the env): its own APPEND, COPY and MOVE explain what they
# add, nothing else does.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS IDLE QRESYNC] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 3 EXISTS
S: * OK [UIDVALIDITY 7] Ok
S: * OK [UIDNEXT 4] Ok
S: b1 OK [READ-WRITE] Ok
E: -
# delivered during IDLE: nothing until its UID is known
C: b2 IDLE
S: + idling
S: * 4 EXISTS
S: * 1 RECENT
C: DONE
S: b2 OK Idle completed.
E: -
C: b3 FETCH 4 (UID FLAGS)
S: * 4 FETCH (UID 4 FLAGS (\Recent))
S: b3 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=4 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=4 messages=4
# a batch of two, announced in two EXISTS, is one event once both UIDs
# are known, in whatever order they come
C: b4 NOOP
S: * 5 EXISTS
S: b4 OK NOOP completed.
C: b5 NOOP
S: * 6 EXISTS
S: b5 OK NOOP completed.
C: b6 UID FETCH 6:* (UID)
S: * 6 FETCH (UID 9)
S: b6 OK Fetch completed.
E: -
C: b7 FETCH 5 (UID)
S: * 5 FETCH (UID 7)
S: b7 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=7,9 messages=6
# its own APPEND into the selected mailbox is MessageAppend only
C: c1 APPEND INBOX {5+}
C: Hello
S: * 7 EXISTS
S: c1 OK [APPENDUID 7 10] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=10 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=10 messageSize=5
C: c2 FETCH 7 (UID)
S: * 7 FETCH (UID 10)
S: c2 OK Fetch completed.
E: -
# and its own COPY into it, with COPYUID; a delivery in the same batch
# is new all the same
C: c3 UID COPY 4 INBOX
S: * 9 EXISTS
S: c3 OK [COPYUID 7 4 11] Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=11 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=11
C: c4 FETCH 8:9 (UID)
S: * 8 FETCH (UID 11)
S: * 9 FETCH (UID 12)
S: c4 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=12 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=12 messages=9
# a new message expunged (by someone) before its UID was known: no UID,
# no event (counted); the one whose UID was learned is reported, with
# the count after
C: d1 NOOP
S: * 11 EXISTS
S: d1 OK NOOP completed.
C: d2 FETCH 11 (UID)
S: * 11 FETCH (UID 14)
S: d2 OK Fetch completed.
E: -
C: d3 NOOP
S: * 10 EXPUNGE
S: d3 OK NOOP completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=14 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=14 messages=10
# QRESYNC's VANISHED (not EARLIER) while a batch waits: the batch moves
# down for what goes below it (UID 1), and keeps for its decision the
# UIDs of its own that go (16: new, then expunged by someone)
C: e1 NOOP
S: * 12 EXISTS
S: * 13 EXISTS
S: e1 OK NOOP completed.
C: e2 UID FETCH 16 (UID)
S: * 12 FETCH (UID 16)
S: e2 OK Fetch completed.
C: e3 NOOP
S: * VANISHED 1,16
S: e3 OK NOOP completed.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=1,16 messages=11 vnd.msgeventd.cause=external
C: e4 FETCH 10:11 (UID)
S: * 10 FETCH (UID 15)
S: * 11 FETCH (UID 17)
S: e4 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=15:17 messages=11
# leaving the mailbox decides what is known: UID 18 of two new messages
C: f1 NOOP
S: * 13 EXISTS
S: f1 OK NOOP completed.
C: f2 FETCH 12 (UID)
S: * 12 FETCH (UID 18)
S: f2 OK Fetch completed.
E: -
C: f3 SELECT Archive
S: * 2 EXISTS
S: * OK [UIDVALIDITY 8] Ok
S: f3 OK [READ-WRITE] Ok
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=18 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=18 messages=13
# EXAMINE: read-only, new messages are new all the same
C: g1 EXAMINE INBOX
S: * 11 EXISTS
S: * OK [UIDVALIDITY 7] Ok
S: g1 OK [READ-ONLY] Ok
C: g2 NOOP
S: * 12 EXISTS
S: g2 OK NOOP completed.
C: g3 FETCH 12 (UID)
S: * 12 FETCH (UID 20)
S: g3 OK Fetch completed.
E: MessageNew user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7/;UID=20 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=7 uidset=20 messages=12
# the session ends with new messages whose UIDs are unknown: nothing
C: g4 NOOP
S: * 13 EXISTS
S: g4 OK NOOP completed.
END: abort
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=abort vnd.msgeventd.duration=*
