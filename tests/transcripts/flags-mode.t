# flag-events: flags
# With "flag-events flags" (RFC 5423 4.2: configurable), \Seen and
# \Deleted are reported as FlagsSet like any other flag, not as
# MessageRead and MessageTrash; clearing is FlagsClear either way.
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 3 EXISTS
S: * OK [UIDVALIDITY 1] UIDs valid
S: b1 OK [READ-WRITE] Select completed.
C: b2 FETCH 1:3 (UID FLAGS)
S: * 1 FETCH (UID 1 FLAGS ())
S: * 2 FETCH (UID 2 FLAGS (\Seen))
S: * 3 FETCH (UID 3 FLAGS ())
S: b2 OK Fetch completed.
C: b3 STORE 1:2 +FLAGS (\Seen \Deleted $Work)
S: * 1 FETCH (FLAGS (\Deleted \Seen $Work))
S: * 2 FETCH (FLAGS (\Deleted \Seen $Work))
S: b3 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=1 flagNames=\Deleted \Seen $Work
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=2 flagNames=\Deleted $Work
C: b4 STORE 1:2 -FLAGS.SILENT (\Seen \Deleted)
S: b4 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=1:2 flagNames=\Deleted \Seen
C: b5 FETCH 3 BODY[TEXT]
S: * 3 FETCH (FLAGS (\Seen) BODY[TEXT] {3}
S: abc)
S: b5 OK Fetch completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=3 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=3 flagNames=\Seen
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
