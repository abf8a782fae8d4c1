"""Regenerate the sample datasets in this folder (seeded: the same files every run).

    python sample_data/generate.py [--out DIR]

The committed .jsonl files are the product; this script documents how they were
made and lets anyone rebuild them byte for byte. Everything here was written for
ftui: templates x slots x noise (typos, lower case, signatures, extra context), then
near-duplicate filtering so no two rows - and in particular no train/test pair - are
the same ticket in different clothes.

``dirty.jsonl`` is not written here (it is the data-lint demo file, made by hand).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261123

TICKET_SYSTEM = (
    "You are a support triage assistant. Reply with exactly one label: "
    "billing, technical, account, feature_request or other."
)
EXTRACTION_SYSTEM = (
    "Extract name, company, date (YYYY-MM-DD), amount (number), currency and priority (low, normal, high) "
    "from the note. Reply with one JSON object; use null for anything not stated."
)
LABELS = ("billing", "technical", "account", "feature_request", "other")
# Not perfectly balanced on purpose: real queues are not.
TICKETS_PER_LABEL = {"billing": 110, "technical": 115, "account": 100, "feature_request": 90, "other": 85}
TEST_FRACTION = 0.2
EXTRACTION_ROWS = 180
NEAR_DUP_JACCARD = 0.5  # word-trigram Jaccard at or above this counts as the same ticket

# --------------------------------------------------------------------------------------
# Slot values shared by the ticket templates
# --------------------------------------------------------------------------------------

SLOTS: dict[str, list[str]] = {
    "plan": ["Pro", "Team", "Business", "Starter", "Premium", "annual", "monthly", "Enterprise", "Plus"],
    "amount": ["$49", "$12.99", "$199", "€35", "£20", "$480", "$9", "€120", "$1,250", "$75", "£64.50", "$300"],
    "amount2": ["$59", "$24.99", "$240", "€49", "£32", "$560", "$19", "€150", "$1,600", "$99", "£80", "$410"],
    "invoice": ["INV-20931", "#44812", "INV-7710", "invoice 10293", "#A-5521", "INV-38820", "#903311", "INV-1187"],
    "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December", "last month", "this quarter"],
    "seats": ["3", "5", "8", "12", "20", "40", "2", "15"],
    "seats2": ["6", "10", "11", "25", "30", "50", "4", "18"],
    "code": ["SPRING20", "WELCOME10", "NONPROFIT", "BLACKFRIDAY", "EDU50", "PARTNER15", "LAUNCH30"],
    "card": ["Visa", "Mastercard", "Amex", "debit card", "company card", "PayPal account"],
    "device": ["iPhone", "Android phone", "iPad", "Windows laptop", "MacBook", "Chromebook", "Pixel 8",
               "Samsung tablet", "Linux desktop", "work PC"],
    "device2": ["desktop app", "web version", "my phone", "the tablet app", "my second laptop"],
    "browser": ["Chrome", "Firefox", "Safari", "Edge", "Brave", "Opera"],
    "version": ["3.2.1", "4.0", "the latest update", "version 2.9", "yesterday's release", "build 1184", "5.1.0"],
    "error": ["error 500", "error code E-1023", "\"something went wrong\"", "a 403", "timeout error",
              "\"unexpected token\"", "error 0x80070005", "a blank white page", "ERR_CONNECTION_RESET", "error 42"],
    "screen": ["dashboard", "reports page", "settings screen", "calendar view", "checkout page", "inbox",
               "project board", "file browser", "analytics tab", "export dialog"],
    "filetype": ["PDF", "CSV", "PNG", "Excel", "video", "zip", "HEIC photo", "Word document"],
    "size": ["5 MB", "12 MB", "40 MB", "200 KB", "1.2 GB", "80 MB"],
    "integration": ["Slack", "Google Calendar", "Zapier", "Salesforce", "Jira", "Microsoft Teams", "Notion",
                    "HubSpot", "GitHub", "Shopify", "QuickBooks", "Outlook"],
    "feature": ["dark mode", "recurring tasks", "bulk editing", "custom fields", "an offline mode", "two-way sync",
                "keyboard shortcuts", "a Gantt chart", "saved filters", "comment threads", "PDF export",
                "scheduled reports", "an audit log", "time tracking", "a public API", "emoji reactions",
                "multi-currency invoices", "a Linux client", "templates", "undo for deletions"],
    # Described, never literal addresses: the clean sample files must pass the linter's PII check.
    "email": ["my new work address", "my personal Gmail", "our shared finance inbox", "the address at our new domain",
              "my university address", "our team's support alias"],
    "city": ["Berlin", "Austin", "Toronto", "Lisbon", "Singapore", "Manchester", "Melbourne", "Nairobi", "Denver"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the weekend"],
    "days": ["two days", "three days", "a week", "since Friday", "48 hours", "over a week", "ten days"],
    "person": ["my colleague", "our new hire", "my manager", "a former employee", "our accountant", "my assistant"],
    "role": ["admin", "editor", "viewer", "owner", "billing contact"],
    "endpoint": ["/v2/orders", "/v1/users", "/v2/invoices", "/v1/webhooks", "/v2/search", "/v1/export"],
}

# --------------------------------------------------------------------------------------
# Ticket cores: one list of phrasings per label. {slot} is filled from SLOTS.
# Several are deliberately borderline (money + crash, login + payment, ...) but the label
# is the one a support lead would route it to: the action the customer needs.
# --------------------------------------------------------------------------------------

TICKET_CORES: dict[str, list[str]] = {
    "billing": [
        "I was charged {amount} twice for the {plan} plan this month.",
        "My card got billed two times on {weekday}, please refund the duplicate payment.",
        "Why did my bill go up from {amount} to {amount2}? Nobody told us about a price change.",
        "Can I get a refund for the {plan} upgrade? I clicked it by accident and never used it.",
        "Invoice {invoice} has the wrong company address on it, our finance team needs a corrected copy.",
        "Please send me the receipt for {month}, our accountant is asking for it.",
        "We are paying for {seats2} seats but only {seats} people use the account. Can you lower the charge?",
        "The discount code {code} was not applied at checkout and I paid full price.",
        "I cancelled my subscription in {month} but you still took {amount} from my {card}.",
        "How do I switch from monthly to annual billing and what does it cost?",
        "My {card} expired. Where do I update the payment details so the renewal doesn't fail?",
        "Our VAT number is missing from invoice {invoice}, we can't reclaim the tax without it.",
        "The payment failed with {error} but the money still left my bank account.",
        "I need to change the billing email for invoices to {email}.",
        "Do you offer a discount for nonprofits or schools? We are a small charity.",
        "There is a charge of {amount} on my statement that I don't recognise.",
        "We downgraded to {plan} but the last invoice still shows the old price.",
        "Can you split the payment across two cards? The total is {amount2}.",
        "Is it possible to pay by bank transfer instead of card for the {plan} plan?",
        "I was promised a prorated credit when I removed {seats} seats, it never showed up.",
        "Please stop the auto renewal, I don't want to be charged {amount2} again next year.",
        "Your pricing page says {amount} but I was billed {amount2}.",
        "The trial was supposed to be free but you charged my {card}.",
        "Could you resend invoice {invoice} as a PDF? The link in the email has expired.",
        "we need a quote for {seats2} seats on the {plan} plan for our procurement team",
        "The app crashed during checkout and now I see two pending charges of {amount}.",
        "I can log in fine, I just want to know why my renewal price doubled.",
        "Our purchase order number has to appear on every invoice, how can I add it?",
        "Charged in USD but we are based in Europe, can invoices be in euros?",
        "Refund still not received {days} after you confirmed it.",
    ],
    "technical": [
        "The app crashes every time I open the {screen} on my {device}.",
        "Since {version} the {screen} takes forever to load and then shows {error}.",
        "Exporting to {filetype} fails with {error}.",
        "Sync between my {device} and the {device2} stopped working {days} ago.",
        "Uploading a {size} {filetype} file just spins and never finishes.",
        "I get {error} whenever I try to save changes in the {screen}.",
        "Notifications stopped arriving on my {device} after {version}.",
        "The search returns nothing even for items I can see in the {screen}.",
        "Your API returns {error} on {endpoint} since this morning.",
        "In {browser} the {screen} is just a blank page, other browsers work.",
        "The {integration} integration disconnected and reconnecting gives {error}.",
        "Text in the {screen} overlaps and buttons are cut off on my {device}.",
        "Webhooks to our server stopped firing, nothing in the logs since {weekday}.",
        "The desktop app freezes for about a minute when I paste an image.",
        "Dates in the {screen} show one day off, looks like a timezone bug.",
        "Attachments over {size} are rejected even though the docs say the limit is higher.",
        "The {device} app logs me out every few minutes and loses my draft.",
        "Charts on the {screen} don't render, the console shows {error}.",
        "Import from {filetype} mixes up the columns and the totals are wrong.",
        "After updating to {version} the app won't start at all on my {device}.",
        "Keyboard shortcuts stopped working in {browser} after the last update.",
        "Emails sent from the app land in spam for all of our customers.",
        "The page is extremely slow when a project has more than a few hundred tasks.",
        "Audio in the recorded calls is out of sync with the video.",
        "the print preview cuts off the right side of every page",
        "Two-way sync with {integration} creates duplicate entries every hour.",
        "Pressing save shows {error} and then the edits are gone, this is the third time today.",
        "The mobile app drains my battery, it stays active in the background.",
        "The installer fails on my {device} with {error}.",
        "Our bill looks fine, but the invoices page in the app throws {error} when I open it.",
        "I can't log in on the {device} app because the login button does nothing, the website works.",
    ],
    "account": [
        "I can't log in, the password reset email never arrives.",
        "How do I change the email address on my account to {email}?",
        "Please delete my account and all the data you hold about me.",
        "My account is locked after too many login attempts.",
        "I lost my phone and can't get the two-factor code, how do I get back in?",
        "I need to transfer ownership of our workspace to {person} before I leave.",
        "How do I remove {person} from our team? They should not have access anymore.",
        "Can you merge my two accounts? I signed up twice with different emails.",
        "I want to change my username, the current one has a typo.",
        "Please give {person} the {role} role, I can't find where to do that.",
        "Someone logged into my account from {city}, it wasn't me.",
        "The verification link in the signup email says it has expired.",
        "How do I turn on two-factor authentication for everyone in my team?",
        "I'm the {role} but I can't see the member settings anymore.",
        "{person} left the company and we need access to the files in their account.",
        "My account was suspended and I don't know why.",
        "Can I export all my personal data before I close the account?",
        "I changed my email to {email} and now my old login doesn't work.",
        "We want to set up single sign-on for our existing accounts, where do I start?",
        "Please reactivate my account, I closed it by mistake in {month}.",
        "I keep getting 'invalid password' even right after resetting it.",
        "How do I change the name shown on my profile?",
        "The invite link I sent to {person} says it is no longer valid.",
        "Who is the owner of our organisation account? I need them to approve something.",
        "I need to update my phone number for login codes.",
        "My login works on the web but the account shows as someone else's profile.",
        "Before I update my card I need to get back into my account, the reset link is broken.",
        "Please unlink my Google login, I want to use a password instead.",
    ],
    "feature_request": [
        "It would be great if you added {feature}.",
        "Any plans to support {integration}? It's the one thing stopping us from moving over.",
        "Please add {feature}, we'd use it every day.",
        "Could you make it possible to export the {screen} as {filetype}?",
        "Suggestion: let admins set default permissions for new projects.",
        "Would love to see {feature} in the mobile app too.",
        "We'd happily pay more for {feature}, is it on the roadmap?",
        "Is there a way to vote for features? I'd like {feature}.",
        "It would save us hours if the {screen} could be filtered by owner.",
        "Can you add an option to hide completed items in the {screen}?",
        "Feature idea: a weekly summary email of what changed.",
        "Native {integration} integration please, the Zapier workaround keeps breaking.",
        "I wish I could reorder columns in the {screen}.",
        "Please consider {feature} for the {device} app.",
        "Could the API expose an endpoint for bulk updates?",
        "Request: allow more than one owner per workspace.",
        "It would help a lot to have {feature} for large teams.",
        "Please let us customise the colours of the {screen}, our brand colours would be nice.",
        "We need {feature} before our team can roll this out company wide.",
        "Not a bug, just an idea: remember the last filter I used in the {screen}.",
        "Could you support logging in with {integration}?",
        "When will {feature} be available? A competitor already has it.",
        "Add a way to duplicate a whole project with its settings, please.",
        "An option to schedule messages for later would be really useful.",
        "Could invoices show a breakdown per team? That would make our budgeting easier.",
        "Everything works, but a shortcut to jump between projects would make it much faster.",
    ],
    "other": [
        "Just wanted to say thanks, your support team sorted us out quickly last week.",
        "Do you have an office in {city}? We might be interested in a partnership.",
        "Are you hiring? I'd love to join the support team.",
        "Who can I talk to about a press interview with your founders?",
        "What are your support hours over the holidays?",
        "I think I sent this to the wrong company, sorry, please ignore.",
        "Do you have a reseller programme in {city}?",
        "We are writing a case study and would like to feature your product.",
        "Is there a user conference this year? Last year's in {city} was great.",
        "Can you fill out our vendor security questionnaire? It's attached.",
        "Where can I find your company's sustainability report?",
        "Is this the right place to ask about sponsoring a meetup in {city}?",
        "I'm a student writing a thesis and would like to ask a few questions about your product.",
        "Loved the webinar on {weekday}, will the recording be shared?",
        "Do you donate licences to open source projects?",
        "Is your company attending any trade fairs in {city} this autumn?",
        "Please pass my compliments to the person who designed the new logo.",
        "Are there any plans to open an office in {city}? I'd apply straight away.",
        "What's the postal address for sending legal documents?",
        "We are a university and want to use screenshots of your app in a course, is that ok?",
        "Testing whether this form works, no action needed.",
        "Happy new year to the whole team!",
        "Can someone from your team speak at our event in {city} in {month}?",
        "Is this product affiliated with the company of the same name in {city}?",
    ],
}

# Label-neutral padding: used by every label so it carries no signal.
GREETINGS = ["Hi,", "Hello,", "Hi team,", "Hey there,", "Good morning,", "Dear support,", "Hello support team,",
             "Hi there,", "Hey,", "Greetings,", "To whom it may concern,", "Good afternoon,"]
CONTEXT = [
    "I've been a customer for about {years} years.", "We're a team of {seats} at a small agency.",
    "I'm writing on behalf of our office manager.", "Not sure if this is the right place for this.",
    "First time contacting you.", "I tried the help center first but couldn't find an answer.",
    "Quick one.", "This is my second message about this.", "We use you mostly on the {plan} plan.",
    "I run a small bakery and use the app daily.", "Apologies for the long message.",
    "Our IT person is on holiday so I'm asking directly.",
]
EXTRA = [
    "It's a bit urgent.", "No rush.", "Thanks in advance.", "Let me know if you need screenshots.",
    "Could you get back to me today?", "I'd appreciate a quick reply.", "This is blocking our team.",
    "Happy to jump on a call.", "Please advise.", "Any help is welcome.", "We're on the {plan} plan if that matters.",
    "I'm using a {device} if that helps.",
]
NEUTRAL_EXTRA = ["Thanks in advance.", "No rush.", "Happy to jump on a call.", "Have a nice day.",
                 "Looking forward to hearing from you."]
CLOSINGS = ["Thanks", "Thank you", "Cheers", "Best regards", "Regards", "Many thanks", "Kind regards", "Best", "Ta",
            "Thanks a lot"]
FIRST_NAMES = ["Anna", "Ben", "Carla", "Dev", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca",
               "Maya", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Viktor", "Wen", "Yara"]
LAST_NAMES = ["Novak", "Okafor", "Silva", "Brennan", "Kowalski", "Haddad", "Lindqvist", "Moreau", "Tanaka",
              "Fischer", "Osei", "Rossi", "Patel", "Garcia", "Nguyen", "Walsh", "Dubois", "Ivanova", "Costa"]
COMPANIES = ["Acme Logistics", "Brightside Dental", "Cobalt Studio", "Delta Freight", "Evergreen Foods",
             "Foxglove Media", "Granite Legal", "Harbor Analytics", "Ionic Labs", "Juniper Travel", "Kestrel Bikes",
             "Lumen Architects", "Maple & Co", "Northwind Traders", "Orchid Hotels", "Pinecone Software",
             "Quartz Consulting", "Riverbend Clinic", "Saffron Catering", "Tidewater Marine", "Umbra Games",
             "Vertex Robotics", "Willow Books", "Zephyr Energy"]

# Common keyboard slips: adjacent swaps and drops, applied to a few words.
def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:]


def _fill(template: str, rng: random.Random) -> str:
    def pick(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "years":
            return str(rng.randint(2, 9))
        return rng.choice(SLOTS[name])

    return re.sub(r"\{(\w+)\}", pick, template)


def _noise(text: str, rng: random.Random) -> str:
    if rng.random() < 0.18:
        words = text.split(" ")
        for _ in range(rng.randint(1, 2)):
            k = rng.randrange(len(words))
            words[k] = _typo(words[k], rng)
        text = " ".join(words)
    if rng.random() < 0.2:
        text = text.lower()
    if rng.random() < 0.12:
        text = text.rstrip(".")
    if rng.random() < 0.06:
        text = text.rstrip(".!?") + "!!"
    return text


def make_ticket(label: str, rng: random.Random) -> str:
    """One ticket: a core sentence for the label wrapped in label-neutral padding."""
    parts: list[str] = []
    style = rng.random()
    greeting = rng.choice(GREETINGS) if style < 0.55 else ""
    if rng.random() < 0.35:
        parts.append(_fill(rng.choice(CONTEXT), rng))
    core = _fill(rng.choice(TICKET_CORES[label]), rng)
    parts.append(core)
    if rng.random() < 0.2:
        # A second, different core of the same label: real tickets often say it twice.
        second = _fill(rng.choice(TICKET_CORES[label]), rng)
        if second != core:
            parts.append(second)
    if rng.random() < 0.4:
        extras = EXTRA if label != "other" else NEUTRAL_EXTRA
        parts.append(_fill(rng.choice(extras), rng))
    body = " ".join(parts)
    if greeting:
        body = greeting + ("\n" if style < 0.3 else " ") + body
    body = _noise(body, rng)
    if rng.random() < 0.45:
        sign = rng.choice(CLOSINGS)
        name = rng.choice(FIRST_NAMES)
        if rng.random() < 0.4:
            name += " " + rng.choice(LAST_NAMES)
        if rng.random() < 0.3:
            name += "\n" + rng.choice(COMPANIES)
        body += f"\n\n{sign},\n{name}" if rng.random() < 0.7 else f"\n{sign} - {name.splitlines()[0]}"
    return body


# --------------------------------------------------------------------------------------
# Near-duplicate detection (word trigrams on normalised text)
# --------------------------------------------------------------------------------------

def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def shingles(text: str, n: int = 3) -> frozenset[str]:
    words = normalize(text).split()
    if len(words) < n:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _core_of(text: str) -> str:
    """The text without greeting and signature, so padding does not hide a duplicated core."""
    body = text.split("\n\n")[0]
    return body


def pick_distinct(candidates: list[str], quota: int, accepted: list[frozenset[str]]) -> list[str]:
    """Greedily keep candidates that are not near-duplicates of anything kept so far."""
    kept: list[str] = []
    for text in candidates:
        sh = shingles(_core_of(text))
        if any(jaccard(sh, other) >= NEAR_DUP_JACCARD for other in accepted):
            continue
        accepted.append(sh)
        kept.append(text)
        if len(kept) == quota:
            break
    return kept


def chat_row(system: str, user: str, assistant: str) -> dict:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]}


def build_tickets(rng: random.Random) -> tuple[list[dict], list[dict]]:
    accepted: list[frozenset[str]] = []
    train: list[dict] = []
    test: list[dict] = []
    for label in LABELS:
        quota = TICKETS_PER_LABEL[label]
        candidates = [make_ticket(label, rng) for _ in range(quota * 30)]
        kept = pick_distinct(candidates, quota, accepted)
        if len(kept) < quota:
            raise SystemExit(f"only {len(kept)} distinct {label} tickets, add templates")
        rng.shuffle(kept)
        n_test = round(quota * TEST_FRACTION)
        test += [chat_row(TICKET_SYSTEM, t, label) for t in kept[:n_test]]
        train += [chat_row(TICKET_SYSTEM, t, label) for t in kept[n_test:]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


# --------------------------------------------------------------------------------------
# Structured extraction: note -> JSON object
# --------------------------------------------------------------------------------------

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _date_text(y: int, m: int, d: int, rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if style == 1:
        return f"{d} {MONTHS[m - 1]} {y}"
    if style == 2:
        return f"{MONTHS[m - 1]} {d}, {y}"
    if style == 3:
        return f"{MONTHS[m - 1][:3]} {d} {y}"
    return f"{d:02d}.{m:02d}.{y}"


CURRENCY_TEXT = {"USD": ["${v}", "{v} USD", "{v} dollars"], "EUR": ["€{v}", "{v} EUR", "{v} euros"],
                 "GBP": ["£{v}", "{v} GBP", "{v} pounds"]}
PRIORITY_TEXT = {"high": ["Urgent.", "High priority.", "ASAP please.", "Top priority.", "Needs an answer today.",
                          "Priority: high."],
                 "normal": ["Normal priority.", "No special urgency.", "Standard priority.", "Priority: normal."],
                 "low": ["Low priority.", "Whenever there's time.", "Not urgent.", "Can wait.", "Priority: low."]}
# [ ... ] is an optional segment: dropped when the one slot inside it is missing from the note.
NOTE_TEMPLATES = [
    "Call with {name}[ from {company}][ on {date}]. They want a quote[ for {amount}].",
    "{name}[ ({company})] emailed[ on {date}] asking about an order[ worth {amount}].",
    "Meeting note[ {date}]: spoke to {name}[ at {company}].[ Budget around {amount}.]",
    "[{company} - ]contact {name}. Renewal due[ {date}][, value {amount}].",
    "Follow up with {name}[ of {company}][, deal size {amount}][, deadline {date}].",
    "Order[ from {company}][ placed {date}] by {name}[, total {amount}].",
    "Left a voicemail for {name}[ at {company}][ on {date}] about the overdue invoice[ of {amount}].",
    "{name}[ from {company}] wants a demo.[ Date proposed: {date}.][ Potential {amount}/year.]",
    "Complaint logged[ {date}]: {name}[, {company}], refund request[ of {amount}].",
    "Lunch with {name}[ ({company})][ {date}] - discussed expansion[, maybe {amount}].",
    "[{company}: ]{name} asked for a revised proposal[ by {date}][; the cap is {amount}].",
    "Support escalation from {name}[ at {company}][ on {date}][, contract value {amount}].",
]
UNNAMED = ["the client", "a new contact", "their buyer", "someone from procurement", "the account manager"]


def _render_note(template: str, texts: dict[str, str]) -> str:
    """Fill a note template: optional [segments] vanish when their slot is missing."""
    def segment(match: re.Match[str]) -> str:
        inner = match.group(1)
        slot = re.search(r"\{(\w+)\}", inner)
        return inner.format(**texts) if slot and slot.group(1) in texts else ""

    return re.sub(r"\[([^\]]*)\]", segment, template).format(**texts)


def make_note(rng: random.Random) -> tuple[str, dict]:
    """A short CRM-style note and the JSON object it should be extracted into."""
    fields = {"name": None, "company": None, "date": None, "amount": None, "currency": None, "priority": None}
    texts: dict[str, str] = {}
    # Each field is present most of the time; missing ones must come out as null.
    if rng.random() < 0.88:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        fields["name"] = f"{first} {last}"
        texts["name"] = fields["name"]
    else:
        texts["name"] = rng.choice(UNNAMED)
    if rng.random() < 0.85:
        fields["company"] = rng.choice(COMPANIES)
        texts["company"] = fields["company"]
    if rng.random() < 0.85:
        y, m, d = rng.choice([2024, 2025, 2026]), rng.randint(1, 12), rng.randint(1, 28)
        fields["date"] = f"{y:04d}-{m:02d}-{d:02d}"
        texts["date"] = _date_text(y, m, d, rng)
    if rng.random() < 0.8:
        cur = rng.choice(list(CURRENCY_TEXT))
        value = rng.choice([rng.randint(1, 99) * 100, rng.randint(1, 500) * 10, rng.randint(100, 9999)])
        cents = rng.random() < 0.15
        number = value + (rng.randint(1, 99) / 100 if cents else 0)
        shown = f"{number:,.2f}" if cents else f"{value:,}"
        fields["amount"] = round(number, 2) if cents else value
        fields["currency"] = cur
        texts["amount"] = rng.choice(CURRENCY_TEXT[cur]).format(v=shown)
    note = _render_note(rng.choice(NOTE_TEMPLATES), texts)
    note = note[0].upper() + note[1:]
    if rng.random() < 0.75:
        prio = rng.choice(["high", "high", "normal", "low"])
        fields["priority"] = prio
        flag = rng.choice(PRIORITY_TEXT[prio])
        note = f"{flag} {note}" if rng.random() < 0.25 else f"{note} {flag}"
    if rng.random() < 0.15:
        note = note.lower()
    return note, fields


def build_extraction(rng: random.Random) -> tuple[list[dict], list[dict]]:
    rows: list[dict] = []
    seen: set[str] = set()
    while len(rows) < EXTRACTION_ROWS:
        note, fields = make_note(rng)
        key = normalize(note)
        if key in seen:
            continue
        seen.add(key)
        answer = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        rows.append(chat_row(EXTRACTION_SYSTEM, note, answer))
    n_test = round(EXTRACTION_ROWS * TEST_FRACTION)
    return rows[n_test:], rows[:n_test]


# --------------------------------------------------------------------------------------
# Small Alpaca and ShareGPT files (hand-written rows)
# --------------------------------------------------------------------------------------

ALPACA_ROWS = [
    ("Classify the sentiment of the review as positive, negative or neutral.",
     "The delivery was late but the soup was still hot and tasty.", "positive"),
    ("Classify the sentiment of the review as positive, negative or neutral.",
     "Battery died after two days. Returned it.", "negative"),
    ("Classify the sentiment of the review as positive, negative or neutral.",
     "It does what the box says.", "neutral"),
    ("Convert the temperature from Celsius to Fahrenheit.", "25 °C", "77 °F"),
    ("Convert the temperature from Celsius to Fahrenheit.", "-10 °C", "14 °F"),
    ("Rewrite the sentence in a more formal tone.", "hey, can u send the report by tmrw?",
     "Could you please send the report by tomorrow?"),
    ("Rewrite the sentence in a more formal tone.", "the meeting got moved, no idea why",
     "The meeting has been rescheduled; the reason has not been shared."),
    ("Summarize the text in one sentence.",
     "The library will close at 6 pm on weekdays starting next month because of staff shortages. "
     "Weekend hours stay the same, and the online catalogue remains available at all times.",
     "From next month the library closes at 6 pm on weekdays, while weekend hours and the online catalogue are "
     "unchanged."),
    ("Summarize the text in one sentence.",
     "Our team tested three project tools for a month. Two were too slow with large boards, "
     "and the third lacked offline support, which our field staff need.",
     "None of the three tools tested fit: two were slow on large boards and one had no offline support."),
    ("Give a short title for the paragraph.",
     "Watering succulents too often is the most common reason they die. Let the soil dry out completely first.",
     "Don't Overwater Your Succulents"),
    ("List three things to check before submitting an expense report.", "",
     "1. Every expense has a receipt attached.\n2. Amounts and currencies match the receipts.\n"
     "3. Each item has the right cost code."),
    ("Explain the difference between a list and a tuple in Python in two sentences.", "",
     "A list is mutable, so you can add, remove or change items after creating it. "
     "A tuple is immutable, which makes it hashable and a good fit for fixed records or dictionary keys."),
    ("Translate the sentence into Spanish.", "Where is the train station?", "¿Dónde está la estación de tren?"),
    ("Translate the sentence into German.", "I would like a cup of coffee, please.",
     "Ich hätte gern eine Tasse Kaffee, bitte."),
    ("Extract the meeting room from the text.", "The review moved to room B-214 on the second floor.",
     "B-214"),
    ("Extract all dates mentioned in the text.", "The kickoff is on 3 March and the review on 17 April.",
     "3 March, 17 April"),
    ("Fix the grammar in the sentence.", "She don't like when people is late.",
     "She doesn't like it when people are late."),
    ("Fix the grammar in the sentence.", "Me and him goes to the gym every days.",
     "He and I go to the gym every day."),
    ("Answer the question with a number only.", "How many minutes are in three and a half hours?", "210"),
    ("Answer the question with a number only.", "A box holds 12 eggs. How many boxes do 150 eggs fill completely?",
     "12"),
    ("Write a polite reply declining the meeting invitation.", "Invitation: budget review, Friday 4 pm",
     "Thank you for the invitation. Unfortunately I can't attend the budget review on Friday at 4 pm; "
     "please share the notes and I'll follow up with any questions."),
    ("Suggest a name for a small coffee shop near a bookstore.", "", "The Reading Bean"),
    ("Write a SQL query that counts orders per customer.", "Table orders(id, customer_id, total)",
     "SELECT customer_id, COUNT(*) AS order_count FROM orders GROUP BY customer_id;"),
    ("Write a one-line shell command that counts the lines in all .txt files in the current directory.", "",
     "cat *.txt | wc -l"),
    ("Is the statement true or false?", "Water boils at 100 °C at sea level.", "True"),
    ("Is the statement true or false?", "The Pacific is the smallest ocean.", "False"),
    ("Turn the notes into a short bullet list of action items.",
     "Anna will book the venue. Ben needs to send invites by Monday. We still need a caterer.",
     "- Anna: book the venue\n- Ben: send invites by Monday\n- Find a caterer"),
    ("Categorize the expense as travel, meals, software or office.", "Annual licence for a diagramming tool",
     "software"),
    ("Categorize the expense as travel, meals, software or office.", "Taxi from the airport to the hotel",
     "travel"),
    ("Explain what a unit test is to a non-programmer in one sentence.", "",
     "A unit test is a small automatic check that one piece of a program still does what it is supposed to do."),
    ("Give an antonym for the word.", "generous", "stingy"),
    ("Sort the numbers in ascending order.", "42, 7, 19, 3, 88", "3, 7, 19, 42, 88"),
]

SHAREGPT_CONVERSATIONS: list[list[tuple[str, str]]] = [
    [("human", "What's a good way to remember to drink water during the day?"),
     ("gpt", "Keep a bottle on your desk and refill it at fixed moments, for example after each meeting or meal.")],
    [("human", "Can you explain what an API rate limit is?"),
     ("gpt", "It's a cap on how many requests you can send to a service in a period, such as 100 per minute. "
             "Going over usually returns an error until the window resets."),
     ("human", "What should my code do when it hits one?"),
     ("gpt", "Wait and retry with exponential backoff, and honour a Retry-After header if the service sends one.")],
    [("human", "Write a haiku about a rainy Monday."),
     ("gpt", "Grey sky on the glass\ncoffee cooling by the phone\nthe week starts softly")],
    [("human", "How do I convert a string to an integer in Python?"),
     ("gpt", "Use int(), for example int(\"42\") returns 42. It raises ValueError if the string is not a number."),
     ("human", "And if it might have spaces around it?"),
     ("gpt", "int() already ignores surrounding whitespace, so int(\"  42 \") also works.")],
    [("human", "Give me three ideas for a team-building activity that works remotely."),
     ("gpt", "1. A short online quiz with mixed teams.\n2. A show-and-tell where everyone shares a hobby.\n"
             "3. A collaborative playlist with one song per person and the story behind it.")],
    [("human", "What's the difference between RAM and storage?"),
     ("gpt", "RAM is fast working memory that is cleared when the machine turns off; storage (SSD or disk) keeps "
             "files permanently but is slower.")],
    [("human", "I need to tell a client their project will be two weeks late. How should I start the email?"),
     ("gpt", "Lead with the news and the new date, then the reason in one sentence, then what you are doing to "
             "keep it on track. For example: \"I want to let you know early that delivery will move to 14 June.\""),
     ("human", "Should I apologise?"),
     ("gpt", "Yes, once and briefly. Spend the rest of the email on the plan, which is what the client cares "
             "about most.")],
    [("human", "Translate 'good luck with the exam' into French."),
     ("gpt", "Bonne chance pour l'examen.")],
    [("human", "What is 15% of 240?"), ("gpt", "36.")],
    [("human", "Explain recursion like I'm ten."),
     ("gpt", "Recursion is when a task solves itself by doing a smaller version of the same task, like opening "
             "a set of nesting dolls until you reach the smallest one.")],
    [("human", "Suggest a quick vegetarian dinner with chickpeas."),
     ("gpt", "Fry onion and garlic, add a tin of chickpeas, chopped tomatoes, cumin and paprika, simmer ten "
             "minutes and finish with spinach. Serve with rice or bread."),
     ("human", "Can I make it without tomatoes?"),
     ("gpt", "Yes: use coconut milk instead for a milder, creamy version."),
     ("human", "Thanks!"),
     ("gpt", "Enjoy your dinner!")],
    [("human", "How do I undo the last git commit but keep my changes?"),
     ("gpt", "Run git reset --soft HEAD~1. The commit is removed and your changes stay staged.")],
    [("human", "Is it better to run in the morning or the evening?"),
     ("gpt", "Both work. The best time is the one you can stick to; some people find evenings easier because "
             "their body is warmed up.")],
    [("human", "What does HTTP status 404 mean?"),
     ("gpt", "The server could not find the page or resource you asked for.")],
    [("human", "Help me name a cat that is black with white socks."),
     ("gpt", "Some ideas: Tuxedo, Boots, Domino, Oreo or Mittens.")],
    [("human", "Summarise the plot of Little Red Riding Hood in two sentences."),
     ("gpt", "A girl walking to her grandmother's house meets a wolf, who races ahead and disguises himself as "
             "the grandmother. A woodcutter arrives in time and rescues them both.")],
    [("human", "Can you check this sentence: 'Their going to the park later.'"),
     ("gpt", "It should be 'They're going to the park later.' 'They're' is short for 'they are'.")],
    [("human", "How long should I boil an egg for a runny yolk?"),
     ("gpt", "About six minutes from boiling water for a large egg, then cool it in cold water.")],
    [("human", "What's a polite way to end a meeting that's running over?"),
     ("gpt", "Say something like: \"We're at time, so let's capture the open points and pick them up "
             "next week.\""),
     ("human", "And if my manager is the one talking?"),
     ("gpt", "Offer help rather than cutting in: \"I have a hard stop in five minutes, should I note the rest "
             "as follow-ups?\"")],
    [("human", "Give me a regular expression that matches a 5-digit US ZIP code."),
     ("gpt", "^\\d{5}$ matches exactly five digits. Use ^\\d{5}(-\\d{4})?$ to also allow ZIP+4.")],
]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(out_dir: Path = HERE) -> None:
    rng = random.Random(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    train, test = build_tickets(rng)
    write_jsonl(out_dir / "support_tickets_train.jsonl", train)
    write_jsonl(out_dir / "support_tickets_test.jsonl", test)
    ex_train, ex_test = build_extraction(rng)
    write_jsonl(out_dir / "extraction_train.jsonl", ex_train)
    write_jsonl(out_dir / "extraction_test.jsonl", ex_test)
    write_jsonl(out_dir / "alpaca_small.jsonl",
                [{"instruction": i, "input": x, "output": o} for i, x, o in ALPACA_ROWS])
    write_jsonl(out_dir / "sharegpt_small.jsonl",
                [{"conversations": [{"from": who, "value": text} for who, text in conv]}
                 for conv in SHAREGPT_CONVERSATIONS])
    print(f"tickets: {len(train)} train, {len(test)} test; extraction: {len(ex_train)} train, {len(ex_test)} test; "
          f"alpaca: {len(ALPACA_ROWS)}; sharegpt: {len(SHAREGPT_CONVERSATIONS)} -> {out_dir}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Regenerate ftui's sample datasets (seeded, reproducible).")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: this folder)")
    main(parser.parse_args().out)
