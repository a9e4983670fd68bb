"""A training workdir: checked before any work, held by one writer at a time.

The lock is an advisory `flock` on WORKDIR/train.lock. The kernel releases it when its process
ends, however it ends (kill -9 included), so a lock file left behind never blocks a rerun; the file
only says who holds the lock (pid, host, start time, command) for the refusal message.
"""
import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import sys
import time

from genjax.errors import WorkdirError

LOCK_NAME = 'train.lock'
_HELD = {}  # realpath -> nesting depth of this process's own hold (launch/train.py, then train.py)


def stop_with_parent():
  """Linux: this process gets SIGHUP when the process that started it dies (prctl
  PR_SET_PDEATHSIG). A training whose launcher is killed (a shell function run with `&` and
  killed with kill -9, a sweep driver) then stops instead of writing on as an orphan that holds
  the workdir; `nohup` (SIGHUP ignored) keeps a training running after its shell exits, as usual."""
  if not sys.platform.startswith('linux'):
    return
  import ctypes
  import signal
  parent = os.getppid()
  try:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, int(signal.SIGHUP), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
  except (OSError, AttributeError):  # no prctl: nothing to set
    return
  if os.getppid() != parent and signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
    os.kill(os.getpid(), signal.SIGHUP)  # the parent died before prctl took effect


def check_usable(workdir):
  """Raises WorkdirError unless `workdir` is (or can be made) a writable directory."""
  if not workdir:
    raise WorkdirError('--workdir is empty: give the directory the run writes to.')
  path = os.path.abspath(workdir)
  if os.path.exists(path):
    if not os.path.isdir(path):
      raise WorkdirError(f'--workdir={workdir} is a file, not a directory: give a directory '
                         '(it is created if missing).')
    if not os.access(path, os.W_OK | os.X_OK):
      raise WorkdirError(f'--workdir={workdir} is not writable: choose a directory you can write '
                         'to, or fix its permissions.')
    return
  parent = os.path.dirname(path)
  while not os.path.exists(parent):
    parent = os.path.dirname(parent)
  if not os.path.isdir(parent):
    raise WorkdirError(f'--workdir={workdir}: {parent} is a file, so the directory cannot be '
                       'created there.')
  if not os.access(parent, os.W_OK | os.X_OK):
    raise WorkdirError(f'--workdir={workdir} cannot be created: {parent} is not writable.')


def _holder(path):
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError):
    return {}


@contextlib.contextmanager
def exclusive(workdir):
  """Holds WORKDIR for one training process; a second one gets WorkdirError naming the first.

  A workdir created here and left holding nothing else when a user error (GenjaxError) ends the
  run is removed again: a refused run leaves no trace.
  """
  from genjax.errors import GenjaxError
  check_usable(workdir)
  key = os.path.realpath(workdir)
  if _HELD.get(key):  # this process holds it already (re-entrant)
    _HELD[key] += 1
    try:
      yield
    finally:
      _HELD[key] -= 1
    return
  created = not os.path.exists(workdir)
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    raise WorkdirError(f'--workdir={workdir} cannot be created: {e.strerror}.') from None
  path = os.path.join(workdir, LOCK_NAME)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except OSError as e:
    os.close(fd)
    if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
      raise
    h = _holder(path)
    who = (f'process {h.get("pid")} on {h.get("host")} (started {h.get("started")})' if h
           else 'another process')
    raise WorkdirError(f'{workdir} is in use by {who}: one training writes to a workdir at a '
                       'time. Wait for it to end or stop it, or use another --workdir.') from None
  holder = {'pid': os.getpid(), 'host': socket.gethostname(),
            'started': time.strftime('%Y-%m-%d %H:%M:%S'), 'argv': sys.argv}
  os.ftruncate(fd, 0)
  os.write(fd, (json.dumps(holder) + '\n').encode())
  _HELD[key] = 1
  try:
    yield
  except GenjaxError:
    if created:
      _remove_if_untouched(workdir)
    raise
  finally:
    _HELD.pop(key, None)
    os.close(fd)  # releases the lock


def _remove_if_untouched(workdir):
  """Removes a workdir holding only the lock file and empty folders."""
  for root, _, files in os.walk(workdir):
    if any(not (root == workdir and f == LOCK_NAME) for f in files):
      return
  shutil.rmtree(workdir, ignore_errors=True)


def default_workdir(config_arg, cwd=None):
  """The workdir a run gets without --workdir: runs/NAME under the current directory, NAME the
  config file's stem and its variant (`configs/wgan_cifar.py` -> runs/wgan_cifar,
  `configs/iwae_mnist.py:smoke` -> runs/iwae_mnist_smoke). launch/evaluate.py --run_config
  finds it by the same rule."""
  path, _, variant = str(config_arg).partition(':')
  name = os.path.splitext(os.path.basename(path))[0]
  if variant:
    name += '_' + ''.join(c if c.isalnum() or c in '-_.' else '_' for c in variant)
  return os.path.join(cwd or os.getcwd(), 'runs', name)
