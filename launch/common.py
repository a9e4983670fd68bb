"""What both launchers share: quiet TensorFlow, clear errors for bad input."""
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# TensorFlow >= 2.21 prints its oneDNN notice whatever the log level; TF only decodes the uint8
# images here (no float math of genjax's goes through it), so its oneDNN kernels are not wanted.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
# The scripts that compare with torch (results/evaluation/check_inception_port.py,
# results/benchmarks/*) load TensorFlow first; triton, which torch's CUDA wheel imports with
# torch._dynamo, then segfaults. None of them compiles GPU kernels through torch: torch is told
# there is no triton.
sys.modules.setdefault('triton', None)

# Runs from a checkout without installation too.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def hide_accelerators_from_tensorflow():
  """TF only prepares data; the accelerators belong to JAX. Without TensorFlow (a GPU image with
  JAX alone) there is nothing to hide: the data come from the original files."""
  try:
    import tensorflow as tf
  except ImportError:
    return
  tf.config.set_visible_devices([], 'GPU')


class _DropLibraryChatter:
  """Orbax and TFDS log every file they touch at INFO; keep their warnings only."""

  def filter(self, record):
    noisy = any(f'/{lib}/' in record.pathname for lib in ('orbax', 'tensorflow_datasets', 'jax'))
    return record.levelno >= 30 or not noisy


def run_main(main):
  """absl's app.run, with genjax's user errors printed as one line instead of a traceback."""
  from absl import app

  from genjax.errors import GenjaxError, TrainingStopped

  def guarded(argv):
    import logging
    from absl import logging as absl_logging
    absl_logging.get_absl_handler().addFilter(_DropLibraryChatter())
    logging.getLogger().addFilter(_DropLibraryChatter())
    # Orbax restores with asyncio; a failed restore leaves tasks whose errors asyncio logs again
    # with a traceback at exit. The one error line below already says what went wrong.
    logging.getLogger('asyncio').setLevel(logging.CRITICAL)
    try:
      main(argv)
    except TrainingStopped as e:  # on request, with a checkpoint: not an error
      try:  # a closed terminal (its SIGHUP) can no longer be written to
        print(f'stopped: {e}', file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
      except OSError:
        pass
      os._exit(128 + e.signum)
    except GenjaxError as e:
      print(f'error: {e}', file=sys.stderr)
      sys.stderr.flush()
      sys.stdout.flush()
      os._exit(2)  # nothing is left to save; skip orbax's exit hooks and their noise

  app.run(guarded, flags_parser=_parse_flags)


def print_unknown_override(e):
  """One line for ml_collections' AttributeError on an override of a field the config lacks."""
  detail = str(e.args[0] if e.args else e).replace("\\'", "'").strip("'")
  detail = detail.replace('\\n', ' ').replace('\n', ' ').replace("' Did", ': did')
  print(f'error: a --config.* override names a field the config does not have: {detail}',
        file=sys.stderr)


class _ConfigFileError(Exception):
  pass


def _load_config_now(flag_values):
  """ml_collections loads a config file lazily and reports a failure as a chained traceback at
  first use; load it here, so an unknown or broken file is one line before any work."""
  value = flag_values['config'].serialize().split('=', 1)[-1]
  path = value.split(':', 1)[0]
  if path.endswith('.py') and not os.path.isfile(path):
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
    names = ', '.join(sorted(n[:-3] for n in os.listdir(here) if n.endswith('.py')
                             and not n.startswith(('_', 'adversarial_common', 'sample_eval'))))
    raise _ConfigFileError(f'--config={value}: no such config file. The configs are in '
                           f'configs/: {names}.')
  try:
    getattr(flag_values, 'config')
  except OSError as e:
    cause, seen = e, 0
    while cause.__cause__ is not None and seen < 5:
      cause, seen = cause.__cause__, seen + 1
    first = ' '.join(str(cause).split())[:200]
    raise _ConfigFileError(f'--config={value}: the config file could not be loaded ({first}).') \
        from None


def _parse_flags(argv):
  """absl's parsing, plus one-line errors for what config files and overrides raise."""
  from absl import flags
  try:
    rest = flags.FLAGS(argv)
    if 'config' in flags.FLAGS and flags.FLAGS['config'].present:
      _load_config_now(flags.FLAGS)
    return rest
  except _ConfigFileError as e:
    print(f'error: {e}', file=sys.stderr)
  except flags.Error as e:
    print(f'error: {e}\nPass --helpshort to see the flags.', file=sys.stderr)
  except AttributeError as e:  # ml_collections: an override of a field the config lacks
    print_unknown_override(e)
  except (KeyError, TypeError, ValueError) as e:  # a bad variant or value in the config file
    print(f'error: the config could not be built: {type(e).__name__}: {e}', file=sys.stderr)
  except (SyntaxError, ImportError, NameError) as e:  # a broken config file
    where = f' ({e.filename}, line {e.lineno})' if isinstance(e, SyntaxError) else ''
    detail = e.msg if isinstance(e, SyntaxError) else e
    print(f'error: the config file could not be loaded: {type(e).__name__}: {detail}{where}',
          file=sys.stderr)
  sys.exit(2)
