"""``pydocker --help`` and every command's ``--help``, laid out as the docker CLI's: the
commands grouped and described, each command's own help opening with the same description,
its other spellings listed as Aliases."""

import io

import pytest

from pydocker.client import catalog
from pydocker.client.cli import main


def helped(*argv):
    out = io.StringIO()
    assert main(list(argv) + ["--help"], stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue()


def every_command_line():
    for name, (_, target, description) in catalog.TOP.items():
        if target is not None:
            yield [name], description
    for group, names in catalog.SUBCOMMANDS.items():
        for name in names:
            yield [group, name], catalog.subcommand(group, name)[1]


@pytest.mark.parametrize("argv,description", list(every_command_line()), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_each_command_help_opens_with_its_catalog_description(argv, description):
    text = helped(*argv)
    assert text.startswith("\nUsage:  pydocker ")
    assert text.strip("\n").split("\n\n")[1] == description, text


def test_top_level_help_groups_and_describes_every_command():
    text = helped()
    sections = {}
    for block in text.split("\n\n"):
        head, _, body = block.partition(":\n")
        sections[head.strip()] = body
    for group in catalog.GROUPS:
        lines = [line.split(None, 1) for line in sections[group].splitlines()]
        assert {name: desc for name, desc in lines} == {n: e[2] for n, e in catalog.TOP.items() if e[0] == group}
    assert "--host list" in sections["Global Options"]
    assert text.rstrip().endswith("Run 'pydocker COMMAND --help' for more information on a command.")
    assert main([], stdout=io.StringIO()) == 0


@pytest.mark.parametrize("group", list(catalog.SUBCOMMANDS))
def test_group_help_lists_its_subcommands_described(group):
    for argv in ([group], [group, "--help"]):
        out = io.StringIO()
        assert main(argv, stdout=out) == 0
        text = out.getvalue()
        for name in catalog.SUBCOMMANDS[group]:
            assert f"  {name} " in text and catalog.subcommand(group, name)[1] in text


def test_aliases_and_option_layout():
    text = helped("ps")
    assert "Aliases:\n  pydocker container ls, pydocker container list, pydocker container ps, pydocker ps\n" in text
    assert "\n  -a, --all             Show all containers" in text      # the column fits the longest flag
    assert 'Set the logging level (default "info")' in helped()
    assert "Aliases:" not in helped("login")                           # one spelling only
    assert "Options:" not in helped("wait")                            # no flags but --help


def test_unknown_subcommand_is_a_usage_error():
    err = io.StringIO()
    assert main(["container", "bogus"], stdout=io.StringIO(), stderr=err) == 125
    assert err.getvalue() == 'unknown command "bogus" for "pydocker container"\nSee \'pydocker container --help\'.\n'
