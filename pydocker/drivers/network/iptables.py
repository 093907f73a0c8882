"""Running iptables. Rules are batched through ``iptables-restore --noflush``
(one process for a whole endpoint) and checked with ``-C`` only where
idempotence matters. The commands run in the network namespace of the
calling thread (see ``netns.entered``)."""

import subprocess
from collections import defaultdict

from pydocker.errdefs import PrerequisiteMissing, SystemError_
from .rules import render

ALREADY_EXISTS = 1


class IPTables:
    def _run(self, argv, stdin=None, check=True):
        try:
            result = subprocess.run(argv, input=stdin, capture_output=True,
                                    text=True)
        except FileNotFoundError:
            raise PrerequisiteMissing(f"{argv[0]} is not installed") from None
        if check and result.returncode != 0:
            raise SystemError_(f"{' '.join(argv)}: {result.stderr.strip()}")
        return result

    def iptables(self, *args, check=True):
        return self._run(["iptables", "-w", *args], check=check)

    def chain_exists(self, table, chain):
        return self.iptables("-t", table, "-n", "-L", chain, check=False).returncode == 0

    def ensure_chain(self, table, chain):
        if not self.chain_exists(table, chain):
            self.iptables("-t", table, "-N", chain)

    def flush_chain(self, table, chain):
        self.iptables("-t", table, "-F", chain, check=False)

    def delete_chain(self, table, chain):
        self.iptables("-t", table, "-X", chain, check=False)

    def exists(self, r):
        return self.iptables("-t", r.table, "-C", r.chain, *r.args, check=False).returncode == 0

    def ensure_first(self, r):
        """Insert ``r`` at the top of its chain unless it is already there."""
        if not self.exists(r):
            self.iptables("-t", r.table, "-I", r.chain, "1", *r.args)

    def delete(self, r):
        """Delete every copy of ``r``; no error when absent."""
        while self.exists(r):
            self.iptables("-t", r.table, "-D", r.chain, *r.args)

    def append(self, rules):
        """Append rules in one iptables-restore run."""
        if rules:
            self._restore(rules, "-A")

    def remove(self, rules):
        """Delete rules in one run; falls back to one by one when some are
        already gone (after a crash or a manual flush)."""
        if not rules:
            return
        try:
            self._restore(rules, "-D")
        except SystemError_:
            for r in rules:
                self.delete(r)

    def _restore(self, rules, action):
        by_table = defaultdict(list)
        for r in rules:
            by_table[r.table].append(render(r, action))
        text = "".join(f"*{table}\n" + "\n".join(lines) + "\nCOMMIT\n"
                       for table, lines in by_table.items())
        self._run(["iptables-restore", "-w", "--noflush"], stdin=text)

    def save(self):
        return self._run(["iptables-save"]).stdout
