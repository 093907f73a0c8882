"""A small pflag-style flag parser for the CLI.

The docker CLI's flags behave like Go's pflag, not argparse: ``-it`` bundles
booleans, ``--rm=false`` is allowed, values may be glued (``-eFOO=1``), and for
``run``/``exec`` parsing stops at the first positional so the container's own
flags are left alone. This parser reproduces that and builds its own help; it
also imports nothing, which keeps client start-up cheap.
"""

BOOL, STRING, LIST, INT = "bool", "string", "list", "int"


class UsageError(Exception):
    """The command line is wrong; the CLI prints it with a pointer to --help."""


class HelpRequested(Exception):
    """``-h``/``--help`` was given; carries the FlagSet whose help to print."""

    def __init__(self, flags):
        super().__init__(flags.help_text())
        self.flags = flags


class Options:
    """Parsed flag values, as attributes named after the long flag."""

    def __init__(self, values, given):
        self.__dict__.update(values)
        self._given = given

    def given(self, dest):
        """True when the flag was on the command line (not its default)."""
        return dest in self._given


class Flag:
    def __init__(self, names, kind, default, help, dest, metavar):
        self.names = names
        self.kind = kind
        self.default = default
        self.help = help
        self.dest = dest
        self.metavar = metavar


_BOOL_WORDS = {"true": True, "1": True, "t": True, "false": False, "0": False, "f": False}


class FlagSet:
    """The flags of one command.

    ``interspersed=False`` stops at the first positional argument (the docker
    CLI does this for commands that run another program's command line).
    """

    def __init__(self, usage, description="", interspersed=True, min_args=0, max_args=None):
        self.usage = usage
        self.description = description
        self.interspersed = interspersed
        self.min_args = min_args
        self.max_args = max_args
        self._flags = []
        self._by_name = {}
        self.bool("-h", "--help", help="Print usage")

    def _add(self, names, kind, default, help, metavar):
        long_names = [n for n in names if n.startswith("--")]
        dest = (long_names or names)[0].lstrip("-").replace("-", "_")
        flag = Flag(names, kind, default, help, dest, metavar)
        self._flags.append(flag)
        for name in names:
            self._by_name[name] = flag
        return flag

    def bool(self, *names, help="", default=False):
        return self._add(names, BOOL, default, help, None)

    def string(self, *names, help="", default=None, metavar="string"):
        return self._add(names, STRING, default, help, metavar)

    def int(self, *names, help="", default=None, metavar="int"):
        return self._add(names, INT, default, help, metavar)

    def list(self, *names, help="", metavar="list"):
        return self._add(names, LIST, None, help, metavar)

    def parse(self, argv):
        """Return ``(Options, positional_args)`` or raise UsageError/HelpRequested."""
        values = {f.dest: ([] if f.kind == LIST else f.default) for f in self._flags}
        given = set()
        args = []
        i = 0
        while i < len(argv):
            arg = argv[i]
            i += 1
            if arg == "--":
                args.extend(argv[i:])
                break
            if arg.startswith("--") and len(arg) > 2:
                name, eq, inline = arg.partition("=")
                flag = self._lookup(name)
                i = self._take(flag, name, inline if eq else None, argv, i, values)
                given.add(flag.dest)
            elif arg.startswith("-") and len(arg) > 1:
                i = self._short_group(arg, argv, i, values, given)
            else:
                args.append(arg)
                if not self.interspersed:
                    args.extend(argv[i:])
                    break
        if values["help"]:
            raise HelpRequested(self)
        self._check_count(args)
        return Options(values, given), args

    def _short_group(self, arg, argv, i, values, given):
        """Handle ``-x``, ``-xyz`` (bundled booleans) and ``-eVALUE``/``-e=VALUE``."""
        body = arg[1:]
        for pos, letter in enumerate(body):
            name = "-" + letter
            flag = self._lookup(name)
            given.add(flag.dest)
            rest = body[pos + 1:]
            if flag.kind == BOOL:
                if rest.startswith("="):
                    return self._take(flag, name, rest[1:], argv, i, values)
                values[flag.dest] = True
                continue
            inline = rest[1:] if rest.startswith("=") else (rest or None)
            return self._take(flag, name, inline, argv, i, values)
        return i

    def _lookup(self, name):
        flag = self._by_name.get(name)
        if flag is None:
            kind = "flag" if name.startswith("--") else "shorthand flag"
            raise UsageError(f"unknown {kind}: '{name.lstrip('-')}' in {name}"
                             if kind != "flag" else f"unknown flag: {name}")
        return flag

    def _take(self, flag, name, inline, argv, i, values):
        if flag.kind == BOOL:
            if inline is None:
                values[flag.dest] = True
            elif inline.lower() in _BOOL_WORDS:
                values[flag.dest] = _BOOL_WORDS[inline.lower()]
            else:
                raise UsageError(f'invalid argument "{inline}" for "{name}" flag: '
                                 "parse error")
            return i
        if inline is None:
            if i >= len(argv):
                raise UsageError(f"flag needs an argument: {name}")
            inline = argv[i]
            i += 1
        if flag.kind == LIST:
            values[flag.dest].append(inline)
        elif flag.kind == INT:
            try:
                values[flag.dest] = int(inline)
            except ValueError:
                raise UsageError(f'invalid argument "{inline}" for "{name}" flag: '
                                 "invalid syntax") from None
        else:
            values[flag.dest] = inline
        return i

    def _check_count(self, args):
        n = len(args)
        name = self.usage.split()[0] if self.usage else ""
        if n < self.min_args:
            need = ("exactly" if self.max_args == self.min_args else "at least")
            plural = "argument" if self.min_args == 1 else "arguments"
            raise UsageError(f'"{name}" requires {need} {self.min_args} {plural}.')
        if self.max_args is not None and n > self.max_args:
            if self.max_args == 0:
                raise UsageError(f'"{name}" accepts no arguments.')
            raise UsageError(f'"{name}" requires at most {self.max_args} '
                             f"argument{'s' if self.max_args > 1 else ''}.")

    def help_text(self, aliases=()):
        """The command's help as the docker CLI lays it out; ``aliases`` are the other
        command lines that run it."""
        lines = [f"\nUsage:  pydocker {self.usage}\n"]
        if self.description:
            lines.append(self.description + "\n")
        if aliases:
            lines.append("Aliases:\n  " + ", ".join("pydocker " + a for a in aliases) + "\n")
        options = self.options_text()
        if options:
            lines.append("Options:\n" + options)
        return "\n".join(lines)

    def options_text(self):
        """One line per flag, the help column as wide as the longest flag needs."""
        rows = []
        for flag in self._flags:
            if flag.dest == "help":
                continue
            shorts = [n for n in flag.names if not n.startswith("--")]
            longs = [n for n in flag.names if n.startswith("--")]
            left = (shorts[0] + ", " if shorts else "    ") + ", ".join(longs)
            if flag.kind != BOOL:
                left += " " + flag.metavar
            default = ""
            if flag.default not in (None, False, ""):
                default = f' (default "{flag.default}")' if flag.kind == STRING else f" (default {flag.default})"
            rows.append((left, flag.help + default))
        width = max((len(left) for left, _ in rows), default=0) + 3
        return "".join(f"  {left:<{width}}{text}\n" for left, text in rows)