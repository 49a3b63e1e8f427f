"""The civil-affairs safety bot."""

import os

# python-telegram-bot 22 hands out time periods (RetryAfter.retry_after, media durations) as int seconds with a
# deprecation warning unless this opt-in is set; version 23 makes datetime.timedelta the only type. Our code reads
# them as timedelta already, so opt in now; an explicit setting in the environment still wins.
os.environ.setdefault("PTB_TIMEDELTA", "true")
