"""mibs/MSGEVENT-MIB.txt: lint, resolution, and agreement with the C code.

- smilint -l 6 -s (libsmi) reports no error, and every warning it still
  gives is explained in a "-- smilint: TAG" comment of the MIB.  smilint
  exits 0 whatever it finds, so its output is what is read.
- snmptranslate (net-snmp, the receivers' library) resolves every
  notification and object, and every OID msgeventd sends (as
  test_out_snmp --oids lists them) is exactly snmptranslate -On of its
  name; every notification and object of the MIB is one msgeventd
  sends.
- The MIB names every event of INTERFACE.md, and every parameter.

Debian ships no IETF base MIBs: ../shared/mibs has them (its README).
"""

import os
import re
import subprocess
import unittest

import harness

ROOT = harness.ROOT
MIB = os.path.join(ROOT, "mibs", "MSGEVENT-MIB.txt")
MIB_PATH = ":".join(harness.MIB_DIRS)
BASE_MIBS = harness.MIB_DIRS[1]
# smilint's severities: 0..3 are errors, 4..6 warnings and notes.
SMILINT_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): \[(?P<sev>\d)\] "
                          r"\{(?P<tag>[^}]+)\} (?P<text>.*)$")
EVENTS = ["Login", "Logout", "MessageAppend", "MessageNew", "MessageExpunge",
          "MessageExpire", "MessageRead", "MessageTrash", "FlagsSet",
          "FlagsClear", "QuotaExceed", "QuotaWithin", "QuotaChange",
          "MailboxCreate", "MailboxDelete", "MailboxRename",
          "MailboxSubscribe", "MailboxUnSubscribe", "LoginFailure"]


def run(argv, env=None):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def c_oids():
    """[(name, numeric OID)] that msgeventd sends, from the C table."""
    binary = os.path.join(os.path.dirname(os.environ["MSGEVENTD"]), "tests",
                          "test_out_snmp")
    if not os.access(binary, os.X_OK):
        raise unittest.SkipTest("no %s (make unit builds it)" % binary)
    rc, out, err = run([binary, "--oids"])
    assert rc == 0, err
    return [tuple(line.split()) for line in out.splitlines() if line]


class Mib(unittest.TestCase):

    def test_smilint(self):
        # SMIPATH: the imports resolve from ../shared/mibs only.
        rc, out, err = run(["smilint", "-l", "6", "-s", "-m", MIB],
                           {"SMIPATH": BASE_MIBS})
        self.assertEqual(rc, 0, err)
        lines = [ln for ln in (out + err).splitlines() if ln.strip()]
        with open(MIB) as f:
            text = f.read()
        explained = set(re.findall(r"^-- smilint: (\S+)$", text, re.M))
        for ln in lines:
            m = SMILINT_LINE.match(ln)
            self.assertIsNotNone(m, "unexpected smilint output: %r" % ln)
            self.assertGreater(int(m.group("sev")), 3, "error: " + ln)
            self.assertIn(m.group("tag"), explained,
                          "warning not explained in a '-- smilint: TAG' "
                          "comment: " + ln)

    def test_smilint_sees_errors(self):
        """The lint is real: a broken copy of the MIB is reported."""
        broken = os.path.join(self.tmp(), "MSGEVENT-MIB.txt")
        with open(MIB) as f:
            text = f.read()
        with open(broken, "w") as f:
            f.write(text.replace("SYNTAX      SnmpAdminString",
                                 "SYNTAX      NoSuchType", 1))
        rc, out, err = run(["smilint", "-l", "6", "-s", "-m", broken],
                           {"SMIPATH": BASE_MIBS})
        sev = [int(m.group("sev")) for m in
               map(SMILINT_LINE.match, (out + err).splitlines()) if m]
        self.assertTrue(any(s <= 3 for s in sev), out + err)

    def tmp(self):
        s = harness._Service()
        self.addCleanup(s.stop)
        return s.tmp

    def translate(self, names):
        rc, out, err = run(["snmptranslate", "-M", MIB_PATH,
                            "-m", "MSGEVENT-MIB:SNMPv2-MIB", "-On"] + names)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err.strip(), "")
        got = [ln.strip() for ln in out.splitlines() if ln.strip()]
        self.assertEqual(len(got), len(names), out)
        return got

    def test_c_oids_match_mib(self):
        sent = c_oids()
        names = [n for n, _ in sent]
        self.assertEqual(len(set(names)), len(names))
        numeric = self.translate(names)
        for (name, oid), mib_oid in zip(sent, numeric):
            self.assertEqual("." + oid, mib_oid, name)

    def test_mib_has_nothing_unsent(self):
        """Every notification and object of the module is one the C
        code sends (or the module's structure)."""
        rc, out, err = run(["snmptranslate", "-M", MIB_PATH,
                            "-m", "MSGEVENT-MIB", "-Tz"])
        self.assertEqual(rc, 0, err)
        mib = {}
        for m in re.finditer(r'^"(\w+)"\s+"([\d.]+)"$', out, re.M):
            if m.group(2).startswith("1.3.6.1.4.1.32473.1."):
                mib[m.group(1)] = m.group(2)
        sent = {n.split("::")[1].rstrip("0").rstrip("."): o
                for n, o in c_oids() if n.startswith("MSGEVENT-MIB::")}
        leaves = {n for n, o in mib.items()
                  if o.startswith("1.3.6.1.4.1.32473.1.0.") or
                  o.startswith("1.3.6.1.4.1.32473.1.1.")}
        self.assertEqual(leaves, set(sent), "MIB and C differ")
        for name, oid in sent.items():
            if oid.endswith(".0") and name.startswith("msgEv") and \
                    not name.startswith("msgEvent"):
                oid = oid[:-2]
            self.assertEqual(mib[name], oid, name)

    def test_interface_names(self):
        """INTERFACE.md's names: msgEvent + event, msgEv + Parameter."""
        numeric = self.translate(["MSGEVENT-MIB::msgEvent" + e
                                  for e in EVENTS])
        self.assertEqual(len(set(numeric)), len(EVENTS))
        self.translate(["MSGEVENT-MIB::msgEvUser.0",
                        "MSGEVENT-MIB::msgEvClientIP.0",
                        "MSGEVENT-MIB::msgEvUidset.0",
                        "MSGEVENT-MIB::msgEvMailboxID.0"])

    def test_decodes_by_name(self):
        """snmptranslate shows the notification's name back, as a
        receiver decoding a trap does."""
        rc, out, err = run(["snmptranslate", "-M", MIB_PATH, "-m",
                            "MSGEVENT-MIB", ".1.3.6.1.4.1.32473.1.0.3"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "MSGEVENT-MIB::msgEventMessageAppend")


if __name__ == "__main__":
    unittest.main()
