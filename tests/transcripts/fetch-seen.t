# FETCH of BODY[...], BINARY[...], RFC822 or RFC822.TEXT sets \Seen
# (RFC 9051 6.4.5; .PEEK does not): MessageRead at the FETCH's OK for
# the messages that gained it, judged by the flags known before (the
# server reports the new FLAGS with the data).  Only in a read-write
# mailbox.
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 5 EXISTS
S: * OK [UIDVALIDITY 6] UIDs valid
S: b1 OK [READ-WRITE] Select completed.
C: b2 FETCH 1:3,5 (UID FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Seen))
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS (\Answered))
S: * 5 FETCH (UID 5 FLAGS ())
S: b2 OK Fetch completed.
# message 1 was read before; message 2 is read now
C: b3 FETCH 1:2 BODY[]
S: * 1 FETCH (BODY[] {7}
S: hello
S: )
S: * 2 FETCH (FLAGS (\Seen) BODY[] {7}
S: world
S: )
S: b3 OK Fetch completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6 uidset=2
# BODY.PEEK (the server answers "BODY[]" all the same): not read
C: b4 FETCH 3 (UID BODY.PEEK[])
S: * 3 FETCH (UID 3 BODY[] {7}
S: hello
S: )
S: b4 OK Fetch completed.
E: -
# a section, the flags after the data, UID FETCH
C: b5 UID FETCH 3 (BODY[HEADER.FIELDS (SUBJECT)])
S: * 3 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT)] {12}
S: Subject: x
S:  FLAGS (\Answered \Seen))
S: b5 OK Fetch completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6/;UID=3 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6 uidset=3
# A server that does not report the new flags: \Seen is set all the
# same (RFC 9051 6.4.5), and message 5 did not have it
C: b6 FETCH 5 BINARY[1]
S: * 5 FETCH (BINARY[1] {3}
S: abc)
S: b6 OK Fetch completed.
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6/;UID=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6 uidset=5
# The reply brings news of another session (an expunge): \Seen may
# have been set by it, unseen, so what this FETCH did is unknown
C: b61 FETCH 2:3 (UID FLAGS)
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS ())
S: b61 OK Fetch completed.
C: b62 FETCH 2 BODY[]
S: * 2 FETCH (FLAGS (\Seen) BODY[] {3}
S: abc)
S: * 5 FETCH (FLAGS (\Flagged))
S: b62 OK Fetch completed.
E: -
# Message 4's flags before are unknown: it may have had \Seen
C: b7 FETCH 4 (UID RFC822)
S: * 4 FETCH (UID 4 RFC822 {3}
S: abc FLAGS (\Seen))
S: b7 OK Fetch completed.
E: -
# RFC822.HEADER does not set \Seen; a refused FETCH gives nothing
C: b8 FETCH 2 -FLAGS (\Seen)
S: b8 BAD Error in IMAP command FETCH
C: b9 STORE 2 -FLAGS.SILENT (\Seen)
S: b9 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=6 uidset=2 flagNames=\Seen
C: c1 FETCH 2 RFC822.HEADER
S: * 2 FETCH (RFC822.HEADER {3}
S: abc)
S: c1 OK Fetch completed.
E: -
C: c2 FETCH 2 RFC822.TEXT
S: * 2 FETCH (RFC822.TEXT {3}
S: abc FLAGS (\Seen))
S: c2 NO Some messages could not be fetched
E: -
# read-only (EXAMINE): nothing is set, nothing is reported
C: d1 EXAMINE INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS ()] Read-only mailbox.
S: * 5 EXISTS
S: * OK [UIDVALIDITY 6] UIDs valid
S: d1 OK [READ-ONLY] Examine completed.
C: d2 FETCH 1:5 (UID FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Seen))
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS (\Answered \Seen))
S: * 4 FETCH (UID 4 FLAGS (\Seen))
S: * 5 FETCH (UID 5 FLAGS (\Seen))
S: d2 OK Fetch completed.
C: d3 FETCH 2 BODY[]
S: * 2 FETCH (BODY[] {3}
S: abc)
S: d3 OK Fetch completed.
E: -
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
