"""The instructions that only change the image config (ENV, LABEL, USER, CMD, ...): each is
a metadata step, a child image with the new config and an ``empty_layer`` history entry.

A mixin of ``dispatcher.Builder``, which provides ``_commit_nop``, ``_words``, ``_command``,
``escape`` and ``args``.
"""

from pydocker.builder import parser
from pydocker.builder.gofmt import go_healthcheck, go_list, go_quote_list, parse_duration
from pydocker.builder.shellwords import expand, split_keeping_quotes
from pydocker.builder.state import StepFailed


class ConfigSteps:
    """ENV, LABEL, MAINTAINER, EXPOSE, USER, VOLUME, STOPSIGNAL, SHELL, CMD, ENTRYPOINT,
    ONBUILD, HEALTHCHECK and ARG."""

    def _do_env(self, state, line):
        pairs = self._pairs(state, line)
        env = state.env()
        for key, value in pairs:
            env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]
        state.config["Env"] = env
        return self._commit_nop(state, "ENV " + " ".join(f"{k}={v}" for k, v in pairs))

    def _do_label(self, state, line):
        pairs = self._pairs(state, line)
        labels = dict(state.config.get("Labels") or {})
        labels.update(pairs)
        state.config["Labels"] = labels
        return self._commit_nop(state, "LABEL " + " ".join(f"{k}={v}" for k, v in pairs))

    def _pairs(self, state, line):
        """KEY=VALUE pairs (or the legacy ``KEY VALUE``), expanded; the syntax was checked
        before the build started (``instructions.check_line``)."""
        env = state.expansion_env()
        words = split_keeping_quotes(line.rest, self.escape)
        if "=" not in words[0]:
            key, value = line.rest.split(None, 1)
            return [(key, expand(value.strip(), env, self.escape))]
        pairs = []
        for word in words:
            key, _, value = word.partition("=")
            pairs.append((expand(key, env, self.escape), expand(value, env, self.escape)))
        return pairs

    def _do_maintainer(self, state, line):
        state.maintainer = line.rest
        return self._commit_nop(state, "MAINTAINER " + line.rest)

    def _do_expose(self, state, line):
        ports = dict(state.config.get("ExposedPorts") or {})
        added = set()
        for word in self._words(state, line):
            number, _, proto = word.partition("/")
            low, dash, high = number.partition("-")
            if not low.isdigit() or (dash and not high.isdigit()) or proto.lower() not in ("", "tcp", "udp", "sctp"):
                raise StepFailed(f"Invalid containerPort: {word}")
            for port in range(int(low), int(high or low) + 1):
                added.add(f"{port}/{proto.lower() or 'tcp'}")
        state.config["ExposedPorts"] = dict(ports, **{port: {} for port in added})
        return self._commit_nop(state, "EXPOSE " + " ".join(sorted(added)))

    def _do_user(self, state, line):
        state.config["User"] = expand(line.rest, state.expansion_env(), self.escape)
        return self._commit_nop(state, "USER " + state.config["User"])

    def _do_volume(self, state, line):
        paths = self._words(state, line)
        volumes = dict(state.config.get("Volumes") or {})
        for path in paths:
            if not path.strip():
                raise StepFailed("VOLUME specified can not be an empty string")
            volumes[path] = {}
        state.config["Volumes"] = volumes
        return self._commit_nop(state, "VOLUME " + go_list(paths))

    def _do_stopsignal(self, state, line):
        state.config["StopSignal"] = expand(line.rest, state.expansion_env(), self.escape)
        return self._commit_nop(state, "STOPSIGNAL " + state.config["StopSignal"])

    def _do_shell(self, state, line):
        state.config["Shell"] = list(line.json_args)
        return self._commit_nop(state, "SHELL " + go_list(line.json_args))

    def _do_cmd(self, state, line):
        state.config["Cmd"] = self._command(state, line)
        state.cmd_set = True
        if line.json_args is None:
            state.config["ArgsEscaped"] = True
        return self._commit_nop(state, "CMD " + go_quote_list(state.config["Cmd"]))

    def _do_entrypoint(self, state, line):
        state.config["Entrypoint"] = self._command(state, line) if (line.json_args or line.rest) else None
        if not state.cmd_set:
            state.config["Cmd"] = None
        return self._commit_nop(state, "ENTRYPOINT " + go_quote_list(state.config["Entrypoint"] or []))

    def _do_onbuild(self, state, line):
        trigger = line.rest
        state.config["OnBuild"] = list(state.config.get("OnBuild") or []) + [trigger]
        return self._commit_nop(state, "ONBUILD " + trigger)

    def _do_healthcheck(self, state, line):
        word, _, rest = line.rest.partition(" ")
        if word.upper() == "NONE":
            if rest.strip():
                raise StepFailed("HEALTHCHECK NONE takes no arguments")
            state.config["Healthcheck"] = {"Test": ["NONE"]}
        elif word.upper() == "CMD":
            sub = parser.Line("cmd", rest.strip(), json_args=parser._json_array(rest.strip()))
            test = ["CMD"] + sub.json_args if sub.json_args is not None else ["CMD-SHELL", sub.rest]
            check = {"Test": test}
            for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod"),
                              ("start-interval", "StartInterval")):
                if flag in line.flags:
                    check[key] = parse_duration(line.flags[flag][-1], flag)
            if "retries" in line.flags:
                retries = line.flags["retries"][-1]
                if not retries.isdigit():
                    raise StepFailed(f"invalid value for --retries: {retries}")
                check["Retries"] = int(retries)
            state.config["Healthcheck"] = check
        else:
            raise StepFailed(f"Unknown type \"{word}\" in HEALTHCHECK (try CMD)")
        return self._commit_nop(state, "HEALTHCHECK " + go_healthcheck(state.config["Healthcheck"]))

    def _meta_arg(self, line):
        name, eq, default = line.rest.partition("=")
        meta = {k: v for k, v in self.args.meta.items() if v is not None}
        return name, expand(default, meta, self.escape) if eq else None

    def _do_arg(self, state, line):
        name, eq, default = line.rest.partition("=")
        env = state.expansion_env()
        if eq:
            value = expand(default, env, self.escape)
        else:
            value = self.args.meta.get(name)
        state.args[name] = self.args.value(name, value)
        return self._commit_nop(state, "ARG " + line.rest)
