"""Joining a multi-process run: JAX's own multi-controller runtime (jax.distributed).

One process per host (a TPU VM of a pod slice, a node of a GPU cluster) or, for tests, several
processes on one machine. Every process runs the same command; after `initialize`, jax.devices()
lists the devices of all of them, genjax's data mesh spans them all, and each process computes
only its own devices' share of every global batch (genjax/data/on_device.py's batches are jitted
with a sharded output). Process 0 writes the logs; all write checkpoints together (Orbax).

  --distributed                  jax.distributed.initialize() with no arguments: the platform
                                 provides them (TPU pod slices, SLURM, Cloud GPU clusters)
  --coordinator_address=H:P --num_processes=N --process_id=I
                                 elsewhere, e.g. N processes on localhost; on CPU the collectives
                                 go over gloo (jax_cpu_collectives_implementation)
"""
from genjax.errors import ConfigError


def requested(distributed, coordinator_address, num_processes, process_id):
  """Whether the flags ask for a multi-process run; ConfigError for an incomplete set."""
  explicit = (coordinator_address, num_processes, process_id)
  if any(v is not None for v in explicit):
    if any(v is None for v in explicit):
      raise ConfigError('a multi-process run needs all three of --coordinator_address=HOST:PORT, '
                        '--num_processes=N and --process_id=I (or --distributed alone where the '
                        'platform provides them).')
    if num_processes < 1 or not 0 <= process_id < num_processes:
      raise ConfigError(f'--process_id={process_id} must lie in [0, --num_processes='
                        f'{num_processes}).')
    if ':' not in coordinator_address:
      raise ConfigError(f'--coordinator_address={coordinator_address}: give HOST:PORT (process '
                        '0\'s host and a free port).')
    return True
  return bool(distributed)


def same_arithmetic_on_cpu_devices(num_processes=1):
  """Settings for a CPU run on several devices that make its arithmetic independent of how the
  devices are split over processes. Call before JAX's backends start.

  Two things otherwise depend on the split:
  - Eigen's multi-threaded matrix products divide their work by the number of threads free at
    the time: XLA_FLAGS gets --xla_cpu_multi_thread_eigen=false (one thread per device's share;
    the devices still run in parallel). Measured on an Intel Xeon (IWAE smoke, 100 steps): 1
    process on 4 devices against 2 processes on 2 first differed at step 9, bit for bit the same
    with the flag.
  - XLA:CPU sizes its thread pool from the environment's NPROC (else the core count) but never
    below the process's device count, and some of its matrix products split their columns by the
    pool's size, so the last columns are summed by another kernel. Measured on an AMD EPYC (2
    cores): 1 process on 4 devices (pool 4) against 2 processes on 2 (pool 2) differ in 9 of the
    first layer's 156,800 weights after one step (columns 198-199 of 200) and by 2% in the ELBO
    after 100 steps; with NPROC the same in both, every parameter is bit for bit the same. NPROC
    is set to max(cores, devices of all processes) unless the environment already sets it.
  """
  import os

  from genjax import parallel
  parallel.one_thread_per_cpu_device()
  if 'NPROC' not in os.environ:
    os.environ['NPROC'] = str(max(parallel.cpu_cores(),
                                  (num_processes or 1) * requested_cpu_devices()))


def initialize(coordinator_address=None, num_processes=None, process_id=None,
               heartbeat_timeout_seconds=30, initialization_timeout=300):
  """jax.distributed.initialize, with gloo collectives on CPU. Call before any other JAX work.

  A process that dies (kill -9, a lost node) stops the others: their next collective fails at
  once on the closed connection (genjax/train.py says so in one line), or the coordination
  service misses its heartbeats for `heartbeat_timeout_seconds` (JAX's default is 100 s) and the
  runtime aborts them (run_supervised turns that into one line). jax_enable_recoverability was
  tried: with it the survivor waits forever instead."""
  import jax
  if jax.config.jax_platforms in (None, '', 'cpu') or str(jax.config.jax_platforms).startswith('cpu'):
    # Only the CPU backend reads this; setting it costs nothing where a GPU or TPU is used.
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
    same_arithmetic_on_cpu_devices(num_processes)
  kwargs = {}
  if coordinator_address is not None:
    kwargs = dict(coordinator_address=coordinator_address, num_processes=num_processes,
                  process_id=process_id)
  try:
    jax.distributed.initialize(**kwargs, heartbeat_timeout_seconds=heartbeat_timeout_seconds,
                               initialization_timeout=initialization_timeout)
  except (RuntimeError, ValueError) as e:
    detail = ' '.join(str(e).split())[:240]
    how = ('check that every process got the same --coordinator_address and --num_processes, a '
           'distinct --process_id, and that process 0 is running' if kwargs else
           'this platform provides no cluster settings: pass --coordinator_address, '
           '--num_processes and --process_id')
    raise ConfigError(f'joining the multi-process run failed ({detail}); {how}.') from None


def requested_cpu_devices():
  """How many CPU devices this process will have (XLA_FLAGS'
  --xla_force_host_platform_device_count or jax_num_cpu_devices), read before JAX's backends
  start."""
  import os
  import re

  import jax
  found = re.findall(r'--xla_force_host_platform_device_count=(\d+)',
                     os.environ.get('XLA_FLAGS', ''))
  count = int(found[-1]) if found else 1
  configured = getattr(jax.config, 'jax_num_cpu_devices', -1)
  return max(count, configured if isinstance(configured, int) else 1)


def _free_port():
  import socket
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def use_gloo_for_local_cpu_devices():
  """A one-process run on several CPU devices sums its all-reduces with gloo, as a multi-process
  CPU run must, through a one-process jax.distributed runtime on a free localhost port.

  Why: XLA's in-process CPU all-reduce adds the devices' partial sums in another order than
  gloo's, and training amplifies the last-bit difference (an IWAE's windowed ELBO differs by
  percents after 100 steps). With gloo in both, a run on 4 devices gives the same numbers as 2
  processes of 2 devices, bit for bit (with same_arithmetic_on_cpu_devices, which initialize
  sets; tests/test_multiprocess.py): results do not depend on
  how the devices are split over processes. Does nothing with one device or on accelerators
  (the collectives setting is read by the CPU backend only)."""
  if requested_cpu_devices() <= 1:
    return False
  initialize(f'127.0.0.1:{_free_port()}', 1, 0)
  return True


def finish_alone(workdir, evaluate, figures):
  """After a multi-process training: the evaluation and end figures, by process 0 alone.

  They restore the last checkpoint and sample on one host; in the multi-process runtime a
  restore onto the global mesh needs every process, so they run in a fresh one-process
  interpreter (launch/evaluate.py's and launch/plot.py's work) once all processes have left
  the runtime together (jax.distributed.shutdown)."""
  import subprocess
  import sys
  code = ('import sys\n'
          'from genjax.errors import GenjaxError\n'
          'w, ev, fig = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"\n'
          'try:\n'
          '  if ev:\n'
          '    from genjax import evaluate; evaluate.evaluate(w)\n'
          '  if fig:\n'
          '    from genjax.analysis import plotting; plotting.end_of_training_figures(w)\n'
          'except GenjaxError as e:\n'
          '  print(f"error: {e}", file=sys.stderr); sys.exit(2)\n')
  done = subprocess.run([sys.executable, '-c', code, workdir, str(int(evaluate)),
                         str(int(figures))], check=False)
  if done.returncode == 2:  # its one error line is printed
    raise SystemExit(2)
  if done.returncode:
    raise ConfigError(f'the evaluation after the multi-process training failed (exit '
                      f'{done.returncode}); the checkpoints are intact: python launch/evaluate.py '
                      f'--workdir={workdir} repeats it.')


def run_supervised(process_id=None, num_processes=None):
  """Runs this launcher's command again as a child process and passes its output through; returns
  the exit status to use. When the JAX runtime aborts the child because another process of the run
  was lost outside a collective (a C++ fatal error: an abort and pages of stack, which Python
  cannot catch), what it prints from then on is held back and one error line is printed instead.
  The child dies with this process (genjax/workdir.py stop_with_parent)."""
  import os
  import signal
  import subprocess
  import sys
  env = dict(os.environ, GENJAX_SUPERVISED='1')
  # Its own session: a terminal's Ctrl-C reaches it once, forwarded below, not also directly
  # (two SIGINTs would read as a second Ctrl-C: a stop without the save, genjax/train.py).
  child = subprocess.Popen([sys.executable, *sys.argv], env=env, stderr=subprocess.PIPE,
                           text=True, errors='replace', bufsize=1, start_new_session=True)
  for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, lambda s, _, c=child: c.send_signal(s))
  fatal, held = None, []
  for line in child.stderr:
    if fatal is None and _is_runtime_fatal(line):
      fatal = line
    if fatal is None:
      sys.stderr.write(line)
      sys.stderr.flush()
    else:
      held.append(line)
  status = child.wait()
  own = [l for l in held if l.startswith('error: ')]
  if fatal is None or status == 0 or own:  # not the runtime's abort: nothing is held back
    sys.stderr.write(''.join(own if own and status else held))
    return status if status >= 0 else 128 - status
  who = (f'process {process_id} of {num_processes}' if process_id is not None
         else 'this process')
  cause = ' '.join(fatal.split(']', 1)[-1].split())[:200]
  print(f'error: {who} was stopped by JAX\'s runtime: another process of this run was lost '
        f'({cause}). Rerun all processes with the same command to resume from the last '
        'checkpoint.', file=sys.stderr, flush=True)
  return 2


def _is_runtime_fatal(line):
  """A line of the runtime's report that it is aborting this process (an E/F-level log line of
  the coordination service, or the abort itself)."""
  if line.startswith(('Fatal Python error', 'terminate called after')):
    return True
  return line[:1] in 'EF' and line[1:5].isdigit() and any(
      m in line for m in ('coordination_service', 'Terminating process because'))


def supervised():
  """Whether this process is the child of run_supervised."""
  import os
  return os.environ.get('GENJAX_SUPERVISED') == '1'


def rerun_alone():
  """Runs this launcher's command again without its multi-process flags, as one process; returns
  its exit status."""
  import subprocess
  import sys
  multi = ('--distributed', '--coordinator_address', '--num_processes', '--process_id')
  argv = [a for a in sys.argv if not a.startswith(multi)]
  status = subprocess.run([sys.executable, *argv], check=False).returncode
  return status if status >= 0 else 128 - status
