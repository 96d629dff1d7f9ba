"""The QAS environment, its curriculum, and the double-DQN agent."""

from . import curriculum
from .actions import action_index, action_table, decode, n_actions, parse_action
from .env import EnvParams, EnvState, action_mask, make_params, reset, step
from .interactive import InteractiveEnv

__all__ = [
    "EnvParams",
    "EnvState",
    "InteractiveEnv",
    "action_index",
    "action_mask",
    "action_table",
    "curriculum",
    "decode",
    "make_params",
    "n_actions",
    "parse_action",
    "reset",
    "step",
]
