"""The one error type of the advisor: a problem the user can fix, with the fix in the message."""


class AdvisorError(ValueError):
    """Bad input to the planner (unknown model, bad config.json, bad size, bad rank).

    The message is one line that says what is wrong and how to fix it; the CLI turns
    it into ``ftui.errors.UserError`` (exit 2) and the Plan screen shows it inline.
    """
