# RFC 7162 3.1.3: a conditional STORE (UNCHANGEDSINCE) leaves alone the
# messages changed since that mod-sequence, and its OK lists them in
# [MODIFIED set] (sequence numbers, or UIDs for UID STORE): they did not
# change, whatever the FETCH responses before it said.  The events carry
# modseq, the highest MODSEQ the server reported for the messages.
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: a2 ENABLE CONDSTORE
S: * ENABLED CONDSTORE
S: a2 OK Enabled.
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 3 EXISTS
S: * OK [UIDVALIDITY 4] UIDs valid
S: * OK [HIGHESTMODSEQ 100] Highest
S: b1 OK [READ-WRITE] Select completed.
C: b2 FETCH 1:3 (UID FLAGS MODSEQ)
S: * 1 FETCH (UID 1 FLAGS () MODSEQ (90))
S: * 2 FETCH (UID 2 FLAGS () MODSEQ (91))
S: * 3 FETCH (UID 3 FLAGS () MODSEQ (92))
S: b2 OK Fetch completed.
# Message 2 was changed by someone else (modseq 103): not stored, and
# its FETCH tells its flags now, which this STORE did not make.
C: b3 STORE 1:3 (UNCHANGEDSINCE 100) +FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Seen) MODSEQ (105))
S: * 2 FETCH (FLAGS (\Flagged) MODSEQ (103))
S: * 3 FETCH (FLAGS (\Seen) MODSEQ (105))
S: b3 OK [MODIFIED 2] Conditional STORE failed
E: MessageRead user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 uidset=1,3 modseq=105
# .SILENT: only MODSEQ comes back; the operation gives the change
C: b4 UID STORE 1:3 (UNCHANGEDSINCE 105) FLAGS.SILENT (\Draft)
S: * 1 FETCH (UID 1 MODSEQ (110))
S: * 3 FETCH (UID 3 MODSEQ (110))
S: b4 OK [MODIFIED 2] Conditional STORE failed
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 uidset=1,3 modseq=110 flagNames=\Draft
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 uidset=1,3 modseq=110 flagNames=\Seen
# Every message failed: nothing changed
C: b5 STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\Deleted)
S: * 2 FETCH (FLAGS (\Flagged) MODSEQ (103))
S: b5 OK [MODIFIED 2] Conditional STORE failed
E: -
# None failed
C: b6 STORE 2 (UNCHANGEDSINCE 200) -FLAGS (\Flagged)
S: * 2 FETCH (FLAGS () MODSEQ (111))
S: b6 OK Conditional STORE completed
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4/;UID=2 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=4 uidset=2 modseq=111 flagNames=\Flagged
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
