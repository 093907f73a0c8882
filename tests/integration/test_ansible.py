"""Ansible's community.docker collection (Debian's ansible) driving pydocker: it sends null for
every option left unset, copies files in with PUT archive and wants a 200, execs, and removes
with force (issue 15)."""

import os
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.kernel,
              pytest.mark.skipif(shutil.which("ansible-playbook") is None
                                 or not os.path.isdir("/usr/lib/python3/dist-packages/ansible_collections/community/docker"),
                                 reason="Debian's ansible (with the community.docker collection) is not installed")]

PLAYBOOK = """\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
    host: "unix://{socket}"
  tasks:
    - name: a container with a bound config file and the daemon socket
      community.docker.docker_container: &ans1
        docker_host: "{{{{ host }}}}"
        name: ans1
        image: busybox
        command: ["sleep", "300"]
        network_mode: none
        volumes: ["{conf}:/etc/app.conf:ro", "{socket}:/var/run/docker.sock"]
        state: started
    - name: copy a file in
      community.docker.docker_container_copy_into:
        docker_host: "{{{{ host }}}}"
        container: ans1
        path: "{conf}"
        container_path: /tmp/copied.conf
    - name: read both back
      community.docker.docker_container_exec:
        docker_host: "{{{{ host }}}}"
        container: ans1
        command: sh -c "cat /etc/app.conf /tmp/copied.conf; test -S /var/run/docker.sock && echo socket"
      register: out
    - assert:
        that: out.stdout_lines == ["from ansible", "from ansible", "socket"]
    - name: the same again changes nothing
      community.docker.docker_container: *ans1
      register: again
    - assert:
        that: not again.changed
    - name: remove it
      community.docker.docker_container:
        docker_host: "{{{{ host }}}}"
        name: ans1
        state: absent
        force_kill: true
"""


def test_community_docker_modules(busybox_daemon, tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text("from ansible\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(socket=busybox_daemon.socket, conf=conf))
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), HOME=str(tmp_path))
    result = subprocess.run(["ansible-playbook", "-i", "localhost,", str(playbook)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout
    assert busybox_daemon.client("ps", "-aq").stdout.strip() == ""
