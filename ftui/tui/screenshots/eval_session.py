"""The canned blind A/B session the Evaluate screenshots and snapshot tests show (no model runs).

Two systems answer support tickets with a short reply: ``base`` (the demo base model:
chatty, sometimes off-task) and ``run:lora-tickets`` (the fine-tune: short, on-task).
No model runs; the texts are written here. A fixed clock makes every timestamp and
dwell time the same on every machine.
"""

from __future__ import annotations

from pathlib import Path

from ftui.evaluate.ab import BlindSession
from ftui.evaluate.items import EvalItem

SYSTEM = "You are a support agent for a project-management app. Answer the ticket in two or three sentences."
START = 1_795_000_000.0  # a fixed instant (2026-11-18)

_TICKETS = [
    ("I was charged twice for the March invoice. Can you refund one of the charges?",
     "Sorry about the double charge. I have refunded the duplicate payment; it will be back on your card in "
     "3-5 business days.",
     "Sorry about the double charge on the March invoice. I have refunded the duplicate payment; expect it on "
     "your card within 3-5 business days.",
     "Thank you for contacting support! Billing questions are important to us. Invoices are generated monthly "
     "and you can see them under Settings. Is there anything else I can help you with today?"),
    ("The app crashes when I open a board with more than 500 cards. Started after the last update.",
     "Thanks for the report. This is a known issue in 4.2 with very large boards; 4.2.1 fixes it and ships "
     "this week. Until then, archiving old cards keeps the board under the limit.",
     "Thanks for reporting this. Large boards crash in 4.2; the fix ships in 4.2.1 this week. Until then, "
     "archive old cards to keep the board under 500.",
     "Have you tried turning it off and on again? Crashes can have many causes, such as network problems, "
     "browser extensions or [bold]corrupted caches[/bold]. Please clear your cache."),
    ("How do I add a teammate as an admin? The invite screen only offers 'member'.",
     "Only workspace owners can invite admins. Ask your owner to open Settings → Members and change the role "
     "after the invite is accepted.",
     "Only the workspace owner can grant admin. Invite them as a member, then the owner changes the role in "
     "Settings → Members.",
     "Admins can be added by admins. Go to the invite screen and choose admin. If you do not see admin, you "
     "are not an admin yourself, or your plan does not include roles."),
    ("Could you add a dark mode? Working late with the white boards hurts my eyes.",
     "Thanks for the suggestion! Dark mode is on our roadmap for the summer release; I have added your vote.",
     "Dark mode is planned for the summer release, and I have added your vote to it. Meanwhile your OS's "
     "high-contrast mode works with the app.",
     "Dark mode is a display setting that uses light text on a dark background. Many apps support it. "
     "Dark mode can reduce eye strain in low light."),
    ("I can't log in: the password reset email never arrives.",
     "Sorry for the trouble. Check the spam folder for mail from noreply@example.com; if it is not there, "
     "reply here and I will reset the password for you manually.",
     "Please check your spam folder for noreply@example.com. If the email is not there, reply and I will "
     "reset your password by hand.",
     "Password reset emails are sent automatically. Emails can take a few minutes to arrive. You can request "
     "another reset email from the login page."),
    ("Export to CSV drops every column after the 20th. Is that a limit?",
     "It is a bug, not a limit: exports over 20 columns were cut in 4.1. It is fixed in 4.2; update and "
     "export again.",
     "That is a bug in 4.1, not a limit. Update to 4.2 and the export includes every column.",
     "CSV stands for comma-separated values. It is a common format for spreadsheets. You can open CSV files "
     "in Excel or Google Sheets."),
]
_NAMES = ["Maya", "Tom", "Ines", "Raj"]


def demo_items_and_outputs() -> tuple[list[EvalItem], dict[str, dict[str, str]]]:
    """24 items (6 tickets × 4 customers) and both systems' outputs; two pairs are identical."""
    items: list[EvalItem] = []
    base: dict[str, str] = {}
    tuned: dict[str, str] = {}
    for n, name in enumerate(_NAMES):
        for t, (ticket, reference, good, chatty) in enumerate(_TICKETS):
            item_id = f"ticket-{t + 1:02d}-{name.lower()}"
            items.append(EvalItem(item_id, ({"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": f"{ticket}\n\n— {name}"}), reference))
            tuned[item_id] = good
            base[item_id] = chatty if (t + n) % 5 else good  # identical pairs are recorded automatically
    return items, {"base": base, "run:lora-tickets": tuned}


class FixedClock:
    """Time that moves 9 seconds per reading: deterministic dwell times and timestamps."""

    def __init__(self, start: float = START, step: float = 9.0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def make_demo_session(directory: Path, rater: str = "ana") -> Path:
    """Create the demo session at ``directory`` (seed 7) and return its path."""
    items, outputs = demo_items_and_outputs()
    BlindSession.create(directory, items, outputs, rater, seed=7, base_system="base", name="tickets: base vs lora",
                        clock=FixedClock()).close()
    return directory


def rate_demo_session(directory: Path, rater: str, unblind: bool = False, limit: int | None = None) -> None:
    """Vote like a plausible rater: prefer the on-task (fine-tuned) reply mostly, with some ties,
    both-bad and skips, and one note."""
    with BlindSession(directory, rater, clock=FixedClock()) as session:
        i = 0
        while (pair := session.current()) is not None and (limit is None or i < limit):
            t = session.tasks[pair.task]
            tuned_left = t.left == "run:lora-tickets"
            if i % 7 == 3:
                choice = "tie"
            elif i % 11 == 5:
                choice = "both_bad"
            elif i % 13 == 12:
                choice = "skip"
            elif i % 5 == 4:
                choice = "right" if tuned_left else "left"  # a vote for the base model
            else:
                choice = "left" if tuned_left else "right"
            note = "base answers a different question" if i == 1 else ""
            session.vote(choice, note=note, flags=("flag",) if i == 2 else ())
            i += 1
        if unblind:
            session.unblind()
