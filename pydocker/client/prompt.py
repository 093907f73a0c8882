"""Yes/no confirmation like the docker CLI's prune prompts."""


def confirm(cli, question):
    cli.out.write(question + " [y/N] ")
    cli.out.flush()
    answer = cli.stdin.readline().strip().lower()
    return answer in ("y", "yes")
