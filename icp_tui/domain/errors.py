"""Errors a user can cause, each with a message a support engineer understands."""

from __future__ import annotations


class IcpError(Exception):
    """Base of every error shown to the user as one line (never a traceback)."""


class UnknownFiling(IcpError):
    """No filing has the id the user gave."""


class TransitionNotAllowed(IcpError):
    """The stage table does not allow this move."""


class WithdrawNotAllowed(TransitionNotAllowed):
    """The filing is with the communications administration, or already closed."""


class InvalidRecord(IcpError):
    """A stored filing breaks the schema or contradicts itself."""


class InvalidInput(IcpError):
    """A value typed by the user (province, date, id, text) is not acceptable."""


class HistoryOutOfOrder(InvalidInput):
    """A change stamped before the filing's latest history entry (or far ahead of the clock):
    summaries and review-day counts read the history in time order, so it must stay so."""
