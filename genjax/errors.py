"""User-facing errors: each says what is wrong and how to fix it.

The launchers print these without a traceback and exit with status 2; anything else is a bug
and keeps its traceback.
"""


class GenjaxError(Exception):
  """An error in the user's input (config, data, workdir) rather than in genjax."""


class ConfigError(GenjaxError):
  """A config value that cannot work."""


class DataError(GenjaxError):
  """Dataset files are missing, corrupt or not what they claim to be."""


class CheckpointError(GenjaxError):
  """A workdir whose checkpoints cannot be restored or do not match the config."""


class TrainingDiverged(GenjaxError):
  """A non-finite loss; the last good checkpoint is left as it was."""


class WorkdirError(GenjaxError):
  """A workdir that cannot be written, or that another process is writing."""


class TrainingStopped(GenjaxError):
  """A training stopped on request (SIGTERM, SIGHUP, Ctrl-C) after saving a checkpoint at the
  step it had reached; the launchers print it as one `stopped:` line and exit with 128 + the
  signal's number, as a process killed by it would."""

  def __init__(self, message, signum):
    super().__init__(message)
    self.signum = signum
