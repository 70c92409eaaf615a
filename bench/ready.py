# SPDX-License-Identifier: (MIT OR Apache-2.0)
"""The tool started by a bench script, returned once it traces."""
import os
import subprocess
import time


def start(tool, args, workdir, timeout=30):
    """Runs TOOL --ready-fd N ARGS (stdout dropped, stderr piped, as text)
    and waits, up to TIMEOUT seconds, until it has written the traced pid
    to N: its probes are attached. The Popen."""
    ready = os.path.join(workdir, "ready")
    with open(ready, "w") as rf:
        t = subprocess.Popen([tool, "--ready-fd", str(rf.fileno())] + args,
                             pass_fds=(rf.fileno(),),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    for _ in range(timeout * 10):
        if open(ready).read().strip() or t.poll() is not None:
            break
        time.sleep(0.1)
    return t
